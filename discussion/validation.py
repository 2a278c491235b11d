"""The event fields of POST and PATCH /events and of seed files, typed and checked.

Texts follow the one text rule (:mod:`discussion.rules.text`); request bodies of
posts, votes and moderation are pydantic models in :mod:`discussion.rules.schemas`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError
from pydantic_core import ErrorDetails, PydanticCustomError

from . import LANGUAGES
from .errors import DomainError, ValidationError
from .rules.text import AUTHOR_MAX as AUTHOR_MAX
from .rules.text import CODE_RE as CODE_RE
from .rules.text import COMMENT_MAX as COMMENT_MAX
from .rules.text import LICENCE_MAX as LICENCE_MAX
from .rules.text import LONG_MAX, SLUG_RE, TITLE_MAX, Text, clean
from .rules.text import PLACE_MAX as PLACE_MAX
from .rules.text import QUESTION_MAX as QUESTION_MAX
from .rules.text import REASON_MAX as REASON_MAX
from .rules.text import TOPIC_MAX as TOPIC_MAX
from .rules.timezone import check_timezone

LIST_MAX = 50  # speakers, organisers, topics, moderators


def require_object(payload: Any) -> dict[str, Any]:
    """The body must be a JSON object."""
    if not isinstance(payload, dict):
        raise ValidationError("invalid_json", "The request body must be a JSON object.")
    return payload


def text(
    payload: dict[str, Any], field: str, max_len: int, *, required: bool = True,
    multiline: bool = True,
) -> str | None:
    """A user-written text field, kept by the one text rule (:func:`rules.text.clean`)."""
    return clean(payload.get(field), field=field, max_len=max_len, multiline=multiline,
                 required=required)


def event_code(value: Any) -> str:
    """A join code: case-insensitive, stored lower-case."""
    if not isinstance(value, str) or not CODE_RE.fullmatch(value.strip().lower()):
        raise ValidationError(
            "invalid_code", "The event code must be 2 to 32 letters, digits or dashes."
        )
    return value.strip().lower()


def _string_list(payload: dict[str, Any], field: str, max_len: int = PLACE_MAX) -> list[str] | None:
    value = payload.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 50:
        raise ValidationError("invalid_type", "'%(field)s' must be a list of strings.", field=field)
    return [str(text({field: v}, field, max_len, multiline=False)) for v in value]


# -- the event's own content, in several languages

# The texts of an event that may be given per language, with their limits (the topics'
# names are translated on each topic).
CONTENT_FIELDS: dict[str, tuple[int, bool]] = {  # field: (max length, multi-line)
    "title": (TITLE_MAX, False),
    "description": (LONG_MAX, True),
    "place": (PLACE_MAX, False),
    "policy": (LONG_MAX, True),
}


def language(value: Any) -> str | None:
    """One of the app's languages as it is stored (``pt_BR``), from any usual spelling
    (``pt-BR``, ``pt_br``); None when it is not one of them."""
    if not isinstance(value, str):
        return None
    wanted = value.strip().replace("-", "_").lower()
    return next((lang for lang in LANGUAGES if lang.lower() == wanted), None)


def _language_key(value: Any, field: str) -> str:
    lang = language(value)
    if lang is None:
        raise ValidationError(
            "invalid_language",
            "'%(field)s' names an unknown language '%(lang)s' (one of %(languages)s).",
            field=field, lang=str(value)[:20], languages=", ".join(LANGUAGES),
        )
    return lang


class EventText(BaseModel):
    """One language's version of an event's own texts; a text left out falls back to the
    event's own (seed files: ``[event.es]``; the API: ``translations.es``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    title: Text(TITLE_MAX, multiline=False, required=False) = None  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
    description: Text(LONG_MAX, required=False) = None  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
    place: Text(PLACE_MAX, multiline=False, required=False) = None  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
    policy: Text(LONG_MAX, required=False) = None  # type: ignore[valid-type]  # Text() builds the Annotated type at run time


def event_texts(value: Any, where: str) -> dict[str, str]:
    """One language's texts of an event, checked; only the texts given."""
    if not isinstance(value, dict):
        raise ValidationError("invalid_type", "'%(field)s' must be an object.", field=where)
    try:
        return EventText.model_validate(value).model_dump(exclude_none=True)
    except PydanticError as exc:
        raise placed(where, problem(exc.errors()[0])) from None


def translations(value: Any) -> dict[str, dict[str, str] | None]:
    """``translations`` of POST/PATCH /events: per language, the event's texts in it.

    A language given replaces what that language had; ``null`` or ``{}`` removes it;
    languages left out keep what they have.
    """
    if not isinstance(value, dict):
        raise ValidationError(
            "invalid_type", "'%(field)s' must be an object.", field="translations"
        )
    out: dict[str, dict[str, str] | None] = {}
    for key, texts in value.items():
        lang = _language_key(key, "translations")
        out[lang] = None if texts is None else event_texts(texts, f"translations.{lang}") or None
    return out


def topic_translations(value: Any, where: str = "translations") -> dict[str, str]:
    """A topic's name per language: ``{"es": "Consentimiento"}``."""
    if not isinstance(value, dict):
        raise ValidationError("invalid_type", "'%(field)s' must be an object.", field=where)
    out: dict[str, str] = {}
    for key, name in value.items():
        lang = _language_key(key, where)
        cleaned = clean(name, field=lang, max_len=TOPIC_MAX, multiline=False, required=False)
        if cleaned:
            out[lang] = cleaned
    return out


def merge_translations(
    current: dict[str, dict[str, str]] | None, given: dict[str, dict[str, str] | None]
) -> dict[str, dict[str, str]]:
    """An event's translations with some languages replaced (or removed, with None)."""
    out = {lang: dict(texts) for lang, texts in (current or {}).items()}
    for lang, texts in given.items():
        if texts:
            out[lang] = dict(texts)
        else:
            out.pop(lang, None)
    return out


@dataclass(frozen=True, slots=True)
class TopicInput:
    """A topic as given: its slug, its name, and its name in other languages (None:
    keep what the topic has)."""

    slug: str
    name: str
    translations: dict[str, str] | None = None


def topic_slug(value: Any) -> str:
    """A topic's slug: lower-case letters, digits and '-'."""
    if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
        raise ValidationError(
            "invalid_slug", "A topic slug is lower-case letters, digits and '-'."
        )
    return value



def _topics(payload: dict[str, Any]) -> list[TopicInput] | None:
    value = payload.get("topics")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValidationError("invalid_type", "'topics' must be a list.")
    out: list[TopicInput] = []
    for item in value:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ValidationError("invalid_type", "Each topic is a name or {slug, name}.")
        name = str(text(item, "name", TOPIC_MAX, multiline=False))
        slug = topic_slug(item.get("slug") or slugify(name))
        if any(t.slug == slug for t in out):
            raise ValidationError(
                "duplicate_topic", "The topic '%(slug)s' is given twice.", slug=slug
            )
        names = item.get("translations")
        out.append(TopicInput(slug, name, None if names is None else topic_translations(names)))
    return out



def slugify(name: str) -> str:
    """A topic slug from its name: ASCII letters and digits joined by dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64] or "topic"


def event_status(value: Any) -> str:
    """draft, live or closed."""
    from .models import EventStatus

    if value not in [s.value for s in EventStatus]:
        raise ValidationError("invalid_status", "'status' is draft, live or closed.")
    return str(value)


def moderation_mode(value: Any) -> str:
    """post (moderated after) or pre (approved before they show)."""
    from .models import Moderation

    if value not in [m.value for m in Moderation]:
        raise ValidationError("invalid_moderation", "'moderation' is post or pre.")
    return str(value)


RETENTION_MIN, RETENTION_MAX = 1, 3650


def retention_days(value: Any) -> int:
    """Days before ``flask purge`` removes personal links: 1 to 3650."""
    if isinstance(value, bool) or not isinstance(value, int) \
            or not RETENTION_MIN <= value <= RETENTION_MAX:
        raise ValidationError("invalid_retention", "'retention_days' is 1 to 3650.")
    return value


def event_date(value: Any) -> date | None:
    """An event's day, YYYY-MM-DD or a TOML date (``None`` clears it)."""
    if value is None or type(value) is date:  # a TOML date; a datetime is refused below
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValidationError("invalid_date", "'date' is YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("invalid_date", "'date' is YYYY-MM-DD.") from None


def event_fields(payload: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The fields of POST /events and PATCH /events/<code>, typed and checked."""
    out: dict[str, Any] = {}
    if creating:
        out["code"] = event_code(payload.get("code"))
        out["title"] = text(payload, "title", TITLE_MAX, multiline=False)
    elif "title" in payload:
        out["title"] = text(payload, "title", TITLE_MAX, multiline=False)
    for field, limit, multiline in (
        ("description", LONG_MAX, True),
        ("place", PLACE_MAX, False),
        ("moderator", PLACE_MAX, False),
        ("policy", LONG_MAX, True),
        ("licence", LICENCE_MAX, False),
        ("reason", REASON_MAX, False),
    ):
        if field in payload:
            out[field] = text(payload, field, limit, required=False, multiline=multiline) or ""
    if "status" in payload:
        out["status"] = event_status(payload["status"])
    if "moderation" in payload:
        out["moderation"] = moderation_mode(payload["moderation"])
    if "retention_days" in payload:
        out["retention_days"] = retention_days(payload["retention_days"])
    if "date" in payload:
        out["date"] = event_date(payload["date"])
    if "timezone" in payload:
        out["timezone"] = check_timezone(payload["timezone"])
    for field in ("speakers", "organisers"):
        if field in payload:
            out[field] = _string_list(payload, field)
    if "topics" in payload:
        out["topics"] = _topics(payload)
    if "translations" in payload:
        out["translations"] = translations(payload["translations"])
    if "moderators" in payload:
        out["moderators"] = _string_list(payload, "moderators", 254)
    return out


# -- errors of pydantic models, in our codes and catalogue messages


class PlacedError(ValidationError):
    """An error with the place it was found at ("question 3", "[event]"), both put in
    the reader's language when the message is read."""

    def __init__(
        self, code: str, place: str, problem: DomainError, **place_params: Any
    ) -> None:
        super().__init__(code, "%(place)s: %(problem)s")
        self.place, self.place_params, self.problem = place, place_params, problem

    @property
    def message(self) -> str:
        from flask import has_request_context
        from flask_babel import gettext

        if has_request_context():
            place = gettext(self.place, **self.place_params) if self.place_params else \
                gettext(self.place)
            return str(gettext("%(place)s: %(problem)s", place=place,
                               problem=self.problem.message))
        place = self.place % self.place_params if self.place_params else self.place
        return f"{place}: {self.problem.message}"


def placed(where: str, error: DomainError) -> PlacedError:
    """An error of the API's input at a key path (``translations.es``), with its code."""
    return PlacedError(error.code, "%(where)s", error, where=where)


def _field_of(loc: tuple[int | str, ...]) -> str:
    return next((str(p) for p in reversed(loc) if isinstance(p, str)), "value")


def problem(error: ErrorDetails) -> ValidationError:
    """One pydantic error as our error: the rules' own codes and messages kept (the text
    type and the rules above raise them), pydantic's own kinds given ours."""
    kind, loc = error["type"], tuple(error["loc"])
    ctx = dict(error.get("ctx") or {})
    field = _field_of(loc)
    if kind == "extra_forbidden":
        return ValidationError("unknown_key", "unknown key '%(key)s'.", key=str(loc[-1]))
    if kind == "missing":
        return ValidationError("empty", "'%(field)s' is required.", field=field)
    if kind in ("bool_type", "bool_parsing"):
        return ValidationError("invalid_type", "'%(field)s' must be true or false.", field=field)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return ValidationError("invalid_type", "'%(field)s' must be an integer.", field=field)
    if kind == "string_type":
        return ValidationError("invalid_type", "'%(field)s' must be a string.", field=field)
    if kind == "list_type":
        return ValidationError("invalid_type", "'%(field)s' must be a list.", field=field)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if loc and isinstance(loc[-1], int):
            return ValidationError("invalid_type", "not a table.")
        return ValidationError("invalid_type", "'%(field)s' must be a table.", field=field)
    if "url" not in error:
        # Raised by our own rules (PydanticCustomError, which has no documentation link):
        # their code, catalogue message and parameters as they are.
        return ValidationError(kind, error["msg"], **ctx)
    return ValidationError("invalid", "'%(field)s' is not valid.", field=field)


def rule(check: Any) -> Any:
    """A pydantic validator made from one of the checks above: same code, same message."""
    from pydantic import BeforeValidator

    def run(value: Any) -> Any:
        try:
            return check(value)
        except ValidationError as exc:
            raise PydanticCustomError(exc.code, exc.template, exc.params) from None

    return BeforeValidator(run)


def at_most(count: int) -> Any:
    """A pydantic validator: a list of at most ``count`` items."""
    from pydantic import AfterValidator

    def run(value: list[Any]) -> list[Any]:
        if len(value) > count:
            raise PydanticCustomError(
                "too_many", "more than %(count)s items.", {"count": count}
            )
        return value

    return AfterValidator(run)

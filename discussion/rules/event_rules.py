"""The rules of an event's fields as staff give them: plain functions, each raising the
code and message clients have always seen (``invalid_status``: "'status' is draft,
live or closed."). ``rules.events`` runs them in the models that POST /events, PATCH
/events/<code>, seed files and archives parse with.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import TYPE_CHECKING, Any

from .. import LANGUAGES
from ..errors import ValidationError
from .enums import ErrorCode, EventStatus, Moderation
from .text import CODE_RE, PLACE_MAX, SLUG_RE, TOPIC_MAX, clean

if TYPE_CHECKING:
    from .events import EventTexts, TopicInput

LIST_MAX = 50  # speakers, organisers, topics, moderators
EMAIL_MAX = 254
RETENTION_MIN, RETENTION_MAX = 1, 3650

# -- the rules -------------------------------------------------------------------------


def event_code(value: Any) -> str:
    """A join code: case-insensitive, stored lower-case."""
    if not isinstance(value, str) or not CODE_RE.fullmatch(value.strip().lower()):
        raise ValidationError(
            ErrorCode.INVALID_CODE, "The event code must be 2 to 32 letters, digits or dashes."
        )
    return value.strip().lower()


def topic_slug(value: Any) -> str:
    """A topic's slug: lower-case letters, digits and '-'."""
    if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
        raise ValidationError(
            ErrorCode.INVALID_SLUG, "A topic slug is lower-case letters, digits and '-'."
        )
    return value


def slugify(name: str) -> str:
    """A topic slug from its name: ASCII letters and digits joined by dashes (always a
    valid slug)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64] or "topic"


def _given_slug(value: Any) -> str:
    """A topic's slug as the API takes it: empty (then made from its name) or valid."""
    return topic_slug(value) if value else ""


def event_status(value: Any) -> str:
    """draft, live or closed."""
    if value not in [s.value for s in EventStatus]:
        raise ValidationError(ErrorCode.INVALID_STATUS, "'status' is draft, live or closed.")
    return str(value)


def moderation_mode(value: Any) -> str:
    """post (moderated after) or pre (approved before they show)."""
    if value not in [m.value for m in Moderation]:
        raise ValidationError(ErrorCode.INVALID_MODERATION, "'moderation' is post or pre.")
    return str(value)


def retention_days(value: Any) -> int:
    """Days before ``flask purge`` removes personal links: 1 to 3650."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not RETENTION_MIN <= value <= RETENTION_MAX
    ):
        raise ValidationError(ErrorCode.INVALID_RETENTION, "'retention_days' is 1 to 3650.")
    return value


def event_date(value: Any) -> date | None:
    """An event's day, YYYY-MM-DD or a TOML date; ``None``: no day."""
    if value is None or type(value) is date:  # a TOML date; a datetime is refused below
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValidationError(ErrorCode.INVALID_DATE, "'date' is YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(ErrorCode.INVALID_DATE, "'date' is YYYY-MM-DD.") from None


def people(value: Any, field: str, max_len: int = PLACE_MAX) -> list[str]:
    """Speakers or organisers: up to 50 names, each one line."""
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValidationError(
            ErrorCode.INVALID_TYPE, "'%(field)s' must be a list of strings.", field=field
        )
    return [str(clean(v, field=field, max_len=max_len, multiline=False)) for v in value]


def emails(value: Any, field: str) -> list[str]:
    """An event's moderators: the emails of up to 50 staff accounts."""
    return people(value, field, EMAIL_MAX)


def language(value: Any) -> str | None:
    """One of the app's languages as it is stored (``pt_BR``), from any usual spelling
    (``pt-BR``, ``pt_br``); None when it is not one of them."""
    if not isinstance(value, str):
        return None
    wanted = value.strip().replace("-", "_").lower()
    return next((lang for lang in LANGUAGES if lang.lower() == wanted), None)


def language_key(value: Any, field: str = "translations") -> str:
    """A key of a map by language: one of the app's languages."""
    lang = language(value)
    if lang is None:
        raise ValidationError(
            ErrorCode.INVALID_LANGUAGE,
            "'%(field)s' names an unknown language '%(lang)s' (one of %(languages)s).",
            field=field,
            lang=str(value)[:20],
            languages=", ".join(LANGUAGES),
        )
    return lang


def an_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (a TOML table)."""
    if not isinstance(value, dict):
        raise ValidationError(ErrorCode.INVALID_TYPE, "'%(field)s' must be an object.", field=field)
    return value


def topic_names(value: Any, field: str = "translations") -> dict[str, str]:
    """A topic's name per language, ``{"es": "Consentimiento"}``; an empty one is left out."""
    out: dict[str, str] = {}
    for key, name in an_object(value, field).items():
        lang = language_key(key, field)
        cleaned = clean(name, field=lang, max_len=TOPIC_MAX, multiline=False, required=False)
        if cleaned:
            out[lang] = cleaned
    return out


def topic_list(value: Any) -> list[Any]:
    """The topics given: a list of up to 50."""
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValidationError(ErrorCode.INVALID_TYPE, "'topics' must be a list.")
    return value


def _topic_item(value: Any) -> dict[str, Any]:
    """A topic is given as its name alone, or as an object."""
    if isinstance(value, str):
        return {"name": value}
    if not isinstance(value, dict):
        raise ValidationError(ErrorCode.INVALID_TYPE, "Each topic is a name or {slug, name}.")
    return value


def given_twice(slug: str) -> ValidationError:
    """The refusal of a topic slug given twice."""
    return ValidationError(
        ErrorCode.DUPLICATE_TOPIC, "The topic '%(slug)s' is given twice.", slug=slug
    )


def first_repeat(slugs: list[str]) -> int | None:
    """The index of the first slug given before, if any."""
    seen: set[str] = set()
    for i, slug in enumerate(slugs):
        if slug in seen:
            return i
        seen.add(slug)
    return None


def _unique(topics: list[TopicInput]) -> list[TopicInput]:
    repeat = first_repeat([t.slug for t in topics])
    if repeat is not None:
        raise given_twice(topics[repeat].slug)
    return topics


def _stored(given: dict[str, EventTexts | None]) -> dict[str, dict[str, str] | None]:
    """Texts by language as they are applied: a language without any text is removed."""
    return {
        lang: (texts.model_dump(exclude_none=True) or None) if texts else None
        for lang, texts in given.items()
    }


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

"""The event fields of POST and PATCH /events and of seed files, typed and checked.

Texts follow the one text rule (:mod:`discussion.rules.text`); request bodies of
posts, votes and moderation are pydantic models in :mod:`discussion.rules.schemas`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from .errors import ValidationError
from .rules.schemas import CLIENT_ID_RE as CLIENT_ID_RE
from .rules.schemas import Post as Post
from .rules.text import AUTHOR_MAX as AUTHOR_MAX
from .rules.text import CODE_RE as CODE_RE
from .rules.text import COMMENT_MAX as COMMENT_MAX
from .rules.text import LICENCE_MAX, LONG_MAX, PLACE_MAX, SLUG_RE, TITLE_MAX, TOPIC_MAX, clean
from .rules.text import QUESTION_MAX as QUESTION_MAX
from .rules.text import REASON_MAX as REASON_MAX
from .rules.timezone import check_timezone


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


def _topics(payload: dict[str, Any]) -> list[tuple[str, str]] | None:
    value = payload.get("topics")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 50:
        raise ValidationError("invalid_type", "'topics' must be a list.")
    out: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ValidationError("invalid_type", "Each topic is a name or {slug, name}.")
        name = str(text(item, "name", TOPIC_MAX, multiline=False))
        slug = topic_slug(item.get("slug") or slugify(name))
        if any(s == slug for s, _ in out):
            raise ValidationError(
                "duplicate_topic", "The topic '%(slug)s' is given twice.", slug=slug
            )
        out.append((slug, name))
    return out


def slugify(name: str) -> str:
    """A topic slug from its name: ASCII letters and digits joined by dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64] or "topic"


def topic_slug(value: Any) -> str:
    """A topic's slug: lower-case letters, digits and '-', at most 64."""
    if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
        raise ValidationError(
            "invalid_slug", "A topic slug is lower-case letters, digits and '-'."
        )
    return value


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
    """An event's day, YYYY-MM-DD (``None`` clears it)."""
    if value is None:
        return None
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
    if "moderators" in payload:
        out["moderators"] = _string_list(payload, "moderators", 254)
    return out

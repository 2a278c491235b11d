"""The event fields of POST and PATCH /events and of seed files, typed and checked.

Texts follow the one text rule (:mod:`discussion.rules.text`); request bodies of
posts, votes and moderation are pydantic models in :mod:`discussion.rules.schemas`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .errors import ValidationError
from .rules.schemas import CLIENT_ID_RE as CLIENT_ID_RE
from .rules.schemas import CODE_RE as CODE_RE
from .rules.schemas import Post as Post
from .rules.text import AUTHOR_MAX as AUTHOR_MAX
from .rules.text import COMMENT_MAX as COMMENT_MAX
from .rules.text import QUESTION_MAX as QUESTION_MAX
from .rules.text import REASON_MAX as REASON_MAX
from .rules.text import clean


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


def _string_list(payload: dict[str, Any], field: str, max_len: int = 200) -> list[str] | None:
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
        name = str(text(item, "name", 100, multiline=False))
        slug = item.get("slug") or slugify(name)
        if not isinstance(slug, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", slug):
            raise ValidationError(
                "invalid_slug", "A topic slug is lower-case letters, digits and '-'."
            )
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


def event_fields(payload: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The fields of POST /events and PATCH /events/<code>, typed and checked."""
    from datetime import date

    from .models import EventStatus, Moderation

    out: dict[str, Any] = {}
    if creating:
        out["code"] = event_code(payload.get("code"))
        out["title"] = text(payload, "title", 200, multiline=False)
    elif "title" in payload:
        out["title"] = text(payload, "title", 200, multiline=False)
    for field, limit, multiline in (
        ("description", 5000, True),
        ("place", 200, False),
        ("moderator", 200, False),
        ("policy", 5000, True),
        ("licence", 100, False),
        ("reason", REASON_MAX, False),
    ):
        if field in payload:
            out[field] = text(payload, field, limit, required=False, multiline=multiline) or ""
    if "status" in payload:
        if payload["status"] not in [s.value for s in EventStatus]:
            raise ValidationError("invalid_status", "'status' is draft, live or closed.")
        out["status"] = payload["status"]
    if "moderation" in payload:
        if payload["moderation"] not in [m.value for m in Moderation]:
            raise ValidationError("invalid_moderation", "'moderation' is post or pre.")
        out["moderation"] = payload["moderation"]
    if "retention_days" in payload:
        days = payload["retention_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise ValidationError("invalid_retention", "'retention_days' is 1 to 3650.")
        out["retention_days"] = days
    if "date" in payload:
        raw = payload["date"]
        try:
            out["date"] = None if raw is None else date.fromisoformat(raw)
        except (TypeError, ValueError):
            raise ValidationError("invalid_date", "'date' is YYYY-MM-DD.") from None
    for field in ("speakers", "organisers"):
        if field in payload:
            out[field] = _string_list(payload, field)
    if "topics" in payload:
        out["topics"] = _topics(payload)
    if "moderators" in payload:
        out["moderators"] = _string_list(payload, "moderators", 254)
    return out

"""Parsing untrusted input into typed values, with one error code per broken rule."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from .errors import ValidationError
from .models import Quote

QUESTION_MAX = 500
COMMENT_MAX = 500
AUTHOR_MAX = 60
REASON_MAX = 500
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")

# Control characters other than line breaks and tabs; also the Unicode line and
# paragraph separators and bidi overrides that can disguise text on the board.
_FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def require_object(payload: Any) -> dict[str, Any]:
    """The body must be a JSON object."""
    if not isinstance(payload, dict):
        raise ValidationError("invalid_json", "The request body must be a JSON object.")
    return payload


def text(payload: dict[str, Any], field: str, max_len: int, *, required: bool = True) -> str | None:
    """A trimmed, NFC-normalised text field without control characters."""
    value = payload.get(field)
    if value is None or (not required and isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError("empty", "'%(field)s' is required.", field=field)
        return None
    if not isinstance(value, str):
        raise ValidationError("invalid_type", "'%(field)s' must be a string.", field=field)
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if not value:
        raise ValidationError("empty", "'%(field)s' must not be empty.", field=field)
    if _FORBIDDEN.search(value):
        raise ValidationError(
            "control_characters", "'%(field)s' contains control characters.", field=field
        )
    if len(value) > max_len:
        raise ValidationError(
            "too_long",
            "'%(field)s' is longer than %(max_len)s characters.",
            field=field,
            max_len=max_len,
        )
    # Many blank lines in a row would push other questions off the board.
    return re.sub(r"\n{3,}", "\n\n", value)


@dataclass(frozen=True, slots=True)
class Post:
    """What a participant sends with a question or a comment, checked."""

    body: str
    author: str | None
    quote: Quote
    client_id: str | None


def author(payload: dict[str, Any]) -> str | None:
    """The optional name a post is signed with; its limit said as a person would say it."""
    try:
        return text(payload, "author", AUTHOR_MAX, required=False)
    except ValidationError as exc:
        if exc.code != "too_long":
            raise
        raise ValidationError(
            "too_long", "Your name is too long: please keep it to %(max_len)s characters.",
            max_len=AUTHOR_MAX,
        ) from None


def post(payload: dict[str, Any], max_len: int) -> Post:
    """The body, optional name, quote consent and idempotency key of a post."""
    value = Post(
        body=str(text(payload, "body", max_len)),
        author=author(payload),
        quote=quote(payload),
        client_id=client_id(payload),
    )
    if value.quote == Quote.NAMED and not value.author:
        raise ValidationError("name_required", "Give a name to be quoted with it.")
    return value


def quote(payload: dict[str, Any]) -> Quote:
    """How the post may be quoted in reports; anonymous unless told otherwise."""
    value = payload.get("quote", Quote.ANONYMOUS.value)
    if value is None:
        return Quote.ANONYMOUS
    try:
        return Quote(value)
    except (ValueError, TypeError):
        raise ValidationError(
            "invalid_quote", "'quote' must be 'named', 'anonymous' or 'none'."
        ) from None


def client_id(payload: dict[str, Any]) -> str | None:
    """The client's idempotency key, if given."""
    value = payload.get("client_id")
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_ID_RE.fullmatch(value):
        raise ValidationError(
            "invalid_client_id", "'client_id' must be 1 to 64 letters, digits or '_.:-'."
        )
    return value


def integer(payload: dict[str, Any], field: str) -> int:
    """A positive integer id (booleans and strings refused)."""
    value = payload.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("invalid_type", "'%(field)s' must be an integer.", field=field)
    if not 0 < value < 2**31:
        raise ValidationError("invalid_id", "'%(field)s' is out of range.", field=field)
    return value


def boolean(payload: dict[str, Any], field: str) -> bool:
    """A JSON boolean."""
    value = payload.get(field)
    if not isinstance(value, bool):
        raise ValidationError("invalid_type", "'%(field)s' must be true or false.", field=field)
    return value


def optional_string(payload: dict[str, Any], field: str, max_len: int = 64) -> str | None:
    """An optional short identifier-like string (a topic slug, a sort order)."""
    value = payload.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ValidationError("invalid_type", "'%(field)s' must be a short string.", field=field)
    return value


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
    return [str(text({"v": v}, "v", max_len)) for v in value]


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
        name = str(text(item, "name", 100))
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
        out["title"] = text(payload, "title", 200)
    elif "title" in payload:
        out["title"] = text(payload, "title", 200)
    for field, limit in (
        ("description", 5000),
        ("place", 200),
        ("moderator", 200),
        ("policy", 5000),
        ("licence", 100),
        ("reason", REASON_MAX),
    ):
        if field in payload:
            out[field] = text(payload, field, limit, required=False) or ""
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

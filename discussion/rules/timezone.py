"""An event's time zone: an IANA name (``America/Mexico_City``), checked against the
time zone database, ``UTC`` unless told otherwise.

Times are stored in UTC everywhere; the zone only says how the reports (and the
console) show them, so a report reads in the room's own clock.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..errors import ValidationError
from .enums import ErrorCode

TIMEZONE_MAX = 64
DEFAULT_TIMEZONE = "UTC"
# What an IANA name looks like: 'UTC', 'Europe/Lisbon', 'America/Argentina/Buenos_Aires',
# 'Etc/GMT+5'. The database is asked only about names of this shape (never a path).
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$")


@functools.lru_cache(maxsize=256)
def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def check_timezone(value: Any, *, field: str = "timezone") -> str:
    """A known IANA time zone name, or ``invalid_timezone``; ``None`` or empty means UTC."""
    if value is None or value == "":
        return DEFAULT_TIMEZONE
    if not isinstance(value, str):
        raise ValidationError(ErrorCode.INVALID_TYPE, "'%(field)s' must be a string.", field=field)
    name = value.strip()
    if len(name) > TIMEZONE_MAX or not _NAME.fullmatch(name) or not _known(name):
        raise ValidationError(
            ErrorCode.INVALID_TIMEZONE,
            "'%(field)s' is not a known time zone: give an IANA name such as Europe/Lisbon.",
            field=field,
        )
    return name


def zone(name: str | None) -> ZoneInfo:
    """The zone of this name; UTC for one the database does not know (never fails)."""
    if name and _NAME.fullmatch(name) and _known(name):
        return ZoneInfo(name)
    return ZoneInfo(DEFAULT_TIMEZONE)


def _check(value: Any, info: Any) -> str:
    try:
        return check_timezone(value, field=info.field_name or "timezone")
    except ValidationError as exc:
        raise PydanticCustomError(exc.code, exc.template, exc.params) from None


TimeZoneName = Annotated[
    str,
    BeforeValidator(_check),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": TIMEZONE_MAX,
            "pattern": _NAME.pattern,
            "default": DEFAULT_TIMEZONE,
            "description": "An IANA time zone name (e.g. America/Mexico_City) the reports show "
            "times in. Times themselves are always stored in UTC.",
        }
    ),
]

"""The one text type: every user-written string passes :func:`clean` before it is kept.

Whatever door a text comes through (the API, a socket, a seed file, an archive), it
is NFC-normalised and trimmed; lone surrogates, control characters (other than line
breaks and tabs in multi-line text), Unicode line separators and bidi overrides are
refused; a text made only of invisible characters (zero-width, Hangul fillers, the
braille blank ...) counts as empty; a single-line field has its line breaks turned
into spaces; and lengths are counted as people see them, in grapheme clusters (an
emoji family or an accented letter is one).

:func:`Text` wraps the same rule as a pydantic type, so models declare a field as
``Text(500)`` and get the rule, its error codes and its JSON Schema.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

import regex
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..errors import ValidationError
from .enums import ErrorCode

QUESTION_MAX = 500
COMMENT_MAX = 500
AUTHOR_MAX = 60
REASON_MAX = 500
TITLE_MAX = 200
LONG_MAX = 5000  # an event's description and policy
PLACE_MAX = 200  # an event's place, moderator, and each speaker or organiser
TOPIC_MAX = 100  # a topic's name
LICENCE_MAX = 100
GENERATOR_MAX = 200  # the software that wrote an archive

# Identifiers: an event's join code (stored lower-case) and a topic's slug.
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

# Refused anywhere: C0 and C1 controls but tab and line feed, DEL, the Unicode line and
# paragraph separators, bidi embeddings, overrides and isolates (they can disguise text
# on the board), and lone surrogates (which no encoding can carry).
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# Characters that show nothing: a text of only these is empty.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cs"})
_INVISIBLE_EXTRA = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")
_GRAPHEME = regex.compile(r"\X")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"\s+")

# The pattern the JSON Schema shows for the same rule (a client may check it early).
FORBIDDEN_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"


def length(text: str) -> int:
    """How long a text is as people see it: its grapheme clusters."""
    return len(_GRAPHEME.findall(text))


def is_invisible(text: str) -> bool:
    """Whether a text shows nothing at all (white space, zero-width, fillers)."""
    return all(
        ch in _INVISIBLE_EXTRA or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text
    )


def clean(
    value: Any,
    *,
    field: str,
    max_len: int,
    multiline: bool = True,
    required: bool = True,
) -> str | None:
    """The kept form of a user-written text, or a :class:`ValidationError` with the
    code of the broken rule (``empty``, ``invalid_type``, ``control_characters``,
    ``too_long``). ``None`` (or, when not required, only white space) is "not given"."""
    if value is None:
        if required:
            raise ValidationError(ErrorCode.EMPTY, "'%(field)s' is required.", field=field)
        return None
    if not isinstance(value, str):
        raise ValidationError(ErrorCode.INVALID_TYPE, "'%(field)s' must be a string.", field=field)
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if _FORBIDDEN.search(text):
        raise ValidationError(
            ErrorCode.CONTROL_CHARACTERS, "'%(field)s' contains control characters.", field=field
        )
    text = _BLANK_LINES.sub("\n\n", text) if multiline else _SPACES.sub(" ", text)
    if not text or is_invisible(text):
        if not required:
            return None
        raise ValidationError(ErrorCode.EMPTY, "'%(field)s' must not be empty.", field=field)
    # A text has at most as many grapheme clusters as code points: count them (slow)
    # only when the code points are over the limit.
    if len(text) > max_len and length(text) > max_len:
        raise ValidationError(
            ErrorCode.TOO_LONG,
            "'%(field)s' is longer than %(max_len)s characters.",
            field=field,
            max_len=max_len,
        )
    return text


def Text(
    max_len: int, *, multiline: bool = True, required: bool = True, description: str = ""
) -> Any:
    """A pydantic string field that follows :func:`clean`."""

    def check(value: Any, info: Any) -> str | None:
        field = info.field_name or "text"
        try:
            return clean(
                value, field=field, max_len=max_len, multiline=multiline, required=required
            )
        except ValidationError as exc:
            raise PydanticCustomError(exc.code, exc.template, exc.params) from None

    note = (
        f"At most {max_len} characters as people see them (grapheme clusters), after "
        "trimming and NFC; a text within maxLength code points always fits."
    )
    if not multiline:
        note += " One line: line breaks become spaces."
    if not required:
        note += " Empty or white space only means not given."
    schema: dict[str, Any] = {
        "type": "string",
        "maxLength": max_len,
        "pattern": rf"^[^{FORBIDDEN_CLASS}]*$",
        "description": f"{description} {note}".strip(),
    }
    if required:
        schema["minLength"] = 1
    else:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return Annotated[
        str | None if not required else str, BeforeValidator(check), WithJsonSchema(schema)
    ]

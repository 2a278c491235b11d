"""Every closed set of values, declared once: statuses, actions, roles, reasons, errors.

The models store them, the schemas check them, the OpenAPI document and the archive
schema list them, and the browser scripts read them from :func:`browser_table` in
each page's data, so a new action is one edit here plus its translations (and a new
error code one edit here plus its line in docs/api.md).
"""

from __future__ import annotations

import enum
from typing import Any, Literal, get_args

# The languages of the interface and of an event's own texts (``discussion.LANGUAGES``).
Language = Literal["en", "es", "pt_BR"]


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    CLOSED = "closed"


class Moderation(enum.StrEnum):
    POST = "post"
    PRE = "pre"


class QuestionStatus(enum.StrEnum):
    PENDING = "pending"
    VISIBLE = "visible"
    ANSWERED = "answered"
    HIDDEN = "hidden"


class Quote(enum.StrEnum):
    NAMED = "named"
    ANONYMOUS = "anonymous"
    NONE = "none"


class ReasonCode(enum.StrEnum):
    """The common reasons a moderator picks with one click; shown translated."""

    OFF_TOPIC = "off_topic"
    PERSONAL_ATTACK = "personal_attack"
    PERSONAL_DATA = "personal_data"
    SPAM = "spam"
    DUPLICATE = "duplicate"


class Role(enum.StrEnum):
    ORGANISER = "organiser"
    MODERATOR = "moderator"


class QuestionAction(enum.StrEnum):
    """What staff may do to a question (POST /questions/<id>/moderate, socket moderate)."""

    APPROVE = "approve"
    HIDE = "hide"
    RESTORE = "restore"
    ANSWER = "answer"
    HIGHLIGHT = "highlight"
    UNHIGHLIGHT = "unhighlight"
    PIN = "pin"
    UNPIN = "unpin"
    EDIT = "edit"
    MERGE = "merge"
    MUTE = "mute"
    UNMUTE = "unmute"


class CommentAction(enum.StrEnum):
    """What staff may do to a comment."""

    HIDE = "hide"
    RESTORE = "restore"
    MUTE = "mute"
    UNMUTE = "unmute"


class Notice(enum.StrEnum):
    """What a question's author is told a moderator did (the ``notice`` message)."""

    APPROVED = "approved"
    HIDDEN = "hidden"
    RESTORED = "restored"
    MERGED = "merged"
    ANSWERED = "answered"
    HIGHLIGHTED = "highlighted"
    DELETED = "deleted"


class ErrorCode(enum.StrEnum):
    """Every ``error.code`` the app can answer (JSON errors and ``ok: false`` acks),
    and the codes of the problems named inside a seed file's or an archive's refusal.

    Clients must accept codes added later: the document's ``ErrorDetail.code`` stays a
    string with a pattern; this is what the server itself may raise.
    """

    # The input: malformed, of the wrong type, or over a limit (400).
    CSRF_FAILED = "csrf_failed"
    INVALID_JSON = "invalid_json"
    EMPTY = "empty"
    INVALID_TYPE = "invalid_type"
    INVALID = "invalid"
    TOO_LONG = "too_long"
    CONTROL_CHARACTERS = "control_characters"
    INVALID_ID = "invalid_id"
    INVALID_CLIENT_ID = "invalid_client_id"
    INVALID_QUOTE = "invalid_quote"
    NAME_REQUIRED = "name_required"
    INVALID_SORT = "invalid_sort"
    UNKNOWN_TOPIC = "unknown_topic"
    INVALID_ACTION = "invalid_action"
    INVALID_REASON_CODE = "invalid_reason_code"
    MERGE_INTO_SELF = "merge_into_self"
    INVALID_PAPER = "invalid_paper"
    # An event's fields (POST and PATCH /events, seed files, archives).
    INVALID_CODE = "invalid_code"
    INVALID_STATUS = "invalid_status"
    INVALID_MODERATION = "invalid_moderation"
    INVALID_RETENTION = "invalid_retention"
    INVALID_DATE = "invalid_date"
    INVALID_TIMEZONE = "invalid_timezone"
    INVALID_SLUG = "invalid_slug"
    DUPLICATE_TOPIC = "duplicate_topic"
    INVALID_LANGUAGE = "invalid_language"
    UNKNOWN_KEY = "unknown_key"
    UNKNOWN_USER = "unknown_user"
    INVALID_SEED = "invalid_seed"
    # Who asks: a login, a right, an identity (401, 403).
    LOGIN_REQUIRED = "login_required"
    NO_IDENTITY = "no_identity"
    FORBIDDEN = "forbidden"
    NOT_YOURS = "not_yours"
    MUTED = "muted"
    # Not there, or not visible to the asker (404).
    EVENT_NOT_FOUND = "event_not_found"
    QUESTION_NOT_FOUND = "question_not_found"
    COMMENT_NOT_FOUND = "comment_not_found"
    # Valid, but the current state forbids it (409).
    EVENT_CLOSED = "event_closed"
    NOT_VOTABLE = "not_votable"
    NOT_COMMENTABLE = "not_commentable"
    NOT_PENDING = "not_pending"
    ALREADY_ANSWERED = "already_answered"
    ALREADY_HIDDEN = "already_hidden"
    NOT_HIDDEN = "not_hidden"
    NOT_VISIBLE = "not_visible"
    ALREADY_MERGED = "already_merged"
    NO_AUTHOR = "no_author"
    NO_CHANGE = "no_change"
    CODE_TAKEN = "code_taken"
    # Too fast, or the server cannot now: try again later (429, 503).
    RATE_LIMITED = "rate_limited"
    BUSY = "busy"
    # Socket.IO acknowledgements only.
    NOT_JOINED = "not_joined"
    UNKNOWN_EVENT = "unknown_event"
    INTERNAL = "internal"
    # HTTP errors raised before our code runs, named as werkzeug names them.
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_ENTITY_TOO_LARGE = "request_entity_too_large"
    INTERNAL_SERVER_ERROR = "internal_server_error"
    # One problem inside ``invalid_seed`` or a refused ``flask import`` (in the message).
    UNREADABLE = "unreadable"
    ENCODING = "encoding"
    TOO_LARGE = "too_large"
    INVALID_TOML = "invalid_toml"
    UNKNOWN_FORMAT = "unknown_format"
    TOO_MANY = "too_many"
    AMBIGUOUS_TOPIC = "ambiguous_topic"
    INVALID_TIME = "invalid_time"
    DUPLICATE_ID = "duplicate_id"
    MERGE_CYCLE = "merge_cycle"


# What a phone sends again later rather than show as refused: the server was too busy,
# failed, or the socket had not joined yet. Anything else is an answer to show.
RETRY_LATER = frozenset(
    {
        ErrorCode.RATE_LIMITED,
        ErrorCode.BUSY,
        ErrorCode.INTERNAL,
        ErrorCode.INTERNAL_SERVER_ERROR,
        ErrorCode.NOT_JOINED,
    }
)


# The notice each question action sends its author, if any.
NOTICE_OF: dict[QuestionAction, Notice] = {
    QuestionAction.APPROVE: Notice.APPROVED,
    QuestionAction.HIDE: Notice.HIDDEN,
    QuestionAction.RESTORE: Notice.RESTORED,
    QuestionAction.ANSWER: Notice.ANSWERED,
    QuestionAction.HIGHLIGHT: Notice.HIGHLIGHTED,
    QuestionAction.MERGE: Notice.MERGED,
}


def browser_table() -> dict[str, Any]:
    """The values the page scripts need, in the page data (never copied into JS)."""
    return {
        "question_statuses": [s.value for s in QuestionStatus],
        "event_statuses": [s.value for s in EventStatus],
        "question_actions": [a.value for a in QuestionAction],
        "comment_actions": [a.value for a in CommentAction],
        "reason_codes": [r.value for r in ReasonCode],
        "notices": [n.value for n in Notice],
        "quotes": [q.value for q in Quote],
        # Named after their values, so a script's ERR.LOGIN_REQUIRED needs only the values.
        "errors": [code.value for code in ErrorCode],
        "retry_later": sorted(code.value for code in RETRY_LATER),
    }


class Paper(enum.StrEnum):
    """The paper size a printed report is laid out for (A4 unless told otherwise)."""

    A4 = "a4"
    LETTER = "letter"


# Actions written to the moderation log besides the question actions: what staff did to
# comments, posts deleted by staff, and changes to the event itself.
EVENT_LOG_ACTIONS = (
    "hide_comment",
    "restore_comment",
    "delete",
    "delete_comment",
    "create_event",
    "load_seed",
    "update_event",
)

# Moderation actions shown in the public log: what was hidden, changed or muted, and
# the event's openings and closings. Approvals and highlights are routine, not listed.
PublicAction = Literal[
    "hide",
    "restore",
    "hide_comment",
    "restore_comment",
    "merge",
    "edit",
    "mute",
    "unmute",
    "delete",
    "delete_comment",
    "status:closed",
    "status:live",
]
PUBLIC_ACTIONS: tuple[str, ...] = get_args(PublicAction)


def logged_actions() -> tuple[str, ...]:
    """Every action the moderation log may hold (an archive's log is checked against it)."""
    return (
        *(a.value for a in QuestionAction),
        *EVENT_LOG_ACTIONS,
        *(f"status:{s.value}" for s in EventStatus),
        *(f"moderation:{m.value}" for m in Moderation),
    )

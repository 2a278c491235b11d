"""Every closed set of values, declared once: statuses, actions, roles, reasons.

The models store them, the schemas check them, the OpenAPI document and the archive
schema list them, and the browser scripts read them from :func:`browser_table` in
each page's data, so a new action is one edit here plus its translations.
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
    }


class Paper(enum.StrEnum):
    """The paper size a printed report is laid out for (A4 unless told otherwise)."""

    A4 = "a4"
    LETTER = "letter"


# Actions written to the moderation log besides the question actions: what staff did to
# comments, posts deleted by staff, and changes to the event itself.
EVENT_LOG_ACTIONS = ("hide_comment", "restore_comment", "delete", "delete_comment",
                     "create_event", "load_seed", "update_event")

# Moderation actions shown in the public log: what was hidden, changed or muted, and
# the event's openings and closings. Approvals and highlights are routine, not listed.
PublicAction = Literal["hide", "restore", "hide_comment", "restore_comment", "merge", "edit",
                       "mute", "unmute", "delete", "delete_comment", "status:closed",
                       "status:live"]
PUBLIC_ACTIONS: tuple[str, ...] = get_args(PublicAction)


def logged_actions() -> tuple[str, ...]:
    """Every action the moderation log may hold (an archive's log is checked against it)."""
    return (
        *(a.value for a in QuestionAction),
        *EVENT_LOG_ACTIONS,
        *(f"status:{s.value}" for s in EventStatus),
        *(f"moderation:{m.value}" for m in Moderation),
    )

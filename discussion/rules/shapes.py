"""The shapes the API and the sockets answer with, declared once per audience.

A question as participants see it (:class:`Question`), as the event's moderators see
it (:class:`StaffQuestion`: the same plus what only they may read), a comment
(:class:`Comment`, :class:`StaffComment`), an event, the results of votes and of
"forget me", the moderation records and the error. ``queries``, ``operations`` and the
API build every answer through these models, and the OpenAPI document generates its
response components from them (``openapi.components``): a class's docstring and its
fields' descriptions are what client authors read, so they are written for them.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from .enums import (
    EVENT_LOG_ACTIONS,
    ErrorCode,
    EventStatus,
    Language,
    Moderation,
    PublicAction,
    QuestionAction,
    QuestionStatus,
    Quote,
    ReasonCode,
)
from .text import AUTHOR_MAX, CODE_RE, SLUG_RE, TITLE_MAX, TOPIC_MAX

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Count = Annotated[int, Field(ge=0)]
Timestamp = Annotated[
    str,
    Field(
        description="UTC, ISO 8601 with milliseconds and a Z.",
        json_schema_extra={"format": "date-time"},
    ),
]
Slug = Annotated[str, Field(max_length=64, pattern=SLUG_RE.pattern)]
TopicText = Annotated[str, Field(max_length=TOPIC_MAX)]
Title = Annotated[str, Field(max_length=TITLE_MAX)]
Author = Annotated[str, Field(max_length=AUTHOR_MAX)]
ReasonCodeField = Annotated[
    ReasonCode | None,
    Field(
        description="A common reason picked with one click, stored as this code and shown "
        "translated; the free-text `reason` may add to it."
    ),
]


class Shape(BaseModel):
    """An answer: exactly these fields (clients should still ignore unknown ones, since
    the API grows by adding fields)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


# -- questions and comments


class Question(Shape):
    """A question as participants see it."""

    id: Id
    body: str = Field(
        min_length=1, description="At most 500 characters as people see them (grapheme clusters)."
    )
    topic: str | None = Field(max_length=64, description="A topic slug of the event.")
    votes: Count
    comments: Count = Field(description="Visible comments in the thread.")
    status: QuestionStatus = Field(
        description="`pending`: waiting for approval (pre-moderation), seen by staff and "
        "its author; `visible`; `answered`; `hidden`: seen by staff only."
    )
    seeded: bool = Field(description="One of the organisers' open questions.")
    author: Author | None = Field(description="The name given, if any.")
    created_at: Timestamp
    highlighted: bool = Field(description="The question now discussed (at most one per event).")
    pinned: bool = Field(description="Pinned questions rank first.")
    edited: bool = Field(description="A moderator edited the text.")
    mine: bool = Field(description="Posted by the caller's participant identity.")
    voted: bool = Field(description="The caller upvoted it.")


class StaffQuestion(Question):
    """A question as the event's moderators see it: the Question plus what only they see."""

    original_body: str | None = Field(description="The text before a moderator's edit.")
    merged_into: Id | None = Field(description="The question it was merged into.")
    quote: Quote = Field(description="The author's quote consent.")
    author_muted: bool = Field(description="Whether a moderator paused its author's posting.")
    duplicate_of: Id | None = Field(
        description="The earlier visible or answered question this one probably repeats "
        "(a possible duplicate to merge into), or null. Never set on hidden questions."
    )


class QuestionList(Shape):
    """Question for participants, StaffQuestion for the event's moderators."""

    questions: list[Question | StaffQuestion]


class SimilarQuestions(Shape):
    """The questions that say the same as a text, best first."""

    questions: list[Question] = Field(max_length=3)


class Comment(Shape):
    """A comment in a question's thread."""

    id: Id
    question_id: Id
    body: str = Field(min_length=1)
    author: Author | None
    created_at: Timestamp
    mine: bool = Field(description="Posted by the caller's participant identity.")


class StaffComment(Comment):
    """A comment as the event's moderators see it: the Comment plus `hidden`."""

    hidden: bool = Field(description="Staff only: the comment is hidden from participants.")


class CommentList(Shape):
    """Comment for participants, StaffComment (with `hidden`) for the event's moderators."""

    comments: list[Comment | StaffComment]


class VoteResult(Shape):
    """A question's vote count and the caller's vote."""

    id: Id
    votes: Count
    voted: bool = Field(description="Whether the caller now upvotes it.")


# -- events


class TopicName(Shape):
    """A topic: its slug and its name."""

    slug: Slug
    name: TopicText


class Topic(TopicName):
    """A topic: its slug, its name in the reader's language when given in it, and its
    name in other languages."""

    name: TopicText = Field(description="In the reader's language when given in it.")
    translations: dict[Language, TopicText] = Field(description="The name in other languages.")


@with_config(ConfigDict(extra="forbid"))
class EventTexts(TypedDict, total=False):
    """An event's own texts in one language; a text left out is shown as written."""

    # A TypedDict, not a model: a text not given is left out of the answer, never null.
    title: Title
    description: str
    place: Title
    policy: str


class OriginalTexts(Shape):
    """The event's own texts as written, whatever the reader's language (for editing)."""

    title: Title
    description: str
    place: Title
    policy: str
    topics: list[TopicName]


class _EventFields(Shape):
    """What every shape of an event carries (not a component of its own)."""

    code: str = Field(max_length=32, pattern=CODE_RE.pattern)
    title: Title
    description: str
    date: datetime.date | None
    place: str
    policy: str = Field(description="The moderation policy participants see.")
    moderator: str
    speakers: list[str]
    organisers: list[str]
    status: EventStatus = Field(
        description="`draft` events are seen by staff only; only "
        "`live` events take new posts and votes."
    )
    moderation: Moderation = Field(
        description="`pre`: participants' questions wait for "
        "approval; `post`: they are visible at once."
    )
    licence: str = Field(description="The contribution licence exports carry.")


class Event(_EventFields):
    """`title`, `description`, `place`, `policy` and the topics' `name` are in the
    reader's language (the `lang` cookie, else Accept-Language) when the organisers
    gave them in it, else as written."""

    topics: list[Topic]
    original: OriginalTexts
    translations: dict[Language, EventTexts] = Field(
        description="The event's own texts in other languages."
    )


class EventSummary(_EventFields):
    """The Event in the reader's language only, without `original`, `translations` and
    the topics' `translations`: what phones and boards get over Socket.IO (the `join`
    ack and the room's `event` message)."""

    topics: list[TopicName]


class EventList(Shape):
    """The events the caller may moderate."""

    events: list[Event]


class SeedResult(Shape):
    """The event as loaded, and how many questions were added."""

    event: Event
    added: Count = Field(description="Questions added by this load.")


# -- privacy and moderation records


class ForgetMeResult(Shape):
    """What "forget me" did."""

    questions_erased: Count
    questions_anonymised: Count
    comments_erased: Count
    votes_unlinked: Count


class HiddenCounts(Shape):
    """How many questions and comments of the event are hidden."""

    questions: Count
    comments: Count


class PublicModerationEntry(Shape):
    """One public moderation action and its reason; never the hidden text, never who."""

    action: PublicAction
    reason: str
    reason_code: ReasonCodeField
    at: Timestamp


class PublicModeration(Shape):
    """The public side of moderation: the policy, how much is hidden, and why."""

    policy: str = Field(description="The event's moderation policy.")
    hidden: HiddenCounts
    entries: list[PublicModerationEntry] = Field(description="Newest first; never the hidden text.")


LOG_ACTIONS = (
    f"A question action ({', '.join(a.value for a in QuestionAction)}), "
    f"{', '.join(f'`{a}`' for a in EVENT_LOG_ACTIONS)}, `status:<status>` or "
    "`moderation:<mode>`."
)


class ModerationLogEntry(Shape):
    """One moderation action, as the event's moderators read it."""

    id: Id
    action: str = Field(description=LOG_ACTIONS)
    question_id: Id | None
    comment_id: Id | None
    reason: str
    reason_code: ReasonCodeField
    by: str | None = Field(description="The staff member's email.")
    at: Timestamp


class ModerationLog(Shape):
    """Every moderation action of the event."""

    entries: list[ModerationLogEntry] = Field(description="Newest first.")


# -- errors


class ErrorDetail(Shape):
    """A stable machine code and a readable message (also the `error` of an `ok: false`
    Socket.IO acknowledgement)."""

    code: str = Field(pattern="^[a-z_]+$")
    message: str


class Error(Shape):
    """Every 4xx answer: a stable machine code and a readable message."""

    error: ErrorDetail


# Every answer component of the OpenAPI document, by the name clients know it by.
ANSWERS: tuple[type[BaseModel], ...] = (
    Error,
    Topic,
    Event,
    EventList,
    SeedResult,
    Question,
    StaffQuestion,
    QuestionList,
    SimilarQuestions,
    Comment,
    StaffComment,
    CommentList,
    VoteResult,
    ForgetMeResult,
    PublicModeration,
    ModerationLog,
    EventSummary,
)


def error(code: ErrorCode, message: str) -> dict[str, Any]:
    """The error answer: ``{"error": {"code": ..., "message": ...}}``."""
    return Error(error=ErrorDetail(code=code, message=message)).model_dump(mode="json")


def listing(model: type[Shape], **lists: list[dict[str, Any]]) -> dict[str, Any]:
    """A list answer (QuestionList, CommentList, EventList) around items each already
    built through its own model: the keys are the model's, the items are not validated
    a second time. Measured: validating 500 questions again through QuestionList costs
    as much as building them (about 3 ms, 5 ms for staff), on the hot join and list
    paths."""
    if lists.keys() != model.model_fields.keys():
        raise TypeError(f"{model.__name__} has {list(model.model_fields)}, not {list(lists)}")
    return lists

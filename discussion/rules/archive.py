"""The JSON archive, declared once as pydantic models.

``flask import`` parses every archive through :class:`Archive` (after its digest is
checked: a digest proves the file was not altered, not who wrote it), so an archive is
held to the limits the API applies to the same fields, with the same error codes: the
text rule of :mod:`rules.text`, the enums of :mod:`rules.enums`, the event rules and
types of :mod:`rules.events`. ``docs/export-schema.json`` is generated from these models
(``python -m discussion.export.schema``); a test fails when the committed file differs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..errors import ValidationError
from .enums import ErrorCode, QuestionStatus, logged_actions
from .enums import Quote as QuoteValue
from .enums import ReasonCode as ReasonCodeValue
from .event_rules import LIST_MAX
from .events import (
    Code,
    Day,
    LongText,
    ModerationMode,
    People,
    Place,
    Retention,
    Slug,
    Status,
    Title,
    TopicName,
)
from .problems import rule as checked
from .text import (
    AUTHOR_MAX,
    COMMENT_MAX,
    GENERATOR_MAX,
    LICENCE_MAX,
    QUESTION_MAX,
    REASON_MAX,
    Text,
)
from .timezone import DEFAULT_TIMEZONE, TimeZoneName

SCHEMA = "discussion-archive"
SCHEMA_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
INT_MAX = 2**31 - 1  # the database's integer columns


def rule(check: Callable[[Any], Any], schema: dict[str, Any]) -> tuple[Any, Any]:
    """A pydantic validator running one of the rules, with its JSON Schema."""
    return checked(check), WithJsonSchema(schema)


# -- times --------------------------------------------------------------------------

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
TIMESTAMP_SCHEMA = {
    "type": "string",
    "pattern": _TIMESTAMP.pattern,
    "description": "ISO 8601 with seconds and a zone; exports write UTC with milliseconds "
    "and a Z (2016-12-08T15:04:05.123Z).",
}


def parse_timestamp(value: Any) -> datetime:
    """A time as stored: naive UTC. Strict: ``YYYY-MM-DDTHH:MM:SS[.f]`` and a zone."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise ValidationError(
            ErrorCode.INVALID_TIME, "'%(field)s' is not an ISO 8601 time with a zone.", field="time"
        )
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise ValidationError(
            ErrorCode.INVALID_TIME, "'%(field)s' is not a valid time.", field="time"
        ) from None


Timestamp = Annotated[datetime, *rule(parse_timestamp, TIMESTAMP_SCHEMA)]

# -- numbers and closed sets ----------------------------------------------------------

Count = Annotated[int, Field(strict=True, ge=0, le=INT_MAX)]
Id = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=INT_MAX,
        description="An id of the exporting database; it only ties the "
        "archive together (merges, the log).",
    ),
]


def _quote(value: Any) -> str:
    if not isinstance(value, str) or value not in {q.value for q in QuoteValue}:
        raise ValidationError(
            ErrorCode.INVALID_QUOTE, "'quote' must be 'named', 'anonymous' or 'none'."
        )
    return value


Quote = Annotated[
    str,
    *rule(
        _quote,
        {
            "enum": ["named", "anonymous", "none"],
            "description": "How the author agreed to be quoted: with their name, anonymously, or "
            "not at all (the text stays out of the reports).",
        },
    ),
]


def _reason_code(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in {r.value for r in ReasonCodeValue}:
        raise ValidationError(
            ErrorCode.INVALID_REASON_CODE,
            "'reason_code' is one of %(codes)s.",
            codes=", ".join(r.value for r in ReasonCodeValue),
        )
    return value


ReasonCode = Annotated[
    str | None,
    *rule(
        _reason_code,
        {
            "anyOf": [{"enum": [r.value for r in ReasonCodeValue]}, {"type": "null"}],
            "description": "A common reason picked from a list, shown translated.",
        },
    ),
]
# The actions the log may hold, as a Literal built from the enums (a checker sees a str).
if TYPE_CHECKING:
    Action: TypeAlias = str
else:
    Action = Literal[logged_actions()]

# -- texts: the API's limits -------------------------------------------------------------

if TYPE_CHECKING:
    # Text() builds each field's Annotated type at run time; to a type checker a field
    # is the value it holds.
    Name: TypeAlias = str | None
    OriginalBody: TypeAlias = str | None
    Reason: TypeAlias = str | None
    Licence: TypeAlias = str
    Generator: TypeAlias = str
    QuestionBody: TypeAlias = str
    CommentBody: TypeAlias = str
else:
    Name = Text(
        AUTHOR_MAX,
        multiline=False,
        required=False,
        description="The author's name: only on posts quoted 'named', never on hidden ones.",
    )
    Licence = Text(LICENCE_MAX, multiline=False)
    Generator = Text(GENERATOR_MAX, multiline=False)
    QuestionBody = Text(QUESTION_MAX)
    OriginalBody = Text(QUESTION_MAX, required=False)
    CommentBody = Text(COMMENT_MAX)
    Reason = Text(REASON_MAX, required=False)


class Record(BaseModel):
    """Every object of the archive: no member more, none less."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TopicRecord(Record):
    slug: Slug
    name: TopicName


class EventRecord(Record):
    code: Code
    title: Title
    description: LongText
    date: Day
    timezone: TimeZoneName = DEFAULT_TIMEZONE
    place: Place
    moderator: Place
    speakers: People
    organisers: People
    status: Status
    moderation: ModerationMode
    policy: LongText
    retention_days: Retention
    created_at: Timestamp | None


class Figures(Record):
    """The summary figures at export time; ``participants`` comes back on a restore."""

    participants: Count
    questions: Count
    votes: Count
    comments: Count
    answered: Count
    pending: Count
    hidden_questions: Count
    hidden_comments: Count
    merged_questions: Count = 0


class LogEntry(Record):
    action: Action
    question_id: Id | None
    comment_id: Id | None
    reason: Reason
    reason_code: ReasonCode = None
    at: Timestamp


class CommentRecord(Record):
    id: Id
    body: CommentBody
    author: Name
    quote: Quote
    hidden: StrictBool
    created_at: Timestamp


class QuestionRecord(Record):
    id: Id
    topic: Slug | None
    body: QuestionBody
    original_body: OriginalBody
    author: Name
    quote: Quote
    seeded: StrictBool
    status: QuestionStatus
    highlighted: StrictBool
    pinned: StrictBool
    edited: StrictBool
    merged_into: Id | None
    votes: Count
    comments: Count
    created_at: Timestamp
    answered_at: Timestamp | None
    thread: list[CommentRecord]


class Digest(Record):
    algorithm: Literal["sha256"]
    value: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Archive(Record):
    """A whole archive, with the references between its parts checked."""

    schema_name: Literal["discussion-archive"] = Field(alias="schema")
    schema_version: Literal[1, 2]
    exported_at: Timestamp
    generator: Generator
    licence: Licence
    event: EventRecord
    topics: list[TopicRecord] = Field(max_length=LIST_MAX)
    figures: Figures
    moderation_log: list[LogEntry]
    questions: list[QuestionRecord]
    digest: Digest

    @model_validator(mode="after")
    def references(self) -> Archive:
        """Slugs and ids unique; topics, merges and log entries name what exists."""
        slugs: set[str] = set()
        for i, topic in enumerate(self.topics):
            if topic.slug in slugs:
                refuse(
                    ErrorCode.DUPLICATE_TOPIC,
                    f"topics[{i}].slug",
                    f"the topic '{topic.slug}' is given twice",
                )
            slugs.add(topic.slug)
        questions: dict[int, QuestionRecord] = {}
        comments: set[int] = set()
        for i, q in enumerate(self.questions):
            if q.id in questions:
                refuse(
                    ErrorCode.DUPLICATE_ID, f"questions[{i}].id", f"the id {q.id} is given twice"
                )
            questions[q.id] = q
            if q.topic is not None and q.topic not in slugs:
                refuse(
                    ErrorCode.UNKNOWN_TOPIC,
                    f"questions[{i}].topic",
                    f"names the topic '{q.topic}', which the archive does not have",
                )
            for j, c in enumerate(q.thread):
                if c.id in comments:
                    refuse(
                        ErrorCode.DUPLICATE_ID,
                        f"questions[{i}].thread[{j}].id",
                        f"the comment id {c.id} is given twice",
                    )
                comments.add(c.id)
        for i, q in enumerate(self.questions):
            if q.merged_into is None:
                continue
            where = f"questions[{i}].merged_into"
            if q.merged_into == q.id:
                refuse(ErrorCode.MERGE_INTO_SELF, where, "a question cannot be merged into itself")
            if q.merged_into not in questions:
                refuse(
                    ErrorCode.QUESTION_NOT_FOUND,
                    where,
                    f"names the question {q.merged_into}, which the archive does not have",
                )
            seen, at = {q.id}, questions[q.merged_into]
            while at.merged_into is not None:
                if at.id in seen or at.merged_into in seen:
                    refuse(ErrorCode.MERGE_CYCLE, where, "the merges go round in a circle")
                seen.add(at.id)
                nxt = questions.get(at.merged_into)
                if nxt is None:
                    break
                at = nxt
        for i, e in enumerate(self.moderation_log):
            if e.question_id is not None and e.question_id not in questions:
                refuse(
                    ErrorCode.QUESTION_NOT_FOUND,
                    f"moderation_log[{i}].question_id",
                    f"names the question {e.question_id}, which the archive does not have",
                )
            if e.comment_id is not None and e.comment_id not in comments:
                refuse(
                    ErrorCode.COMMENT_NOT_FOUND,
                    f"moderation_log[{i}].comment_id",
                    f"names the comment {e.comment_id}, which the archive does not have",
                )
        return self


def refuse(code: ErrorCode, where: str, message: str) -> None:
    """Stop the parse with an error that names its place in the archive."""
    raise PydanticCustomError(code, "{where}: {message}", {"where": where, "message": message})

"""The shapes the API and the sockets answer with, declared once per audience.

A question as participants see it (:class:`Question`), as the event's moderators see
it (:class:`StaffQuestion`: the same plus what only they may read), and a comment
(:class:`Comment`, :class:`StaffComment`). ``queries`` builds every answer through
these models and the OpenAPI document takes its response schemas from them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .enums import QuestionStatus, Quote

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Timestamp = Annotated[str, Field(description="UTC, ISO 8601 with milliseconds and a Z.",
                                 json_schema_extra={"format": "date-time"})]


class Shape(BaseModel):
    """An answer: exactly these fields (clients should still ignore unknown ones, since
    the API grows by adding fields)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Question(Shape):
    """A question as participants see it."""

    id: Id
    body: str = Field(min_length=1, description="At most 500 characters as people see them "
                      "(grapheme clusters).")
    topic: str | None = Field(description="A topic slug of the event.")
    votes: int = Field(ge=0)
    comments: int = Field(ge=0, description="Visible comments in the thread.")
    status: QuestionStatus = Field(
        description="`pending`: waiting for approval (pre-moderation), seen by staff and "
        "its author; `visible`; `answered`; `hidden`: seen by staff only.")
    seeded: bool = Field(description="One of the organisers' open questions.")
    author: str | None = Field(description="The name given, if any.")
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
        "(a possible duplicate to merge into), or null. Never set on hidden questions.")


class Comment(Shape):
    """A comment in a question's thread."""

    id: Id
    question_id: Id
    body: str = Field(min_length=1)
    author: str | None
    created_at: Timestamp
    mine: bool = Field(description="Posted by the caller's participant identity.")


class StaffComment(Comment):
    """A comment as the event's moderators see it."""

    hidden: bool = Field(description="Staff only: the comment is hidden from participants.")

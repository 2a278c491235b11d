"""Typed SQLAlchemy 2 models. Constraints do the integrity work; counters change in SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .rules.enums import (  # noqa: F401  (the enums models store, declared in rules)
    EventStatus,
    Moderation,
    QuestionStatus,
    Quote,
    ReasonCode,
    Role,
)


def utcnow() -> datetime:
    """Naive UTC now: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


event_moderators = Table(
    "event_moderators",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


# The event's plain fields, set as given by the API, the console and seed files.
EVENT_SCALARS = (
    "title",
    "description",
    "place",
    "moderator",
    "policy",
    "licence",
    "retention_days",
    "speakers",
    "organisers",
    "date",
)


class Event(db.Model):
    """A workshop session with its own join code, topics and questions."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # stored lower-case
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    date: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="")
    moderator: Mapped[str] = mapped_column(String(200), default="")
    speakers: Mapped[list[str]] = mapped_column(JSON, default=list)
    organisers: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.LIVE.value)
    moderation: Mapped[str] = mapped_column(String(16), default=Moderation.POST.value)
    policy: Mapped[str] = mapped_column(Text, default="")
    licence: Mapped[str] = mapped_column(String(100), default="CC-BY-4.0")
    retention_days: Mapped[int] = mapped_column(Integer, default=90)
    # The event's own texts in other languages, each optional and falling back to the
    # columns above: {"es": {"title": ..., "description": ..., "place": ..., "policy": ...}}.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    topics: Mapped[list[Topic]] = relationship(
        back_populates="event", order_by="Topic.position", cascade="all, delete-orphan"
    )
    moderators: Mapped[list[User]] = relationship(
        secondary=event_moderators, back_populates="events"
    )

    __table_args__ = (
        CheckConstraint("status in ('draft', 'live', 'closed')", name="status"),
        CheckConstraint("moderation in ('post', 'pre')", name="moderation"),
    )


class Topic(db.Model):
    """A theme of the event; questions may carry one."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    # The name in other languages: {"es": "Consentimiento", "pt_BR": "Consentimento"}.
    translations: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="topics")

    __table_args__ = (UniqueConstraint("event_id", "slug", name="uq_topics_event_slug"),)


class Participant(db.Model):
    """A pseudonymous participant of one event: no name, no address, no user agent.

    ``key`` is an HMAC, keyed with the app's secret, of the random token in the
    participant's signed cookie and the event: the same phone is a different,
    unlinkable participant in each event, and a database dump alone cannot be matched
    to a cookie jar. A ``forgotten`` row is what "forget me" leaves: its key is a
    further HMAC of the old one (a tombstone), it holds only the votes (so the same
    cookie cannot vote twice) and the mute (so forgetting does not lift it).
    """

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    key: Mapped[str | None] = mapped_column(String(80))  # None once purged
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    forgotten: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("event_id", "key", name="uq_participants_event_key"),)


class User(UserMixin, db.Model):
    """A staff account (organiser or moderator); participants never have one."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # Bumped by logout, a password or role change and removal: every session cookie
    # and open socket that carries an older version loses its rights at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    events: Mapped[list[Event]] = relationship(
        secondary=event_moderators, back_populates="moderators"
    )

    def get_id(self) -> str:
        """Flask-Login's session token: the id and the session version (see auth)."""
        return f"{self.id}.{self.session_version}"

    __table_args__ = (CheckConstraint("role in ('organiser', 'moderator')", name="role"),)


class Question(db.Model):
    """A question of an event, seeded by the organisers or asked by a participant."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    client_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    original_body: Mapped[str | None] = mapped_column(Text)  # kept for staff after an edit
    author: Mapped[str | None] = mapped_column(String(60))
    quote: Mapped[str] = mapped_column(String(16), default=Quote.ANONYMOUS.value)
    seeded: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=QuestionStatus.VISIBLE.value)
    highlighted: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL")
    )
    votes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)  # visible comments
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    topic: Mapped[Topic | None] = relationship()

    __table_args__ = (
        UniqueConstraint("participant_id", "client_id", name="uq_questions_participant_client"),
        CheckConstraint(
            "status in ('pending', 'visible', 'answered', 'hidden')", name="status"
        ),
        CheckConstraint("quote in ('named', 'anonymous', 'none')", name="quote"),
        CheckConstraint("votes >= 0", name="votes_nonnegative"),
        # The ranking rule (pinned, votes, age) reads this index.
        Index("ix_questions_rank", "event_id", "pinned", "votes", "created_at"),
    )


class Vote(db.Model):
    """One participant's upvote of one question; the primary key makes it one per person."""

    __tablename__ = "votes"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_votes_participant", "participant_id"),)


class Comment(db.Model):
    """A comment in a question's thread."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    client_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(60))
    quote: Mapped[str] = mapped_column(String(16), default=Quote.ANONYMOUS.value)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("participant_id", "client_id", name="uq_comments_participant_client"),
        CheckConstraint("quote in ('named', 'anonymous', 'none')", name="quote"),
        Index("ix_comments_question", "question_id", "created_at"),
    )


class ModerationEntry(db.Model):
    """One moderation action: who, when, what and why. Never deleted."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL")
    )
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # A common reason picked from a list, stored as a code and shown translated.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_moderation_log_event", "event_id", "at"),)

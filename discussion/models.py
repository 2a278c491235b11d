"""Typed SQLAlchemy 2 models. Constraints do the integrity work; counters change in SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

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
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import Base, db

# The enums the models store, declared in rules and re-exported here by name.
from .rules.enums import EventStatus as EventStatus
from .rules.enums import Moderation as Moderation
from .rules.enums import QuestionStatus as QuestionStatus
from .rules.enums import Quote as Quote
from .rules.enums import ReasonCode as ReasonCode
from .rules.enums import Role as Role

if TYPE_CHECKING:
    # db.Model is built at run time as a subclass of Base (plus the session query
    # property, which this code does not use); a type checker sees only Base's mapping.
    Model = Base
else:
    Model = db.Model


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
    "timezone",
)


class Event(Model):
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
    # The IANA zone the reports show times in; times are stored in UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Everyone who ever took part, counted as participants are first created: the figure
    # the reports give survives the purge of personal links and a restore from an archive.
    participants_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The event's own texts in other languages, each optional and falling back to the
    # columns above: {"es": {"title": ..., "description": ..., "place": ..., "policy": ...}}.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Grows by one with every unit of work that changes anything of the event; a
    # reconnecting client sends the last one it saw and gets what changed since
    # (docs/realtime.md). Bumped in SQL, so the row lock orders the versions as the
    # commits.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

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

    @staticmethod
    def count_participant(event_id: int) -> None:
        """Add one to the event's ``participants_total``, in SQL (no lost updates)."""
        db.session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(participants_total=Event.participants_total + 1)
        )


class Topic(Model):
    """A theme of the event; questions may carry one."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    # The name in other languages: {"es": "Consentimiento", "pt_BR": "Consentimento"}.
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="topics")

    __table_args__ = (UniqueConstraint("event_id", "slug", name="uq_topics_event_slug"),)


class Participant(Model):
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


class User(UserMixin, Model):  # type: ignore[misc]  # flask_login ships no types
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


class Question(Model):
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
    # The event's version when this question last changed (see Event.version).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    topic: Mapped[Topic | None] = relationship()

    __table_args__ = (
        UniqueConstraint("participant_id", "client_id", name="uq_questions_participant_client"),
        CheckConstraint("status in ('pending', 'visible', 'answered', 'hidden')", name="status"),
        CheckConstraint("quote in ('named', 'anonymous', 'none')", name="quote"),
        CheckConstraint("votes >= 0", name="votes_nonnegative"),
        # The ranking rule (pinned, votes, age) reads this index.
        Index("ix_questions_rank", "event_id", "pinned", "votes", "created_at"),
        # What changed since a version (a reconnecting phone's join).
        Index("ix_questions_event_version", "event_id", "version"),
    )


class QuestionRemoval(Model):
    """A question that left some audience's list at an event version: deleted, merged,
    hidden, or (a pending one) rejected. Kept for the last ``JOIN_WINDOW`` versions
    only, so that a reconnecting client can be told which ids to drop.

    ``public``: participants and boards had it (it was visible or answered);
    ``participant_id``: only its author had it (pending); ``deleted``: the row is gone,
    so staff drop it too (a hidden question stays in the staff list).
    """

    __tablename__ = "question_removals"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(Integer)  # no key: the question may be gone
    version: Mapped[int] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )

    __table_args__ = (Index("ix_question_removals_event_version", "event_id", "version"),)


class Vote(Model):
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


class Comment(Model):
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


class ModerationEntry(Model):
    """One moderation action: who, when, what and why. Never deleted."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))
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

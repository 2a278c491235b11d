"""What several verbs share: the participant of a write, limits, locks, the log, and
telling each audience about a changed question."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import ObjectDeletedError

from .. import live, ratelimit
from ..errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from ..extensions import db
from ..identity import Actor, participant_key, tombstone
from ..models import (
    Comment,
    Event,
    EventStatus,
    ModerationEntry,
    Participant,
    Question,
    QuestionStatus,
    User,
)
from ..queries import find_participant, question_dict, staff_question_dict, topic_slugs
from ..rules import access as policy
from ..rules.enums import ErrorCode
from ..rules.schemas import Post


def ensure_open(event: Event) -> None:
    """Posts and votes only while the event is live."""
    if event.status != EventStatus.LIVE:
        raise Conflict(ErrorCode.EVENT_CLOSED, "This event is not open for new posts and votes.")


def participant_for(event: Event, actor: Actor) -> Participant:
    """The actor's participant in this event, created on their first write.

    Someone who pressed "forget me" comes back as a new participant, still muted if
    they were (the mute is kept under their tombstone), and is not counted again in
    the event's ``participants_total``.
    """
    if actor.token is None:
        raise Unauthorized(
            ErrorCode.NO_IDENTITY, "No participant identity: load the event page first."
        )
    key = participant_key(actor.token, event.id)
    participant = find_participant(event.id, actor.token)
    if participant is None:
        # None without a tombstone, else the mute it kept.
        kept = tombstoned(event.id, key, Participant.muted)
        participant = Participant(event_id=event.id, key=key, muted=bool(kept))
        try:
            with db.session.begin_nested():
                db.session.add(participant)
                db.session.flush()  # a twin fails here
                if kept is None:  # someone back after "forget me" was counted already
                    Event.count_participant(event.id)
        except IntegrityError:  # the same phone's other request created it first
            participant = db.session.scalars(
                select(Participant).where(Participant.event_id == event.id, Participant.key == key)
            ).one()
    return participant


def ensure_not_muted(participant: Participant) -> None:
    if participant.muted:
        raise Forbidden(ErrorCode.MUTED, "A moderator has paused your posting in this event.")


def tombstoned(event_id: int, key: str, column: Any) -> Any:
    """A column of what "forget me" left of this key in this event, if anything."""
    return db.session.scalar(
        select(column).where(Participant.event_id == event_id, Participant.key == tombstone(key))
    )


def rate_limit(kind: str, event_id: int, actor: Actor) -> None:
    """Per-participant posting limits (never per IP: a venue's phones share one).

    Called before the write transaction opens: the limiter's storage may switch
    greenlets, which must never happen while SQLite's write lock is held.
    """
    who = participant_key(actor.token, event_id) if actor.token else "anonymous"
    limit = current_app.config[f"RATELIMIT_{kind.upper()}"]
    if not ratelimit.hit(limit, "op", kind, str(event_id), who):
        raise RateLimited(
            ErrorCode.RATE_LIMITED, "You are posting very fast. Please wait a moment and try again."
        )


def add_post(
    model: type[Question] | type[Comment], participant: Participant, post: Post, **fields: Any
) -> tuple[Any, bool]:
    """Add a question or comment; if a concurrent retry with the same ``client_id`` got
    there first (the unique constraint says so), the stored one instead."""
    new = model(
        participant_id=participant.id,
        client_id=post.client_id,
        body=post.body,
        author=post.author,
        quote=post.quote.value,
        **fields,
    )
    db.session.add(new)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        stored = db.session.scalars(
            select(model).where(
                model.participant_id == participant.id, model.client_id == post.client_id
            )
        ).one()
        return stored, False
    return new, True


def stored_post(
    model: type[Question] | type[Comment], event_id: int, actor: Actor, client_id: str | None
) -> Any:
    """A post this participant already made with this client_id (a retry), if any."""
    if client_id is None:
        return None
    participant = find_participant(event_id, actor.token)
    if participant is None:
        return None
    return db.session.scalar(
        select(model).where(model.participant_id == participant.id, model.client_id == client_id)
    )


def event_of(question_id: int, event_id: int | None) -> int:
    """The event of a question, in one small query: what the rate limit and the retry
    check need before the write transaction (which checks visibility itself)."""
    found = db.session.scalar(select(Question.event_id).where(Question.id == question_id))
    if found is None or (event_id is not None and found != event_id):
        raise NotFound(ErrorCode.QUESTION_NOT_FOUND, "There is no such question in this event.")
    return found


def insert_ignore(table: Any, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING in the dialect at hand; whether a row went in.

    RETURNING tells, on both engines: an INSERT's rowcount is not reliable through
    SQLAlchemy (psycopg reports -1 unless asked to keep it).
    """
    dialect = db.session.get_bind().dialect.name
    maker = {"sqlite": sqlite_insert, "postgresql": pg_insert}.get(dialect)
    if maker is None:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database dialect {dialect}")
    # Both dialects' insert() has on_conflict_do_nothing; the shared annotation does not.
    stmt = maker(table).values(**values).on_conflict_do_nothing()  # type: ignore[attr-defined]
    return db.session.execute(stmt.returning(*table.primary_key.columns)).first() is not None


def log_action(
    event: Event,
    user: User | None,
    action: str,
    reason: str | None = None,
    *,
    question_id: int | None = None,
    comment_id: int | None = None,
    participant_id: int | None = None,
    reason_code: str | None = None,
) -> None:
    """Write one entry of the event's moderation log."""
    db.session.add(
        ModerationEntry(
            event_id=event.id,
            action=action,
            reason=reason or "",
            reason_code=reason_code,
            question_id=question_id,
            comment_id=comment_id,
            participant_id=participant_id,
            user_id=user.id if user else None,
        )
    )


def lock_questions(*ids: int | None) -> None:
    """Hold these questions' rows until the commit, so that votes, comments, merges and
    deletes of one question take turns (PostgreSQL: SELECT ... FOR UPDATE, in id order
    so two writers never wait on each other in a circle). Nothing to do on SQLite:
    BEGIN IMMEDIATE already makes each write transaction the only one."""
    wanted = sorted({i for i in ids if i is not None})
    if wanted and db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(
            select(Question.id)
            .where(Question.id.in_(wanted))
            .order_by(Question.id)
            .with_for_update()
        )


def locked_comment(comment_id: int) -> Comment:
    """A comment, with the row of the question it is in held (see lock_questions).

    A merge may move the comment while we wait for that row, so where it is is read
    again once the row is ours.
    """
    for _attempt in range(3):
        question_id = db.session.scalar(select(Comment.question_id).where(Comment.id == comment_id))
        if question_id is None:
            break
        lock_questions(question_id)
        found = db.session.get(Comment, comment_id, populate_existing=True)
        if found is None:
            break
        if found.question_id == question_id:
            return found
    raise NotFound(ErrorCode.COMMENT_NOT_FOUND, "There is no such comment.")


def own_or_staff(actor: Actor, event: Event, participant_id: int | None) -> User | None:
    """Authors may delete their own posts; staff who moderate the event any post.
    Returns the staff user when it is staff who act (their deletion is logged)."""
    own = find_participant(event.id, actor.token)
    if own is not None and participant_id == own.id:
        return None
    if actor.user is not None and policy.moderates(actor.user, event):
        return actor.user
    if actor.user is not None:
        raise Forbidden(ErrorCode.FORBIDDEN, "You do not moderate this event.")
    raise Forbidden(ErrorCode.NOT_YOURS, "Only its author or a moderator can delete this.")


def author_key(participant_id: int | None) -> str | None:
    """The key of a post's author, which names their own sockets' room."""
    if participant_id is None:
        return None
    return db.session.scalar(select(Participant.key).where(Participant.id == participant_id))


def publish_question(
    event: Event, q: Question, *, was_public: bool = True, notice: dict[str, Any] | None = None
) -> None:
    """After a commit: tell each audience about a created or changed question (see
    live.publish_question), and its author what a moderator did with it (``notice``)."""
    slugs = topic_slugs(event)
    try:
        status = q.status  # read again after the commit: the latest state is sent
    except ObjectDeletedError:
        return  # deleted since by another request, which tells the rooms itself
    author = None
    if (status == QuestionStatus.PENDING or notice) and q.participant_id is not None:
        author = author_key(q.participant_id)
    live.publish_question(
        event.id,
        question_dict(q, slugs),
        staff_question_dict(q, slugs),
        author if status == QuestionStatus.PENDING else None,
        was_public=was_public,
    )
    if notice is not None:
        live.publish_notice(event.id, author, {"question_id": q.id, **notice})


def republish_question(event: Event, question: Question) -> None:
    """After a commit: read the question again (its counts may have moved in SQL) and
    tell the rooms."""
    db.session.expire(question)
    publish_question(event, question)

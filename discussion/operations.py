"""Every write: check the rules, change, log, commit, then publish.

The JSON API and the Socket.IO handlers call these same functions; they only parse
input and shape answers. Identity always comes from the server side (an
:class:`~discussion.identity.Actor`), never from a payload.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import ObjectDeletedError

from . import cache, live, ratelimit, seeding, signals, similar
from .database import write
from .errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized, ValidationError
from .extensions import db
from .identity import Actor, participant_key, tombstone
from .models import (
    EVENT_SCALARS,
    Comment,
    Event,
    EventStatus,
    Moderation,
    ModerationEntry,
    Participant,
    Question,
    QuestionStatus,
    Quote,
    Role,
    Topic,
    User,
    Vote,
    utcnow,
)
from .queries import (
    comment_dict,
    find_participant,
    get_question,
    question_dict,
    staff_question_dict,
    topic_slugs,
)
from .rules import access as policy
from .rules.enums import NOTICE_OF, CommentAction, QuestionAction
from .validation import Post

# ---------------------------------------------------------------------------
# Shared rules (who may do what: discussion.rules.access)

can_moderate = policy.moderates
require_moderator = policy.require_moderator
require_organiser = policy.require_organiser


def _ensure_open(event: Event) -> None:
    if event.status != EventStatus.LIVE:
        raise Conflict("event_closed", "This event is not open for new posts and votes.")


def _participant(event: Event, actor: Actor) -> Participant:
    """The actor's participant in this event, created on their first write.

    Someone who pressed "forget me" comes back as a new participant, still muted if
    they were (the mute is kept under their tombstone).
    """
    if actor.token is None:
        raise Unauthorized("no_identity", "No participant identity: load the event page first.")
    key = participant_key(actor.token, event.id)
    participant = find_participant(event.id, actor.token)
    if participant is None:
        muted = bool(_tombstoned(event.id, key, Participant.muted))
        participant = Participant(event_id=event.id, key=key, muted=muted)
        try:
            with db.session.begin_nested():
                db.session.add(participant)
        except IntegrityError:  # the same phone's other request created it first
            participant = db.session.scalars(
                select(Participant).where(Participant.event_id == event.id, Participant.key == key)
            ).one()
    return participant


def _tombstoned(event_id: int, key: str, column: Any) -> Any:
    """A column of what "forget me" left of this key in this event, if anything."""
    return db.session.scalar(
        select(column).where(Participant.event_id == event_id, Participant.key == tombstone(key))
    )


def _rate_limit(kind: str, event_id: int, actor: Actor) -> None:
    """Per-participant posting limits (never per IP: a venue's phones share one).

    Called before the write transaction opens: the limiter's storage may switch
    greenlets, which must never happen while SQLite's write lock is held.
    """
    who = participant_key(actor.token, event_id) if actor.token else "anonymous"
    limit = current_app.config[f"RATELIMIT_{kind.upper()}"]
    if not ratelimit.hit(limit, "op", kind, str(event_id), who):
        raise RateLimited(
            "rate_limited", "You are posting very fast. Please wait a moment and try again."
        )


def _add_post(
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


def _stored(
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


def _topic_id(event: Event, slug: str | None) -> int | None:
    if slug is None:
        return None
    for topic in event.topics:
        if topic.slug == slug:
            return topic.id
    raise ValidationError("unknown_topic", "This event has no such topic.")


def _insert_ignore(table: Any, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING in the dialect at hand; whether a row went in.

    RETURNING tells, on both engines: an INSERT's rowcount is not reliable through
    SQLAlchemy (psycopg reports -1 unless asked to keep it).
    """
    dialect = db.session.get_bind().dialect.name
    maker = {"sqlite": sqlite_insert, "postgresql": pg_insert}.get(dialect)
    if maker is None:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database dialect {dialect}")
    stmt = maker(table).values(**values).on_conflict_do_nothing()
    return db.session.execute(stmt.returning(*table.primary_key.columns)).first() is not None


def _log(
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


def _lock_questions(*ids: int | None) -> None:
    """Hold these questions' rows until the commit, so that votes, comments, merges and
    deletes of one question take turns (PostgreSQL: SELECT ... FOR UPDATE, in id order
    so two writers never wait on each other in a circle). On SQLite this emits a plain
    SELECT: BEGIN IMMEDIATE already makes each write transaction the only one."""
    wanted = sorted({i for i in ids if i is not None})
    if wanted:
        db.session.execute(
            select(Question.id)
            .where(Question.id.in_(wanted))
            .order_by(Question.id)
            .with_for_update()
        )


def _locked_comment(comment_id: int) -> Comment:
    """A comment, with the row of the question it is in held (see _lock_questions).

    A merge may move the comment while we wait for that row, so where it is is read
    again once the row is ours.
    """
    for _attempt in range(3):
        question_id = db.session.scalar(
            select(Comment.question_id).where(Comment.id == comment_id)
        )
        if question_id is None:
            break
        _lock_questions(question_id)
        found = db.session.get(Comment, comment_id, populate_existing=True)
        if found is None:
            break
        if found.question_id == question_id:
            return found
    raise NotFound("comment_not_found", "There is no such comment.")


def _author_key(participant_id: int | None) -> str | None:
    """The key of a post's author, which names their own sockets' room."""
    if participant_id is None:
        return None
    return db.session.scalar(select(Participant.key).where(Participant.id == participant_id))


def _publish_question(
    event: Event, q: Question, *, was_public: bool = True, notice: dict[str, Any] | None = None
) -> None:
    """Tell each audience about a created or changed question (see live.publish_question),
    and its author what a moderator did with it (``notice``)."""
    slugs = topic_slugs(event)
    try:
        status = q.status  # read again after the commit: the latest state is sent
    except ObjectDeletedError:
        return  # deleted since by another request, which tells the rooms itself
    author_key = None
    if (status == QuestionStatus.PENDING or notice) and q.participant_id is not None:
        author_key = _author_key(q.participant_id)
    live.publish_question(
        event.id,
        question_dict(q, slugs),
        staff_question_dict(q, slugs),
        author_key if status == QuestionStatus.PENDING else None,
        was_public=was_public,
    )
    if notice is not None:
        live.publish_notice(event.id, author_key, {"question_id": q.id, **notice})


# ---------------------------------------------------------------------------
# Participants


def ask(
    actor: Actor, event: Event, post: Post, topic: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Ask a question; a retry with the same ``client_id`` returns the stored one.

    Returns the question as its author sees it, and whether it was created now.
    """
    existing = _stored(Question, event.id, actor, post.client_id)
    if existing is not None:
        voted = db.session.get(Vote, (existing.id, existing.participant_id)) is not None
        return question_dict(existing, topic_slugs(event), mine=True, voted=voted), False
    _rate_limit("questions", event.id, actor)
    return _ask(actor, event, post, topic)


@write
def _ask(
    actor: Actor, event: Event, post: Post, topic: str | None
) -> tuple[dict[str, Any], bool]:
    participant = _participant(event, actor)
    slugs = topic_slugs(event)
    if post.client_id is not None:
        existing = db.session.scalar(
            select(Question).where(
                Question.participant_id == participant.id, Question.client_id == post.client_id
            )
        )
        if existing is not None:
            voted = db.session.get(Vote, (existing.id, participant.id)) is not None
            return question_dict(existing, slugs, mine=True, voted=voted), False
    _ensure_open(event)
    if participant.muted:
        raise Forbidden("muted", "A moderator has paused your posting in this event.")
    topic_id = _topic_id(event, topic)
    pending = event.moderation == Moderation.PRE and not can_moderate(actor.user, event)
    question, created = _add_post(
        Question, participant, post, event_id=event.id, topic_id=topic_id,
        status=QuestionStatus.PENDING.value if pending else QuestionStatus.VISIBLE.value,
    )
    if not created:
        return question_dict(question, slugs, mine=True), False
    db.session.commit()
    similar.touched(event.id, question.id)
    _publish_question(event, question, was_public=False)
    return question_dict(question, slugs, mine=True), True


def _event_of(question_id: int, event_id: int | None) -> int:
    """The event of a question, in one small query: what the rate limit and the retry
    check need before the write transaction (which checks visibility itself)."""
    found = db.session.scalar(select(Question.event_id).where(Question.id == question_id))
    if found is None or (event_id is not None and found != event_id):
        raise NotFound("question_not_found", "There is no such question in this event.")
    return found


def vote(
    actor: Actor, question_id: int, up: bool, *, event_id: int | None = None
) -> dict[str, Any]:
    """Upvote (``up``) or take back a vote; repeating either changes nothing."""
    _rate_limit("votes", _event_of(question_id, event_id), actor)
    return _vote(actor, question_id, up, event_id=event_id)


@write
def _vote(
    actor: Actor, question_id: int, up: bool, *, event_id: int | None = None
) -> dict[str, Any]:
    _lock_questions(question_id)
    question, event, _ = get_question(question_id, actor)
    if event_id is not None and event.id != event_id:
        raise NotFound("question_not_found", "There is no such question in this event.")
    _ensure_open(event)
    if question.status not in (QuestionStatus.VISIBLE, QuestionStatus.ANSWERED):
        raise Conflict("not_votable", "This question cannot be voted on yet.")
    participant = _participant(event, actor)
    # The vote this person kept through "forget me", if any: still theirs, still one.
    kept = _tombstoned(event.id, participant.key or "", Participant.id)
    if kept is not None and db.session.get(Vote, (question.id, kept)) is None:
        kept = None
    if up:
        changed = kept is None and _insert_ignore(
            Vote.__table__,
            {"question_id": question.id, "participant_id": participant.id, "created_at": utcnow()},
        )
        delta = 1
    else:
        changed = db.session.execute(
            delete(Vote).where(
                Vote.question_id == question.id,
                Vote.participant_id.in_([participant.id, kept or participant.id]),
            )
        ).rowcount
        delta = -changed
    if changed:
        votes = db.session.execute(
            update(Question)
            .where(Question.id == question.id)
            .values(votes=Question.votes + delta)
            .returning(Question.votes)
        ).scalar_one()
    else:
        votes = db.session.scalar(select(Question.votes).where(Question.id == question.id))
    room = event.id
    db.session.commit()
    if changed:
        live.publish_votes(room, {question_id: votes})
    return {"id": question_id, "votes": votes, "voted": up}


def comment(
    actor: Actor, question_id: int, post: Post, *, event_id: int | None = None
) -> tuple[dict[str, Any], bool]:
    """Comment on a question; a retry with the same ``client_id`` returns the stored one."""
    event = _event_of(question_id, event_id)
    existing = _stored(Comment, event, actor, post.client_id)
    if existing is not None:
        return comment_dict(existing, mine=True), False
    _rate_limit("comments", event, actor)
    return _comment(actor, question_id, post, event_id)


@write
def _comment(
    actor: Actor, question_id: int, post: Post, event_id: int | None
) -> tuple[dict[str, Any], bool]:
    _lock_questions(question_id)
    question, event, _ = get_question(question_id, actor)
    if event_id is not None and event.id != event_id:
        raise NotFound("question_not_found", "There is no such question in this event.")
    participant = _participant(event, actor)
    if post.client_id is not None:
        existing = db.session.scalar(
            select(Comment).where(
                Comment.participant_id == participant.id, Comment.client_id == post.client_id
            )
        )
        if existing is not None:
            return comment_dict(existing, mine=True), False
    _ensure_open(event)
    if question.status not in (QuestionStatus.VISIBLE, QuestionStatus.ANSWERED):
        raise Conflict("not_commentable", "This question cannot take comments yet.")
    if participant.muted:
        raise Forbidden("muted", "A moderator has paused your posting in this event.")
    new, created = _add_post(Comment, participant, post, question_id=question.id)
    if not created:
        return comment_dict(new, mine=True), False
    db.session.execute(
        update(Question).where(Question.id == question.id).values(comments=Question.comments + 1)
    )
    stored = comment_dict(new)  # before the commit: the comment may be deleted right after
    db.session.commit()
    live.publish_comment(event.id, stored, public=True)  # on a visible question, not hidden
    db.session.expire(question)
    _publish_question(event, question)
    return {**stored, "mine": True}, True


def _own_or_staff(actor: Actor, event: Event, participant_id: int | None) -> User | None:
    """Authors may delete their own posts; staff who moderate the event any post."""
    own = find_participant(event.id, actor.token)
    if own is not None and participant_id == own.id:
        return None
    if actor.user is not None and can_moderate(actor.user, event):
        return actor.user
    if actor.user is not None:
        raise Forbidden("forbidden", "You do not moderate this event.")
    raise Forbidden("not_yours", "Only its author or a moderator can delete this.")


@write
def delete_question(actor: Actor, question_id: int) -> None:
    """Delete a question with its votes and thread (its author, or staff)."""
    _lock_questions(question_id)
    question, event, _ = get_question(question_id, actor)
    staff = _own_or_staff(actor, event, question.participant_id)
    was_public = policy.question_public(question.status)
    author_key = _author_key(question.participant_id) if staff is not None else None
    if staff is not None:
        _log(event, staff, "delete", question_id=None)
    db.session.execute(delete(Comment).where(Comment.question_id == question.id))
    db.session.execute(delete(Vote).where(Vote.question_id == question.id))
    db.session.delete(question)
    db.session.commit()
    similar.touched(event.id, question_id)
    live.publish_removed(event.id, question_id, was_public=was_public)
    live.publish_notice(event.id, author_key, {
        "question_id": question_id, "action": "deleted", "reason": None,
        "reason_code": None, "into": None})


@write
def delete_comment(actor: Actor, comment_id: int) -> None:
    """Delete a comment (its author, or staff)."""
    found = _locked_comment(comment_id)
    question, event, _ = get_question(found.question_id, actor)
    if not policy.sees_comment(moderator=policy.moderates(actor.user, event), hidden=found.hidden):
        raise NotFound("comment_not_found", "There is no such comment.")
    was_public = not found.hidden and policy.question_public(question.status)
    staff = _own_or_staff(actor, event, found.participant_id)
    if staff is not None:
        _log(event, staff, "delete_comment", question_id=question.id)
    if not found.hidden:
        db.session.execute(
            update(Question)
            .where(Question.id == question.id)
            .values(comments=Question.comments - 1)
        )
    db.session.delete(found)
    question_id = question.id
    db.session.commit()
    live.publish_comment_removed(event.id, comment_id, question_id, was_public=was_public)
    db.session.expire(question)
    _publish_question(event, question)


@write
def forget_me(actor: Actor, event: Event) -> dict[str, int]:
    """Erase or anonymise everything this participant posted in the event.

    Comments are erased. Questions nobody else engaged with (no one else's vote or
    comment) are erased; the others lose their name, their original before a
    moderator's edit and their link to the participant. Votes stay counted and stay
    one per person: they move to a tombstone (see :func:`identity.tombstone`) that
    only this cookie leads to, which also keeps a mute. The participant record is
    deleted.
    """
    participant = find_participant(event.id, actor.token)
    result = {
        "questions_erased": 0,
        "questions_anonymised": 0,
        "comments_erased": 0,
        "votes_unlinked": 0,
    }
    if participant is None:
        return result
    pid = participant.id
    # Every question this changes, locked first (as votes, merges and deletes do).
    _lock_questions(
        *db.session.scalars(select(Comment.question_id).where(Comment.participant_id == pid)),
        *db.session.scalars(select(Question.id).where(Question.participant_id == pid)),
    )
    touched: set[int] = set()
    public_comments: list[tuple[int, int]] = []
    # Comments: erase, and lower the visible counts of the threads they were in.
    for c in db.session.scalars(select(Comment).where(Comment.participant_id == pid)).all():
        if not c.hidden:
            db.session.execute(
                update(Question)
                .where(Question.id == c.question_id)
                .values(comments=Question.comments - 1)
            )
            touched.add(c.question_id)
            public_comments.append((c.id, c.question_id))
        db.session.delete(c)
        result["comments_erased"] += 1
    db.session.flush()
    own_votes = set(db.session.scalars(select(Vote.question_id).where(Vote.participant_id == pid)))
    removed: list[tuple[int, bool]] = []
    for q in db.session.scalars(select(Question).where(Question.participant_id == pid)).all():
        others_voted = q.votes - (1 if q.id in own_votes else 0) > 0
        others_commented = db.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.question_id == q.id)
        )
        if not others_voted and not others_commented and not q.seeded:
            removed.append((q.id, policy.question_public(q.status)))
            touched.discard(q.id)
            db.session.execute(delete(Vote).where(Vote.question_id == q.id))
            db.session.delete(q)
            result["questions_erased"] += 1
        else:
            q.participant_id = None
            q.author = None
            q.client_id = None
            q.original_body = None  # what a moderator edited out goes too
            if q.quote == Quote.NAMED:
                q.quote = Quote.ANONYMOUS.value
            touched.add(q.id)
            result["questions_anonymised"] += 1
    db.session.flush()
    result["votes_unlinked"] = _keep_under_tombstone(event, participant)
    _unlink_participants([pid])
    db.session.commit()
    similar.touched(event.id, *(qid for qid, _public in removed))
    for comment_id, question_id in public_comments:
        if question_id in touched:
            live.publish_comment_removed(event.id, comment_id, question_id, was_public=True)
    for qid, was_public in removed:
        live.publish_removed(event.id, qid, was_public=was_public)
    for qid in touched:
        q = db.session.get(Question, qid)
        if q is not None:
            _publish_question(event, q)
    return result


def _keep_under_tombstone(event: Event, participant: Participant) -> int:
    """Move a forgotten participant's votes and mute to their tombstone (created, or
    the one an earlier "forget me" left); returns how many votes moved."""
    key = tombstone(participant.key or "")
    ghost = db.session.scalar(
        select(Participant).where(Participant.event_id == event.id, Participant.key == key)
    )
    if ghost is None:
        ghost = Participant(event_id=event.id, key=key, forgotten=True,
                            created_at=participant.created_at)
        db.session.add(ghost)
        db.session.flush()
    ghost.muted = ghost.muted or participant.muted
    moved = 0
    for question_id in db.session.scalars(
        select(Vote.question_id).where(Vote.participant_id == participant.id)
    ).all():
        moved += _insert_ignore(
            Vote.__table__,
            {"question_id": question_id, "participant_id": ghost.id, "created_at": utcnow()},
        )
    db.session.execute(delete(Vote).where(Vote.participant_id == participant.id))
    return moved


def _unlink_participants(ids: list[int]) -> None:
    """Cut every link between these participants and what they did, then delete them.

    Names go from their posts; votes stay counted (in ``questions.votes``) but the
    rows that tied them to a pseudonym are deleted.
    """
    if not ids:
        return
    for model in (Question, Comment):
        db.session.execute(
            update(model)
            .where(model.participant_id.in_(ids), model.quote == Quote.NAMED.value)
            .values(quote=Quote.ANONYMOUS.value)
        )
        db.session.execute(
            update(model)
            .where(model.participant_id.in_(ids))
            .values(author=None, client_id=None, participant_id=None)
        )
    db.session.execute(delete(Vote).where(Vote.participant_id.in_(ids)))
    db.session.execute(
        update(ModerationEntry)
        .where(ModerationEntry.participant_id.in_(ids))
        .values(participant_id=None)
    )
    db.session.execute(delete(Participant).where(Participant.id.in_(ids)))


@write
def purge(now: datetime | None = None) -> dict[str, int]:
    """Apply each event's retention period: a participant first seen longer ago than
    it loses their pseudonym and names; anonymous content and counts stay."""
    now = now or utcnow()
    purged = 0
    for event in db.session.scalars(select(Event)).all():
        cutoff = now - timedelta(days=event.retention_days)
        ids = list(
            db.session.scalars(
                select(Participant.id).where(
                    Participant.event_id == event.id, Participant.created_at < cutoff
                )
            )
        )
        _unlink_participants(ids)
        purged += len(ids)
    db.session.commit()
    return {"participants_purged": purged}


# ---------------------------------------------------------------------------
# Staff: moderation

QUESTION_ACTIONS = tuple(a.value for a in QuestionAction)
COMMENT_ACTIONS = tuple(a.value for a in CommentAction)
NOTICES = {action.value: notice.value for action, notice in NOTICE_OF.items()}


def _set_muted(
    event: Event,
    user: User,
    participant_id: int | None,
    muted: bool,
    reason: str | None,
    reason_code: str | None = None,
    **where: int,
) -> None:
    if participant_id is None:
        raise Conflict("no_author", "This post has no participant to mute (seeded or forgotten).")
    participant = db.session.get(Participant, participant_id)
    assert participant is not None
    participant.muted = muted
    _log(event, user, "mute" if muted else "unmute", reason, participant_id=participant_id,
         reason_code=reason_code, **where)


@write
def moderate_question(
    actor: Actor,
    question_id: int,
    action: str,
    *,
    reason: str | None = None,
    reason_code: str | None = None,
    body: str | None = None,
    into: int | None = None,
) -> dict[str, Any]:
    """Apply one moderation action to a question and log it; answers the staff Question.

    The question's author is told what happened to it (``notice``, their own sockets).
    """
    _lock_questions(question_id, into if action == "merge" else None)
    question, event, _ = get_question(question_id, actor)
    user = require_moderator(actor, event)
    slugs = topic_slugs(event)
    status = question.status
    was_public = status in (QuestionStatus.VISIBLE, QuestionStatus.ANSWERED)
    also_changed: list[Question] = []
    if action not in QUESTION_ACTIONS:
        raise ValidationError("invalid_action", "Unknown moderation action.")
    if action == "approve":
        if status != QuestionStatus.PENDING:
            raise Conflict("not_pending", "Only a pending question can be approved.")
        question.status = QuestionStatus.VISIBLE.value
    elif action == "hide":
        if status == QuestionStatus.HIDDEN:
            raise Conflict("already_hidden", "This question is already hidden.")
        question.status = QuestionStatus.HIDDEN.value
        question.highlighted = False
    elif action == "restore":
        if status != QuestionStatus.HIDDEN or question.merged_into_id is not None:
            raise Conflict("not_hidden", "Only a hidden, unmerged question can be restored.")
        question.status = (
            QuestionStatus.ANSWERED.value if question.answered_at else QuestionStatus.VISIBLE.value
        )
    elif action == "answer":
        if status == QuestionStatus.ANSWERED:
            raise Conflict("already_answered", "This question is already marked answered.")
        if status != QuestionStatus.VISIBLE:
            raise Conflict("not_visible", "Only a visible question can be marked answered.")
        question.status = QuestionStatus.ANSWERED.value
        question.answered_at = question.answered_at or utcnow()
        question.highlighted = False
    elif action == "highlight":
        if status not in (QuestionStatus.VISIBLE, QuestionStatus.ANSWERED):
            raise Conflict("not_visible", "Only a visible question can be highlighted.")
        also_changed = list(
            db.session.scalars(
                select(Question).where(
                    Question.event_id == event.id,
                    Question.highlighted.is_(True),
                    Question.id != question.id,
                )
            )
        )
        for other in also_changed:
            other.highlighted = False
        question.highlighted = True
    elif action == "unhighlight":
        question.highlighted = False
    elif action in ("pin", "unpin"):
        question.pinned = action == "pin"
    elif action == "edit":
        if body is None:
            raise ValidationError("empty", "'body' is required to edit.")
        if question.original_body is None:
            question.original_body = question.body
        question.body = body
        question.edited = True
    elif action == "merge":
        target = _merge(event, question, into)
        also_changed = [target]
    elif action in ("mute", "unmute"):
        _set_muted(event, user, question.participant_id, action == "mute", reason, reason_code,
                   question_id=question.id)
    if action not in ("mute", "unmute"):
        _log(event, user, action, reason, question_id=question.id, reason_code=reason_code)
    db.session.flush()
    answer = staff_question_dict(question, slugs)  # as committed, even if deleted right after
    told = NOTICES.get(action)
    notice = None if told is None else {
        "action": told, "reason": reason, "reason_code": reason_code,
        "into": question.merged_into_id if action == "merge" else None,
    }
    db.session.commit()
    similar.touched(event.id, question_id)
    # A merged duplicate is hidden: participants see it removed, staff see it merged.
    _publish_question(event, question, was_public=was_public, notice=notice)
    for other in also_changed:
        _publish_question(event, other)
    return answer


def _merge(event: Event, duplicate: Question, into: int | None) -> Question:
    """Fold a duplicate into another question: distinct voters and comments move over."""
    if into is None:
        raise ValidationError("invalid_type", "'into' must name the question to merge into.")
    target = db.session.get(Question, into)
    if target is None or target.event_id != event.id:
        raise NotFound("question_not_found", "There is no such question in this event.")
    if target.id == duplicate.id:
        raise ValidationError("merge_into_self", "A question cannot be merged into itself.")
    if target.status in (QuestionStatus.HIDDEN, QuestionStatus.PENDING):
        raise Conflict("not_visible", "Merge into a visible question.")
    if duplicate.merged_into_id is not None:
        raise Conflict("already_merged", "This question was already merged.")
    # Votes: the union of distinct voters (a person who voted for both counts once).
    # Votes whose link to a person was erased (forget me, purge) cannot be matched,
    # so they move over as they are.
    voters = list(
        db.session.scalars(select(Vote.participant_id).where(Vote.question_id == duplicate.id))
    )
    unlinked = max(duplicate.votes - len(voters), 0)
    added = 0
    for pid in voters:
        added += _insert_ignore(
            Vote.__table__,
            {"question_id": target.id, "participant_id": pid, "created_at": utcnow()},
        )
    db.session.execute(delete(Vote).where(Vote.question_id == duplicate.id))
    db.session.execute(
        update(Comment).where(Comment.question_id == duplicate.id).values(question_id=target.id)
    )
    db.session.flush()
    target.votes = Question.votes + added + unlinked
    target.comments = (
        db.session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.question_id == target.id, Comment.hidden.is_(False))
        )
        or 0
    )
    duplicate.votes = 0
    duplicate.comments = 0
    duplicate.status = QuestionStatus.HIDDEN.value
    duplicate.highlighted = False
    duplicate.merged_into_id = target.id
    return target


@write
def moderate_comment(
    actor: Actor,
    comment_id: int,
    action: str,
    *,
    reason: str | None = None,
    reason_code: str | None = None,
) -> dict[str, Any]:
    """Hide or restore a comment (or mute its author) and log it."""
    found = _locked_comment(comment_id)
    question, event, _ = get_question(found.question_id, actor)
    user = require_moderator(actor, event)
    if action not in COMMENT_ACTIONS:
        raise ValidationError("invalid_action", "Unknown moderation action.")
    logged = {"question_id": question.id, "comment_id": found.id, "reason_code": reason_code}
    if action == "hide":
        if found.hidden:
            raise Conflict("already_hidden", "This comment is already hidden.")
        found.hidden = True
        question.comments = Question.comments - 1
        _log(event, user, "hide_comment", reason, **logged)
    elif action == "restore":
        if not found.hidden:
            raise Conflict("not_hidden", "This comment is not hidden.")
        found.hidden = False
        question.comments = Question.comments + 1
        _log(event, user, "restore_comment", reason, **logged)
    else:
        _set_muted(event, user, found.participant_id, action == "mute", reason, reason_code,
                   comment_id=found.id)
    data = {**comment_dict(found), "hidden": found.hidden}  # as committed
    # Participants read a comment only on a question they can read.
    on_public = policy.question_public(question.status)
    db.session.commit()
    if action == "hide":
        live.publish_comment_removed(event.id, comment_id, data["question_id"],
                                     was_public=on_public)
    elif action == "restore":
        live.publish_comment(event.id, {k: v for k, v in data.items() if k != "hidden"},
                             public=on_public)
    db.session.expire(question)
    _publish_question(event, question)
    return data


# ---------------------------------------------------------------------------
# Staff: events

# Only organisers change these; moderators may change status and moderation mode.
EVENT_FIELDS_ORGANISER = (*EVENT_SCALARS, "topics", "translations", "moderators")


def create_event(actor: Actor, data: dict[str, Any]) -> Event:
    """Create an event (organisers only); live unless told otherwise."""
    require_organiser(actor)
    return _create_event(actor.user, data)


@write
def _create_event(user: User | None, data: dict[str, Any]) -> Event:
    code = data["code"]
    if db.session.scalar(select(Event.id).where(Event.code == code)) is not None:
        raise Conflict("code_taken", "An event with this code already exists.")
    event = Event(
        code=code,
        title=data["title"],
        status=data.get("status") or "live",
        moderation=data.get("moderation") or "post",
        translations={},
    )
    _apply_event_fields(event, data)
    db.session.add(event)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent request took the code first
        db.session.rollback()
        raise Conflict("code_taken", "An event with this code already exists.") from None
    if user is not None:
        _log(event, user, "create_event")
    db.session.commit()
    cache.bump_events()  # a code looked up before it existed is cached as missing
    return event


def _apply_event_fields(event: Event, data: dict[str, Any]) -> None:
    for field in (*EVENT_SCALARS, "status", "moderation"):
        # A date may be cleared with null; the other fields are never None when given.
        if field in data and (data[field] is not None or field == "date"):
            setattr(event, field, data[field])
    if data.get("translations"):
        from .validation import merge_translations

        event.translations = merge_translations(event.translations, data["translations"])
    if "topics" in data and data["topics"] is not None:
        existing = {t.slug: t for t in event.topics}
        keep = []
        for position, given in enumerate(data["topics"]):
            topic = existing.get(given.slug) or Topic(slug=given.slug, translations={})
            topic.name = given.name
            topic.position = position
            if given.translations is not None:  # left out: the names it has are kept
                topic.translations = given.translations
            keep.append(topic)
        event.topics = keep
    if "moderators" in data and data["moderators"] is not None:
        users = []
        for email in data["moderators"]:
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                raise ValidationError(
                    "unknown_user", "No staff account for %(email)s.", email=email
                )
            users.append(user)
        event.moderators = users


def events_for(user: User) -> list[Event]:
    """The events a staff user can moderate, newest first."""
    stmt = select(Event).order_by(Event.date.desc(), Event.id.desc())
    if user.role != Role.ORGANISER:
        stmt = stmt.join(Event.moderators).where(User.id == user.id)
    return list(db.session.scalars(stmt))


@write
def load_seed(
    actor: Actor | None, seed: seeding.Seed, *, status: str | None = None
) -> tuple[Event, int]:
    """Load a checked seed file (idempotent) and log the load: organisers from the
    console, or the command line (``actor`` None: no user).

    A reload keeps the event's status whatever the file says; ``status`` changes it,
    logged as a status change (public, like closing the event from the console).
    """
    user = require_organiser(actor) if actor is not None else None
    before = db.session.execute(
        select(Event.status, Event.moderation).where(Event.code == seed.event["code"])
    ).first()
    loaded = seeding.load_seed(seed, status=status)
    event = loaded.event
    if before is not None:
        for field, old in (("status", before.status), ("moderation", before.moderation)):
            if getattr(event, field) != old:
                _log(event, user, f"{field}:{getattr(event, field)}")
    _log(event, user, "load_seed", f"{loaded.added} question(s) added")
    db.session.commit()
    live.publish_event(event)
    return event, loaded.added


@write
def update_event(actor: Actor, event: Event, data: dict[str, Any]) -> Event:
    """Change an event: moderators may set status and moderation mode, organisers anything."""
    user = require_moderator(actor, event)
    organiser_only = [f for f in EVENT_FIELDS_ORGANISER if f in data]
    if organiser_only and user.role != Role.ORGANISER:
        raise Forbidden(
            "forbidden",
            "Only organisers can change %(fields)s.",
            fields=", ".join(organiser_only),
        )
    before = {"status": event.status, "moderation": event.moderation}
    _apply_event_fields(event, data)
    for field in ("status", "moderation"):
        if getattr(event, field) != before[field]:
            _log(event, user, f"{field}:{getattr(event, field)}", data.get("reason"))
    if organiser_only:
        _log(event, user, "update_event", ", ".join(organiser_only))
    db.session.commit()
    live.publish_event(event)
    if "moderators" in data:  # someone may have lost this event: their sockets too
        signals.staff_rights_changed.send(current_app._get_current_object())
    return event


# ---------------------------------------------------------------------------
# Organisers: removing an event (flask events delete)


@write
def delete_event(event_id: int) -> dict[str, int]:
    """Delete an event and everything in it: topics, participants, questions, votes,
    comments and its moderation log (the database cascades from the event row).

    Returns what was removed, counted in the same transaction.
    """
    def count(stmt: Any) -> int:
        return int(db.session.scalar(stmt) or 0)

    in_event = select(Question.id).where(Question.event_id == event_id)
    removed = {
        "questions": count(select(func.count()).select_from(Question)
                           .where(Question.event_id == event_id)),
        "comments": count(select(func.count()).select_from(Comment)
                          .where(Comment.question_id.in_(in_event))),
        "votes": count(select(func.count()).select_from(Vote)
                       .where(Vote.question_id.in_(in_event))),
        "participants": count(select(func.count()).select_from(Participant)
                              .where(Participant.event_id == event_id)),
    }
    db.session.execute(delete(Event).where(Event.id == event_id))
    db.session.commit()
    cache.bump(event_id)
    cache.bump_events()
    return removed

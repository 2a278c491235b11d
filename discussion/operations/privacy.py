"""Personal data: "forget me" for one participant, and the retention purge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from .. import live, similar
from ..extensions import db
from ..identity import Actor, tombstone
from ..models import (
    Comment,
    Event,
    ModerationEntry,
    Participant,
    Question,
    Quote,
    Vote,
    utcnow,
)
from ..queries import find_participant
from ..rules import access as policy
from ..rules.shapes import ForgetMeResult
from .common import insert_ignore, lock_questions, publish_question
from .uow import UnitOfWork, unit_of_work


@unit_of_work
def forget_me(work: UnitOfWork, actor: Actor, event: Event) -> dict[str, Any]:
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
        return ForgetMeResult(**result).model_dump(mode="json")
    pid = participant.id
    # Every question this changes, locked first (as votes, merges and deletes do).
    lock_questions(
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
    _unlink_participants(work, [pid])
    work.touch(event.id, *touched)
    work.publish(similar.touched, event.id, *(qid for qid, _public in removed))
    for comment_id, question_id in public_comments:
        if question_id in touched:
            work.publish(
                live.publish_comment_removed, event.id, comment_id, question_id, was_public=True
            )
    for qid, was_public in removed:
        work.publish(live.publish_removed, event.id, qid, was_public=was_public)
    work.publish(_publish_still_there, event, sorted(touched))
    return ForgetMeResult(**result).model_dump(mode="json")


def _publish_still_there(event: Event, question_ids: list[int]) -> None:
    """After the commit: the questions forget me changed but kept, as they are now."""
    for qid in question_ids:
        q = db.session.get(Question, qid)
        if q is not None:
            publish_question(event, q)


def _keep_under_tombstone(event: Event, participant: Participant) -> int:
    """Move a forgotten participant's votes and mute to their tombstone (created, or
    the one an earlier "forget me" left); returns how many votes moved."""
    key = tombstone(participant.key or "")
    ghost = db.session.scalar(
        select(Participant).where(Participant.event_id == event.id, Participant.key == key)
    )
    if ghost is None:
        ghost = Participant(
            event_id=event.id, key=key, forgotten=True, created_at=participant.created_at
        )
        db.session.add(ghost)
        db.session.flush()
    ghost.muted = ghost.muted or participant.muted
    moved = 0
    for question_id in db.session.scalars(
        select(Vote.question_id).where(Vote.participant_id == participant.id)
    ).all():
        moved += insert_ignore(
            Vote.__table__,
            {"question_id": question_id, "participant_id": ghost.id, "created_at": utcnow()},
        )
    db.session.execute(delete(Vote).where(Vote.participant_id == participant.id))
    return moved


def _unlink_participants(work: UnitOfWork, ids: list[int]) -> None:
    """Cut every link between these participants and what they did, then delete them.

    Names go from their posts; votes stay counted (in ``questions.votes``) but the
    rows that tied them to a pseudonym are deleted. Their questions change shape (no
    author), so they get the event's next version.
    """
    if not ids:
        return
    for event_id, question_id in db.session.execute(
        select(Question.event_id, Question.id).where(Question.participant_id.in_(ids))
    ).all():
        work.touch(event_id, question_id)
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


@unit_of_work
def purge(work: UnitOfWork, now: datetime | None = None) -> dict[str, int]:
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
        _unlink_participants(work, ids)
        purged += len(ids)
    return {"participants_purged": purged}

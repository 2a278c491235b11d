"""Votes: one per participant per question, idempotent both ways."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from .. import live
from ..errors import Conflict, NotFound
from ..extensions import db
from ..identity import Actor
from ..models import Participant, Question, QuestionStatus, Vote, utcnow
from ..queries import get_question
from ..rules.enums import ErrorCode
from ..rules.shapes import VoteResult
from .common import (
    ensure_open,
    event_of,
    insert_ignore,
    lock_questions,
    participant_for,
    rate_limit,
    tombstoned,
)
from .uow import UnitOfWork, unit_of_work


def vote(
    actor: Actor, question_id: int, up: bool, *, event_id: int | None = None
) -> dict[str, Any]:
    """Upvote (``up``) or take back a vote; repeating either changes nothing."""
    # From a socket the event is the joined one: the limit is counted there without a
    # query (a question of another event is refused inside the transaction anyway).
    rate_limit("votes", event_id if event_id is not None else event_of(question_id, None), actor)
    return _vote(actor, question_id, up, event_id=event_id)


@unit_of_work
def _vote(
    work: UnitOfWork, actor: Actor, question_id: int, up: bool, *, event_id: int | None = None
) -> dict[str, Any]:
    lock_questions(question_id)
    question, event, known = get_question(question_id, actor)
    if event_id is not None and event.id != event_id:
        raise NotFound(ErrorCode.QUESTION_NOT_FOUND, "There is no such question in this event.")
    ensure_open(event)
    if question.status not in (QuestionStatus.VISIBLE, QuestionStatus.ANSWERED):
        raise Conflict(ErrorCode.NOT_VOTABLE, "This question cannot be voted on yet.")
    participant = known or participant_for(event, actor)
    # The vote this person kept through "forget me", if any: still theirs, still one.
    kept = tombstoned(event.id, participant.key or "", Participant.id)
    if kept is not None and db.session.get(Vote, (question.id, kept)) is None:
        kept = None
    if up:
        changed = kept is None and insert_ignore(
            Vote.__table__,
            {"question_id": question.id, "participant_id": participant.id, "created_at": utcnow()},
        )
        delta = 1
    else:
        removed: Any = db.session.execute(  # a CursorResult: it knows its rowcount
            delete(Vote).where(
                Vote.question_id == question.id,
                Vote.participant_id.in_([participant.id, kept or participant.id]),
            )
        )
        changed = removed.rowcount
        delta = -changed
    if changed:
        votes = db.session.execute(
            update(Question)
            .where(Question.id == question.id)
            .values(votes=Question.votes + delta)
            .returning(Question.votes)
        ).scalar_one()
        work.touch(event.id, question.id)
        work.publish(live.publish_votes, event.id, {question_id: votes})
    else:
        votes = db.session.scalar(select(Question.votes).where(Question.id == question.id)) or 0
    return VoteResult(id=question_id, votes=votes, voted=up).model_dump(mode="json")

"""Participants' questions: ask one, delete one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from .. import live, similar
from ..errors import ValidationError
from ..extensions import db
from ..identity import Actor
from ..models import Comment, Event, Moderation, Question, QuestionStatus, Vote
from ..queries import get_question, question_dict, topic_slugs
from ..rules import access as policy
from ..rules.enums import ErrorCode
from ..rules.schemas import Post
from .common import (
    add_post,
    author_key,
    ensure_not_muted,
    ensure_open,
    lock_questions,
    log_action,
    own_or_staff,
    participant_for,
    publish_question,
    rate_limit,
    stored_post,
)
from .uow import UnitOfWork, unit_of_work


def ask(
    actor: Actor, event: Event, post: Post, topic: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Ask a question; a retry with the same ``client_id`` returns the stored one.

    Returns the question as its author sees it, and whether it was created now.
    """
    existing = stored_post(Question, event.id, actor, post.client_id)
    if existing is not None:
        voted = db.session.get(Vote, (existing.id, existing.participant_id)) is not None
        return question_dict(existing, topic_slugs(event), mine=True, voted=voted), False
    rate_limit("questions", event.id, actor)
    return _ask(actor, event, post, topic)


def _topic_id(event: Event, slug: str | None) -> int | None:
    if slug is None:
        return None
    for topic in event.topics:
        if topic.slug == slug:
            return topic.id
    raise ValidationError(ErrorCode.UNKNOWN_TOPIC, "This event has no such topic.")


@unit_of_work
def _ask(
    work: UnitOfWork, actor: Actor, event: Event, post: Post, topic: str | None
) -> tuple[dict[str, Any], bool]:
    participant = participant_for(event, actor)
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
    ensure_open(event)
    ensure_not_muted(participant)
    topic_id = _topic_id(event, topic)
    pending = event.moderation == Moderation.PRE and not policy.moderates(actor.user, event)
    question, created = add_post(
        Question,
        participant,
        post,
        event_id=event.id,
        topic_id=topic_id,
        status=QuestionStatus.PENDING.value if pending else QuestionStatus.VISIBLE.value,
    )
    if not created:
        return question_dict(question, slugs, mine=True), False
    work.publish(similar.touched, event.id, question.id)
    work.publish(publish_question, event, question, was_public=False)
    return question_dict(question, slugs, mine=True), True


@unit_of_work
def delete_question(work: UnitOfWork, actor: Actor, question_id: int) -> None:
    """Delete a question with its votes and thread (its author, or staff)."""
    lock_questions(question_id)
    question, event, _ = get_question(question_id, actor)
    staff = own_or_staff(actor, event, question.participant_id)
    was_public = policy.question_public(question.status)
    told = author_key(question.participant_id) if staff is not None else None
    if staff is not None:
        log_action(event, staff, "delete", question_id=None)
    db.session.execute(delete(Comment).where(Comment.question_id == question.id))
    db.session.execute(delete(Vote).where(Vote.question_id == question.id))
    db.session.delete(question)
    work.publish(similar.touched, event.id, question_id)
    work.publish(live.publish_removed, event.id, question_id, was_public=was_public)
    work.publish(
        live.publish_notice,
        event.id,
        told,
        {
            "question_id": question_id,
            "action": "deleted",
            "reason": None,
            "reason_code": None,
            "into": None,
        },
    )

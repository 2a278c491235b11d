"""Comments: add one to a question's thread, delete one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from .. import live
from ..errors import Conflict, NotFound
from ..extensions import db
from ..identity import Actor
from ..models import Comment, Question, QuestionStatus
from ..queries import comment_dict, get_question
from ..rules import access as policy
from ..rules.enums import ErrorCode
from ..rules.schemas import Post
from .common import (
    add_post,
    ensure_not_muted,
    ensure_open,
    event_of,
    lock_questions,
    locked_comment,
    log_action,
    own_or_staff,
    participant_for,
    rate_limit,
    republish_question,
    stored_post,
)
from .uow import UnitOfWork, unit_of_work


def comment(
    actor: Actor, question_id: int, post: Post, *, event_id: int | None = None
) -> tuple[dict[str, Any], bool]:
    """Comment on a question; a retry with the same ``client_id`` returns the stored one."""
    event = event_of(question_id, event_id)
    existing = stored_post(Comment, event, actor, post.client_id)
    if existing is not None:
        return comment_dict(existing, mine=True), False
    rate_limit("comments", event, actor)
    return _comment(actor, question_id, post, event_id)


@unit_of_work
def _comment(
    work: UnitOfWork, actor: Actor, question_id: int, post: Post, event_id: int | None
) -> tuple[dict[str, Any], bool]:
    lock_questions(question_id)
    question, event, _ = get_question(question_id, actor)
    if event_id is not None and event.id != event_id:
        raise NotFound(ErrorCode.QUESTION_NOT_FOUND, "There is no such question in this event.")
    participant = participant_for(event, actor)
    if post.client_id is not None:
        existing = db.session.scalar(
            select(Comment).where(
                Comment.participant_id == participant.id, Comment.client_id == post.client_id
            )
        )
        if existing is not None:
            return comment_dict(existing, mine=True), False
    ensure_open(event)
    if question.status not in (QuestionStatus.VISIBLE, QuestionStatus.ANSWERED):
        raise Conflict(ErrorCode.NOT_COMMENTABLE, "This question cannot take comments yet.")
    ensure_not_muted(participant)
    new, created = add_post(Comment, participant, post, question_id=question.id)
    if not created:
        return comment_dict(new, mine=True), False
    db.session.execute(
        update(Question).where(Question.id == question.id).values(comments=Question.comments + 1)
    )
    work.touch(event.id, question.id)
    stored = comment_dict(new)  # before the commit: the comment may be deleted right after
    # On a visible question, not hidden: participants may read it.
    work.publish(live.publish_comment, event.id, stored, public=True)
    work.publish(republish_question, event, question)
    return {**stored, "mine": True}, True


@unit_of_work
def delete_comment(work: UnitOfWork, actor: Actor, comment_id: int) -> None:
    """Delete a comment (its author, or staff)."""
    found = locked_comment(comment_id)
    question, event, _ = get_question(found.question_id, actor)
    if not policy.sees_comment(moderator=policy.moderates(actor.user, event), hidden=found.hidden):
        raise NotFound(ErrorCode.COMMENT_NOT_FOUND, "There is no such comment.")
    was_public = not found.hidden and policy.question_public(question.status)
    staff = own_or_staff(actor, event, found.participant_id)
    if staff is not None:
        log_action(event, staff, "delete_comment", question_id=question.id)
    if not found.hidden:
        db.session.execute(
            update(Question)
            .where(Question.id == question.id)
            .values(comments=Question.comments - 1)
        )
    work.touch(event.id, question.id)
    db.session.delete(found)
    work.publish(
        live.publish_comment_removed, event.id, comment_id, question.id, was_public=was_public
    )
    work.publish(republish_question, event, question)

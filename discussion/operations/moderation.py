"""Moderation: one short verb per action on a question or a comment.

:func:`moderate_question` and :func:`moderate_comment` are what the transports call:
they lock and load the post, check that the actor moderates its event, run the
verb the action names (``QUESTION_VERBS``, ``COMMENT_VERBS``) and queue the
broadcasts. Each verb checks the state, changes it and logs it. An action that would
change nothing is refused (``409``: ``no_change``, or the older specific code where
one is documented) and, since the unit of work then rolls back, never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update

from .. import live, similar
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..identity import Actor
from ..models import Comment, Event, Participant, Question, QuestionStatus, User, Vote, utcnow
from ..queries import comment_dict, get_question, staff_question_dict, topic_slugs
from ..rules import access as policy
from ..rules.enums import NOTICE_OF, CommentAction, ErrorCode, QuestionAction
from .common import (
    insert_ignore,
    lock_questions,
    locked_comment,
    log_action,
    publish_question,
    republish_question,
)
from .uow import UnitOfWork, unit_of_work

QUESTION_ACTIONS = tuple(a.value for a in QuestionAction)
COMMENT_ACTIONS = tuple(a.value for a in CommentAction)
NOTICES = {action.value: notice.value for action, notice in NOTICE_OF.items()}


def no_change() -> Conflict:
    """The refusal of an action that would leave everything as it is."""
    return Conflict(ErrorCode.NO_CHANGE, "Nothing to change: it is already so.")


@dataclass(slots=True)
class OnQuestion:
    """One moderation action on a question, as its verb sees it."""

    work: UnitOfWork
    event: Event
    user: User
    question: Question
    reason: str | None = None
    reason_code: str | None = None
    body: str | None = None
    into: int | None = None
    also_changed: list[Question] = field(default_factory=list)

    def log(self, action: str, **where: Any) -> None:
        log_action(
            self.event,
            self.user,
            action,
            self.reason,
            reason_code=self.reason_code,
            question_id=self.question.id,
            **where,
        )


# -- the verbs on a question


def approve(a: OnQuestion) -> None:
    """A pending question (pre-moderation) becomes visible."""
    if a.question.status != QuestionStatus.PENDING:
        raise Conflict(ErrorCode.NOT_PENDING, "Only a pending question can be approved.")
    a.question.status = QuestionStatus.VISIBLE.value
    a.log("approve")


def hide(a: OnQuestion) -> None:
    """Hidden from participants and the board (staff still see it)."""
    if a.question.status == QuestionStatus.HIDDEN:
        raise Conflict(ErrorCode.ALREADY_HIDDEN, "This question is already hidden.")
    a.question.status = QuestionStatus.HIDDEN.value
    a.question.highlighted = False
    a.log("hide")


def restore(a: OnQuestion) -> None:
    """A hidden question comes back, answered if it was."""
    q = a.question
    if q.status != QuestionStatus.HIDDEN or q.merged_into_id is not None:
        raise Conflict(ErrorCode.NOT_HIDDEN, "Only a hidden, unmerged question can be restored.")
    q.status = QuestionStatus.ANSWERED.value if q.answered_at else QuestionStatus.VISIBLE.value
    a.log("restore")


def answer(a: OnQuestion) -> None:
    """Marked answered; no longer the one discussed now."""
    q = a.question
    if q.status == QuestionStatus.ANSWERED:
        raise Conflict(ErrorCode.ALREADY_ANSWERED, "This question is already marked answered.")
    if q.status != QuestionStatus.VISIBLE:
        raise Conflict(ErrorCode.NOT_VISIBLE, "Only a visible question can be marked answered.")
    q.status = QuestionStatus.ANSWERED.value
    q.answered_at = q.answered_at or utcnow()
    q.highlighted = False
    a.log("answer")


def highlight(a: OnQuestion) -> None:
    """The question discussed now: one per event, so the previous one loses it."""
    q = a.question
    if not policy.question_public(q.status):
        raise Conflict(ErrorCode.NOT_VISIBLE, "Only a visible question can be highlighted.")
    if q.highlighted:
        raise no_change()
    a.also_changed = list(
        db.session.scalars(
            select(Question).where(
                Question.event_id == a.event.id, Question.highlighted.is_(True), Question.id != q.id
            )
        )
    )
    for other in a.also_changed:
        other.highlighted = False
    q.highlighted = True
    a.log("highlight")


def unhighlight(a: OnQuestion) -> None:
    if not a.question.highlighted:
        raise no_change()
    a.question.highlighted = False
    a.log("unhighlight")


def pin(a: OnQuestion) -> None:
    """Pinned questions rank first."""
    if a.question.pinned:
        raise no_change()
    a.question.pinned = True
    a.log("pin")


def unpin(a: OnQuestion) -> None:
    if not a.question.pinned:
        raise no_change()
    a.question.pinned = False
    a.log("unpin")


def edit(a: OnQuestion) -> None:
    """New text, shown as edited; the first original is kept for staff."""
    if a.body is None:
        raise ValidationError(ErrorCode.EMPTY, "'body' is required to edit.")
    q, body = a.question, a.body
    if body == q.body:
        raise no_change()
    if q.original_body is None:
        q.original_body = q.body
    q.body = body
    q.edited = True
    a.log("edit")


def merge(a: OnQuestion) -> None:
    """Fold a duplicate into another question: distinct voters and comments move over;
    the duplicate is hidden and points to it."""
    duplicate, event = a.question, a.event
    if a.into is None:
        raise ValidationError(
            ErrorCode.INVALID_TYPE, "'into' must name the question to merge into."
        )
    target = db.session.get(Question, a.into)
    if target is None or target.event_id != event.id:
        raise NotFound(ErrorCode.QUESTION_NOT_FOUND, "There is no such question in this event.")
    if target.id == duplicate.id:
        raise ValidationError(ErrorCode.MERGE_INTO_SELF, "A question cannot be merged into itself.")
    if target.status in (QuestionStatus.HIDDEN, QuestionStatus.PENDING):
        raise Conflict(ErrorCode.NOT_VISIBLE, "Merge into a visible question.")
    if duplicate.merged_into_id is not None:
        raise Conflict(ErrorCode.ALREADY_MERGED, "This question was already merged.")
    # Votes: the union of distinct voters (a person who voted for both counts once).
    # Votes whose link to a person was erased (forget me, purge) cannot be matched,
    # so they move over as they are.
    voters = list(
        db.session.scalars(select(Vote.participant_id).where(Vote.question_id == duplicate.id))
    )
    unlinked = max(duplicate.votes - len(voters), 0)
    added = 0
    for pid in voters:
        added += insert_ignore(
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
    a.also_changed = [target]
    a.log("merge")


def mute(a: OnQuestion) -> None:
    """Its author may no longer post in the event."""
    set_muted(a.work, a.event, a.question.participant_id, True)
    a.log("mute", participant_id=a.question.participant_id)


def unmute(a: OnQuestion) -> None:
    set_muted(a.work, a.event, a.question.participant_id, False)
    a.log("unmute", participant_id=a.question.participant_id)


def set_muted(work: UnitOfWork, event: Event, participant_id: int | None, muted: bool) -> None:
    """Mute or unmute a post's author. The staff shape of each of their questions
    (``author_muted``) changes with it."""
    if participant_id is None:
        raise Conflict(
            ErrorCode.NO_AUTHOR, "This post has no participant to mute (seeded or forgotten)."
        )
    participant = db.session.get(Participant, participant_id)
    assert participant is not None
    if participant.muted == muted:
        raise no_change()
    participant.muted = muted
    work.touch(
        event.id,
        *db.session.scalars(select(Question.id).where(Question.participant_id == participant_id)),
    )


QUESTION_VERBS: dict[QuestionAction, Callable[[OnQuestion], None]] = {
    QuestionAction.APPROVE: approve,
    QuestionAction.HIDE: hide,
    QuestionAction.RESTORE: restore,
    QuestionAction.ANSWER: answer,
    QuestionAction.HIGHLIGHT: highlight,
    QuestionAction.UNHIGHLIGHT: unhighlight,
    QuestionAction.PIN: pin,
    QuestionAction.UNPIN: unpin,
    QuestionAction.EDIT: edit,
    QuestionAction.MERGE: merge,
    QuestionAction.MUTE: mute,
    QuestionAction.UNMUTE: unmute,
}


def _action(table: dict[Any, Any], action: str) -> Any:
    """The verb an action names, or ``invalid_action``."""
    try:
        return table[action]
    except KeyError:
        raise ValidationError(ErrorCode.INVALID_ACTION, "Unknown moderation action.") from None


@unit_of_work
def moderate_question(
    work: UnitOfWork,
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
    verb = _action(QUESTION_VERBS, action)
    lock_questions(question_id, into if action == QuestionAction.MERGE else None)
    question, event, _ = get_question(question_id, actor)
    user = policy.require_moderator(actor, event)
    was_public = policy.question_public(question.status)
    done = OnQuestion(work, event, user, question, reason, reason_code, body, into)
    verb(done)
    db.session.flush()
    answer = staff_question_dict(question, topic_slugs(event))  # as committed
    told = NOTICES.get(action)
    notice = (
        None
        if told is None
        else {
            "action": told,
            "reason": reason,
            "reason_code": reason_code,
            "into": question.merged_into_id if action == QuestionAction.MERGE else None,
        }
    )
    work.publish(similar.touched, event.id, question_id)
    # A merged duplicate is hidden: participants see it removed, staff see it merged.
    work.publish(publish_question, event, question, was_public=was_public, notice=notice)
    for other in done.also_changed:
        work.publish(publish_question, event, other)
    return answer


# -- the verbs on a comment


@dataclass(slots=True)
class OnComment:
    """One moderation action on a comment, as its verb sees it."""

    work: UnitOfWork
    event: Event
    user: User
    question: Question
    comment: Comment
    reason: str | None = None
    reason_code: str | None = None

    def log(self, action: str, **where: Any) -> None:
        log_action(
            self.event,
            self.user,
            action,
            self.reason,
            reason_code=self.reason_code,
            question_id=self.question.id,
            comment_id=self.comment.id,
            **where,
        )


def hide_comment(a: OnComment) -> None:
    """Hidden from participants; the thread's visible count goes down."""
    if a.comment.hidden:
        raise Conflict(ErrorCode.ALREADY_HIDDEN, "This comment is already hidden.")
    a.comment.hidden = True
    a.question.comments = Question.comments - 1
    a.log("hide_comment")


def restore_comment(a: OnComment) -> None:
    if not a.comment.hidden:
        raise Conflict(ErrorCode.NOT_HIDDEN, "This comment is not hidden.")
    a.comment.hidden = False
    a.question.comments = Question.comments + 1
    a.log("restore_comment")


def mute_comment_author(a: OnComment) -> None:
    set_muted(a.work, a.event, a.comment.participant_id, True)
    # Logged with the comment only, as it always was.
    log_action(
        a.event,
        a.user,
        "mute",
        a.reason,
        reason_code=a.reason_code,
        comment_id=a.comment.id,
        participant_id=a.comment.participant_id,
    )


def unmute_comment_author(a: OnComment) -> None:
    set_muted(a.work, a.event, a.comment.participant_id, False)
    log_action(
        a.event,
        a.user,
        "unmute",
        a.reason,
        reason_code=a.reason_code,
        comment_id=a.comment.id,
        participant_id=a.comment.participant_id,
    )


COMMENT_VERBS: dict[CommentAction, Callable[[OnComment], None]] = {
    CommentAction.HIDE: hide_comment,
    CommentAction.RESTORE: restore_comment,
    CommentAction.MUTE: mute_comment_author,
    CommentAction.UNMUTE: unmute_comment_author,
}


@unit_of_work
def moderate_comment(
    work: UnitOfWork,
    actor: Actor,
    comment_id: int,
    action: str,
    *,
    reason: str | None = None,
    reason_code: str | None = None,
) -> dict[str, Any]:
    """Hide or restore a comment (or mute its author) and log it."""
    verb = _action(COMMENT_VERBS, action)
    found = locked_comment(comment_id)
    question, event, _ = get_question(found.question_id, actor)
    user = policy.require_moderator(actor, event)
    verb(OnComment(work, event, user, question, found, reason, reason_code))
    work.touch(event.id, question.id)
    data = comment_dict(found, staff=True)  # as committed
    # Participants read a comment only on a question they can read.
    on_public = policy.question_public(question.status)
    if action == CommentAction.HIDE:
        work.publish(
            live.publish_comment_removed,
            event.id,
            comment_id,
            data["question_id"],
            was_public=on_public,
        )
    elif action == CommentAction.RESTORE:
        work.publish(
            live.publish_comment,
            event.id,
            {k: v for k, v in data.items() if k != "hidden"},
            public=on_public,
        )
    work.publish(republish_question, event, question)
    return data

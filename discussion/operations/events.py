"""Events: create, change, seed, list and delete them (staff)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from .. import cache, live, signals
from ..errors import Conflict, Forbidden, ValidationError
from ..extensions import db
from ..identity import Actor
from ..models import (
    EVENT_SCALARS,
    Comment,
    Event,
    Participant,
    Question,
    Role,
    Topic,
    User,
    Vote,
)
from ..rules import access as policy
from ..rules.enums import ErrorCode
from ..rules.event_rules import merge_translations
from .common import log_action
from .uow import UnitOfWork, unit_of_work

# Only organisers change these; moderators may change status and moderation mode.
EVENT_FIELDS_ORGANISER = (*EVENT_SCALARS, "topics", "translations", "moderators")


def create_event(actor: Actor, data: dict[str, Any]) -> Event:
    """Create an event (organisers only); live unless told otherwise."""
    policy.require_organiser(actor)
    return _create_event(actor.user, data)


@unit_of_work
def _create_event(work: UnitOfWork, user: User | None, data: dict[str, Any]) -> Event:
    code = data["code"]
    if db.session.scalar(select(Event.id).where(Event.code == code)) is not None:
        raise Conflict(ErrorCode.CODE_TAKEN, "An event with this code already exists.")
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
        raise Conflict(ErrorCode.CODE_TAKEN, "An event with this code already exists.") from None
    if user is not None:
        log_action(event, user, "create_event")
    work.publish(cache.bump_events)  # a code looked up before it existed is cached as missing
    return event


def _apply_event_fields(event: Event, data: dict[str, Any]) -> None:
    for field in (*EVENT_SCALARS, "status", "moderation"):
        # A date may be cleared with null; the other fields are never None when given.
        if field in data and (data[field] is not None or field == "date"):
            setattr(event, field, data[field])
    if data.get("translations"):
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
                    ErrorCode.UNKNOWN_USER, "No staff account for %(email)s.", email=email
                )
            users.append(user)
        event.moderators = users


def _questions_by_topic(event: Event) -> dict[int, list[int]]:
    """The event's questions by topic, read before its topics change: a question whose
    topic goes loses it, and a reconnecting client must get it again."""
    by_topic: dict[int, list[int]] = {}
    for topic_id, question_id in db.session.execute(
        select(Question.topic_id, Question.id).where(
            Question.event_id == event.id, Question.topic_id.is_not(None)
        )
    ):
        if topic_id is not None:  # never, by the query; said for the type checker
            by_topic.setdefault(topic_id, []).append(question_id)
    return by_topic


def events_for(user: User) -> list[Event]:
    """The events a staff user can moderate, newest first."""
    stmt = select(Event).order_by(Event.date.desc(), Event.id.desc())
    if user.role != Role.ORGANISER:
        stmt = stmt.join(Event.moderators).where(User.id == user.id)
    return list(db.session.scalars(stmt))


@unit_of_work
def load_seed(
    work: UnitOfWork, actor: Actor | None, seed: Any, *, status: str | None = None
) -> tuple[Event, int]:
    """Load a checked seed file (idempotent) and log the load: organisers from the
    console, or the command line (``actor`` None: no user).

    A reload keeps the event's status whatever the file says; ``status`` changes it,
    logged as a status change (public, like closing the event from the console).
    """
    from .. import seeding

    user = policy.require_organiser(actor) if actor is not None else None
    before = db.session.execute(
        select(Event.status, Event.moderation).where(Event.code == seed.event["code"])
    ).first()
    loaded = seeding.load_seed(seed, status=status)
    event = loaded.event
    if before is not None:
        for field, old in (("status", before.status), ("moderation", before.moderation)):
            if getattr(event, field) != old:
                log_action(event, user, f"{field}:{getattr(event, field)}")
    log_action(event, user, "load_seed", f"{loaded.added} question(s) added")
    work.publish(live.publish_event, event)
    return event, loaded.added


@unit_of_work
def update_event(work: UnitOfWork, actor: Actor, event: Event, data: dict[str, Any]) -> Event:
    """Change an event: moderators may set status and moderation mode, organisers anything."""
    user = policy.require_moderator(actor, event)
    organiser_only = [f for f in EVENT_FIELDS_ORGANISER if f in data]
    if organiser_only and user.role != Role.ORGANISER:
        raise Forbidden(
            ErrorCode.FORBIDDEN,
            "Only organisers can change %(fields)s.",
            fields=", ".join(organiser_only),
        )
    before = {"status": event.status, "moderation": event.moderation}
    by_topic = _questions_by_topic(event) if data.get("topics") is not None else {}
    _apply_event_fields(event, data)
    kept = {topic.id for topic in event.topics}
    work.touch(event.id, *(q for t, ids in by_topic.items() if t not in kept for q in ids))
    for field in ("status", "moderation"):
        if getattr(event, field) != before[field]:
            log_action(event, user, f"{field}:{getattr(event, field)}", data.get("reason"))
    if organiser_only:
        log_action(event, user, "update_event", ", ".join(organiser_only))
    work.publish(live.publish_event, event)
    if "moderators" in data:  # someone may have lost this event: their sockets too
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app
        work.publish(signals.staff_rights_changed.send, app)
    return event


# ---------------------------------------------------------------------------
# Organisers: removing an event (flask events delete)


@unit_of_work
def delete_event(work: UnitOfWork, event_id: int) -> dict[str, int]:
    """Delete an event and everything in it: topics, participants, questions, votes,
    comments and its moderation log (the database cascades from the event row).

    Returns what was removed, counted in the same transaction.
    """

    def count(stmt: Any) -> int:
        return int(db.session.scalar(stmt) or 0)

    in_event = select(Question.id).where(Question.event_id == event_id)
    removed = {
        "questions": count(
            select(func.count()).select_from(Question).where(Question.event_id == event_id)
        ),
        "comments": count(
            select(func.count()).select_from(Comment).where(Comment.question_id.in_(in_event))
        ),
        "votes": count(
            select(func.count()).select_from(Vote).where(Vote.question_id.in_(in_event))
        ),
        "participants": count(
            select(func.count()).select_from(Participant).where(Participant.event_id == event_id)
        ),
    }
    db.session.execute(delete(Event).where(Event.id == event_id))
    work.publish(cache.bump, event_id)
    work.publish(cache.bump_events)
    return removed

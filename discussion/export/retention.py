"""When the retention period will remove names: for the console and for ``flask purge``.

``flask purge`` removes, for each event, the links between posts and the participants
first seen more than ``retention_days`` ago, and the names on their posts. After that
the reports can no longer print those names (with ``quote: named``), so the console
shows when it will happen and the purge command warns a few days before: export first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select

from ..extensions import db
from ..models import Comment, Event, Participant, Question, utcnow

WARN_DAYS = 14  # how far ahead flask purge looks, unless told otherwise


def _linked(event_id: int) -> ColumnElement[bool]:
    """Participants of the event who still have links to remove (not yet purged, not a
    "forget me" tombstone, which holds no name)."""
    return (
        (Participant.event_id == event_id)
        & Participant.key.is_not(None)
        & Participant.forgotten.is_(False)
    )


def purge_at(event: Event) -> datetime | None:
    """When the purge will first remove links and names from this event (naive UTC), or
    None when there is nothing left to remove."""
    first: datetime | None = db.session.scalar(
        select(func.min(Participant.created_at)).where(_linked(event.id))
    )
    return first + timedelta(days=event.retention_days) if first else None


@dataclass(frozen=True, slots=True)
class Due:
    """An event that will lose names soon: from when, how many people and named posts."""

    code: str
    title: str
    purge_at: datetime
    participants: int
    named_posts: int


def due_within(days: int, now: datetime | None = None) -> list[Due]:
    """Events whose retention removes links within ``days`` days, soonest first."""
    now = now or utcnow()
    out = []
    for event in db.session.scalars(select(Event).order_by(Event.code)):
        first = purge_at(event)
        if first is None or first > now + timedelta(days=days):
            continue
        limit = now + timedelta(days=days - event.retention_days)
        people = select(Participant.id).where(_linked(event.id), Participant.created_at <= limit)
        named = sum(
            int(
                db.session.scalar(
                    select(func.count())
                    .select_from(model)
                    .where(model.participant_id.in_(people), model.author.is_not(None))
                )
                or 0
            )
            for model in (Question, Comment)
        )
        count = int(db.session.scalar(select(func.count()).select_from(people.subquery())) or 0)
        out.append(Due(event.code, event.title, first, count, named))
    return sorted(out, key=lambda d: d.purge_at)

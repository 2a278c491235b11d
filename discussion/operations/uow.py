"""The unit of work: one write transaction, committed once, then its side effects.

A verb runs inside a :class:`UnitOfWork` (see :func:`unit_of_work`). It changes rows
and queues what must happen once the change is durable: broadcasts, notices to
authors, index updates (:meth:`UnitOfWork.publish`). The unit commits once; only then,
outside the busy-retry loop, does it run the queue. A verb that raises publishes
nothing, and a verb run again because the database was busy publishes once.

Before committing, the unit gives every event it changed its next version and
stamps the changed questions with it (see ``Event.version`` and docs/realtime.md).
What changed is collected from the session itself (questions added, changed or
deleted, events changed) and from the verbs for what the ORM does not see (counters
changed in SQL, a participant muted).
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from flask import current_app
from sqlalchemy import Table, delete, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from .. import live
from ..database import transaction
from ..extensions import db
from ..models import Event, Participant, Question, QuestionRemoval, QuestionStatus
from ..rules import access as policy

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

_current: contextvars.ContextVar[UnitOfWork | None] = contextvars.ContextVar(
    "unit_of_work", default=None
)


@dataclass(slots=True)
class _Changes:
    """What one unit changed of one event."""

    questions: set[int] = field(default_factory=set)
    removals: dict[int, dict[str, Any]] = field(default_factory=dict)


class UnitOfWork:
    """One write: what it changed of each event, and what to do after its commit."""

    def __init__(self) -> None:
        self._queue: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self._changes: dict[int, _Changes] = {}
        self.versions: dict[int, int] = {}  # event id -> its version, once committed

    # -- what the verb tells

    def publish(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Call ``fn(*args, **kwargs)`` after the commit (a broadcast, a notice, an index
        update); never if the unit fails."""
        self._queue.append((fn, args, kwargs))

    def changed(self, event_id: int) -> None:
        """Something of the event changed: it gets a new version."""
        self._changes.setdefault(event_id, _Changes())

    def touch(self, event_id: int, *question_ids: int | None) -> None:
        """These questions changed in ways the session cannot see (SQL counters, the
        staff shape's ``author_muted``): a reconnecting client gets them again."""
        self._changes.setdefault(event_id, _Changes()).questions.update(
            q for q in question_ids if q is not None
        )

    def removed(
        self,
        event_id: int,
        question_id: int,
        *,
        public: bool,
        deleted: bool,
        participant_id: int | None,
    ) -> None:
        """A question left the lists of those who could read it (see QuestionRemoval)."""
        changes = self._changes.setdefault(event_id, _Changes())
        changes.removals[question_id] = {
            "event_id": event_id,
            "question_id": question_id,
            "public": public,
            "deleted": deleted,
            "participant_id": participant_id,
        }

    def forget_changes(self) -> None:
        """The transaction was rolled back: what it changed did not happen."""
        self._changes.clear()

    # -- commit, then publish

    def commit(self) -> None:
        """Give each changed event its next version, stamp what changed, commit once."""
        db.session.flush()  # the listener below collects the last changes
        window = int(current_app.config["JOIN_WINDOW"])
        # The mapped classes' tables, as Table objects (a model's __table__ is typed as the
        # wider FromClause).
        events, questions = cast(Table, Event.__table__), cast(Table, Question.__table__)
        removals = cast(Table, QuestionRemoval.__table__)
        # In id order: a unit that changes several events (purge) takes their rows in
        # the same order as any other, so two writers never wait on each other.
        for event_id in sorted(self._changes):
            changes = self._changes[event_id]
            version = db.session.execute(
                update(events)
                .where(events.c.id == event_id)
                .values(version=events.c.version + 1)
                .returning(events.c.version)
            ).scalar_one_or_none()
            if version is None:  # the event itself was deleted
                continue
            if changes.questions:
                db.session.execute(
                    update(questions)
                    .where(questions.c.id.in_(sorted(changes.questions)))
                    .values(version=version)
                )
            if changes.removals:
                rows = _with_living_authors(list(changes.removals.values()))
                db.session.execute(insert(removals), [{**row, "version": version} for row in rows])
                db.session.execute(
                    delete(removals).where(
                        removals.c.event_id == event_id, removals.c.version <= version - window
                    )
                )
            self.versions[event_id] = version
        db.session.commit()

    def run_after_commit(self) -> None:
        """Run the queue, each broadcast carrying its event's new version. A failing
        publish is logged and the rest still run: the write is done either way."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app object
        with live.publishing(self.versions):
            for fn, args, kwargs in self._queue:
                try:
                    fn(*args, **kwargs)
                except Exception:
                    log.exception(
                        "publishing after commit failed (%s)", getattr(fn, "__name__", fn)
                    )
        live.note_versions(app, self.versions)
        self._queue.clear()


def _with_living_authors(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Removal rows, without the author where this unit deleted the participant (forget
    me: whoever comes back with that cookie is someone new, who never saw it)."""
    authors = {row["participant_id"] for row in rows if row["participant_id"] is not None}
    if authors:
        authors = set(
            db.session.scalars(select(Participant.id).where(Participant.id.in_(sorted(authors))))
        )
    return [
        {
            **row,
            "participant_id": row["participant_id"] if row["participant_id"] in authors else None,
        }
        for row in rows
    ]


def unit_of_work(fn: Callable[Concatenate[UnitOfWork, P], R]) -> Callable[P, R]:
    """Run a verb as one unit of work: the write transaction (``BEGIN IMMEDIATE`` on
    SQLite, retried from the start while the database is busy), one commit, then
    what the verb queued. The verb receives the unit as its first argument; called
    from inside another unit, it joins that one."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        outer = _current.get()
        if outer is not None:
            return fn(outer, *args, **kwargs)
        done: list[UnitOfWork] = []

        def attempt() -> R:
            work = UnitOfWork()
            token = _current.set(work)
            try:
                result = fn(work, *args, **kwargs)
                work.commit()
            finally:
                _current.reset(token)
            done[:] = [work]
            return result

        result = transaction(attempt, fn.__name__)
        done[0].run_after_commit()
        # Whatever the publishers read: end it before anything can yield.
        db.session.commit()
        return result

    return wrapper


# ---------------------------------------------------------------------------
# What the session sees changing, collected into the running unit


def _was(obj: Any, attribute: str) -> Any:
    """An attribute's value as last loaded or flushed (its current one if unchanged)."""
    history = inspect(obj).attrs[attribute].history
    return history.deleted[0] if history.deleted else getattr(obj, attribute)


def _seen_by(status: str, participant_id: int | None) -> dict[str, Any]:
    """Who besides staff could read a question in this status."""
    return {
        "public": policy.question_public(status),
        "participant_id": participant_id if status == QuestionStatus.PENDING else None,
    }


@event.listens_for(Session, "before_flush")
def _collect_changed(session: Session, _context: Any, _instances: Any) -> None:
    """Changed and deleted rows, seen before the flush (afterwards a counter set to a
    SQL expression no longer shows as changed)."""
    work = _current.get()
    if work is None:
        return
    for obj in session.dirty:
        if isinstance(obj, Event) and session.is_modified(obj):
            work.changed(obj.id)
        if not isinstance(obj, Question) or not session.is_modified(obj):
            continue
        work.touch(obj.event_id, obj.id)
        before = _seen_by(_was(obj, "status"), obj.participant_id)
        now = _seen_by(obj.status, obj.participant_id)
        lost_public = before["public"] and not now["public"]
        lost_author = before["participant_id"] is not None and not (
            now["public"] or now["participant_id"]
        )
        if lost_public or lost_author:
            work.removed(obj.event_id, obj.id, deleted=False, **before)
    for obj in session.deleted:
        if isinstance(obj, Question):
            work.removed(
                obj.event_id,
                obj.id,
                deleted=True,
                **_seen_by(_was(obj, "status"), obj.participant_id),
            )


@event.listens_for(Session, "after_flush")
def _collect_added(session: Session, _context: Any) -> None:
    """Added questions, once the flush has given them their ids."""
    work = _current.get()
    if work is None:
        return
    for obj in session.new:
        if isinstance(obj, Question):
            work.touch(obj.event_id, obj.id)


@event.listens_for(Session, "after_rollback")
def _rolled_back(_session: Session) -> None:
    work = _current.get()
    if work is not None:
        work.forget_changes()

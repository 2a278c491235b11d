"""Similar questions: find the question someone is about to ask again, and likely duplicates.

Everything runs in the process, on the event's own questions: no text leaves the
server. Each app keeps one :class:`~.index.EventIndex` per event on
``app.extensions`` (built from the database on first use), which the write operations
update after their commit through :func:`touched`, and which :func:`fresh_index`
brings in step with what other processes committed (see :func:`fingerprint`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import ColumnElement, Connection, ScalarSelect, func, select

from ..extensions import db
from ..models import ModerationEntry, Question
from ..rules.access import PUBLIC_STATUSES
from ..rules.enums import QuestionStatus
from .index import DUPLICATE_THRESHOLD, SUGGEST_THRESHOLD, EventIndex
from .text import Features, features

EXTENSION = "discussion.similar"
MIN_LENGTH = 12  # shorter texts say too little to be matched: no suggestion
LIMIT = 3
# Only what participants may read is ever suggested (the access policy says which).
SEARCHABLE = tuple(sorted(PUBLIC_STATUSES))

__all__ = [
    "DUPLICATE_THRESHOLD",
    "MIN_LENGTH",
    "SUGGEST_THRESHOLD",
    "duplicate_of",
    "fingerprint",
    "init_app",
    "lookup",
    "touched",
]


@dataclass(slots=True)
class _Mark:
    """A question's remembered duplicate mark: for which text, the best earlier question
    and its score, and the text's features (to check later changes against)."""

    body: str
    best: int | None
    score: float
    query: Features


@dataclass(slots=True)
class _Entry:
    """One event's index and when it was last brought in step with the database."""

    index: EventIndex
    fingerprint: Hashable
    synced_at: float
    marks: dict[int, _Mark] = field(default_factory=dict)
    # Questions whose mark moved since the last local write, with the mark they had:
    # a write may bring the index in step before its commit (a staff answer asks for
    # marks), so the write's publishing finds the moves here, not in its own update.
    moved: dict[int, int | None] = field(default_factory=dict)


class Indexes:
    """The indexes of one app's events (``app.extensions["discussion.similar"]``)."""

    def __init__(self, refresh: float) -> None:
        self.refresh = refresh  # seconds after which an index is re-read in full anyway
        self.lock = threading.Lock()
        self.events: dict[int, _Entry] = {}


def init_app(app: Flask) -> None:
    """Give the app its own, empty set of indexes."""
    app.extensions[EXTENSION] = Indexes(float(app.config["SIMILAR_REFRESH"]))


def _indexes() -> Indexes:
    indexes: Indexes = current_app.extensions[EXTENSION]
    return indexes


# -- freshness across processes


def fingerprint(conn: Connection, event_id: int) -> Hashable:
    """A value that changes whenever a question of the event is added, deleted, edited,
    approved, hidden, restored or merged, in this process or any other.

    Asks and deletes change the count, the highest id or the latest creation time (SQLite
    may give a deleted last id to the next question, never its creation time); every
    change of a question's text or status by staff writes a moderation-log entry. One
    cheap query: when events gain a change counter, this becomes a read of that counter.
    """

    def of_questions(column: ColumnElement[Any]) -> ScalarSelect[Any]:
        return select(column).where(Question.event_id == event_id).scalar_subquery()

    return tuple(
        conn.execute(
            select(
                of_questions(func.count(Question.id)),
                of_questions(func.max(Question.id)),
                of_questions(func.max(Question.created_at)),
                select(func.max(ModerationEntry.id))
                .where(ModerationEntry.event_id == event_id)
                .scalar_subquery(),
            )
        ).one()
    )


def _rows(
    conn: Connection, event_id: int, ids: Iterable[int] | None = None
) -> list[tuple[int, str, bool]]:
    """(id, body, searchable) of the event's questions (or of these ones)."""
    stmt = select(Question.id, Question.body, Question.status).where(Question.event_id == event_id)
    if ids is not None:
        stmt = stmt.where(Question.id.in_(list(ids)))
    return [(row.id, row.body, row.status in SEARCHABLE) for row in conn.execute(stmt)]


def _read() -> Connection:
    """The session's connection: one less checkout, and no second connection waiting on a
    full pool while the session's own is held."""
    return db.session.connection()


def fresh_index(event_id: int) -> _Entry:
    """The event's index, built on first use and in step with the database.

    Checked once per request (or socket event): a staff list of many questions asks
    for it once per question.
    """
    indexes = _indexes()
    checked: set[int] = g.setdefault("similar_checked", set()) if has_app_context() else set()
    entry = indexes.events.get(event_id)
    if entry is not None and event_id in checked:
        return entry
    now = time.monotonic()
    conn = _read()
    current = fingerprint(conn, event_id)
    stale = entry is None or entry.fingerprint != current or now - entry.synced_at > indexes.refresh
    rows = _rows(conn, event_id) if stale else None
    if rows is not None:
        with indexes.lock:
            entry = indexes.events.get(event_id)
            if entry is None:
                entry = indexes.events[event_id] = _Entry(EventIndex(), current, now)
            _apply(entry, lambda index: index.sync(rows))
            entry.fingerprint, entry.synced_at = current, now
    checked.add(event_id)
    assert entry is not None
    return entry


def _apply(entry: _Entry, change: Callable[[EventIndex], None]) -> None:
    """Change the index, and keep the remembered duplicate marks true.

    Only a later question's mark can depend on a changed one: a mark that pointed at
    it is forgotten (computed again when asked for), and a changed question that is
    searchable now is scored against each later mark, which it takes over if it is
    the better match. A change costs one pairwise score per remembered later mark, not
    a search each. What moved is noted in ``entry.moved`` for :func:`touched`.
    """
    index = entry.index
    before = dict(index.known)
    change(index)
    changed = sorted(
        q for q in before.keys() | index.known.keys() if before.get(q) != index.known.get(q)
    )
    for changed_id in changed:
        for question_id, mark in list(entry.marks.items()):
            if question_id <= changed_id:
                continue
            if mark.best == changed_id:
                entry.moved.setdefault(question_id, mark.best)
                del entry.marks[question_id]
            elif changed_id in index.docs:
                score = index.score(mark.query, changed_id)
                better = score > mark.score or (  # ties go to the earlier, as in search
                    score == mark.score and mark.best is not None and changed_id < mark.best
                )
                if score >= DUPLICATE_THRESHOLD and better:
                    entry.moved.setdefault(question_id, mark.best)
                    mark.best, mark.score = changed_id, score


# -- updates from this process's writes


def touched(event_id: int, *question_ids: int) -> None:
    """After a commit: these questions of the event were added, changed or deleted.

    Updates this process's index at once (other processes see it through their
    fingerprint check), and tells the event's moderators of every other question whose
    likely original changed with it (their consoles show "possible duplicate of #N").
    Nothing to do for an event whose index was never built.
    """
    indexes = _indexes()
    entry = indexes.events.get(event_id)
    ids = {q for q in question_ids if q is not None}
    if entry is None or not ids:
        return
    rows = _rows(_read(), event_id, ids)
    found = {row[0] for row in rows}

    def update(index: EventIndex) -> None:
        for question_id, body, searchable in rows:
            index.put(question_id, body, searchable)
        for question_id in ids - found:
            index.drop(question_id)

    with indexes.lock:
        _apply(entry, update)
        moved = {q: best for q, best in entry.moved.items() if q not in ids}
        entry.moved.clear()
    changed = [q for q in sorted(moved) if _mark_now(event_id, q) != moved[q]]
    if changed:
        from .. import live

        live.publish_staff_questions(event_id, changed)


def _mark_now(event_id: int, question_id: int) -> int | None:
    """The question's likely original as it stands (None when it is gone)."""
    from ..models import Question

    question = db.session.get(Question, question_id)
    if question is None:
        return None
    return duplicate_of(event_id, question_id, question.body, question.status)


# -- lookups


def lookup(event_id: int, text: str) -> list[int]:
    """Ids of the visible or answered questions of the event that say the same as
    ``text``, best first, at most three; none when the text is too short to tell."""
    if len(text.strip()) < MIN_LENGTH:
        return []
    entry = fresh_index(event_id)
    query = features(text)
    with _indexes().lock:
        found = entry.index.search(query, threshold=SUGGEST_THRESHOLD, limit=LIMIT)
    return [question_id for question_id, _score in found]


def duplicate_of(event_id: int, question_id: int, body: str, status: str) -> int | None:
    """The earlier visible question this one probably repeats (for staff), or None.

    Stricter than a suggestion: it invites a merge. Hidden questions are out of the
    room already and get none. Remembered per question, and kept true as the event
    changes (see :func:`_apply`).
    """
    if status == QuestionStatus.HIDDEN or len(body.strip()) < MIN_LENGTH:
        return None
    entry = fresh_index(event_id)
    mark = entry.marks.get(question_id)
    if mark is not None and mark.body == body:
        return mark.best
    with _indexes().lock:
        # A searchable question's features are in the index already: shared, not copied.
        known = entry.index.known.get(question_id) == (True, body)
        query = entry.index.docs[question_id] if known else features(body)
        found = entry.index.search(
            query, threshold=DUPLICATE_THRESHOLD, limit=1, before=question_id
        )
        best, score = found[0] if found else (None, 0.0)
        entry.marks[question_id] = _Mark(body, best, score, query)
    return best

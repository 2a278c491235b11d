"""The unit of work: one commit, then what the verb queued; nothing on failure; a verb
started again because the database was busy publishes once. On SQLite and PostgreSQL.

The verbs here are small real ones written for the test (renaming an event, logging an
entry); what is checked is read back from the database through another connection.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError

from discussion.errors import Conflict
from discussion.extensions import db
from discussion.models import Event, ModerationEntry
from discussion.operations import UnitOfWork, unit_of_work

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.rollback()


def event_id() -> int:
    return int(db.session.scalar(select(Event.id).where(Event.code == "smartcities")))


def committed(sql: str) -> Any:
    """What another connection reads: only what is committed."""
    with db.engine.connect() as other:
        return other.execute(text(sql)).scalar()


def title_elsewhere() -> str:
    return str(committed("SELECT title FROM events WHERE code = 'smartcities'"))


def version_elsewhere() -> int:
    return int(committed("SELECT version FROM events WHERE code = 'smartcities'"))


def entries_elsewhere() -> int:
    return int(committed("SELECT count(*) FROM moderation_log WHERE action = 'test'"))


def test_what_a_verb_queues_runs_after_the_commit(ctx: Flask) -> None:
    seen: list[tuple[str, str]] = []

    @unit_of_work
    def rename(work: UnitOfWork, title: str) -> str:
        db.session.get(Event, event_id()).title = title  # type: ignore[union-attr]
        work.publish(lambda: seen.append(("published", title_elsewhere())))
        db.session.flush()
        seen.append(("in the transaction", title_elsewhere()))
        return "done"

    before = title_elsewhere()
    assert rename("Renamed once") == "done"
    assert seen == [("in the transaction", before), ("published", "Renamed once")]


def test_a_verb_that_fails_publishes_nothing_and_changes_nothing(ctx: Flask) -> None:
    seen: list[str] = []

    @unit_of_work
    def rename_then_refuse(work: UnitOfWork) -> None:
        db.session.get(Event, event_id()).title = "Never seen"  # type: ignore[union-attr]
        work.publish(seen.append, "published")
        db.session.flush()
        raise Conflict("no_change", "Nothing to change: it is already so.")

    version, title = version_elsewhere(), title_elsewhere()
    with pytest.raises(Conflict):
        rename_then_refuse()
    db.session.rollback()  # as both transports do with an error
    assert seen == []
    assert (version_elsewhere(), title_elsewhere()) == (version, title)


def _busy() -> OperationalError:
    return OperationalError("UPDATE ...", {}, sqlite3.OperationalError("database is locked"))


def test_a_busy_retry_runs_the_verb_again_and_publishes_once(ctx: Flask) -> None:
    attempts: list[int] = []
    published: list[int] = []

    @unit_of_work
    def log_entry(work: UnitOfWork) -> int:
        attempts.append(len(attempts) + 1)
        db.session.add(ModerationEntry(event_id=event_id(), action="test"))
        work.changed(event_id())
        work.publish(published.append, len(attempts))
        db.session.flush()
        if len(attempts) == 1:
            raise _busy()  # the database was busy: the transaction starts again
        return len(attempts)

    version = version_elsewhere()
    assert log_entry() == 2
    assert attempts == [1, 2]
    assert published == [2]
    assert entries_elsewhere() == 1
    assert version_elsewhere() == version + 1


def test_a_failing_publish_does_not_undo_the_write(
    ctx: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    later: list[str] = []

    def broken() -> None:
        raise RuntimeError("the message queue is gone")

    @unit_of_work
    def rename(work: UnitOfWork) -> str:
        db.session.get(Event, event_id()).title = "Written anyway"  # type: ignore[union-attr]
        work.publish(broken)
        work.publish(later.append, "the next publish still runs")
        return "done"

    with caplog.at_level(logging.ERROR, logger="discussion.operations.uow"):
        assert rename() == "done"
    assert title_elsewhere() == "Written anyway"
    assert later == ["the next publish still runs"]
    assert "publishing after commit failed" in caplog.text


def test_one_version_per_unit_however_many_changes(ctx: Flask) -> None:
    @unit_of_work
    def many(work: UnitOfWork) -> None:
        eid = event_id()
        db.session.execute(update(Event).where(Event.id == eid).values(title="One"))
        db.session.get(Event, eid).title = "Two"  # type: ignore[union-attr]
        work.changed(eid)
        work.touch(eid, 1, 2, 3)

    version = version_elsewhere()
    many()
    assert version_elsewhere() == version + 1
    stamped = committed(f"SELECT count(*) FROM questions WHERE version = {version + 1}")
    assert stamped == 3


def test_a_unit_that_changes_nothing_keeps_the_version(ctx: Flask) -> None:
    @unit_of_work
    def read_only(work: UnitOfWork) -> int:
        return int(db.session.scalar(select(func.count()).select_from(Event)) or 0)

    version = version_elsewhere()
    assert read_only() >= 1
    assert version_elsewhere() == version


def test_a_verb_called_from_a_verb_joins_its_unit(ctx: Flask) -> None:
    published: list[str] = []

    @unit_of_work
    def inner(work: UnitOfWork) -> None:
        work.changed(event_id())
        work.publish(published.append, "inner")

    @unit_of_work
    def outer(work: UnitOfWork) -> None:
        inner()
        work.changed(event_id())
        work.publish(published.append, "outer")

    version = version_elsewhere()
    outer()
    assert published == ["inner", "outer"]
    assert version_elsewhere() == version + 1

"""Engine behaviour that the models cannot express: SQLite pragmas and write transactions.

On SQLite every write operation opens its transaction with ``BEGIN IMMEDIATE`` so two
writers queue on the busy timeout instead of failing when a read lock is upgraded;
reads stay deferred so they never wait for a writer (WAL).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from .errors import DomainError
from .extensions import db
from .rules.enums import ErrorCode

log = logging.getLogger(__name__)
_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)
P = ParamSpec("P")
R = TypeVar("R")


def make_private(path: Path) -> None:
    """Readable and writable by the owner only: a database file and its WAL and SHM."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077:
                os.chmod(file, 0o600)
        except FileNotFoundError:
            pass


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    if not isinstance(dbapi_conn, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event emit BEGIN, not the driver (savepoints work too).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # Private before the WAL and SHM files exist: SQLite creates them with this mode.
    for _seq, name, file in cur.execute("PRAGMA database_list").fetchall():
        if name == "main" and file:
            make_private(Path(file))
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        immediate = _immediate.get()
        # Only the operation's own transaction takes the write lock up front; reads
        # after its commit (refreshing what it returns) are ordinary deferred reads.
        _immediate.set(False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _is_locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(
        sign in text for sign in ("database is locked", "deadlock detected", "could not serialize")
    )


def transaction(attempt: Callable[[], R], name: str) -> R:
    """Run ``attempt`` as one write transaction (``BEGIN IMMEDIATE`` on SQLite), again
    from the start a few times if the database is busy; commits what it leaves open."""
    token = _immediate.set(False)
    try:
        for tries in range(5):
            # End any read transaction the caller opened, so ours begins IMMEDIATE.
            db.session.rollback()
            _immediate.set(True)
            try:
                result = attempt()
                # Whatever attempt read after its commit: end it before anything can yield.
                db.session.commit()
                return result
            except OperationalError as exc:
                db.session.rollback()
                if not _is_locked(exc) or tries == 4:
                    raise
                log.warning("database busy, retrying %s", name)
                time.sleep(0.05 * (tries + 1))
        raise AssertionError("unreachable")
    finally:
        _immediate.reset(token)


def write(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a function as one write transaction, retried a few times if the database is
    busy (the archive import; the operations use their unit of work, which builds on
    :func:`transaction`)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return transaction(lambda: fn(*args, **kwargs), fn.__name__)

    return wrapper


def database_busy(exc: OperationalError) -> DomainError | None:
    """The ``busy`` error (503) when the database stayed locked through every retry of
    :func:`write`, else None (a real fault)."""
    if not _is_locked(exc):
        return None
    return DomainError(ErrorCode.BUSY, "The database is busy. Please try again in a moment.", 503)

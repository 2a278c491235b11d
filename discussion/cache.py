"""Short-lived per-event caches for what thousands of joining phones ask for at once.

A phone joining the room fetches the event page and sends ``join``: for a phone that
has not posted yet, both answers are the same for everyone. They are built once per
change of the event and reused. Every publish for an event bumps its local stamp
(:func:`bump`), which invalidates this process's entries at once; the time limit
bounds staleness when other processes write (scale-out). An entry may also be tagged
with the event's version (``Event.version``), which every process's writes move: such
an entry is exact across processes.

The state belongs to the app (``app.extensions["discussion.cache"]``), so two apps in
one process never share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import Flask, current_app

T = TypeVar("T")

EXTENSION = "discussion.cache"
MAX_ENTRIES = 10_000  # random codes tried by a scanner, or many `since`s, must not grow memory


class EventCache:
    """One app's cached answers, event-code lookups and legacy-key check."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.stamps: dict[int, int] = {}
        self.entries: dict[tuple[int, str], tuple[Hashable, float, Any]] = {}
        self.codes: dict[str, tuple[int, float, Any]] = {}
        self.codes_stamp = 0
        self.legacy_checked = 0.0
        self.legacy_left = True

    def bump(self, event_id: int) -> None:
        self.stamps[event_id] = self.stamps.get(event_id, 0) + 1

    def cached(
        self,
        event_id: int,
        key: str,
        build: Callable[[], T],
        ttl: float | None,
        version: int | None,
    ) -> T:
        # The stamp read before building: a change during the build makes it stale.
        tag = (self.stamps.get(event_id, 0), version)
        now = time.monotonic()
        hit = self.entries.get((event_id, key))
        if hit is not None and hit[0] == tag and hit[1] > now:
            return hit[2]  # type: ignore[no-any-return]  # values stored untyped
        value = build()
        if len(self.entries) > MAX_ENTRIES:
            self.entries.clear()
        self.entries[(event_id, key)] = (tag, now + (self.ttl if ttl is None else ttl), value)
        return value

    def by_code(self, code: str, build: Callable[[], T]) -> T:
        now = time.monotonic()
        hit = self.codes.get(code)
        if hit is not None and hit[0] == self.codes_stamp and hit[1] > now:
            return hit[2]  # type: ignore[no-any-return]  # values stored untyped
        stamp = self.codes_stamp
        value = build()
        if len(self.codes) > MAX_ENTRIES:
            self.codes.clear()
        self.codes[code] = (stamp, now + self.ttl, value)
        return value


def init_app(app: Flask) -> None:
    """Give the app its own, empty cache."""
    app.extensions[EXTENSION] = EventCache(float(app.config["CACHE_TTL"]))


def _state() -> EventCache:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]  # values stored untyped


def bump(event_id: int) -> None:
    """Something of this event changed: its cached answers are stale."""
    _state().bump(event_id)


def cached(
    event_id: int,
    key: str,
    build: Callable[[], T],
    ttl: float | None = None,
    *,
    version: int | None = None,
) -> T:
    """The cached value of ``key`` for this event, built again when stale (bumped,
    expired, or built at another ``version`` of the event)."""
    return _state().cached(event_id, key, build, ttl, version)


def bump_events() -> None:
    """An event was created or changed its code or status."""
    _state().codes_stamp += 1


def by_code(code: str, build: Callable[[], T]) -> T:
    """A cached lookup of an event by its join code (``None`` results are cached too)."""
    return _state().by_code(code, build)


def legacy_keys() -> bool:
    """Whether participant keys of the first release are still waiting to be rewritten
    (asked of the database at most once a minute; usually answered "no")."""
    state = _state()
    now = time.monotonic()
    if state.legacy_left and now - state.legacy_checked > 60:
        from sqlalchemy import select

        from .extensions import db
        from .models import Participant

        state.legacy_checked = now
        state.legacy_left = (
            db.session.scalar(
                select(Participant.id).where(Participant.key.like("legacy:%")).limit(1)
            )
            is not None
        )
    return state.legacy_left

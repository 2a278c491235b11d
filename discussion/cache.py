"""Short-lived per-event caches for what thousands of joining phones ask for at once.

A phone joining the room fetches the event page and sends ``join``: for a phone that
has not posted yet, both answers are the same for everyone. They are built once per
change of the event and reused. Every publish for an event bumps its version
(:func:`bump`), which invalidates this process's entries at once; the time limit
bounds staleness when other processes write (scale-out), and the ``join`` ack is
the client's resynchronisation anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_versions: dict[int, int] = {}
_entries: dict[tuple[int, str], tuple[int, float, Any]] = {}
TTL = 1.0


def bump(event_id: int) -> None:
    """Something of this event changed: its cached answers are stale."""
    _versions[event_id] = _versions.get(event_id, 0) + 1


def cached(event_id: int, key: str, build: Callable[[], T], ttl: float | None = None) -> T:
    """The cached value of ``key`` for this event, built again when stale."""
    version = _versions.get(event_id, 0)
    now = time.monotonic()
    hit = _entries.get((event_id, key))
    if hit is not None and hit[0] == version and hit[1] > now:
        return hit[2]  # type: ignore[no-any-return]
    value = build()
    # The version read before building: a change during the build makes it stale.
    _entries[(event_id, key)] = (version, now + (TTL if ttl is None else ttl), value)
    return value


_codes: dict[str, tuple[int, float, Any]] = {}
_codes_version = 0


def bump_events() -> None:
    """An event was created or changed its code or status."""
    global _codes_version
    _codes_version += 1


def by_code(code: str, build: Callable[[], T]) -> T:
    """A cached lookup of an event by its join code (``None`` results are cached too)."""
    now = time.monotonic()
    hit = _codes.get(code)
    if hit is not None and hit[0] == _codes_version and hit[1] > now:
        return hit[2]  # type: ignore[no-any-return]
    version = _codes_version
    value = build()
    if len(_codes) > 10_000:  # random codes tried by a scanner must not grow memory
        _codes.clear()
    _codes[code] = (version, now + TTL, value)
    return value


_legacy: list[float | bool] = [0.0, True]  # [checked at, any legacy participant keys]


def legacy_keys() -> bool:
    """Whether participant keys of the first release are still waiting to be rewritten
    (asked of the database at most once a minute; usually answered "no")."""
    now = time.monotonic()
    if _legacy[1] and now - float(_legacy[0]) > 60:
        from sqlalchemy import select

        from .extensions import db
        from .models import Participant

        _legacy[0] = now
        _legacy[1] = db.session.scalar(
            select(Participant.id).where(Participant.key.like("legacy:%")).limit(1)
        ) is not None
    return bool(_legacy[1])


def clear() -> None:
    """Forget everything (a new app, in tests)."""
    _entries.clear()
    _versions.clear()
    _codes.clear()
    _legacy[:] = [0.0, True]

"""A rate-limit storage for one process that never starts a thread.

``limits``' memory storage starts a timer thread after nearly every hit to sweep
expired counters, and the sweep walks every key. Under gevent each start is a
greenlet switch, and with thousands of phones each sweep walks thousands of keys,
a hundred times a second. Counters already expire when read; this storage only
sweeps the rest for memory, at most once a minute, on the hitting greenlet.
Selected by ``RATELIMIT_STORAGE_URI = "sweptmemory://"`` (the default); with Redis,
limits are kept in Redis instead.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app
from limits import parse as parse_limit
from limits.storage import MemoryStorage

log = logging.getLogger(__name__)


class SweptMemoryStorage(MemoryStorage):
    """In-process counters, swept for memory at most every ``SWEEP_EVERY`` seconds."""

    STORAGE_SCHEME = ["sweptmemory"]
    SWEEP_EVERY = 60.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._swept = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the thread-starting hook
        now = time.monotonic()
        if now - self._swept >= self.SWEEP_EVERY:
            self._swept = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]  # limits' private sweep, called on our schedule


EXTENSION = "discussion.ratelimit"


class StoreHealth:
    """Whether this app's rate-limit store failed last time (so an outage is logged
    once, and its end once)."""

    def __init__(self) -> None:
        self.failing = False


def init_app(app: Flask) -> None:
    """Give the app its own record of the store's health."""
    app.extensions[EXTENSION] = StoreHealth()


def hit(limit: str, *keys: str) -> bool:
    """Count one hit against ``limit`` (e.g. "6/minute") for these keys; False when over.

    With the counters in Redis, a Redis outage must not stop the room: the hit is
    allowed, and the outage is logged once until the store answers again.
    """
    from .extensions import limiter

    if not limiter.enabled:
        return True
    health: StoreHealth = current_app.extensions[EXTENSION]
    try:
        allowed = bool(limiter.limiter.hit(parse_limit(limit), *keys))
    except Exception:
        if not health.failing:
            log.error("rate-limit store unreachable: limits are not enforced until it returns")
        health.failing = True
        return True
    if health.failing:
        log.warning("rate-limit store reachable again: limits are enforced")
        health.failing = False
    return allowed

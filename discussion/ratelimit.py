"""A rate-limit storage for one process that never starts a thread.

``limits``' memory storage starts a timer thread after nearly every hit to sweep
expired counters, and the sweep walks every key. Under gevent each start is a
greenlet switch, and with thousands of phones each sweep walks thousands of keys,
a hundred times a second. Counters already expire when read; this storage only
sweeps the rest for memory, at most once a minute, on the hitting greenlet.
Selected by ``RATELIMIT_STORAGE_URI = "sweptmemory://"`` (the default); with Redis,
limits are kept in Redis instead.

Each app has its own Flask-Limiter ``Limiter`` on ``app.extensions`` (the limiter holds
its storage, so a shared one would make two apps in a process count together).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app
from flask_limiter import Limiter
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


def _limit_key() -> str:
    """Rate limits are keyed on the participant or staff user, never on the IP address."""
    from .identity import limit_key

    return limit_key()


class RateLimits:
    """One app's limiter (configured from ``RATELIMIT_*``) and whether its store failed
    last time (so an outage is logged once, and its end once)."""

    def __init__(self, app: Flask) -> None:
        self.limiter = Limiter(key_func=_limit_key, default_limits=[], app=app)
        self.failing = False


def init_app(app: Flask) -> None:
    """Give the app its own limiter and its own record of the store's health."""
    app.extensions[EXTENSION] = RateLimits(app)


def _state() -> RateLimits:
    found: RateLimits = current_app.extensions[EXTENSION]
    return found


def enabled() -> bool:
    """Whether this app enforces rate limits (``RATELIMIT_ENABLED``)."""
    return bool(_state().limiter.enabled)


def hit(limit: str, *keys: str) -> bool:
    """Count one hit against ``limit`` (e.g. "6/minute") for these keys; False when over.

    With the counters in Redis, a Redis outage must not stop the room: the hit is
    allowed, and the outage is logged once until the store answers again.
    """
    health = _state()
    if not health.limiter.enabled:
        return True
    try:
        allowed = bool(health.limiter.limiter.hit(parse_limit(limit), *keys))
    except Exception:
        if not health.failing:
            log.error("rate-limit store unreachable: limits are not enforced until it returns")
        health.failing = True
        return True
    if health.failing:
        log.warning("rate-limit store reachable again: limits are enforced")
        health.failing = False
    return allowed

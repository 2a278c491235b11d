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
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


_storage_failing = False


def hit(limit: str, *keys: str) -> bool:
    """Count one hit against ``limit`` (e.g. "6/minute") for these keys; False when over.

    With the counters in Redis, a Redis outage must not stop the room: the hit is
    allowed, and the outage is logged once until the store answers again.
    """
    global _storage_failing
    from .extensions import limiter

    if not limiter.enabled:
        return True
    try:
        allowed = bool(limiter.limiter.hit(parse_limit(limit), *keys))
    except Exception:
        if not _storage_failing:
            log.error("rate-limit store unreachable: limits are not enforced until it returns")
        _storage_failing = True
        return True
    if _storage_failing:
        log.warning("rate-limit store reachable again: limits are enforced")
        _storage_failing = False
    return allowed

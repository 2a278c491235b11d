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

import time

from limits.storage import MemoryStorage


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

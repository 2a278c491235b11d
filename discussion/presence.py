"""Presence across processes: how many people an event has, counted through Redis."""

from __future__ import annotations

import logging
import uuid

log = logging.getLogger(__name__)


class PresenceStore:
    """Presence shared by several processes through Redis, counted cheaply.

    Each process keeps its count of people per event in a key of its own that Redis
    expires ``STALE`` seconds after the process last wrote it (Redis's clock, so the
    machines' clocks do not matter); a set per event lists the processes. The total is
    the sum of the keys still there, read in the same script that writes ours. Every
    live process rewrites its key at least every presence interval (the coalescer marks
    its events every ``HEARTBEAT``), so a process that dies, even by SIGKILL, drops out
    of every total within ``STALE`` seconds, as the others' next count shows. A person
    whose two tabs reached two processes counts twice: cheap beats exact here. If Redis
    is down, each process shows its own count and says so in the log once.
    """

    HEARTBEAT = 1.0
    # A live process rewrites its key every PRESENCE_INTERVAL (2 s) plus a tick (up to
    # 1 s under load): 5 s leaves room for a slow tick and still forgets the dead quickly.
    STALE = 5.0

    # KEYS[1]: the event's set of processes; ARGV: this process, its count, the TTL in ms.
    _SCRIPT = """
local members = KEYS[1]
redis.call('SET', members .. ':' .. ARGV[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', members, ARGV[1])
redis.call('PEXPIRE', members, ARGV[3] * 4)
local total = 0
for _, process in ipairs(redis.call('SMEMBERS', members)) do
  local count = redis.call('GET', members .. ':' .. process)
  if count then total = total + tonumber(count) else redis.call('SREM', members, process) end
end
return total
"""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self.process = uuid.uuid4().hex[:12]
        self._failing = False
        self._totals: dict[int, int] = {}
        self._publish = self.redis.register_script(self._SCRIPT)

    def key(self, event_id: int) -> str:
        """The event's set of processes; each process's count is at ``<key>:<process>``."""
        return f"{self.prefix}:presence:{event_id}"

    def publish(self, event_id: int, local: int) -> None:
        """Record this process's count and remember the total across live processes."""
        try:
            total = int(
                self._publish(
                    keys=[self.key(event_id)], args=[self.process, local, int(self.STALE * 1000)]
                )
            )
        except Exception:
            if not self._failing:
                log.error("Redis unreachable: presence counts this process only until it returns")
            self._failing = True
            self._totals.pop(event_id, None)
            return
        if self._failing:
            log.warning("Redis reachable again: presence counts every process")
        self._failing = False
        self._totals[event_id] = total

    def total(self, event_id: int, local: int) -> int:
        """The last known total, never less than this process's own count."""
        return max(local, self._totals.get(event_id, local))

"""Two app processes sharing PostgreSQL and Redis: what one takes in, the other's phones see."""

from __future__ import annotations

import re
import signal
import threading
import time
import uuid

import pytest
import requests
import socketio

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class Phone:
    """A phone on one of the servers: page for the cookie, then a websocket."""

    def __init__(self, server, transports=("websocket",)) -> None:  # type: ignore[no-untyped-def]
        self.session = requests.Session()
        page = self.session.get(f"{server.url}/e/smartcities", timeout=5)
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        self.server = server
        self.events: dict[str, list] = {}
        self.arrived = threading.Condition()
        # The page's session carries the cookies on every request, as a browser would.
        self.sio = socketio.Client(reconnection=False, http_session=self.session)
        for name in ("question", "votes", "presence", "comment"):
            self.sio.on(name, self._recorder(name))
        self.sio.connect(server.url, transports=list(transports), wait_timeout=5)
        assert self.sio.call("join", {"event": "smartcities"}, timeout=5)["ok"]

    def _recorder(self, name: str):  # type: ignore[no-untyped-def]
        def record(data, *_version):  # type: ignore[no-untyped-def]  # {"version": N} beside
            with self.arrived:
                self.events.setdefault(name, []).append(data)
                self.arrived.notify_all()

        return record

    def wait_for(self, name: str, predicate, timeout: float = 10):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for data in self.events.get(name, []):
                    if predicate(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching {name!r}; got {self.events.get(name)}")
                self.arrived.wait(left)


def test_two_processes_share_questions_votes_and_presence(live_server_factory, postgres_url,
                                                          redis_url):
    env = {"DISCUSSION_REDIS_URL": redis_url,
           "DISCUSSION_SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex[:8]}"}
    one = live_server_factory(postgres_url, **env)
    two = live_server_factory(postgres_url, **env)
    assert one.port != two.port
    a, b = Phone(one), Phone(two)
    try:
        # A question asked on process one reaches a phone on process two.
        ack = a.sio.call("ask", {"body": "Asked on one, seen on two?", "client_id": "x1"},
                         timeout=5)
        assert ack["ok"], ack
        qid = ack["question"]["id"]
        seen = b.wait_for("question", lambda q: q["id"] == qid)
        assert seen["body"] == "Asked on one, seen on two?"
        # A vote on process two reaches the phone on process one.
        vote = b.sio.call("vote", {"question_id": qid, "up": True}, timeout=5)
        assert vote == {"ok": True, "id": qid, "votes": 1, "voted": True}
        a.wait_for("votes", lambda counts: counts.get(str(qid)) == 1)
        # Over HTTP on process one, a comment reaches process two.
        response = a.session.post(f"{one.url}/api/v1/questions/{qid}/comments",
                                  json={"body": "Comentario vía HTTP"},
                                  headers={"X-CSRFToken": a.csrf}, timeout=5)
        assert response.status_code == 201
        b.wait_for("comment", lambda c: c["body"] == "Comentario vía HTTP")
        # Both processes count both people.
        a.wait_for("presence", lambda p: p["online"] == 2)
        b.wait_for("presence", lambda p: p["online"] == 2)
        # Both read one database.
        listed = requests.get(f"{two.url}/api/v1/events/smartcities/questions",
                              timeout=5).json()["questions"]
        assert next(q for q in listed if q["id"] == qid)["votes"] == 1
    finally:
        a.sio.disconnect()
        b.sio.disconnect()


def test_a_killed_process_drops_out_of_presence_within_seconds(live_server_factory,
                                                               postgres_url, redis_url):
    """A process that dies without a word (SIGKILL, the OOM killer) stops being counted
    a few seconds later, not after half a minute."""
    from discussion.presence import PresenceStore

    env = {"DISCUSSION_REDIS_URL": redis_url,
           "DISCUSSION_SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex[:8]}"}
    one = live_server_factory(postgres_url, **env)
    two = live_server_factory(postgres_url, **env)
    a, b = Phone(one), Phone(two)
    try:
        a.wait_for("presence", lambda p: p["online"] == 2)
        with a.arrived:
            a.events["presence"] = []
        killed = time.monotonic()
        two.stop(signal.SIGKILL)
        # Its key expires after STALE; process one's next count (every presence interval,
        # 2 s) shows it.
        a.wait_for("presence", lambda p: p["online"] == 1, timeout=12)
        elapsed = time.monotonic() - killed
        assert elapsed <= 9, elapsed  # it was over 30 s when entries lived half a minute
        assert PresenceStore.STALE <= 6
        print(f"presence dropped {elapsed:.1f} s after SIGKILL")
    finally:
        a.sio.disconnect()
        b.sio.disconnect()


def test_plain_postgres_urls_are_accepted(postgres_url):
    from discussion import _database_url

    assert postgres_url.startswith("postgresql://")
    assert _database_url(postgres_url).startswith("postgresql+psycopg://")
    assert _database_url("postgres://u:p@h/d") == "postgresql+psycopg://u:p@h/d"


def test_redis_down_degrades_clearly(live_server_factory, postgres_url):
    """With Redis unreachable, a process logs it and keeps serving its own phones."""
    from conftest import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    server = live_server_factory(postgres_url, DISCUSSION_REDIS_URL=dead,
                                 DISCUSSION_SOCKETIO_CHANNEL=f"test-{uuid.uuid4().hex[:8]}")
    a, b = Phone(server), Phone(server)
    try:
        ack = a.sio.call("ask", {"body": "Is anyone there without Redis?", "client_id": "r1"},
                         timeout=10)
        assert ack["ok"], ack  # the rate limit could not be counted: the post goes through
        qid = ack["question"]["id"]
        b.wait_for("question", lambda q: q["id"] == qid)  # local delivery goes on
        vote = b.sio.call("vote", {"question_id": qid, "up": True}, timeout=10)
        assert vote["ok"], vote
        a.wait_for("votes", lambda counts: counts.get(str(qid)) == 1)
    finally:
        a.sio.disconnect()
        b.sio.disconnect()
    log = server.log.read_text()
    assert "rate-limit store unreachable" in log  # said plainly, once
    assert "Cannot publish to redis" in log
    assert "Traceback" not in log  # degraded, not crashed

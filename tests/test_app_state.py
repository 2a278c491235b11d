"""State lives on the app: two apps in one process share no cache, no rate limiter
(nor its store's health), no coalescer, no versions and no connection table."""

from __future__ import annotations

from pathlib import Path

from conftest import make_app
from helpers import csrf_headers

from discussion import cache, live, ratelimit, sockets


def test_two_apps_in_one_process_share_no_state(tmp_path: Path) -> None:
    first = make_app(f"sqlite:///{tmp_path / 'first.db'}", tmp_path / "first")
    second = make_app(f"sqlite:///{tmp_path / 'second.db'}", tmp_path / "second")

    with first.app_context():
        assert cache.cached(1, "answer", lambda: "first's", version=3) == "first's"
    with second.app_context():
        assert cache.cached(1, "answer", lambda: "second's", version=3) == "second's"
    with first.app_context():
        assert cache.cached(1, "answer", lambda: "built again", version=3) == "first's"

    for name in (cache.EXTENSION, ratelimit.EXTENSION, sockets.CONNECTIONS, live.COALESCER):
        assert first.extensions[name] is not second.extensions[name], name
    first.extensions[ratelimit.EXTENSION].failing = True
    assert second.extensions[ratelimit.EXTENSION].failing is False

    # A write in one app: its versions are known there only.
    client = first.test_client()
    r = client.post("/api/v1/events/smartcities/questions", json={"body": "Only in the first"},
                    headers=csrf_headers(client))
    assert r.status_code == 201
    assert live.version_of(1, first) == 1
    assert live.version_of(1, second) is None


def test_two_apps_count_rate_limits_and_presence_apart(tmp_path: Path) -> None:
    first = make_app(f"sqlite:///{tmp_path / 'first.db'}", tmp_path / "first",
                     RATELIMIT_ENABLED=True)
    second = make_app(f"sqlite:///{tmp_path / 'second.db'}", tmp_path / "second",
                      RATELIMIT_ENABLED=True)
    # A third app without limits must not switch them off in the others.
    make_app(f"sqlite:///{tmp_path / 'third.db'}", tmp_path / "third")

    # Flask-Limiter keeps its store on the Limiter: one per app, counted apart.
    with first.test_request_context():
        assert ratelimit.hit("1/minute", "test", "same-key") is True
        assert ratelimit.hit("1/minute", "test", "same-key") is False
    with second.test_request_context():
        assert ratelimit.hit("1/minute", "test", "same-key") is True
        assert ratelimit.hit("1/minute", "test", "same-key") is False

    # Presence and pending votes are the app's own.
    live.coalescer(first).enter(1, "someone")
    live.coalescer(first).enter(1, "someone else")
    assert live.coalescer(first).local_online(1) == 2
    assert live.coalescer(second).local_online(1) == 0
    with first.app_context():
        assert live.coalescer() is live.coalescer(first)

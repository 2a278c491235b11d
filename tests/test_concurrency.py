"""Concurrent retries, votes, merges and deletes against a real server process, on SQLite
and on PostgreSQL: counts always equal the rows behind them, and nothing answers 500."""

from __future__ import annotations

import random
import re
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

EVENT = "/api/v1/events/smartcities"
# Only the question limit is raised, so that twenty retries of one ask all reach the
# database (the point here) instead of stopping at the limiter; the others stay default.
ENV = {"DISCUSSION_RATELIMIT_QUESTIONS": "1000/minute"}


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, live_server_factory):  # type: ignore[no-untyped-def]
    """A server process on SQLite, or on a throwaway PostgreSQL database."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    srv = live_server_factory(url, **ENV)
    yield srv
    srv.stop()
    assert tracebacks(srv.log.read_text()) == []


def tracebacks(log: str) -> list[str]:
    """Each traceback of a server log, summed up as its innermost frame of ours and
    its exception."""
    found = []
    for block in log.split("Traceback (most recent call last):")[1:]:
        ours = re.findall(r'File "[^"]*/(discussion/[^"]+)", line (\d+), in (\w+)', block)
        error = re.search(r"^(\w[\w.]*(?:Error|Exception|Violation|Found)\b.*)$", block, re.M)
        found.append(f"{ours[-1] if ours else '?'}: {error.group(1) if error else '?'}"[:300])
    return found


class Phone:
    """One participant: the event page for the cookie and CSRF token, then plain requests
    (one connection each, so that threads really run side by side)."""

    def __init__(self, server) -> None:  # type: ignore[no-untyped-def]
        self.url = server.url
        session = requests.Session()
        page = session.get(f"{server.url}/e/smartcities", timeout=10)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        self.headers = {"Cookie": cookie, "X-CSRFToken": token}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None
             ) -> tuple[int, Any]:
        response = requests.request(method, self.url + path, json=body, headers=self.headers,
                                    timeout=30)
        data = response.json() if response.content else None
        return response.status_code, data

    def ask(self, body: str) -> int:
        status, data = self.call("POST", f"{EVENT}/questions", {"body": body})
        assert status == 201, (status, data)
        return int(data["id"])

    def question(self, qid: int) -> dict[str, Any]:
        _, data = self.call("GET", f"{EVENT}/questions")
        return next(q for q in data["questions"] if q["id"] == qid)


class Staff(Phone):
    """An organiser logged in through the real form."""

    def __init__(self, server) -> None:  # type: ignore[no-untyped-def]
        from discussion import create_app
        from discussion.cli import _create_user
        from discussion.extensions import db

        email = f"org{random.randrange(10**9)}@example.org"
        app = create_app({"TESTING": True, "SECRET_KEY": "unused", "SOCKETIO_ASYNC_MODE":
                          "threading", "DATABASE_URL": server.database_url})
        with app.app_context():
            _create_user(email, "organiser", "correct horse battery", ())
            db.session.remove()
            db.engine.dispose()
        session = requests.Session()
        form = session.get(f"{server.url}/login", timeout=10).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        done = session.post(f"{server.url}/login", allow_redirects=False, timeout=10,
                            data={"email": email, "password": "correct horse battery",
                                  "csrf_token": csrf})
        assert done.status_code == 302
        super().__init__(server)
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        page = session.get(f"{server.url}/e/smartcities", timeout=10).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        self.headers = {"Cookie": cookie, "X-CSRFToken": token}

    def moderate(self, qid: int, action: str, **extra: Any) -> tuple[int, Any]:
        return self.call("POST", f"/api/v1/questions/{qid}/moderate", {"action": action, **extra})


def concurrently(calls: list[Callable[[], tuple[int, Any]]]) -> list[tuple[int, Any]]:
    """Run the calls on as many threads, released together."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def rows(server, sql: str) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    """Read the server's database directly (the truth behind the API's counts)."""
    url = server.database_url
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(sql))
    import psycopg

    with psycopg.connect(url) as conn:
        return list(conn.execute(sql))  # type: ignore[arg-type]


def no_server_errors(results: list[tuple[int, Any]]) -> None:
    errors = [(status, data) for status, data in results if status >= 500]
    assert errors == []


COUNTS = """
    SELECT q.id, q.votes, q.comments, q.status, q.merged_into_id,
           (SELECT count(*) FROM votes v WHERE v.question_id = q.id),
           (SELECT count(*) FROM comments c WHERE c.question_id = q.id AND NOT c.hidden)
    FROM questions q ORDER BY q.id
"""


def test_twenty_concurrent_retries_of_one_ask_store_one_question(server):
    phone = Phone(server)
    body = {"body": "Asked once, sent twenty times", "client_id": "same-post-1"}
    results = concurrently([lambda: phone.call("POST", f"{EVENT}/questions", body)] * 20)
    no_server_errors(results)
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1 and statuses.count(200) == 19, statuses
    assert len({data["id"] for _, data in results}) == 1
    assert rows(server, "SELECT count(*) FROM questions WHERE client_id = 'same-post-1'") \
        == [(1,)]


def test_one_participant_voting_and_unvoting_at_once_counts_at_most_one(server):
    qid = Phone(server).ask("Vote on me from many tabs")
    voter = Phone(server)
    for _ in range(2):
        calls = [(lambda m=m: voter.call(m, f"/api/v1/questions/{qid}/vote"))
                 for m in random.choices(["PUT", "DELETE"], k=50)]
        results = concurrently(calls)
        no_server_errors(results)
        assert {status for status, _ in results} == {200}
        assert {data["votes"] for _, data in results} <= {0, 1}
        [(stored, counted)] = rows(server, f"""SELECT
            (SELECT count(*) FROM votes WHERE question_id = {qid}),
            (SELECT votes FROM questions WHERE id = {qid})""")
        assert stored == counted and stored in (0, 1)
        seen = voter.question(qid)
        assert seen["votes"] == stored and seen["voted"] is (stored == 1)


def test_many_participants_voting_at_once_are_all_counted(server):
    qid = Phone(server).ask("Everyone votes for this at once")
    voters = list(ThreadPoolExecutor(max_workers=10).map(lambda _: Phone(server), range(30)))
    # Each phone sends its vote twice (a retry), all at the same moment.
    calls = [(lambda v=v: v.call("PUT", f"/api/v1/questions/{qid}/vote")) for v in voters] * 2
    results = concurrently(calls)
    no_server_errors(results)
    assert {status for status, _ in results} == {200}
    assert max(data["votes"] for _, data in results) == 30
    assert rows(server, f"SELECT votes FROM questions WHERE id = {qid}") == [(30,)]
    assert rows(server, f"SELECT count(*) FROM votes WHERE question_id = {qid}") == [(30,)]


def test_concurrent_merges_deletes_votes_and_comments_keep_counts_true(server):
    staff = Staff(server)
    author = Phone(server)
    qids = [author.ask(f"Duplicate number {i}") for i in range(6)]
    voters = list(ThreadPoolExecutor(max_workers=10).map(lambda _: Phone(server), range(12)))
    rng = random.Random(8)
    earlier = []  # comments to delete and hide while their questions are merged
    for i, v in enumerate(voters):  # overlapping voters: merges must not count anyone twice
        for qid in rng.sample(qids, 3):
            assert v.call("PUT", f"/api/v1/questions/{qid}/vote")[0] == 200
        status, made = v.call("POST", f"/api/v1/questions/{qids[i % 4]}/comments",
                              {"body": f"earlier comment {i}"})
        assert status == 201
        earlier.append((v, made["id"]))
    a, b, c, d, e, f = qids
    calls: list[Callable[[], tuple[int, Any]]] = [
        lambda: staff.moderate(b, "merge", into=a),
        lambda: staff.moderate(a, "merge", into=b),  # the other way round, at once
        lambda: staff.moderate(c, "merge", into=a),
        lambda: staff.moderate(c, "merge", into=b),
        lambda: staff.moderate(d, "merge", into=e),
        lambda: staff.moderate(e, "merge", into=d),
        lambda: staff.call("DELETE", f"/api/v1/questions/{e}"),
        lambda: author.call("DELETE", f"/api/v1/questions/{f}"),
        lambda: staff.moderate(f, "merge", into=d),
        lambda: staff.moderate(d, "hide"),
    ]
    for i, v in enumerate(voters):
        for qid in qids:
            method = "PUT" if (i + qid) % 3 else "DELETE"
            calls.append(lambda v=v, q=qid, m=method: v.call(m, f"/api/v1/questions/{q}/vote"))
        qid = qids[i % 6]
        calls.append(lambda v=v, q=qid, i=i: v.call(
            "POST", f"/api/v1/questions/{q}/comments", {"body": f"comment {i}"}))
    for i, (v, cid) in enumerate(earlier):
        if i % 2:
            calls.append(lambda v=v, cid=cid: v.call("DELETE", f"/api/v1/comments/{cid}"))
        else:
            calls.append(lambda cid=cid: staff.call(
                "POST", f"/api/v1/comments/{cid}/moderate", {"action": "hide"}))
    rng.shuffle(calls)
    results = concurrently(calls)
    no_server_errors(results)
    assert {status for status, _ in results} <= {200, 201, 204, 404, 409}

    table = rows(server, COUNTS)
    by_id = {row[0]: row for row in table}
    for qid, votes, comments, status, merged_into, vote_rows, comment_rows in table:
        assert votes == vote_rows >= 0, (qid, votes, vote_rows)
        assert comments == comment_rows >= 0, (qid, comments, comment_rows)
        if merged_into is not None:
            # A merged duplicate is hidden and emptied into a question that was not
            # itself merged back into it.
            assert status == "hidden" and votes == 0 and comments == 0, by_id[qid]
            assert merged_into not in by_id or by_id[merged_into][4] != qid, (qid, merged_into)
    assert e not in by_id  # staff delete whatever state a merge left it in
    assert f not in by_id or by_id[f][4] == d  # its author deletes it unless merged first
    for v in voters:  # what each phone is shown agrees with the rows
        _, listed = v.call("GET", f"{EVENT}/questions")
        for q in listed["questions"]:
            if q["id"] in by_id:
                assert q["votes"] == by_id[q["id"]][1]


def test_forget_me_during_merges_and_votes_keeps_counts_true(server):
    staff = Staff(server)
    forgetful, other = Phone(server), Phone(server)
    mine = forgetful.ask("Forget me while my question is merged?")
    target = other.ask("Is my question merged into?")
    for qid in (mine, target):
        status, _ = forgetful.call("POST", f"/api/v1/questions/{qid}/comments",
                                   {"body": "a comment that will be forgotten"})
        assert status == 201
    voters = [Phone(server) for _ in range(6)]
    for v in voters[:3]:
        assert v.call("PUT", f"/api/v1/questions/{mine}/vote")[0] == 200
    assert forgetful.call("PUT", f"/api/v1/questions/{target}/vote")[0] == 200
    calls: list[Callable[[], tuple[int, Any]]] = [
        lambda: staff.moderate(mine, "merge", into=target),
        lambda: forgetful.call("DELETE", f"{EVENT}/me"),
    ]
    calls += [lambda v=v, q=q: v.call("PUT", f"/api/v1/questions/{q}/vote")
              for v in voters for q in (mine, target)]
    results = concurrently(calls)
    no_server_errors(results)
    for qid, votes, comments, _status, _merged, vote_rows, comment_rows in rows(server, COUNTS):
        # Forgotten votes stay counted without a row; every counted comment has its row.
        assert votes >= vote_rows >= 0, (qid, votes, vote_rows)
        assert comments == comment_rows >= 0, (qid, comments, comment_rows)
    forgotten = rows(server, "SELECT count(*) FROM comments WHERE body = "
                             "'a comment that will be forgotten'")
    assert forgotten == [(0,)]


def test_concurrent_writes_each_get_their_own_version(server):
    """Every change of the event, however many at once, moves its version by exactly
    one, and no two writes share a version (the event's row orders them)."""
    staff = Staff(server)
    qids = [Phone(server).ask(f"Racing question {i}") for i in range(6)]
    voters = list(ThreadPoolExecutor(max_workers=10).map(lambda _: Phone(server), range(16)))
    [(start,)] = rows(server, "SELECT version FROM events WHERE code = 'smartcities'")
    calls: list[Callable[[], tuple[int, Any]]] = [
        (lambda v=v, i=i: v.call("PUT", f"/api/v1/questions/{qids[i % 5]}/vote"))
        for i, v in enumerate(voters)
    ]  # the sixth question is hidden meanwhile: a vote on it could find it gone
    calls += [lambda: staff.moderate(qids[0], "pin"), lambda: staff.moderate(qids[5], "hide")]
    results = concurrently(calls)
    no_server_errors(results)
    assert {status for status, _ in results} == {200}
    [(end,)] = rows(server, "SELECT version FROM events WHERE code = 'smartcities'")
    assert end - start == len(calls)
    stamps = [v for (v,) in rows(server, f"SELECT version FROM questions WHERE id IN "
                                          f"({', '.join(map(str, qids))}) ORDER BY id")]
    assert all(start < v <= end for v in stamps)
    [(removed,)] = rows(server, f"SELECT version FROM question_removals "
                                f"WHERE question_id = {qids[5]}")
    assert start < removed <= end

"""Event versions: every change bumps the event's version once, every broadcast carries it
beside its payload, and a phone back from a drop sends ``join {event, since}`` and gets
only what changed (or everything, when its version is unknown or too old).

The participant's delta follows the access policy as the full list does: another
participant's pending question and hidden questions never reach them, not even as an id
(the secrets below are checked as in tests/test_policy.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from helpers import csrf_headers

API = "/api/v1"
CODE = "smartcities"

BOTH = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def app_config() -> dict[str, Any]:
    # No overlap: each test sees exactly what changed after `since` (one test sets it).
    return {"JOIN_OVERLAP": 0}


class Phone:
    """A participant: HTTP client with its cookie, and sockets that share it."""

    def __init__(self, app: Flask, socket_client: Callable[..., SocketIOTestClient]) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.headers = csrf_headers(self.client)
        self._socket_client = socket_client

    def socket(self) -> SocketIOTestClient:
        return self._socket_client(self.client)

    def join(self, since: Any = None, *, staff: bool = False, **extra: Any) -> dict[str, Any]:
        """A join from a fresh socket, as a phone back from a drop sends it."""
        payload: dict[str, Any] = {"event": CODE, **extra}
        if since is not None:
            payload["since"] = since
        if staff:
            payload["staff"] = True
        sc = self.socket()
        ack = sc.emit("join", payload, callback=True)
        sc.disconnect()
        assert ack["ok"], ack
        return ack

    def version(self) -> int:
        return int(self.join()["version"])

    def call(self, method: str, url: str, body: Any = None) -> Any:
        return self.client.open(url, method=method, json=body, headers=self.headers)

    def ask(self, body: str) -> int:
        r = self.call("POST", f"{API}/events/{CODE}/questions", {"body": body})
        assert r.status_code == 201, r.get_json()
        return int(r.get_json()["id"])

    def seeded(self) -> list[int]:
        r = self.call("GET", f"{API}/events/{CODE}/questions")
        return [q["id"] for q in r.get_json()["questions"]]


@pytest.fixture
def phone(app: Flask, socket_client: Callable[..., SocketIOTestClient]) -> Callable[[], Phone]:
    return lambda: Phone(app, socket_client)


@pytest.fixture
def org(app: Flask, socket_client: Callable[..., SocketIOTestClient],
        staff_login: Callable[..., Any]) -> Phone:
    staff = Phone(app, socket_client)
    staff_login(staff.client)
    staff.headers = csrf_headers(staff.client)
    return staff


def mod(staff: Phone, qid: int, action: str, **extra: Any) -> Any:
    r = staff.call("POST", f"{API}/questions/{qid}/moderate", {"action": action, **extra})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


# -- one version per change ------------------------------------------------------


@BOTH
def test_each_change_bumps_the_version_once(phone: Callable[[], Phone], org: Phone) -> None:
    p = phone()
    qid = p.ask("A question to vote on and pin")
    start = p.version()
    steps: list[tuple[str, Callable[[], Any], int]] = [
        ("ask", lambda: p.ask("Who keeps the sensor data?"), 1),
        ("vote", lambda: p.call("PUT", f"{API}/questions/{qid}/vote"), 1),
        ("vote again", lambda: p.call("PUT", f"{API}/questions/{qid}/vote"), 0),
        ("take back", lambda: p.call("DELETE", f"{API}/questions/{qid}/vote"), 1),
        ("take back again", lambda: p.call("DELETE", f"{API}/questions/{qid}/vote"), 0),
        ("comment", lambda: p.call("POST", f"{API}/questions/{qid}/comments",
                                   {"body": "Agreed"}), 1),
        ("empty post", lambda: p.call("POST", f"{API}/events/{CODE}/questions",
                                      {"body": "  "}), 0),
        ("pin", lambda: org.call("POST", f"{API}/questions/{qid}/moderate",
                                 {"action": "pin"}), 1),
        ("pin again", lambda: org.call("POST", f"{API}/questions/{qid}/moderate",
                                       {"action": "pin"}), 0),
        ("retitle", lambda: org.call("PATCH", f"{API}/events/{CODE}", {"title": "Renamed"}), 1),
    ]
    version = start
    for name, step, bump in steps:
        step()
        now = p.version()
        assert now == version + bump, name
        version = now


# -- carried by every broadcast -------------------------------------------------


def test_every_broadcast_carries_the_version_beside_its_payload(
    phone: Callable[[], Phone], org: Phone
) -> None:
    p, author = phone(), phone()
    watcher, console = p.socket(), org.socket()
    assert watcher.emit("join", {"event": CODE}, callback=True)["ok"]
    assert console.emit("join", {"event": CODE, "staff": True}, callback=True)["ok"]
    watcher.get_received(), console.get_received()
    qid = author.ask("A question that will go")
    author.call("PUT", f"{API}/questions/{qid}/vote")
    r = author.call("POST", f"{API}/questions/{qid}/comments", {"body": "A comment"})
    cid = r.get_json()["id"]
    org.call("POST", f"{API}/comments/{cid}/moderate", {"action": "hide"})
    org.call("PATCH", f"{API}/events/{CODE}", {"title": "Renamed"})
    author.call("DELETE", f"{API}/questions/{qid}")
    final = p.version()
    for sc in (watcher, console):
        messages = [m for m in sc.get_received() if m["name"] != "presence"]
        names = {m["name"] for m in messages}
        assert names >= {"question", "votes", "comment", "comment_removed", "event",
                          "question_removed"}
        versions = []
        for m in messages:
            payload, meta = m["args"]  # the documented payload, then the version
            assert set(meta) == {"version"} and isinstance(meta["version"], int), m
            assert isinstance(payload, dict)
            versions.append(meta["version"])
        assert versions == sorted(versions)
        assert versions[-1] == final


def test_a_restored_comment_is_broadcast_with_the_version(
    phone: Callable[[], Phone], org: Phone
) -> None:
    p = phone()
    qid = p.seeded()[0]
    cid = p.call("POST", f"{API}/questions/{qid}/comments", {"body": "Back soon"}).get_json()["id"]
    org.call("POST", f"{API}/comments/{cid}/moderate", {"action": "hide"})
    watcher = p.socket()
    assert watcher.emit("join", {"event": CODE}, callback=True)["ok"]
    watcher.get_received()
    org.call("POST", f"{API}/comments/{cid}/moderate", {"action": "restore"})
    [comment] = [m["args"] for m in watcher.get_received() if m["name"] == "comment"]
    assert comment[0]["id"] == cid and comment[1] == {"version": p.version()}


# -- join since: what changed ----------------------------------------------------


@BOTH
def test_join_since_answers_only_what_changed(phone: Callable[[], Phone], org: Phone) -> None:
    reader, writer = phone(), phone()
    full = reader.join()
    assert full["full"] is True and "removed" not in full
    since = full["version"]
    seeded = [q["id"] for q in full["questions"]]
    voted, hidden, duplicate, target = seeded[:4]
    new = writer.ask("Who audits the audit?")
    gone = writer.ask("Asked and taken back")
    writer.call("DELETE", f"{API}/questions/{gone}")
    writer.call("PUT", f"{API}/questions/{voted}/vote")
    mod(org, hidden, "hide")
    mod(org, duplicate, "merge", into=target)

    delta = reader.join(since)
    assert delta["full"] is False
    assert delta["version"] > since
    assert {q["id"] for q in delta["questions"]} == {new, voted, target}
    assert sorted(delta["removed"]) == sorted([gone, hidden, duplicate])
    assert next(q for q in delta["questions"] if q["id"] == voted)["votes"] == 1
    # Ranked by the one rule, as the full list.
    everything = reader.join()["questions"]
    order = [q["id"] for q in everything]
    assert [q["id"] for q in delta["questions"]] == sorted(
        (q["id"] for q in delta["questions"]), key=order.index)
    # Nothing changed since: an empty delta.
    again = reader.join(delta["version"])
    assert (again["questions"], again["removed"], again["full"]) == ([], [], False)


def test_a_phone_that_posted_gets_its_own_marks_in_the_delta(
    phone: Callable[[], Phone], org: Phone
) -> None:
    p = phone()
    since = p.version()
    mine = p.ask("My own question")
    qid = p.seeded()[1]
    p.call("PUT", f"{API}/questions/{qid}/vote")
    delta = p.join(since)
    marks = {q["id"]: (q["mine"], q["voted"]) for q in delta["questions"]}
    assert marks == {mine: (True, False), qid: (False, True)}


def test_a_stale_shared_delta_is_never_served(phone: Callable[[], Phone]) -> None:
    """Phones that never posted share one cached answer per `since`, tied to the
    event's version: a change makes the next answer new at once."""
    a, b, writer = phone(), phone(), phone()
    since = a.version()
    first = writer.ask("First change")

    def shared(answer: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in answer.items() if k != "online"}

    assert shared(a.join(since)) == shared(b.join(since))
    assert [q["id"] for q in a.join(since)["questions"]] == [first]
    second = writer.ask("Second change")
    assert {q["id"] for q in b.join(since)["questions"]} == {first, second}


def test_an_unknown_future_or_too_old_version_gets_everything(
    app: Flask, phone: Callable[[], Phone]
) -> None:
    p = phone()
    since = p.version()
    app.config["JOIN_WINDOW"] = 3
    for n in range(5):
        p.ask(f"Change number {n} of five")
    full = p.join()
    for stale in (since, full["version"] + 100, -1):
        answer = p.join(stale)
        assert answer["full"] is True and "removed" not in answer, stale
        assert answer["questions"] == full["questions"]
    assert p.join(full["version"] - 3)["full"] is False


def test_the_window_keeps_removals_only_that_long(app: Flask, phone: Callable[[], Phone],
                                                   org: Phone) -> None:
    from sqlalchemy import func, select

    from discussion.extensions import db
    from discussion.models import QuestionRemoval

    app.config["JOIN_WINDOW"] = 4
    p = phone()
    for n in range(8):
        qid = p.ask(f"Short-lived question {n}")
        p.call("DELETE", f"{API}/questions/{qid}")
    with app.app_context():
        versions = db.session.scalars(select(QuestionRemoval.version)).all()
        assert db.session.scalar(select(func.count()).select_from(QuestionRemoval)) <= 3
    assert min(versions) > p.version() - 4


def test_overlap_sends_a_few_versions_before_since_again(
    app: Flask, phone: Callable[[], Phone]
) -> None:
    """Two writes that commit at the same moment may broadcast in the other order; the
    answer repeats the last few versions before `since`, which a client merges by id."""
    p = phone()
    earlier = p.ask("Committed just before")
    since = p.version()
    later = p.ask("Committed just after")
    assert [q["id"] for q in p.join(since)["questions"]] == [later]
    app.config["JOIN_OVERLAP"] = 1
    assert {q["id"] for q in p.join(since)["questions"]} == {earlier, later}


@pytest.mark.parametrize("since", ["3", 1.5, True, [], {}])
def test_a_since_that_is_not_a_version_is_refused(phone: Callable[[], Phone], since: Any) -> None:
    sc = phone().socket()
    ack = sc.emit("join", {"event": CODE, "since": since}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_type"


# -- the delta follows the access policy --------------------------------------------

SECRETS = {
    "B-PENDING-SECRET": {"author", "staff"},
    "B-REJECTED-SECRET": {"author", "staff"},
    "B-DELETED-PENDING-SECRET": {"author", "staff"},
    "HIDDEN-SECRET": {"staff"},
}


@BOTH
def test_a_participants_delta_never_carries_anothers_pending_or_hidden_questions(
    phone: Callable[[], Phone], org: Phone
) -> None:
    readers = {"reader": phone(), "poster": phone(), "author": phone(), "staff": org}
    readers["poster"].ask("The poster's own visible question")
    public = readers["poster"].ask("HIDDEN-SECRET question, public for now")
    since = {role: p.join(staff=role == "staff")["version"] for role, p in readers.items()}
    org.call("PATCH", f"{API}/events/{CODE}", {"moderation": "pre"})
    author = readers["author"]
    pending = author.ask("B-PENDING-SECRET waiting for approval")
    rejected = author.ask("B-REJECTED-SECRET waiting, then rejected")
    withdrawn = author.ask("B-DELETED-PENDING-SECRET waiting, then withdrawn")
    mod(org, rejected, "hide")
    author.call("DELETE", f"{API}/questions/{withdrawn}")
    mod(org, public, "hide")
    mod(org, public, "edit", body="HIDDEN-SECRET edited while hidden")

    answers = {role: p.join(since[role], staff=role == "staff") for role, p in readers.items()}
    for role, answer in answers.items():
        leaked = [s for s, who in SECRETS.items() if s in json.dumps(answer) and role not in who]
        assert leaked == [], role
        assert answer["full"] is False
    ids = {role: ({q["id"] for q in a["questions"]}, set(a["removed"]))
           for role, a in answers.items()}
    # A reader and a poster had the public question only: they drop it, nothing else.
    assert ids["reader"] == (set(), {public})
    assert ids["poster"] == (set(), {public})
    # The author keeps their pending question and drops the two that left their list.
    assert ids["author"] == ({pending}, {public, rejected, withdrawn})
    assert next(q for q in answers["author"]["questions"])["mine"] is True
    # Staff keep hidden questions (in the staff shape) and drop only what is deleted.
    assert ids["staff"] == ({pending, rejected, public}, {withdrawn})
    assert all("original_body" in q for q in answers["staff"]["questions"])


def test_a_question_approved_after_the_drop_arrives_in_the_delta(
    phone: Callable[[], Phone], org: Phone
) -> None:
    reader, author = phone(), phone()
    org.call("PATCH", f"{API}/events/{CODE}", {"moderation": "pre"})
    qid = author.ask("Waiting for a moderator")
    since = reader.version()
    mod(org, qid, "approve")
    delta = reader.join(since)
    assert [q["id"] for q in delta["questions"]] == [qid] and delta["removed"] == []


def test_forget_me_reaches_a_reconnecting_phone(phone: Callable[[], Phone]) -> None:
    reader, leaving = phone(), phone()
    erased = leaving.ask("Nobody else touched this")
    kept = leaving.ask("Someone else voted for this")
    reader.call("PUT", f"{API}/questions/{kept}/vote")
    since = reader.version()
    assert leaving.call("DELETE", f"{API}/events/{CODE}/me").status_code == 200
    delta = reader.join(since)
    assert delta["removed"] == [erased]
    [anonymised] = delta["questions"]
    assert anonymised["id"] == kept and anonymised["author"] is None


# -- the size that matters: a phone back after a short drop -----------------------


def _add_questions(app: Flask, count: int) -> None:
    """Fill the event with questions at once (as a long session would have)."""
    from sqlalchemy import select

    from discussion.extensions import db
    from discussion.models import Event, Question

    with app.app_context():
        event_id = db.session.scalar(select(Event.id).where(Event.code == CODE))
        db.session.add_all(
            Question(event_id=event_id, body=f"Question number {n}: how should the city "
                     "tell residents what its sensors record, and for how long?")
            for n in range(count)
        )
        db.session.commit()


def test_a_phone_back_after_a_short_drop_receives_under_a_tenth_of_a_full_join(
    app: Flask, phone: Callable[[], Phone], org: Phone
) -> None:
    _add_questions(app, 300 - len(phone().seeded()))
    reader, room = phone(), phone()
    full = reader.join()
    assert len(full["questions"]) == 300
    ids = [q["id"] for q in full["questions"]]
    # A short drop: five things change meanwhile.
    room.call("PUT", f"{API}/questions/{ids[10]}/vote")
    room.call("PUT", f"{API}/questions/{ids[20]}/vote")
    room.call("POST", f"{API}/questions/{ids[30]}/comments", {"body": "Indeed"})
    room.ask("A new question while the phone was away")
    mod(org, ids[40], "hide")
    delta = reader.join(full["version"])
    assert len(delta["questions"]) == 4 and delta["removed"] == [ids[40]]
    full_size, delta_size = len(json.dumps(full)), len(json.dumps(delta))
    assert delta_size < full_size / 10, (delta_size, full_size)


def test_a_question_whose_topic_goes_arrives_in_the_delta(
    phone: Callable[[], Phone], org: Phone
) -> None:
    reader = phone()
    full = reader.join()
    topics = full["event"]["topics"]
    first, rest = topics[0], topics[1:]
    on_first = [q["id"] for q in full["questions"] if q["topic"] == first["slug"]]
    assert on_first
    r = org.call("PATCH", f"{API}/events/{CODE}", {"topics": [
        {"slug": t["slug"], "name": t["name"]} for t in rest]})
    assert r.status_code == 200, r.get_json()
    delta = reader.join(full["version"])
    assert sorted(q["id"] for q in delta["questions"]) == sorted(on_first)
    assert all(q["topic"] is None for q in delta["questions"])
    assert [t["slug"] for t in delta["event"]["topics"]] == [t["slug"] for t in rest]

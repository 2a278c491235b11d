"""Similar questions: the API route, the socket event, who sees what, and an index that
stays true to the database through every write, in one process and across two.

How well the matching itself does is measured on the evaluation set in
tests/test_similar_eval.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_app
from flask import Flask
from flask.testing import FlaskClient
from helpers import csrf_headers

from discussion.extensions import db

# Both databases: the fingerprint that other processes' writes are seen by is SQL.
pytestmark = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)

API = "/api/v1"
CODE = "smartcities"
PUBLIC_KEYS = {"id", "body", "topic", "votes", "comments", "status", "seeded", "author",
               "created_at", "highlighted", "pinned", "edited", "mine", "voted"}
# Seeded question 1 asks where the data sets come from; 2 about consent.
PROVENANCE = "¿De dónde vienen los conjuntos de datos de la ciudad inteligente y quién los rastrea?"
CAMERAS = "Should facial recognition cameras be allowed in public squares and stations?"
CAMERAS_AGAIN = "¿Deberían permitirse cámaras de reconocimiento facial en las plazas públicas?"
UNRELATED = "What time does the coffee break start this afternoon?"


class Phone:
    """A participant's phone over HTTP."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.headers = csrf_headers(client)

    def similar(self, q: str | None, code: str = CODE) -> Any:
        query = {} if q is None else {"q": q}
        return self.client.get(f"{API}/events/{code}/similar", query_string=query)

    def similar_ids(self, q: str, code: str = CODE) -> list[int]:
        r = self.similar(q, code)
        assert r.status_code == 200, r.get_json()
        return [question["id"] for question in r.get_json()["questions"]]

    def ask(self, body: str, code: str = CODE) -> dict[str, Any]:
        r = self.client.post(f"{API}/events/{code}/questions", json={"body": body},
                             headers=self.headers)
        assert r.status_code == 201, r.get_json()
        return r.get_json()  # type: ignore[no-any-return]

    def delete(self, qid: int) -> None:
        r = self.client.delete(f"{API}/questions/{qid}", headers=self.headers)
        assert r.status_code == 204, r.get_json()


class Staff(Phone):
    """A logged-in organiser."""

    def mod(self, qid: int, action: str, **extra: Any) -> dict[str, Any]:
        r = self.client.post(f"{API}/questions/{qid}/moderate", json={"action": action, **extra},
                             headers=self.headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()  # type: ignore[no-any-return]

    def questions(self, code: str = CODE) -> dict[int, dict[str, Any]]:
        r = self.client.get(f"{API}/events/{code}/questions")
        assert r.status_code == 200, r.get_json()
        return {q["id"]: q for q in r.get_json()["questions"]}


@pytest.fixture
def phone(app: Flask) -> Callable[[], Phone]:
    return lambda: Phone(app.test_client())


@pytest.fixture
def org(app: Flask, staff_login: Callable[..., Any]) -> Staff:
    client = app.test_client()
    staff_login(client, role="organiser")
    return Staff(client)


# -- the API route


def test_similar_answers_public_questions_best_first(phone: Callable[[], Phone]) -> None:
    me = phone()
    assert me.client.put(f"{API}/questions/1/vote", headers=me.headers).status_code == 200
    r = me.similar(PROVENANCE)
    assert r.status_code == 200
    questions = r.get_json()["questions"]
    assert 1 <= len(questions) <= 3
    assert questions[0]["id"] == 1
    assert all(set(q) == PUBLIC_KEYS for q in questions)
    assert questions[0]["voted"] is True and questions[0]["mine"] is False
    mine = me.ask(CAMERAS)
    answer = me.similar(CAMERAS_AGAIN).get_json()["questions"]
    [found] = [q for q in answer if q["id"] == mine["id"]]
    assert found["mine"] is True and found["voted"] is False
    assert phone().similar(CAMERAS_AGAIN).get_json()["questions"][0]["mine"] is False


def test_at_most_three(phone: Callable[[], Phone]) -> None:
    me = phone()
    for n in range(6):
        me.ask(f"Who owns the data that city sensors collect about citizens, version {n}?")
    assert len(me.similar_ids("who owns the data city sensors collect about citizens")) == 3


def test_nothing_alike_or_too_short_brings_nothing(phone: Callable[[], Phone]) -> None:
    me = phone()
    assert me.similar(UNRELATED).get_json() == {"questions": []}
    assert me.similar("¿Cuál es el mejor equipo de fútbol de México?").get_json() == {
        "questions": []}
    # Eleven characters: too short to tell, even when they are a seeded question's words.
    assert me.similar("consent?   ").get_json() == {"questions": []}
    assert me.similar("data sets").get_json() == {"questions": []}


@pytest.mark.parametrize(
    ("q", "code"),
    [(None, "empty"), ("", "empty"), ("   ", "empty"), ("x" * 501, "too_long"),
     ("where do the data\x00 sets come from", "control_characters"),
     ("where does the data come from\u202e", "control_characters")],
)
def test_bad_input_gets_the_error_shape(phone: Callable[[], Phone], q: str | None,
                                        code: str) -> None:
    r = phone().similar(q)
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == code
    assert r.get_json()["error"]["message"]


def test_unknown_event_is_404(phone: Callable[[], Phone]) -> None:
    r = phone().similar(PROVENANCE, code="no-such-event")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "event_not_found"


def test_pending_and_hidden_questions_are_never_suggested(
    phone: Callable[[], Phone], org: Staff
) -> None:
    r = org.client.patch(f"{API}/events/{CODE}", json={"moderation": "pre"}, headers=org.headers)
    assert r.status_code == 200
    author = phone()
    pending = author.ask(CAMERAS)
    assert pending["status"] == "pending"
    assert pending["id"] not in author.similar_ids(CAMERAS_AGAIN)  # not even to its author
    assert pending["id"] not in org.similar_ids(CAMERAS_AGAIN)  # nor to staff
    org.mod(pending["id"], "approve")
    assert author.similar_ids(CAMERAS_AGAIN)[0] == pending["id"]
    org.mod(pending["id"], "hide", reason="off topic")
    assert pending["id"] not in phone().similar_ids(CAMERAS_AGAIN)
    org.mod(pending["id"], "restore")
    assert phone().similar_ids(CAMERAS_AGAIN)[0] == pending["id"]
    org.mod(pending["id"], "answer")
    assert phone().similar_ids(CAMERAS_AGAIN)[0] == pending["id"]  # answered ones still count


def test_another_events_questions_are_never_suggested(
    phone: Callable[[], Phone], org: Staff
) -> None:
    r = org.client.post(f"{API}/events", json={"code": "other-room", "title": "Another room"},
                        headers=org.headers)
    assert r.status_code == 201, r.get_json()
    me = phone()
    elsewhere = me.ask(CAMERAS, code="other-room")
    assert me.similar_ids(CAMERAS_AGAIN, code="other-room") == [elsewhere["id"]]
    assert elsewhere["id"] not in me.similar_ids(CAMERAS_AGAIN)
    here = me.ask(CAMERAS)
    assert me.similar_ids(CAMERAS_AGAIN) == [here["id"]]
    assert me.similar_ids(CAMERAS_AGAIN, code="other-room") == [elsewhere["id"]]


def test_draft_events_are_not_searchable_by_participants(
    phone: Callable[[], Phone], org: Staff
) -> None:
    me = phone()
    r = org.client.patch(f"{API}/events/{CODE}", json={"status": "draft"}, headers=org.headers)
    assert r.status_code == 200
    assert me.similar(PROVENANCE).status_code == 404
    assert org.similar_ids(PROVENANCE)[0] == 1


# -- the index follows every write


def test_index_follows_ask_edit_hide_restore_merge_delete(
    phone: Callable[[], Phone], org: Staff
) -> None:
    me = phone()
    assert me.similar_ids(CAMERAS_AGAIN) == []  # builds the index
    first = me.ask(CAMERAS)
    assert me.similar_ids(CAMERAS_AGAIN) == [first["id"]]
    # An edit: the new text is found, the old one no longer.
    org.mod(first["id"], "edit", body="Who should pay for the new bicycle lanes downtown?")
    assert me.similar_ids(CAMERAS_AGAIN) == []
    assert me.similar_ids("who pays for new bike lanes downtown?") == [first["id"]]
    org.mod(first["id"], "edit", body=CAMERAS)
    assert me.similar_ids(CAMERAS_AGAIN) == [first["id"]]
    org.mod(first["id"], "hide")
    assert me.similar_ids(CAMERAS_AGAIN) == []
    org.mod(first["id"], "restore")
    assert me.similar_ids(CAMERAS_AGAIN) == [first["id"]]
    # A merge: the duplicate goes, the question it went into stays.
    second = phone().ask("Facial recognition cameras in public squares: should they be allowed?")
    assert set(me.similar_ids(CAMERAS_AGAIN)) == {first["id"], second["id"]}
    org.mod(second["id"], "merge", into=first["id"])
    assert me.similar_ids(CAMERAS_AGAIN) == [first["id"]]
    me.delete(first["id"])
    assert me.similar_ids(CAMERAS_AGAIN) == []


def test_forget_me_takes_erased_questions_out(phone: Callable[[], Phone]) -> None:
    me = phone()
    mine = me.ask(CAMERAS)
    assert me.similar_ids(CAMERAS_AGAIN) == [mine["id"]]
    r = me.client.delete(f"{API}/events/{CODE}/me", headers=me.headers)
    assert r.status_code == 200 and r.get_json()["questions_erased"] == 1
    assert me.similar_ids(CAMERAS_AGAIN) == []


def test_each_app_has_its_own_indexes(app: Flask, tmp_path: Path) -> None:
    other = make_app(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "other-instance")
    try:
        a, b = Phone(app.test_client()), Phone(other.test_client())
        asked = a.ask(CAMERAS)
        assert a.similar_ids(CAMERAS_AGAIN) == [asked["id"]]
        assert b.similar_ids(CAMERAS_AGAIN) == []  # another database: nothing alike there
        assert app.extensions["discussion.similar"] is not other.extensions["discussion.similar"]
    finally:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def second_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Another app (another process, as far as the index knows) on the same database."""
    other = make_app(database_url, tmp_path / "second-instance")
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_writes_through_one_app_are_seen_by_another(
    app: Flask, second_app: Flask, staff_login: Callable[..., Any]
) -> None:
    here, there = Phone(app.test_client()), Phone(second_app.test_client())
    staff_client = app.test_client()
    staff_login(staff_client, role="organiser")
    org = Staff(staff_client)
    assert there.similar_ids(CAMERAS_AGAIN) == []  # B builds its index first
    asked = here.ask(CAMERAS)
    assert there.similar_ids(CAMERAS_AGAIN) == [asked["id"]]
    org.mod(asked["id"], "edit", body="Who should pay for the new bicycle lanes downtown?")
    assert there.similar_ids(CAMERAS_AGAIN) == []
    assert there.similar_ids("who pays for new bike lanes downtown?") == [asked["id"]]
    org.mod(asked["id"], "edit", body=CAMERAS)
    org.mod(asked["id"], "hide")
    assert there.similar_ids(CAMERAS_AGAIN) == []
    org.mod(asked["id"], "restore")
    assert there.similar_ids(CAMERAS_AGAIN) == [asked["id"]]
    here.delete(asked["id"])
    assert there.similar_ids(CAMERAS_AGAIN) == []
    # And the other way round: B's write, A's lookup.
    again = there.ask(CAMERAS)
    assert here.similar_ids(CAMERAS_AGAIN) == [again["id"]]


# -- for the moderator: likely duplicates


def test_staff_questions_carry_their_likely_original(phone: Callable[[], Phone],
                                                     org: Staff) -> None:
    first = phone().ask(CAMERAS)
    again = phone().ask(CAMERAS_AGAIN)
    other = phone().ask(UNRELATED)
    listed = org.questions()
    assert listed[again["id"]]["duplicate_of"] == first["id"]
    assert listed[first["id"]]["duplicate_of"] is None  # the earlier one is the original
    assert listed[other["id"]]["duplicate_of"] is None
    assert all(q["duplicate_of"] is None for qid, q in listed.items() if qid <= 10)
    # Participants never see the mark.
    assert "duplicate_of" not in phone().similar(CAMERAS_AGAIN).get_json()["questions"][0]
    # One click: merge into the suggested original, as the console's merge does.
    merged = org.mod(again["id"], "merge", into=listed[again["id"]]["duplicate_of"])
    assert merged["merged_into"] == first["id"] and merged["duplicate_of"] is None
    assert org.questions()[first["id"]]["duplicate_of"] is None


def test_duplicate_mark_follows_the_original(phone: Callable[[], Phone], org: Staff) -> None:
    first = phone().ask(CAMERAS)
    again = phone().ask(CAMERAS_AGAIN)
    assert org.questions()[again["id"]]["duplicate_of"] == first["id"]
    org.mod(first["id"], "hide")
    assert org.questions()[again["id"]]["duplicate_of"] is None
    org.mod(first["id"], "restore")
    assert org.questions()[again["id"]]["duplicate_of"] == first["id"]
    # An earlier question edited into a closer match takes the mark over, and gives it
    # back when edited away.
    earliest = 1  # seeded, about where data sets come from
    org.mod(earliest, "edit", body=CAMERAS_AGAIN)
    assert org.questions()[again["id"]]["duplicate_of"] == earliest
    org.mod(earliest, "edit", body="Where do the data sets of smart cities come from?")
    assert org.questions()[again["id"]]["duplicate_of"] == first["id"]


def test_pending_questions_are_marked_for_the_moderator(
    phone: Callable[[], Phone], org: Staff, socket_client: Callable[..., Any]
) -> None:
    first = phone().ask(CAMERAS)
    org.client.patch(f"{API}/events/{CODE}", json={"moderation": "pre"}, headers=org.headers)
    console = socket_client(org.client)
    assert console.emit("join", {"event": CODE, "staff": True}, callback=True)["ok"] is True
    console.get_received()
    pending = phone().ask(CAMERAS_AGAIN)
    assert pending["status"] == "pending"
    [published] = [m["args"][0] for m in console.get_received() if m["name"] == "question"]
    assert published["id"] == pending["id"] and published["duplicate_of"] == first["id"]
    ack = console.emit("join", {"event": CODE, "staff": True}, callback=True)
    [listed] = [q for q in ack["questions"] if q["id"] == pending["id"]]
    assert listed["duplicate_of"] == first["id"]


def test_consoles_hear_when_a_likely_original_moves(
    phone: Callable[[], Phone], org: Staff, socket_client: Callable[..., Any]
) -> None:
    """Hiding, restoring or editing one question moves another's mark: the consoles
    get that other question again at once, and the phones get nothing of it."""
    first = phone().ask(CAMERAS)
    again = phone().ask(CAMERAS_AGAIN)
    console = socket_client(org.client)
    assert console.emit("join", {"event": CODE, "staff": True}, callback=True)["ok"] is True
    room = joined(socket_client)
    console.get_received()
    room.get_received()

    def marks() -> dict[int, int | None]:
        return {m["args"][0]["id"]: m["args"][0]["duplicate_of"]
                for m in console.get_received() if m["name"] == "question"}

    org.mod(first["id"], "hide")
    assert marks()[again["id"]] is None
    assert all(m["args"][0]["id"] != again["id"] for m in room.get_received()
               if m["name"] == "question"), "the phones' copy did not change"
    org.mod(first["id"], "restore")
    assert marks()[again["id"]] == first["id"]
    earliest = 1  # seeded: edited into a closer match, it takes the mark over
    org.mod(earliest, "edit", body=CAMERAS_AGAIN)
    assert marks()[again["id"]] == earliest
    unrelated = phone().ask(UNRELATED)
    marks()  # its own arrival
    org.mod(unrelated["id"], "pin")
    assert again["id"] not in marks(), "a change that moves no mark sends nothing more"


# -- the socket event


def joined(socket_client: Callable[..., Any], flask_client: FlaskClient | None = None) -> Any:
    sc = socket_client(flask_client)
    assert sc.emit("join", {"event": CODE}, callback=True)["ok"] is True
    return sc


def test_socket_similar(socket_client: Callable[..., Any], phone: Callable[[], Phone]) -> None:
    me = phone()
    sc = joined(socket_client, me.client)
    mine = me.ask(CAMERAS)
    ack = sc.emit("similar", {"event": CODE, "body": CAMERAS_AGAIN}, callback=True)
    assert ack["ok"] is True
    assert [q["id"] for q in ack["questions"]] == [mine["id"]]
    assert set(ack["questions"][0]) == PUBLIC_KEYS and ack["questions"][0]["mine"] is True
    ack = sc.emit("similar", {"event": "SmartCities", "body": PROVENANCE}, callback=True)
    assert ack["ok"] is True and ack["questions"][0]["id"] == 1
    assert sc.emit("similar", {"body": UNRELATED}, callback=True) == {"ok": True, "questions": []}


def test_socket_similar_refusals(socket_client: Callable[..., Any], org: Staff) -> None:
    r = org.client.post(f"{API}/events", json={"code": "other-room", "title": "Another room"},
                        headers=org.headers)
    assert r.status_code == 201
    loose = socket_client()
    ack = loose.emit("similar", {"event": CODE, "body": PROVENANCE}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "not_joined"
    sc = joined(socket_client)
    for payload, code in [
        ({"event": "other-room", "body": PROVENANCE}, "not_joined"),
        ({"event": "no such event!", "body": PROVENANCE}, "invalid_code"),
        ({"event": CODE}, "empty"),
        ({"event": CODE, "body": 42}, "invalid_type"),
        ({"event": CODE, "body": "x" * 501}, "too_long"),
        ({"event": CODE, "body": "where do the\x07 data sets come from"}, "control_characters"),
    ]:
        ack = sc.emit("similar", payload, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == code, (payload, ack)
    assert sc.emit("similar", "not an object", callback=True)["error"]["code"] == "invalid_json"


# -- rate limit


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_SIMILAR": "3/minute"}]
)
def test_lookups_are_limited_per_participant(
    phone: Callable[[], Phone], socket_client: Callable[..., Any], app_config: dict[str, Any]
) -> None:
    me = phone()
    for _ in range(3):
        assert me.similar(PROVENANCE).status_code == 200
    r = me.similar(PROVENANCE)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    # The same participant over its socket shares the limit; another phone does not.
    sc = joined(socket_client, me.client)
    ack = sc.emit("similar", {"event": CODE, "body": PROVENANCE}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "rate_limited"
    assert phone().similar(PROVENANCE).status_code == 200


@pytest.mark.parametrize("app_config", [{"SIMILAR_REFRESH": 0}])
def test_the_refresh_period_catches_a_change_no_fingerprint_shows(
    app: Flask, phone: Callable[[], Phone], app_config: dict[str, Any]
) -> None:
    """A write outside the app (a database console, a script) logs nothing: the index
    reads the event's questions again once SIMILAR_REFRESH has passed (0 here)."""
    from sqlalchemy import update

    from discussion.models import Question

    me = phone()
    asked = me.ask(CAMERAS)
    assert me.similar_ids(CAMERAS_AGAIN) == [asked["id"]]
    with app.app_context():
        db.session.execute(update(Question).where(Question.id == asked["id"])
                           .values(body="Who should pay for the new bicycle lanes downtown?"))
        db.session.commit()
    assert me.similar_ids(CAMERAS_AGAIN) == []

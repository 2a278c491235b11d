"""The Socket.IO protocol: two phones see each other's changes live."""

from __future__ import annotations

import pytest
from helpers import csrf_headers, received

# The API and socket suites run on SQLite and on PostgreSQL.
pytestmark = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)



def joined(socket_client, flask_client=None, event="smartcities"):  # type: ignore[no-untyped-def]
    sc = socket_client(flask_client)
    ack = sc.emit("join", {"event": event}, callback=True)
    assert ack["ok"] is True
    sc.get_received()  # drop the presence messages of joining
    return sc, ack


def test_join_ack_carries_the_event_and_its_questions(socket_client):
    _, ack = joined(socket_client)
    assert ack["event"]["code"] == "smartcities"
    assert len(ack["questions"]) >= 8
    assert ack["questions"][0]["seeded"] is True


def test_join_unknown_event_is_refused(socket_client):
    sc = socket_client()
    ack = sc.emit("join", {"event": "nope-nope"}, callback=True)
    assert ack == {"ok": False, "error": {"code": "event_not_found",
                                          "message": "There is no event with this code."}}


def test_ask_reaches_the_other_phone(socket_client):
    a, _ = joined(socket_client)
    b, _ = joined(socket_client)
    ack = a.emit("ask", {"body": "Quem decide?", "topic": "consent", "client_id": "a-1"},
                 callback=True)
    assert ack["ok"] is True and ack["question"]["mine"] is True
    [question] = received(b, "question")
    assert question["id"] == ack["question"]["id"]
    assert question["body"] == "Quem decide?" and question["mine"] is False


def test_vote_reaches_the_other_phone_as_coalesced_counts(socket_client):
    a, _ = joined(socket_client)
    b, _ = joined(socket_client)
    assert a.emit("vote", {"question_id": 3, "up": True}, callback=True) == {
        "ok": True, "id": 3, "votes": 1, "voted": True}
    assert received(b, "votes") == [{"3": 1}]
    # A repeated vote changes nothing and broadcasts nothing.
    assert a.emit("vote", {"question_id": 3, "up": True}, callback=True)["votes"] == 1
    assert received(b, "votes") == []
    assert a.emit("vote", {"question_id": 3, "up": False}, callback=True)["votes"] == 0
    assert received(b, "votes") == [{"3": 0}]


def test_comment_reaches_the_other_phone(socket_client):
    a, _ = joined(socket_client)
    b, _ = joined(socket_client)
    ack = a.emit("comment", {"question_id": 1, "body": "¡Buena pregunta!", "client_id": "c1"},
                 callback=True)
    assert ack["ok"] is True and ack["comment"]["question_id"] == 1
    messages = b.get_received()
    names = [m["name"] for m in messages]
    assert "comment" in names
    comment = next(m["args"][0] for m in messages if m["name"] == "comment")
    assert comment["body"] == "¡Buena pregunta!"
    updated = next(m["args"][0] for m in messages if m["name"] == "question")
    assert updated["id"] == 1 and updated["comments"] == 1


def test_retried_ask_over_socket_is_stored_once(socket_client):
    a, _ = joined(socket_client)
    b, _ = joined(socket_client)
    first = a.emit("ask", {"body": "once", "client_id": "retry-1"}, callback=True)
    second = a.emit("ask", {"body": "once", "client_id": "retry-1"}, callback=True)
    assert first["ok"] and second["ok"]
    assert first["question"]["id"] == second["question"]["id"]
    assert len(received(b, "question")) == 1


def test_http_and_socket_share_one_identity(client, socket_client):
    headers = csrf_headers(client)
    qid = client.post("/api/v1/events/smartcities/questions", json={"body": "mine via http"},
                      headers=headers).get_json()["id"]
    sc, ack = joined(socket_client, client)
    assert next(q for q in ack["questions"] if q["id"] == qid)["mine"] is True
    vote = sc.emit("vote", {"question_id": qid, "up": True}, callback=True)
    assert vote["voted"] is True
    listed = client.get("/api/v1/events/smartcities/questions").get_json()["questions"]
    assert next(q for q in listed if q["id"] == qid)["voted"] is True


def test_http_writes_are_broadcast_to_sockets(client, socket_client):
    sc, _ = joined(socket_client)
    headers = csrf_headers(client)
    client.post("/api/v1/events/smartcities/questions", json={"body": "via http"},
                headers=headers)
    client.put("/api/v1/questions/1/vote", headers=headers)
    messages = sc.get_received()
    assert [m["name"] for m in messages] == ["question", "votes"]
    assert messages[0]["args"][0]["body"] == "via http"
    assert messages[1]["args"][0] == {"1": 1}


def test_delete_broadcasts_question_removed(client, socket_client):
    sc, _ = joined(socket_client)
    headers = csrf_headers(client)
    qid = client.post("/api/v1/events/smartcities/questions", json={"body": "to delete"},
                      headers=headers).get_json()["id"]
    sc.get_received()
    assert client.delete(f"/api/v1/questions/{qid}", headers=headers).status_code == 204
    assert received(sc, "question_removed") == [{"id": qid}]


def test_presence_counts_people_not_sockets(client, socket_client):
    client.get("/e/smartcities")  # the phone's cookie, shared by its tabs
    a, ack = joined(socket_client, client)
    assert ack["online"] == 1
    b = socket_client(client)  # the same phone in a second tab
    assert b.emit("join", {"event": "smartcities"}, callback=True)["online"] == 1
    c = socket_client()
    assert c.emit("join", {"event": "smartcities"}, callback=True)["online"] == 2
    assert received(a, "presence")[-1] == {"online": 2}
    c.disconnect()
    assert received(a, "presence")[-1] == {"online": 1}


def test_nothing_of_one_event_reaches_another(app, client, socket_client, staff_login):
    staff_login(client, "organiser")
    created = client.post("/api/v1/events", json={"code": "other-room", "title": "Other"},
                          headers=csrf_headers(client))
    assert created.status_code == 201
    here, _ = joined(socket_client)
    there, _ = joined(socket_client, event="other-room")
    there.emit("ask", {"body": "in the other room", "client_id": "o1"}, callback=True)
    assert received(here) == []
    # A question id of another event is unknown in this one.
    qid = here.emit("ask", {"body": "here", "client_id": "h1"}, callback=True)["question"]["id"]
    ack = there.emit("vote", {"question_id": qid, "up": True}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "question_not_found"
    ack = there.emit("comment", {"question_id": qid, "body": "x", "client_id": "x"},
                     callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "question_not_found"


def test_writes_before_join_are_refused(socket_client):
    sc = socket_client()
    ack = sc.emit("ask", {"body": "hello", "client_id": "x"}, callback=True)
    assert ack == {"ok": False, "error": {"code": "not_joined", "message": "Join an event first."}}


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("ask", {"body": "", "client_id": "x"}, "empty"),
        ("ask", {"body": "y" * 10_000, "client_id": "x"}, "too_long"),
        ("ask", {"body": "a\x1bb", "client_id": "x"}, "control_characters"),
        ("ask", {"body": None}, "empty"),
        ("ask", {"body": 5}, "invalid_type"),
        ("ask", {"body": "ok", "topic": "nope"}, "unknown_topic"),
        ("ask", "a string", "invalid_json"),
        ("ask", ["a", "list"], "invalid_json"),
        ("ask", None, "invalid_json"),
        ("vote", {"question_id": "1", "up": True}, "invalid_type"),
        ("vote", {"question_id": True, "up": True}, "invalid_type"),
        ("vote", {"question_id": 1, "up": "yes"}, "invalid_type"),
        ("vote", {"question_id": 1}, "invalid_type"),
        ("vote", {"question_id": 10**30, "up": True}, "invalid_id"),
        ("vote", {"question_id": 424242, "up": True}, "question_not_found"),
        ("comment", {"question_id": 1, "body": ""}, "empty"),
        ("comment", {"question_id": 424242, "body": "x"}, "question_not_found"),
        ("join", {"event": 5}, "invalid_code"),
        ("join", {"event": "../../etc"}, "invalid_code"),
    ],
)
def test_bad_payloads_get_ok_false(socket_client, event, payload, code):
    sc, before = joined(socket_client)
    ack = sc.emit(event, payload, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"]
    after = sc.emit("join", {"event": "smartcities"}, callback=True)
    assert after["questions"] == before["questions"]


def test_rejoin_resynchronises(socket_client):
    a, _ = joined(socket_client)
    b, _ = joined(socket_client)
    b.disconnect()
    a.emit("ask", {"body": "asked while b was away", "client_id": "away"}, callback=True)
    a.emit("vote", {"question_id": 1, "up": True}, callback=True)
    _b2, ack = joined(socket_client)
    bodies = {q["body"]: q for q in ack["questions"]}
    assert "asked while b was away" in bodies
    assert next(q for q in ack["questions"] if q["id"] == 1)["votes"] == 1

"""Least data: forget me, retention and purge, nothing of the device stored, rate limits."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from helpers import csrf_headers
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.models import Comment, Participant, Question, Vote, utcnow


def post(client, headers, body, **extra):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/events/smartcities/questions", json={"body": body, **extra},
                       headers=headers)


def test_forget_me_erases_and_anonymises(client, new_client, socket_client):
    me = client
    mine = csrf_headers(me)
    lonely = post(me, mine, "nobody cares about this one").get_json()["id"]
    popular = post(me, mine, "everyone votes for this", author="Ana",
                   quote="named").get_json()["id"]
    me.post("/api/v1/questions/1/comments", json={"body": "my comment"}, headers=mine)
    me.put("/api/v1/questions/2/vote", headers=mine)
    other = new_client()
    theirs = csrf_headers(other)
    other.put(f"/api/v1/questions/{popular}/vote", headers=theirs)
    other.post(f"/api/v1/questions/{popular}/comments", json={"body": "+1"}, headers=theirs)
    watcher = socket_client()
    watcher.emit("join", {"event": "smartcities"}, callback=True)
    watcher.get_received()

    result = me.delete("/api/v1/events/smartcities/me", headers=mine)
    assert result.status_code == 200
    assert result.get_json() == {"questions_erased": 1, "questions_anonymised": 1,
                                 "comments_erased": 1, "votes_unlinked": 1}
    listed = {q["id"]: q for q in
              other.get("/api/v1/events/smartcities/questions").get_json()["questions"]}
    assert lonely not in listed
    assert listed[popular]["author"] is None and listed[popular]["votes"] == 1
    assert listed[1]["comments"] == 0
    assert listed[2]["votes"] == 1  # still counted, no longer linked
    names = [m["name"] for m in watcher.get_received()]
    assert "question_removed" in names and "question" in names
    # Nothing is "mine" any more; the kept vote still counts as this cookie's one vote.
    again = me.get("/api/v1/events/smartcities/questions").get_json()["questions"]
    assert not any(q["mine"] for q in again)
    assert [q["id"] for q in again if q["voted"]] == [2]
    # Forgetting twice is harmless.
    assert me.delete("/api/v1/events/smartcities/me", headers=mine).get_json()[
        "questions_erased"] == 0


def test_purge_applies_the_retention_period(app, client, runner):
    headers = csrf_headers(client)
    post(client, headers, "named and old", author="Bea", quote="named")
    client.put("/api/v1/questions/1/vote", headers=headers)
    client.post("/api/v1/questions/1/comments", json={"body": "hola", "author": "Bea"},
                headers=headers)
    result = runner.invoke(args=["purge"])
    assert "0 participant(s)" in result.output  # nothing is old enough yet
    with app.app_context():
        participant = db.session.scalars(select(Participant)).one()
        participant.created_at = utcnow() - timedelta(days=91)
        db.session.commit()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "1 participant(s)" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 0
        q = db.session.scalar(select(Question).where(Question.body == "named and old"))
        assert (q.author, q.participant_id, q.quote) == (None, None, "anonymous")
        c = db.session.scalars(select(Comment)).one()
        assert (c.author, c.participant_id, c.body) == (None, None, "hola")
        assert db.session.get(Question, 1).votes == 1  # counts stay for the report


def test_no_address_or_user_agent_reaches_the_database(app, client, database_url):
    marker = "DistinctiveAgent/9.9 (PrivacyProbe)"
    headers = {**csrf_headers(client), "User-Agent": marker,
               "X-Forwarded-For": "203.0.113.77"}
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    post(client, headers, "is my address kept?")
    client.put("/api/v1/questions/1/vote", headers=headers)
    client.post("/api/v1/questions/1/comments", json={"body": "x"}, headers=headers)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    path = database_url.removeprefix("sqlite:///")
    dump = "\n".join(sqlite3.connect(path).iterdump())
    for needle in (marker, "PrivacyProbe", "203.0.113.77", "198.51.100.23"):
        assert needle not in dump


def test_the_database_never_holds_the_cookie_token(app, client):
    csrf = csrf_headers(client)
    post(client, csrf, "who am I?")
    cookie = next(c.value for c in client._cookies.values() if c.key == "discussion_participant")
    token = cookie.split(".")[0]
    with app.app_context():
        keys = list(db.session.scalars(select(Participant.key)))
    assert keys and all(token not in key and cookie not in key for key in keys)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_posting_is_rate_limited_per_participant(client, new_client, app_config):
    headers = csrf_headers(client)
    for i in range(6):
        assert post(client, headers, f"question {i}", client_id=f"k{i}").status_code == 201
    limited = post(client, headers, "one too many")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    # A retry of an acknowledged post is not a new post: it is still answered.
    retried = post(client, headers, "question 0", client_id="k0")
    assert retried.status_code == 200 and retried.get_json()["body"] == "question 0"
    # Another phone behind the same venue address is not affected.
    other = new_client()
    assert post(other, csrf_headers(other), "innocent").status_code == 201


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_socket_posting_is_rate_limited(socket_client, app_config):
    sc = socket_client()
    sc.emit("join", {"event": "smartcities"}, callback=True)
    acks = [sc.emit("ask", {"body": f"q{i}", "client_id": f"k{i}"}, callback=True)
            for i in range(7)]
    assert all(a["ok"] for a in acks[:6])
    assert acks[6] == {"ok": False, "error": {
        "code": "rate_limited",
        "message": "You are posting very fast. Please wait a moment and try again."}}


def test_privacy_page_states_the_real_settings(app, client):
    with app.app_context():
        from discussion.models import Event

        event = db.session.scalar(select(Event).where(Event.code == "smartcities"))
        event.retention_days = 30
        db.session.commit()
    html = client.get("/e/smartcities/privacy").get_data(as_text=True)
    assert "After 30 days" in html
    assert "No IP address" in html
    assert "CC-BY-4.0" in html
    assert "Moderators hide personal attacks" in html  # the seeded policy
    assert 'id="forget-me"' in html

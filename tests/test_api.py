"""The JSON API of the live loop, driven as a phone or a third-party client would."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import csrf_headers

# The API and socket suites run on SQLite and on PostgreSQL.
pytestmark = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)


QUESTION_KEYS = {"id", "body", "topic", "votes", "comments", "status", "seeded", "author",
                 "created_at", "highlighted", "pinned", "edited", "mine", "voted"}


def ask(client, headers, body="Who keeps the sensor data?", **extra: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/events/smartcities/questions", json={"body": body, **extra},
                       headers=headers)


def test_event_has_its_topics_and_any_case_code(client):
    data = client.get("/api/v1/events/SmartCities").get_json()
    assert data["code"] == "smartcities"
    assert data["title"] == "Smart Cities and Big Data: Boundless Opportunities?"
    slugs = [t["slug"] for t in data["topics"]]
    for slug in ("consent", "transparency", "data-provenance", "privacy", "security",
                 "accountability", "public-education", "cost-benefit-risk", "human-rights"):
        assert slug in slugs
    assert {"slug", "name"} <= set(data["topics"][0])


def test_unknown_event_is_a_404_with_the_error_shape(client):
    response = client.get("/api/v1/events/nope-nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "event_not_found"


def test_first_request_issues_a_participant_cookie(client):
    response = client.get("/api/v1/events/smartcities/questions")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("discussion_participant=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Once issued, it is not issued again.
    assert "Set-Cookie" not in client.get("/api/v1/events/smartcities/questions").headers


def test_seeded_questions_are_the_organisers(client):
    questions = client.get("/api/v1/events/smartcities/questions").get_json()["questions"]
    assert len(questions) >= 8
    assert all(q["seeded"] and q["status"] == "visible" for q in questions)
    assert set(questions[0]) == QUESTION_KEYS


def test_ask_returns_201_and_the_question_marked_mine(client):
    headers = csrf_headers(client)
    response = ask(client, headers, "  ¿Quién audita los datos?  ", topic="privacy",
                   author="Ana", quote="named")
    assert response.status_code == 201
    q = response.get_json()
    assert set(q) == QUESTION_KEYS
    assert q["body"] == "¿Quién audita los datos?"
    assert (q["topic"], q["author"], q["mine"], q["votes"], q["seeded"]) == (
        "privacy", "Ana", True, 0, False)
    listed = client.get("/api/v1/events/smartcities/questions?sort=new").get_json()["questions"]
    assert listed[0]["id"] == q["id"] and listed[0]["mine"] is True


def test_other_participants_do_not_see_it_as_theirs(client, new_client):
    qid = ask(client, csrf_headers(client)).get_json()["id"]
    other = new_client()
    listed = other.get("/api/v1/events/smartcities/questions").get_json()["questions"]
    assert next(q for q in listed if q["id"] == qid)["mine"] is False


def test_retried_post_with_same_client_id_is_stored_once(client):
    headers = csrf_headers(client)
    first = ask(client, headers, client_id="phone-1-q-1")
    again = ask(client, headers, client_id="phone-1-q-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    bodies = [q["body"] for q in
              client.get("/api/v1/events/smartcities/questions").get_json()["questions"]]
    assert bodies.count("Who keeps the sensor data?") == 1


def test_same_client_id_from_two_phones_are_two_questions(client, new_client):
    other = new_client()
    a = ask(client, csrf_headers(client), client_id="same").get_json()
    b = ask(other, csrf_headers(other), client_id="same").get_json()
    assert a["id"] != b["id"]


def test_vote_and_take_back_are_idempotent(client):
    headers = csrf_headers(client)
    assert client.put("/api/v1/questions/1/vote", headers=headers).get_json() == {
        "id": 1, "votes": 1, "voted": True}
    assert client.put("/api/v1/questions/1/vote", headers=headers).get_json()["votes"] == 1
    assert client.delete("/api/v1/questions/1/vote", headers=headers).get_json() == {
        "id": 1, "votes": 0, "voted": False}
    assert client.delete("/api/v1/questions/1/vote", headers=headers).get_json()["votes"] == 0


def test_one_vote_per_participant_many_participants_add_up(client, new_client):
    for _ in range(3):
        phone = new_client()
        phone.put("/api/v1/questions/2/vote", headers=csrf_headers(phone))
        phone.put("/api/v1/questions/2/vote", headers=csrf_headers(phone))
    q = next(q for q in client.get("/api/v1/events/smartcities/questions").get_json()["questions"]
             if q["id"] == 2)
    assert q["votes"] == 3


def test_own_question_may_be_upvoted(client):
    headers = csrf_headers(client)
    qid = ask(client, headers).get_json()["id"]
    assert client.put(f"/api/v1/questions/{qid}/vote", headers=headers).get_json()["voted"]


def test_top_sort_is_pinned_then_votes_then_oldest(client, new_client):
    headers = csrf_headers(client)
    for qid, voters in ((3, 2), (5, 1)):
        for _ in range(voters):
            phone = new_client()
            phone.put(f"/api/v1/questions/{qid}/vote", headers=csrf_headers(phone))
    ids = [q["id"] for q in
           client.get("/api/v1/events/smartcities/questions?sort=top").get_json()["questions"]]
    assert ids[:3] == [3, 5, 1]  # then the rest oldest first
    assert ids[3:] == sorted(ids[3:])
    newest = ask(client, headers).get_json()["id"]
    new_ids = [q["id"] for q in
               client.get("/api/v1/events/smartcities/questions?sort=new").get_json()["questions"]]
    assert new_ids[0] == newest


def test_topic_filter(client):
    listed = client.get("/api/v1/events/smartcities/questions?topic=consent").get_json()
    assert listed["questions"] and all(q["topic"] == "consent" for q in listed["questions"])
    unknown = client.get("/api/v1/events/smartcities/questions?topic=nope")
    assert unknown.status_code == 404


def test_comments_thread(client, new_client):
    headers = csrf_headers(client)
    created = client.post("/api/v1/questions/1/comments",
                          json={"body": "Comentário em português: ação!", "client_id": "c-1"},
                          headers=headers)
    assert created.status_code == 201
    comment = created.get_json()
    assert set(comment) == {"id", "question_id", "body", "author", "created_at", "mine"}
    assert comment["mine"] is True and comment["question_id"] == 1
    retried = client.post("/api/v1/questions/1/comments",
                          json={"body": "Comentário em português: ação!", "client_id": "c-1"},
                          headers=headers)
    assert retried.status_code == 200 and retried.get_json()["id"] == comment["id"]
    other = new_client()
    thread = other.get("/api/v1/questions/1/comments").get_json()["comments"]
    assert [c["body"] for c in thread] == ["Comentário em português: ação!"]
    assert thread[0]["mine"] is False
    q1 = next(q for q in other.get("/api/v1/events/smartcities/questions").get_json()["questions"]
              if q["id"] == 1)
    assert q1["comments"] == 1


def test_author_deletes_own_question_but_not_others(client, new_client):
    headers = csrf_headers(client)
    qid = ask(client, headers).get_json()["id"]
    other = new_client()
    refused = other.delete(f"/api/v1/questions/{qid}", headers=csrf_headers(other))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "not_yours"
    assert client.delete(f"/api/v1/questions/{qid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/questions/{qid}/comments").status_code == 404
    seeded = other.delete("/api/v1/questions/1", headers=csrf_headers(other))
    assert seeded.status_code == 403


def test_author_deletes_own_comment(client, new_client):
    headers = csrf_headers(client)
    cid = client.post("/api/v1/questions/1/comments", json={"body": "oops"},
                      headers=headers).get_json()["id"]
    other = new_client()
    assert other.delete(f"/api/v1/comments/{cid}", headers=csrf_headers(other)).status_code == 403
    assert client.delete(f"/api/v1/comments/{cid}", headers=headers).status_code == 204
    assert client.get("/api/v1/questions/1/comments").get_json()["comments"] == []


def test_html_is_stored_and_returned_as_text(client):
    body = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    q = ask(client, csrf_headers(client), body).get_json()
    assert q["body"] == body
    page = client.get("/e/smartcities").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_state_changes_need_the_csrf_header(client):
    client.get("/e/smartcities")
    for method, url, body in (
        ("post", "/api/v1/events/smartcities/questions", {"body": "x"}),
        ("put", "/api/v1/questions/1/vote", None),
        ("post", "/api/v1/questions/1/comments", {"body": "x"}),
        ("delete", "/api/v1/questions/1", None),
    ):
        response = getattr(client, method)(url, json=body)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"body": ""}, "empty"),
        ({"body": "   \n\t "}, "empty"),
        ({}, "empty"),
        ({"body": "x" * 10_000}, "too_long"),
        ({"body": "bell\x07"}, "control_characters"),
        ({"body": "null\x00byte"}, "control_characters"),
        ({"body": "rtl \u202e override"}, "control_characters"),
        ({"body": 42}, "invalid_type"),
        ({"body": ["a"]}, "invalid_type"),
        ({"body": {"a": 1}}, "invalid_type"),
        ({"body": "ok", "topic": "nope"}, "unknown_topic"),
        ({"body": "ok", "topic": 7}, "invalid_type"),
        ({"body": "ok", "author": 7}, "invalid_type"),
        ({"body": "ok", "author": "x" * 61}, "too_long"),
        ({"body": "ok", "quote": "loud"}, "invalid_quote"),
        ({"body": "ok", "quote": "named"}, "name_required"),
        ({"body": "ok", "client_id": "has spaces"}, "invalid_client_id"),
        ({"body": "ok", "client_id": "x" * 65}, "invalid_client_id"),
        ({"body": "ok", "client_id": 12}, "invalid_client_id"),
    ],
)
def test_bad_questions_are_refused_and_nothing_is_lost(client, payload, code):
    headers = csrf_headers(client)
    before = client.get("/api/v1/events/smartcities/questions").get_json()["questions"]
    response = client.post("/api/v1/events/smartcities/questions", json=payload, headers=headers)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    after = client.get("/api/v1/events/smartcities/questions").get_json()["questions"]
    assert after == before


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"string"', b"null", b"{"])
def test_malformed_json_bodies(client, raw):
    headers = {**csrf_headers(client), "Content-Type": "application/json"}
    response = client.post("/api/v1/events/smartcities/questions", data=raw, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "url",
    ["/api/v1/questions/999999/comments", "/api/v1/questions/0/comments",
     "/api/v1/questions/-1/comments", "/api/v1/questions/99999999999999999999/comments",
     "/api/v1/questions/abc/comments", "/api/v1/nothing-here"],
)
def test_unknown_ids_are_404_with_the_error_shape(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"]


def test_wrong_method_is_405_with_the_error_shape(client):
    response = client.patch("/api/v1/questions/1/vote", headers=csrf_headers(client))
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_bad_sort_is_a_400(client):
    response = client.get("/api/v1/events/smartcities/questions?sort=random")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_sort"


def test_unicode_of_many_scripts_round_trips(client):
    headers = csrf_headers(client)
    bodies = ["¿Consentimiento informado? ñandú", "Privacidade e proteção de dados ação",
              "数据来源 🙂", "حقوق الإنسان", "Права человека", "e\u0301 combining"]
    for body in bodies:
        assert ask(client, headers, body).status_code == 201
    stored = {q["body"] for q in
              client.get("/api/v1/events/smartcities/questions").get_json()["questions"]}
    # Text is normalised to NFC, so the combining accent becomes one character.
    assert {*bodies[:5], "é combining"} <= stored

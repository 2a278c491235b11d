"""Moderation: every staff action and every refusal, over HTTP and the `moderate` socket event.

Who may do what: organisers moderate every event, a moderator only the events they are
appointed to, participants (no login) nothing. Every action is logged with who, when
and why; the public side of the log never carries hidden text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from helpers import received

from discussion.extensions import db
from discussion.models import Event

API = "/api/v1"
CODE = "smartcities"

# -- helpers -----------------------------------------------------------------


class Phone:
    """A participant: a Flask client with its cookie and CSRF header."""

    def __init__(self, client: FlaskClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def ask(self, body: str, code: str = CODE, **extra: Any) -> Any:
        return self.client.post(f"{API}/events/{code}/questions", json={"body": body, **extra},
                                headers=self.headers)

    def vote(self, qid: int, up: bool = True) -> Any:
        method = self.client.put if up else self.client.delete
        return method(f"{API}/questions/{qid}/vote", headers=self.headers)

    def comment(self, qid: int, body: str) -> Any:
        return self.client.post(f"{API}/questions/{qid}/comments", json={"body": body},
                                headers=self.headers)

    def questions(self, code: str = CODE, sort: str = "top") -> list[dict[str, Any]]:
        r = self.client.get(f"{API}/events/{code}/questions?sort={sort}")
        assert r.status_code == 200, r.get_json()
        return r.get_json()["questions"]

    def comments(self, qid: int) -> list[dict[str, Any]]:
        r = self.client.get(f"{API}/questions/{qid}/comments")
        assert r.status_code == 200, r.get_json()
        return r.get_json()["comments"]


class Staff(Phone):
    """A logged-in staff client."""

    def __init__(self, client: FlaskClient, headers: dict[str, str], user_id: int,
                 email: str) -> None:
        super().__init__(client, headers)
        self.user_id = user_id
        self.email = email

    def mod(self, qid: int, action: str, **extra: Any) -> Any:
        return self.client.post(f"{API}/questions/{qid}/moderate",
                                json={"action": action, **extra}, headers=self.headers)

    def mod_comment(self, cid: int, action: str, **extra: Any) -> Any:
        return self.client.post(f"{API}/comments/{cid}/moderate",
                                json={"action": action, **extra}, headers=self.headers)

    def patch(self, data: dict[str, Any], code: str = CODE) -> Any:
        return self.client.patch(f"{API}/events/{code}", json=data, headers=self.headers)

    def log(self, code: str = CODE) -> list[dict[str, Any]]:
        r = self.client.get(f"{API}/events/{code}/moderation-log")
        assert r.status_code == 200, r.get_json()
        return r.get_json()["entries"]


@pytest.fixture
def phone(app: Any, csrf: Callable[..., dict[str, str]]) -> Callable[[], Phone]:
    def make() -> Phone:
        client = app.test_client()
        return Phone(client, csrf(client))

    return make


@pytest.fixture
def staff(app: Any, csrf: Callable[..., dict[str, str]], staff_login: Callable[..., Any]):
    counter = iter(range(1, 1000))

    def make(role: str = "organiser", events: tuple[str, ...] = ()) -> Staff:
        client = app.test_client()
        email = f"{role}-{next(counter)}@example.org"
        user_id = staff_login(client, role=role, events=events, email=email)
        return Staff(client, csrf(client), user_id, email)

    return make


@pytest.fixture
def org(staff: Callable[..., Staff]) -> Staff:
    return staff("organiser")


@pytest.fixture
def other_event(org: Staff) -> str:
    """A second live event, created by an organiser."""
    r = org.client.post(f"{API}/events", json={"code": "other-room", "title": "Another room",
                                                "topics": ["Cities"]}, headers=org.headers)
    assert r.status_code == 201, r.get_json()
    return "other-room"


def error_code(response: Any) -> str:
    body = response.get_json()
    assert isinstance(body, dict) and "error" in body, body
    assert set(body["error"]) >= {"code", "message"}
    assert body["error"]["message"].strip()
    return body["error"]["code"]


def by_id(questions: list[dict[str, Any]], qid: int) -> dict[str, Any] | None:
    return next((q for q in questions if q["id"] == qid), None)


def seeded_ids(p: Phone) -> list[int]:
    return [q["id"] for q in p.questions()]


def asked(p: Phone, body: str, **extra: Any) -> int:
    r = p.ask(body, **extra)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def commented(p: Phone, qid: int, body: str) -> int:
    r = p.comment(qid, body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def joined(sc: Any, code: str = CODE, staff: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {"event": code}
    if staff:
        payload["staff"] = True
    ack = sc.emit("join", payload, callback=True)
    assert ack["ok"], ack
    sc.get_received()  # drop presence and friends
    return ack


# -- each question action and its effect -------------------------------------


def test_approve_in_pre_moderation(org: Staff, phone: Callable[[], Phone]) -> None:
    assert org.patch({"moderation": "pre"}).status_code == 200
    author, other = phone(), phone()
    r = author.ask("Who audits the sensors?")
    assert r.status_code == 201
    assert r.get_json()["status"] == "pending"
    qid = r.get_json()["id"]
    assert by_id(author.questions(), qid)["status"] == "pending"
    assert by_id(other.questions(), qid) is None
    assert by_id(org.questions(), qid)["status"] == "pending"
    # others cannot vote on or comment a pending question, or read its thread
    assert other.vote(qid).status_code == 404
    assert other.client.get(f"{API}/questions/{qid}/comments").status_code == 404

    r = org.mod(qid, "approve")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "visible"
    assert by_id(other.questions(), qid)["status"] == "visible"
    assert other.vote(qid).status_code == 200

    again = org.mod(qid, "approve")
    assert again.status_code == 409
    assert error_code(again) == "not_pending"


def test_staff_question_posted_in_pre_moderation_is_visible_at_once(org: Staff) -> None:
    assert org.patch({"moderation": "pre"}).status_code == 200
    r = org.ask("From the moderator's desk")
    assert r.status_code == 201
    assert r.get_json()["status"] == "visible"


def test_hide_and_restore_question(org: Staff, phone: Callable[[], Phone]) -> None:
    p = phone()
    qid = asked(p, "Buy cheap watches at example dot com")
    r = org.mod(qid, "hide", reason="Spam")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "hidden"
    assert by_id(p.questions(), qid) is None  # not even for its author
    assert by_id(phone().questions(), qid) is None
    assert by_id(org.questions(), qid)["status"] == "hidden"
    assert p.vote(qid).status_code == 404
    assert p.comment(qid, "hello").status_code == 404

    again = org.mod(qid, "hide")
    assert again.status_code == 409 and error_code(again) == "already_hidden"

    r = org.mod(qid, "restore", reason="Mistake")
    assert r.status_code == 200
    assert r.get_json()["status"] == "visible"
    assert by_id(p.questions(), qid)["status"] == "visible"
    again = org.mod(qid, "restore")
    assert again.status_code == 409 and error_code(again) == "not_hidden"


def test_restore_brings_an_answered_question_back_as_answered(
        org: Staff, phone: Callable[[], Phone]) -> None:
    qid = asked(phone(), "Who owns the data?")
    assert org.mod(qid, "answer").status_code == 200
    assert org.mod(qid, "hide", reason="Off-topic").status_code == 200
    r = org.mod(qid, "restore")
    assert r.get_json()["status"] == "answered"


def test_answer(org: Staff, phone: Callable[[], Phone]) -> None:
    p = phone()
    qid = asked(p, "What is a data trust?")
    assert org.mod(qid, "highlight").status_code == 200
    r = org.mod(qid, "answer")
    assert r.status_code == 200
    data = r.get_json()
    assert data["status"] == "answered"
    assert data["highlighted"] is False  # answering ends "now discussing"
    assert by_id(p.questions(), qid)["status"] == "answered"
    # answered questions can still be voted on
    assert p.vote(qid).status_code == 200
    # a hidden question cannot be marked answered
    hid = asked(p, "Another one")
    org.mod(hid, "hide", reason="Duplicate")
    r = org.mod(hid, "answer")
    assert r.status_code == 409 and error_code(r) == "not_visible"


def test_highlight_one_at_a_time(org: Staff, phone: Callable[[], Phone]) -> None:
    p = phone()
    first, second = seeded_ids(p)[:2]
    assert org.mod(first, "highlight").get_json()["highlighted"] is True
    assert org.mod(second, "highlight").get_json()["highlighted"] is True
    highlighted = [q["id"] for q in p.questions() if q["highlighted"]]
    assert highlighted == [second]
    r = org.mod(second, "unhighlight")
    assert r.status_code == 200 and r.get_json()["highlighted"] is False
    assert not [q for q in p.questions() if q["highlighted"]]
    # hidden and pending questions cannot go on the board
    org.mod(first, "hide", reason="Test")
    r = org.mod(first, "highlight")
    assert r.status_code == 409 and error_code(r) == "not_visible"


def test_hiding_the_highlighted_question_takes_it_off_the_board(
        org: Staff, phone: Callable[[], Phone]) -> None:
    p = phone()
    qid = seeded_ids(p)[0]
    org.mod(qid, "highlight")
    assert org.mod(qid, "hide", reason="Test").get_json()["highlighted"] is False


def test_pin_first_in_top_sort(org: Staff, phone: Callable[[], Phone]) -> None:
    voters = [phone(), phone()]
    qid_popular = asked(voters[0], "Popular question")
    for v in voters:
        assert v.vote(qid_popular).status_code == 200
    qid_quiet = asked(voters[1], "Quiet question")
    assert voters[0].questions()[0]["id"] == qid_popular
    r = org.mod(qid_quiet, "pin")
    assert r.status_code == 200 and r.get_json()["pinned"] is True
    top = voters[0].questions(sort="top")
    assert top[0]["id"] == qid_quiet and top[0]["pinned"] is True
    assert top[1]["id"] == qid_popular
    # "new" ignores pins
    assert voters[0].questions(sort="new")[0]["id"] == qid_quiet  # it is also the newest
    r = org.mod(qid_quiet, "unpin")
    assert r.get_json()["pinned"] is False
    assert voters[0].questions()[0]["id"] == qid_popular


def test_edit_keeps_the_original_for_staff_only(org: Staff, phone: Callable[[], Phone]) -> None:
    p = phone()
    qid = asked(p, "Who audts the algoritms?")
    r = org.mod(qid, "edit", body="Who audits the algorithms?", reason="Typo")
    assert r.status_code == 200, r.get_json()
    staff_view = r.get_json()
    assert staff_view["body"] == "Who audits the algorithms?"
    assert staff_view["original_body"] == "Who audts the algoritms?"
    assert staff_view["edited"] is True

    public = by_id(p.questions(), qid)
    assert public["body"] == "Who audits the algorithms?"
    assert public["edited"] is True
    assert "original_body" not in public
    raw = p.client.get(f"{API}/events/{CODE}/questions").get_data(as_text=True)
    assert "audts" not in raw

    # a second edit keeps the very first original
    r = org.mod(qid, "edit", body="Who audits the city's algorithms?")
    assert r.get_json()["original_body"] == "Who audts the algoritms?"
    assert by_id(org.questions(), qid)["original_body"] == "Who audts the algoritms?"

    for bad in ({}, {"body": ""}, {"body": "   "}, {"body": 5}, {"body": "x" * 501}):
        r = org.mod(qid, "edit", **bad)
        assert r.status_code == 400, bad
        error_code(r)
    assert by_id(org.questions(), qid)["body"] == "Who audits the city's algorithms?"


def test_merge_moves_distinct_voters_and_comments(org: Staff, phone: Callable[[], Phone]) -> None:
    a, b, c = phone(), phone(), phone()
    dup = asked(a, "Who owns city data?")
    target = asked(b, "Who owns the data a smart city collects?")
    for p in (a, b):
        assert p.vote(dup).status_code == 200
    for p in (b, c):
        assert p.vote(target).status_code == 200
    c1 = commented(c, dup, "Good point")
    c2 = commented(a, target, "Also the vendors")
    hidden_c = commented(b, dup, "Rude remark")
    assert org.mod_comment(hidden_c, "hide", reason="Personal attack").status_code == 200

    r = org.mod(dup, "merge", into=target, reason="Duplicate")
    assert r.status_code == 200, r.get_json()
    merged = r.get_json()
    assert merged["status"] == "hidden"
    assert merged["merged_into"] == target
    assert merged["votes"] == 0 and merged["comments"] == 0

    t = by_id(a.questions(), target)
    assert t["votes"] == 3  # a, b (counted once), c
    assert t["comments"] == 2  # the hidden comment moved but is not counted
    assert by_id(a.questions(), dup) is None
    assert [cm["id"] for cm in a.comments(target)] == sorted([c1, c2])
    assert {cm["id"] for cm in org.comments(target)} == {c1, c2, hidden_c}
    # b voted for both: their vote now counts on the target, once
    assert by_id(b.questions(), target)["voted"] is True
    assert by_id(a.questions(), target)["voted"] is True

    again = org.mod(dup, "merge", into=target)
    assert again.status_code == 409 and error_code(again) == "already_merged"
    r = org.mod(dup, "restore")
    assert r.status_code == 409  # a merged question stays merged


def test_merge_keeps_votes_whose_voters_were_forgotten(org: Staff,
                                                      phone: Callable[[], Phone]) -> None:
    a, b, c = phone(), phone(), phone()
    dup = asked(a, "Who audits the sensors?")
    target = asked(b, "Who audits the city's sensors?")
    assert c.vote(dup).status_code == 200
    assert b.vote(target).status_code == 200
    # c forgets themselves: their vote stays counted on dup, unlinked from them.
    assert c.client.delete(f"{API}/events/{CODE}/me", headers=c.headers).status_code == 200
    assert by_id(a.questions(), dup)["votes"] == 1
    assert org.mod(dup, "merge", into=target).status_code == 200
    assert by_id(a.questions(), target)["votes"] == 2


def test_answering_twice_is_refused(org: Staff, phone: Callable[[], Phone]) -> None:
    qid = asked(phone(), "Answer me once")
    assert org.mod(qid, "answer").status_code == 200
    again = org.mod(qid, "answer")
    assert again.status_code == 409 and error_code(again) == "already_answered"
    assert [e["action"] for e in org.log()].count("answer") == 1


def test_console_knows_who_is_muted(org: Staff, phone: Callable[[], Phone]) -> None:
    qid = asked(phone(), "Spam spam spam")
    assert org.mod(qid, "mute", reason="Flooding").status_code == 200
    assert by_id(org.questions(), qid)["author_muted"] is True
    assert org.mod(qid, "unmute").get_json()["author_muted"] is False


def test_merge_refusals(org: Staff, phone: Callable[[], Phone], other_event: str) -> None:
    p = phone()
    dup = asked(p, "Duplicate")
    target = asked(p, "Target")
    r = org.mod(dup, "merge", into=dup)
    assert r.status_code == 400 and error_code(r) == "merge_into_self"
    r = org.mod(dup, "merge")
    assert r.status_code == 400
    r = org.mod(dup, "merge", into="7")
    assert r.status_code == 400 and error_code(r) == "invalid_type"
    r = org.mod(dup, "merge", into=999999)
    assert r.status_code == 404
    elsewhere = org.client.post(f"{API}/events/{other_event}/questions",
                                json={"body": "In the other room"}, headers=org.headers)
    assert elsewhere.status_code == 201
    r = org.mod(dup, "merge", into=elsewhere.get_json()["id"])
    assert r.status_code == 404
    org.mod(target, "hide", reason="Test")
    r = org.mod(dup, "merge", into=target)
    assert r.status_code == 409 and error_code(r) == "not_visible"
    assert by_id(org.questions(), dup)["status"] == "visible"


def test_unknown_action_and_unknown_question(org: Staff, phone: Callable[[], Phone]) -> None:
    qid = seeded_ids(phone())[0]
    for bad in ({"action": "delete"}, {"action": 3}, {}, {"action": "HIDE"}):
        r = org.client.post(f"{API}/questions/{qid}/moderate", json=bad, headers=org.headers)
        assert r.status_code == 400, bad
        error_code(r)
    r = org.client.post(f"{API}/questions/{qid}/moderate", data="not json",
                        headers={**org.headers, "Content-Type": "application/json"})
    assert r.status_code == 400
    r = org.mod(999999, "hide")
    assert r.status_code == 404 and error_code(r) == "question_not_found"
    r = org.mod(qid, "hide", reason="x" * 501)
    assert r.status_code == 400 and error_code(r) == "too_long"


def test_hide_and_restore_comment(org: Staff, phone: Callable[[], Phone]) -> None:
    p = phone()
    qid = seeded_ids(p)[0]
    keep = commented(p, qid, "Useful remark")
    bad = commented(p, qid, "Insult text 7f3a")
    assert by_id(p.questions(), qid)["comments"] == 2

    r = org.mod_comment(bad, "hide", reason="Personal attack")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["hidden"] is True
    assert by_id(p.questions(), qid)["comments"] == 1
    assert [c["id"] for c in p.comments(qid)] == [keep]
    assert "hidden" not in p.comments(qid)[0]
    staff_thread = org.comments(qid)
    assert [(c["id"], c["hidden"]) for c in staff_thread] == [(keep, False), (bad, True)]

    again = org.mod_comment(bad, "hide")
    assert again.status_code == 409 and error_code(again) == "already_hidden"

    r = org.mod_comment(bad, "restore")
    assert r.status_code == 200 and r.get_json()["hidden"] is False
    assert by_id(p.questions(), qid)["comments"] == 2
    assert [c["id"] for c in p.comments(qid)] == [keep, bad]
    again = org.mod_comment(bad, "restore")
    assert again.status_code == 409 and error_code(again) == "not_hidden"

    r = org.mod_comment(bad, "pin")
    assert r.status_code == 400 and error_code(r) == "invalid_action"
    r = org.mod_comment(999999, "hide")
    assert r.status_code == 404 and error_code(r) == "comment_not_found"


def test_mute_and_unmute_author(org: Staff, phone: Callable[[], Phone]) -> None:
    troll, bystander = phone(), phone()
    qid = asked(troll, "First post")
    r = org.mod(qid, "mute", reason="Repeated insults")
    assert r.status_code == 200, r.get_json()
    r = troll.ask("Second post")
    assert r.status_code == 403 and error_code(r) == "muted"
    r = troll.comment(qid, "A comment")
    assert r.status_code == 403 and error_code(r) == "muted"
    # others are not affected, and the muted person can still read and vote
    assert bystander.ask("Unrelated").status_code == 201
    assert troll.vote(qid).status_code == 200
    assert org.mod(qid, "unmute").status_code == 200
    assert troll.ask("Back again").status_code == 201


def test_mute_through_a_comment(org: Staff, phone: Callable[[], Phone]) -> None:
    troll = phone()
    qid = seeded_ids(troll)[0]
    cid = commented(troll, qid, "Spam spam")
    r = org.mod_comment(cid, "mute", reason="Spam")
    assert r.status_code == 200
    r = troll.comment(qid, "More spam")
    assert r.status_code == 403 and error_code(r) == "muted"
    assert org.mod_comment(cid, "unmute").status_code == 200
    assert troll.comment(qid, "Sorry").status_code == 201


def test_mute_a_seeded_question_has_no_author(org: Staff, phone: Callable[[], Phone]) -> None:
    qid = seeded_ids(phone())[0]
    r = org.mod(qid, "mute")
    assert r.status_code == 409 and error_code(r) == "no_author"


# -- the log -------------------------------------------------------------------


def _setup_for(action: str, org: Staff, p: Phone) -> tuple[int, dict[str, Any]]:
    """A question ready for ``action`` and the extra payload it needs."""
    if action == "approve":
        org.patch({"moderation": "pre"})
        qid = asked(p, "Pending one")
        org.patch({"moderation": "post"})
        return qid, {}
    qid = asked(p, "A question to moderate")
    if action == "restore":
        org.mod(qid, "hide", reason="first")
    if action == "unhighlight":
        org.mod(qid, "highlight")
    if action == "unpin":
        org.mod(qid, "pin")
    if action == "unmute":
        org.mod(qid, "mute")
    if action == "edit":
        return qid, {"body": "An edited question"}
    if action == "merge":
        return qid, {"into": asked(p, "The target question")}
    return qid, {}


@pytest.mark.parametrize("action", ["approve", "hide", "restore", "answer", "highlight",
                                    "unhighlight", "pin", "unpin", "edit", "merge", "mute",
                                    "unmute"])
def test_every_question_action_is_logged(action: str, org: Staff,
                                         phone: Callable[[], Phone]) -> None:
    p = phone()
    qid, extra = _setup_for(action, org, p)
    reason = f"Reason for {action}"
    r = org.mod(qid, action, reason=reason, **extra)
    assert r.status_code == 200, r.get_json()
    entry = org.log()[0]  # newest first
    assert entry["action"] == action
    assert entry["question_id"] == qid
    assert entry["reason"] == reason
    assert entry["by"] == org.email
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", entry["at"]), entry["at"]
    assert set(entry) == {"id", "action", "question_id", "comment_id", "reason", "reason_code",
                          "by", "at"}


@pytest.mark.parametrize("action,logged", [("hide", "hide_comment"),
                                           ("restore", "restore_comment"),
                                           ("mute", "mute"), ("unmute", "unmute")])
def test_every_comment_action_is_logged(action: str, logged: str, org: Staff,
                                        phone: Callable[[], Phone]) -> None:
    p = phone()
    qid = seeded_ids(p)[0]
    cid = commented(p, qid, "A comment")
    if action == "restore":
        org.mod_comment(cid, "hide")
    if action == "unmute":
        org.mod_comment(cid, "mute")
    r = org.mod_comment(cid, action, reason="Because")
    assert r.status_code == 200, r.get_json()
    entry = org.log()[0]
    assert (entry["action"], entry["comment_id"], entry["reason"], entry["by"]) == (
        logged, cid, "Because", org.email)
    assert entry["at"]


def test_event_changes_are_logged(org: Staff) -> None:
    assert org.patch({"status": "closed", "reason": "Session over"}).status_code == 200
    entry = org.log()[0]
    assert (entry["action"], entry["reason"], entry["by"]) == (
        "status:closed", "Session over", org.email)
    org.patch({"moderation": "pre"})
    assert org.log()[0]["action"] == "moderation:pre"


def test_refused_actions_are_not_logged(org: Staff, phone: Callable[[], Phone]) -> None:
    qid = seeded_ids(phone())[0]
    before = len(org.log())
    assert org.mod(qid, "approve").status_code == 409
    assert org.mod(qid, "restore").status_code == 409
    assert len(org.log()) == before


# An action that would change nothing: refused with 409, never logged, never broadcast.
# (setup actions, the action, its extra payload, the code); the older specific codes
# stay where they say what is already so.
NO_CHANGE = [
    (["pin"], "pin", {}, "no_change"),
    ([], "unpin", {}, "no_change"),
    (["highlight"], "highlight", {}, "no_change"),
    ([], "unhighlight", {}, "no_change"),
    ([], "edit", {"body": "A question to moderate"}, "no_change"),
    (["mute"], "mute", {}, "no_change"),
    ([], "unmute", {}, "no_change"),
    (["hide"], "hide", {}, "already_hidden"),
    ([], "restore", {}, "not_hidden"),
    (["answer"], "answer", {}, "already_answered"),
    ([], "approve", {}, "not_pending"),
]


@pytest.mark.parametrize("setup,action,extra,code", NO_CHANGE,
                         ids=[f"{case[1]}-{case[3]}" for case in NO_CHANGE])
def test_an_action_that_changes_nothing_is_409_and_not_logged(
    setup: list[str], action: str, extra: dict[str, Any], code: str, org: Staff,
    phone: Callable[[], Phone], socket_client: Callable[..., Any],
) -> None:
    p = phone()
    qid = asked(p, "A question to moderate")
    for earlier in setup:
        assert org.mod(qid, earlier).status_code == 200
    console = socket_client(org.client)
    before_version = joined(console, staff=True)["version"]
    before = org.log()
    r = org.mod(qid, action, reason="Again", **extra)
    assert r.status_code == 409, r.get_json()
    assert error_code(r) == code
    assert org.log() == before
    assert console.get_received() == []
    assert joined(console, staff=True)["version"] == before_version


def test_merging_twice_is_refused_and_not_logged(org: Staff, phone: Callable[[], Phone]) -> None:
    p = phone()
    duplicate, target = asked(p, "Said once"), asked(p, "Said twice")
    assert org.mod(duplicate, "merge", into=target).status_code == 200
    before = org.log()
    r = org.mod(duplicate, "merge", into=target)
    assert (r.status_code, error_code(r)) == (409, "already_merged")
    assert org.log() == before


@pytest.mark.parametrize("setup,action,code", [(["hide"], "hide", "already_hidden"),
                                               ([], "restore", "not_hidden"),
                                               (["mute"], "mute", "no_change"),
                                               ([], "unmute", "no_change")])
def test_a_comment_action_that_changes_nothing_is_409_and_not_logged(
    setup: list[str], action: str, code: str, org: Staff, phone: Callable[[], Phone],
) -> None:
    p = phone()
    cid = commented(p, seeded_ids(p)[0], "A comment")
    for earlier in setup:
        assert org.mod_comment(cid, earlier).status_code == 200
    before = org.log()
    r = org.mod_comment(cid, action)
    assert (r.status_code, error_code(r)) == (409, code)
    assert org.log() == before


def test_no_change_is_said_in_the_readers_language(org: Staff, phone: Callable[[], Phone]) -> None:
    qid = asked(phone(), "A question to moderate")
    english = org.mod(qid, "unpin").get_json()["error"]["message"]
    org.client.set_cookie("lang", "es")
    spanish = org.mod(qid, "unpin").get_json()["error"]["message"]
    assert spanish != english and spanish.strip()


def test_public_moderation_never_shows_hidden_text(org: Staff, phone: Callable[[], Phone]) -> None:
    p = phone()
    secret_q = "SECRET-QUESTION-8c1d insult"
    secret_c = "SECRET-COMMENT-4e2b insult"
    secret_dup = "SECRET-DUPLICATE-91aa"
    secret_typo = "SECRET-TYPO-77ff"
    qid = asked(p, secret_q)
    target = seeded_ids(p)[0]
    cid = commented(p, target, secret_c)
    dup = asked(p, secret_dup)
    typo = asked(p, secret_typo)
    assert org.mod(qid, "hide", reason="Personal attack").status_code == 200
    assert org.mod_comment(cid, "hide", reason="Personal attack").status_code == 200
    assert org.mod(dup, "merge", into=target, reason="Duplicate").status_code == 200
    assert org.mod(typo, "edit", body="Fixed text", reason="Typo").status_code == 200
    org.mod(target, "highlight")  # not a public action

    r = phone().client.get(f"{API}/events/{CODE}/moderation")
    assert r.status_code == 200
    data = r.get_json()
    raw = r.get_data(as_text=True)
    for secret in ("SECRET", secret_q, secret_c, secret_dup, secret_typo, org.email):
        assert secret not in raw
    assert data["policy"]
    assert data["hidden"] == {"questions": 2, "comments": 1}  # the merged one is hidden too
    actions = [e["action"] for e in data["entries"]]
    assert {"hide", "hide_comment", "merge", "edit"} <= set(actions)
    assert "highlight" not in actions
    for e in data["entries"]:
        assert set(e) == {"action", "reason", "reason_code", "at"}
    assert {"action": "hide", "reason": "Personal attack"}.items() <= next(
        e for e in data["entries"] if e["action"] == "hide").items()


# -- pre-moderation over sockets ------------------------------------------------


def test_pending_question_reaches_staff_and_author_only(org: Staff, phone: Callable[[], Phone],
                                                       socket_client: Callable[..., Any]) -> None:
    assert org.patch({"moderation": "pre"}).status_code == 200
    author, other = phone(), phone()
    author_sc, other_sc, staff_sc = (socket_client(author.client), socket_client(other.client),
                                     socket_client(org.client))
    joined(author_sc)
    joined(other_sc)
    joined(staff_sc, staff=True)

    ack = author_sc.emit("ask", {"body": "Pending via socket PEND-55", "client_id": "c-1"},
                         callback=True)
    assert ack["ok"], ack
    assert ack["question"]["status"] == "pending"
    qid = ack["question"]["id"]

    mine = [q for q in received(author_sc, "question") if q["id"] == qid]
    assert mine and mine[-1]["status"] == "pending" and mine[-1]["mine"] is True
    staff_got = [q for q in received(staff_sc, "question") if q["id"] == qid]
    assert staff_got and staff_got[-1]["status"] == "pending"
    assert "original_body" in staff_got[-1]
    others = other_sc.get_received()
    assert not [m for m in others if m["name"] == "question"]
    assert "PEND-55" not in json.dumps(others)
    # Not even its id: a question never shown is not "removed" from anyone's list.
    assert not [m for m in others if m["name"] == "question_removed"]

    # a reconnecting client's join: the author sees it, another participant does not
    assert by_id(joined(socket_client(author.client))["questions"], qid)
    assert by_id(joined(socket_client(other.client))["questions"], qid) is None
    assert by_id(joined(socket_client(org.client), staff=True)["questions"], qid)

    # approval over the socket broadcasts it to everyone
    ack = staff_sc.emit("moderate", {"question_id": qid, "action": "approve"}, callback=True)
    assert ack["ok"], ack
    assert ack["question"]["status"] == "visible"
    now = [q for q in received(other_sc, "question") if q["id"] == qid]
    assert now and now[-1]["status"] == "visible"
    assert "original_body" not in now[-1]


# -- closing the event ----------------------------------------------------------


def test_closing_the_event_refuses_posts_and_votes(org: Staff, phone: Callable[[], Phone],
                                                   socket_client: Callable[..., Any]) -> None:
    p = phone()
    qid = seeded_ids(p)[0]
    sc = socket_client(p.client)
    joined(sc)
    r = org.patch({"status": "closed"})
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    events = received(sc, "event")
    assert events and events[-1]["status"] == "closed"

    for response in (p.ask("Too late"), p.vote(qid), p.vote(qid, up=False),
                     p.comment(qid, "Too late")):
        assert response.status_code == 409
        assert error_code(response) == "event_closed"
    ack = sc.emit("ask", {"body": "Too late", "client_id": "late-1"}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "event_closed"
    ack = sc.emit("vote", {"question_id": qid, "up": True}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "event_closed"
    # reading still works, and staff can still moderate
    assert p.questions()
    assert org.mod(qid, "answer").status_code == 200

    assert org.patch({"status": "live"}).status_code == 200
    assert p.ask("Open again").status_code == 201


# -- refusals over HTTP -----------------------------------------------------------


def _staff_requests(qid: int, cid: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("post", f"{API}/questions/{qid}/moderate", {"action": "hide", "reason": "x"}),
        ("post", f"{API}/comments/{cid}/moderate", {"action": "hide"}),
        ("get", f"{API}/events/{CODE}/moderation-log", None),
        ("patch", f"{API}/events/{CODE}", {"status": "closed"}),
    ]


def _call(client: FlaskClient, headers: dict[str, str], method: str, url: str,
          body: dict[str, Any] | None) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(url, **kwargs)


def test_refusals_without_login(phone: Callable[[], Phone], org: Staff) -> None:
    p = phone()
    qid = seeded_ids(p)[0]
    cid = commented(p, qid, "Mine")
    own = asked(p, "My own question")
    requests = [
        *_staff_requests(qid, cid),
        ("post", f"{API}/questions/{own}/moderate", {"action": "pin"}),  # even on their own
        ("post", f"{API}/events", {"code": "new-room", "title": "New"}),
        ("post", f"{API}/events/seed", {"toml": "format = 1"}),
        ("get", f"{API}/events", None),
    ]
    anonymous = phone()  # never posted anything
    for who in (p, anonymous):
        for method, url, body in requests:
            r = _call(who.client, who.headers, method, url, body)
            assert r.status_code == 401, (method, url, r.status_code)
            assert error_code(r) == "login_required"
    # nothing changed
    assert by_id(org.questions(), qid)["status"] == "visible"
    assert org.comments(qid)[0]["hidden"] is False
    assert org.client.get(f"{API}/events/{CODE}").get_json()["status"] == "live"


def test_refusals_for_a_moderator_of_another_event(staff: Callable[..., Staff], org: Staff,
                                                   other_event: str,
                                                   phone: Callable[[], Phone]) -> None:
    p = phone()
    qid = seeded_ids(p)[0]
    cid = commented(p, qid, "A comment")
    outsider = staff("moderator", events=(other_event,))
    for method, url, body in [
        *_staff_requests(qid, cid),
        ("post", f"{API}/questions/{qid}/moderate", {"action": "edit", "body": "Vandalised"}),
        ("post", f"{API}/questions/{qid}/moderate", {"action": "highlight"}),
    ]:
        r = _call(outsider.client, outsider.headers, method, url, body)
        assert r.status_code == 403, (method, url, r.status_code)
        assert error_code(r) == "forbidden"
    # their own event works
    assert outsider.patch({"moderation": "pre"}, code=other_event).status_code == 200
    assert outsider.log(code=other_event)
    # the console page of the other event is refused too
    assert outsider.client.get(f"/e/{CODE}/moderate").status_code == 403
    assert outsider.client.get(f"/e/{other_event}/moderate").status_code == 200
    assert by_id(org.questions(), qid)["body"] != "Vandalised"


def test_moderator_of_this_event_can_moderate(staff: Callable[..., Staff],
                                              phone: Callable[[], Phone]) -> None:
    mod = staff("moderator", events=(CODE,))
    qid = seeded_ids(phone())[0]
    assert mod.mod(qid, "highlight").status_code == 200
    assert mod.log()[0]["by"] == mod.email


def test_csrf_is_required_for_staff_writes(org: Staff, phone: Callable[[], Phone]) -> None:
    qid = seeded_ids(phone())[0]
    r = org.client.post(f"{API}/questions/{qid}/moderate", json={"action": "hide"})
    assert r.status_code == 400 and error_code(r) == "csrf_failed"
    r = org.client.patch(f"{API}/events/{CODE}", json={"status": "closed"})
    assert r.status_code == 400
    assert by_id(org.questions(), qid)["status"] == "visible"


# -- refusals and actions over the socket -----------------------------------------


def test_socket_moderate_refusals(phone: Callable[[], Phone], staff: Callable[..., Staff],
                                  other_event: str, org: Staff,
                                  socket_client: Callable[..., Any]) -> None:
    p = phone()
    qid = seeded_ids(p)[0]
    cid = commented(p, qid, "A comment")
    participant_sc = socket_client(p.client)
    joined(participant_sc)
    bare_sc = socket_client()  # no cookie at all

    outsider = staff("moderator", events=(other_event,))
    outsider_sc = socket_client(outsider.client)
    joined(outsider_sc, code=other_event, staff=True)

    cases = [
        (participant_sc, "login_required"),
        (bare_sc, "login_required"),
        (outsider_sc, "forbidden"),
    ]
    for sc, code in cases:
        for payload in ({"question_id": qid, "action": "hide", "reason": "x"},
                        {"question_id": qid, "action": "highlight"},
                        {"comment_id": cid, "action": "hide"}):
            ack = sc.emit("moderate", payload, callback=True)
            assert ack["ok"] is False, (code, payload, ack)
            assert ack["error"]["code"] == code, ack
            assert ack["error"]["message"]
        ack = sc.emit("join", {"event": CODE, "staff": True}, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == code, ack
    assert by_id(org.questions(), qid)["status"] == "visible"
    assert not [q for q in org.questions() if q["highlighted"]]
    assert org.comments(qid)[0]["hidden"] is False

    # malformed moderate payloads from staff
    staff_sc = socket_client(org.client)
    joined(staff_sc, staff=True)
    for payload in ({"question_id": qid, "action": "explode"},
                    {"question_id": "1", "action": "hide"},
                    {"comment_id": cid, "action": "pin"},
                    {"question_id": qid, "action": "edit"},
                    {"question_id": qid, "action": "merge"},
                    "hide", None, [1, 2]):
        ack = staff_sc.emit("moderate", payload, callback=True)
        assert ack["ok"] is False, payload
        assert ack["error"]["code"] != "internal", (payload, ack)


def test_socket_moderate_actions_and_broadcasts(org: Staff, phone: Callable[[], Phone],
                                                socket_client: Callable[..., Any]) -> None:
    p = phone()
    qid = asked(p, "Socket moderation target")
    target = seeded_ids(p)[0]
    cid = commented(p, target, "Socket comment")
    staff_sc = socket_client(org.client)
    ack = joined(staff_sc, staff=True)
    mine = by_id(ack["questions"], qid)
    assert {"original_body", "merged_into", "quote"} <= set(mine)
    public_sc = socket_client(p.client)
    joined(public_sc)

    def moderate(**payload: Any) -> dict[str, Any]:
        ack = staff_sc.emit("moderate", payload, callback=True)
        assert ack["ok"], (payload, ack)
        return ack

    q = moderate(question_id=qid, action="highlight")["question"]
    assert q["highlighted"] is True
    assert [m for m in received(public_sc, "question") if m["id"] == qid][-1]["highlighted"]

    q = moderate(question_id=qid, action="edit", body="Edited over the socket")["question"]
    assert q["original_body"] == "Socket moderation target"
    pub = [m for m in received(public_sc, "question") if m["id"] == qid][-1]
    assert pub["body"] == "Edited over the socket" and "original_body" not in pub
    staff_msgs = [m for m in received(staff_sc, "question") if m["id"] == qid]
    assert staff_msgs[-1]["original_body"] == "Socket moderation target"

    q = moderate(question_id=qid, action="hide", reason="Test")["question"]
    assert q["status"] == "hidden"
    msgs = public_sc.get_received()
    assert {"id": qid} in [m["args"][0] for m in msgs if m["name"] == "question_removed"]
    assert "Edited over the socket" not in json.dumps(msgs)

    c = moderate(comment_id=cid, action="hide", reason="Rude")["comment"]
    assert c["hidden"] is True
    removed = received(public_sc, "comment_removed")
    assert {"id": cid, "question_id": target} in removed
    counts = [m for m in received(staff_sc, "question") if m["id"] == target]
    assert counts and counts[-1]["comments"] == 0

    moderate(comment_id=cid, action="restore")
    assert [m["id"] for m in received(public_sc, "comment")] == [cid]

    log = org.log()
    assert [e["action"] for e in log[:5]] == ["restore_comment", "hide_comment", "hide", "edit",
                                              "highlight"]
    assert all(e["by"] == org.email for e in log[:5])


def test_staff_socket_sits_in_the_staff_room_only(org: Staff, phone: Callable[[], Phone],
                                                  socket_client: Callable[..., Any]) -> None:
    staff_sc = socket_client(org.client)
    joined(staff_sc, staff=True)
    p = phone()
    qid = asked(p, "Once only")
    got = [m for m in received(staff_sc, "question") if m["id"] == qid]
    assert len(got) == 1  # the staff shape, not the public one as well
    assert "original_body" in got[0]


def test_a_second_event_room_receives_nothing_of_the_first(
        org: Staff, staff: Callable[..., Staff], other_event: str, phone: Callable[[], Phone],
        socket_client: Callable[..., Any]) -> None:
    p = phone()
    elsewhere = phone()
    other_mod = staff("moderator", events=(other_event,))
    other_public = socket_client(elsewhere.client)
    joined(other_public, code=other_event)
    other_staff = socket_client(other_mod.client)
    joined(other_staff, code=other_event, staff=True)
    first_staff = socket_client(org.client)
    joined(first_staff, staff=True)
    first_public = socket_client(p.client)
    joined(first_public)
    other_public.get_received()
    other_staff.get_received()

    qid = asked(p, "First room only")
    target = seeded_ids(p)[0]
    assert p.vote(target).status_code == 200
    cid = commented(p, target, "First room comment")
    org.mod(qid, "highlight")
    org.mod(qid, "edit", body="First room edited")
    org.mod_comment(cid, "hide", reason="x")
    org.mod(qid, "hide", reason="x")
    org.patch({"moderation": "pre"})
    asked(p, "First room pending")
    org.patch({"status": "closed"})
    ack = first_staff.emit("moderate", {"question_id": target, "action": "pin"}, callback=True)
    assert ack["ok"]

    assert other_public.get_received() == []
    assert other_staff.get_received() == []
    assert received(first_public, "question")  # the first room did hear it


# -- events: create and update ------------------------------------------------------


def test_create_event(org: Staff, staff: Callable[..., Staff]) -> None:
    r = org.client.post(f"{API}/events", json={
        "code": "Data-Room", "title": "Data room", "date": "2016-12-09", "place": "Sala 2",
        "topics": ["Consent", "Open data"], "moderation": "pre",
    }, headers=org.headers)
    assert r.status_code == 201, r.get_json()
    ev = r.get_json()
    assert ev["code"] == "data-room"
    assert ev["status"] == "live"  # live unless told otherwise
    assert ev["moderation"] == "pre"
    assert ev["topics"] == [{"slug": "consent", "name": "Consent", "translations": {}},
                            {"slug": "open-data", "name": "Open data", "translations": {}}]
    assert org.log(code="data-room")[0]["action"] == "create_event"
    listed = org.client.get(f"{API}/events").get_json()["events"]
    assert any(e["code"] == "data-room" for e in listed)

    dup = org.client.post(f"{API}/events", json={"code": "DATA-ROOM", "title": "Again"},
                          headers=org.headers)
    assert dup.status_code == 409 and error_code(dup) == "code_taken"
    draft = org.client.post(f"{API}/events", json={"code": "later", "title": "Later",
                                                   "status": "draft"}, headers=org.headers)
    assert draft.status_code == 201 and draft.get_json()["status"] == "draft"

    for bad in ({"title": "No code"}, {"code": "x", "title": "Short code"},
                {"code": "ok-code", "title": ""}, {"code": "ok-code", "title": "T",
                                                   "status": "open"},
                {"code": "ok-code", "title": "T", "topics": "Consent"}):
        r = org.client.post(f"{API}/events", json=bad, headers=org.headers)
        assert r.status_code == 400, bad
        error_code(r)

    mod = staff("moderator", events=(CODE,))
    r = mod.client.post(f"{API}/events", json={"code": "mine", "title": "Mine"},
                        headers=mod.headers)
    assert r.status_code == 403 and error_code(r) == "forbidden"


def test_patch_event_by_moderator_and_organiser(org: Staff, staff: Callable[..., Staff],
                                                phone: Callable[[], Phone]) -> None:
    mod = staff("moderator", events=(CODE,))
    r = mod.patch({"status": "closed"})
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    r = mod.patch({"moderation": "pre", "status": "live"})
    assert r.status_code == 200 and r.get_json()["moderation"] == "pre"
    for field, value in (("title", "Hijacked"), ("policy", "Anything goes"),
                         ("retention_days", 1), ("moderators", [mod.email]),
                         ("topics", ["One"])):
        r = mod.patch({field: value})
        assert r.status_code == 403, field
        assert error_code(r) == "forbidden"
    assert org.client.get(f"{API}/events/{CODE}").get_json()["title"] != "Hijacked"

    helper = staff("moderator", events=())
    r = org.patch({"title": "Smart Cities (renamed)", "description": "New text",
                   "policy": "Be kind.", "licence": "CC-BY-SA-4.0", "retention_days": 30,
                   "topics": ["Consent", "Nueva privacidad"], "moderators": [helper.email]})
    assert r.status_code == 200, r.get_json()
    ev = r.get_json()
    assert ev["title"] == "Smart Cities (renamed)"
    assert ev["licence"] == "CC-BY-SA-4.0"
    assert [t["name"] for t in ev["topics"]] == ["Consent", "Nueva privacidad"]
    assert phone().client.get(f"{API}/events/{CODE}/moderation").get_json()["policy"] == "Be kind."
    # the appointed moderator can now moderate it
    assert helper.patch({"status": "closed"}).status_code == 200

    r = org.patch({"moderators": ["nobody@example.org"]})
    assert r.status_code == 400 and error_code(r) == "unknown_user"
    for bad in ({"status": "paused"}, {"moderation": "none"}, {"retention_days": 0},
                {"retention_days": "30"}, {"title": ""}):
        r = org.patch(bad)
        assert r.status_code == 400, bad
        error_code(r)


def test_patch_leaves_out_clears_and_refuses_nulls_as_documented(app: Any, org: Staff) -> None:
    """docs/api.md: a field left out is unchanged; null clears a text and the day, sets
    UTC again, leaves a list as it is, and is refused where a value is needed."""
    r = org.patch({"description": "Some words", "place": "Sala 2", "speakers": ["Ana"],
                   "date": "2017-01-05", "timezone": "Europe/Lisbon"})
    assert r.status_code == 200, r.get_json()
    before = r.get_json()
    r = org.patch({"description": None, "place": "  ", "speakers": None, "topics": None,
                   "date": None, "timezone": None})
    assert r.status_code == 200, r.get_json()
    after = r.get_json()
    assert (after["description"], after["place"], after["date"]) == ("", "", None)
    with app.app_context():
        assert db.session.query(Event.timezone).filter_by(code=CODE).scalar() == "UTC"
    assert after["speakers"] == ["Ana"] and after["topics"] == before["topics"]
    assert after["title"] == before["title"] and after["policy"] == before["policy"]
    for field, code in (("title", "empty"), ("status", "invalid_status"),
                        ("moderation", "invalid_moderation"),
                        ("retention_days", "invalid_retention"),
                        ("translations", "invalid_type")):
        r = org.patch({field: None})
        assert r.status_code == 400 and error_code(r) == code, field


def test_seed_upload(org: Staff, staff: Callable[..., Staff]) -> None:
    toml = ('format = 1\n[event]\ncode = "seeded-room"\ntitle = "Seeded room"\n'
            '[[topics]]\nslug = "a"\nname = "A"\n'
            '[[questions]]\ntopic = "a"\nbody = "A seeded question"\n')
    r = org.client.post(f"{API}/events/seed", json={"toml": toml}, headers=org.headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["added"] == 1
    r = org.client.post(f"{API}/events/seed", json={"toml": toml}, headers=org.headers)
    assert r.get_json()["added"] == 0  # idempotent
    r = org.client.post(f"{API}/events/seed", json={"toml": "not = [valid"}, headers=org.headers)
    assert r.status_code == 400 and error_code(r) == "invalid_seed"
    mod = staff("moderator", events=(CODE,))
    r = mod.client.post(f"{API}/events/seed", json={"toml": toml}, headers=mod.headers)
    assert r.status_code == 403


# -- the staff pages ------------------------------------------------------------------

INLINE = re.compile(
    r"""<style|\sstyle\s*=|\son[a-z]+\s*=|<script(?![^>]*\b(src=|type="application/json"))""", re.I
)


def test_console_page(org: Staff, phone: Callable[[], Phone], app: Any) -> None:
    assert app.test_client().get(f"/e/{CODE}/moderate").status_code == 302
    p = phone()
    assert p.client.get(f"/e/{CODE}/moderate").status_code == 302
    org.patch({"moderation": "pre"})
    pending = asked(p, "Pending <b>bold</b> question")
    r = org.client.get(f"/e/{CODE}/moderate")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert not INLINE.search(html), INLINE.search(html)
    assert 'id="page-data"' in html and 'id="strings"' in html
    assert "<b>bold</b>" not in html  # escaped
    data = json.loads(re.search(r'id="page-data">(.*?)</script>', html, re.S).group(1))
    assert by_id(data["questions"], pending)["status"] == "pending"
    for href in (f"/e/{CODE}/board", f"/e/{CODE}/export.csv", f"/e/{CODE}/export.json",
                 f"/e/{CODE}/export.md", f"/e/{CODE}/export.html"):
        assert f'href="{href}"' in html
    # organisers get the settings form; moderators do not
    assert 'id="settings-form"' in html
    mod = staff_page(app, org)
    assert 'id="settings-form"' not in mod


def staff_page(app: Any, org: Staff) -> str:
    """The console as seen by a moderator of the event."""
    import helpers

    client = app.test_client()
    with app.app_context():
        from discussion.cli import _create_user

        _create_user("console-mod@example.org", "moderator", "correct horse battery", (CODE,))
    response = helpers.login(client, "console-mod@example.org", "correct horse battery")
    assert response.status_code == 302
    r = client.get(f"/e/{CODE}/moderate")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_staff_home(org: Staff, staff: Callable[..., Staff], app: Any) -> None:
    assert app.test_client().get("/staff").status_code == 302
    html = org.client.get("/staff").get_data(as_text=True)
    assert not INLINE.search(html)
    assert f'href="/e/{CODE}/moderate"' in html
    assert 'id="create-form"' in html and 'id="seed-form"' in html
    mod = staff("moderator", events=())
    html = mod.client.get("/staff").get_data(as_text=True)
    assert f'href="/e/{CODE}/moderate"' not in html
    assert 'id="create-form"' not in html


def _strings_block(html: str) -> dict[str, str]:
    return json.loads(re.search(r'id="strings">(.*?)</script>', html, re.S).group(1))


# Keys the scripts build at run time from a prefix and a state or an error code.
CONSOLE_KEYS = {
    "err_": ["not_pending", "not_hidden", "not_visible", "already_hidden", "already_merged",
             "no_author", "login_required", "forbidden", "csrf_failed", "merge_into_self",
             "question_not_found", "comment_not_found", "empty", "too_long", "unknown_user",
             "invalid_retention"],
    "status_": ["pending", "visible", "answered", "hidden"],
    "empty_": ["all", "pending", "visible", "answered", "hidden"],
    "event_": ["live", "closed", "draft"],
    "conn_": ["connecting", "connected", "reconnecting", "offline"],
    "done_comment_": ["hide", "restore", "mute", "unmute"],
}
STAFF_KEYS = {
    "err_": ["code_taken", "invalid_code", "login_required", "forbidden", "csrf_failed",
             "invalid_date"],
    "status_": ["live", "closed", "draft"],
    "mode_": ["post", "pre"],
}


def test_console_script_is_a_module_importing_lib_by_fingerprint(org: Staff) -> None:
    html = org.client.get(f"/e/{CODE}/moderate").get_data(as_text=True)
    module = re.search(r'<script type="module" src="(/static/js/moderate\.js\?v=[0-9a-f]{12})">',
                       html)
    lib = re.search(r'<link rel="modulepreload" href="/static/js/lib\.js\?v=([0-9a-f]{12})">', html)
    assert module and lib
    source = org.client.get(module.group(1)).get_data(as_text=True)
    assert f"from './lib.js?v={lib.group(1)}'" in source


@pytest.mark.parametrize("page,script,dynamic", [
    (f"/e/{CODE}/moderate", "moderate.js", CONSOLE_KEYS),
    ("/staff", "staff.js", STAFF_KEYS),
])
def test_every_string_the_script_uses_is_in_the_page(page: str, script: str,
                                                      dynamic: dict[str, list[str]],
                                                      org: Staff, app: Any) -> None:
    """The scripts carry no English of their own: each S.key they read is rendered by _()."""
    from pathlib import Path

    source = (Path(app.static_folder) / "js" / script).read_text(encoding="utf-8")
    used = set(re.findall(r"\bS\.([a-z_]+)", source))
    used |= {k for k in re.findall(r"""\bS\['([a-z_]+)'\]""", source)}
    for prefix, names in dynamic.items():
        assert f"S['{prefix}' +" in source, prefix
        used |= {prefix + n for n in names}
    for plural in re.findall(r"plural\('([a-z_]+)'", source):
        used |= {plural + "_one", plural + "_other"}
    used |= set(re.findall(r"'((?:log|done)_[a-z_]*[a-z])'", source))
    strings = _strings_block(org.client.get(page).get_data(as_text=True))
    missing = sorted(k for k in used if k not in strings)
    assert not missing, missing
    assert all(isinstance(v, str) and v.strip() for v in strings.values())

"""Staff rights that can be taken back, safe redirects, forget me that keeps one vote,
keyed participant keys, files at rest and caching: the hostile checks of the second round.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from helpers import csrf_headers, login, received
from sqlalchemy import select
from test_moderation import Phone, Staff

API = "/api/v1"
CODE = "smartcities"


@pytest.fixture
def phone(app: Any) -> Callable[[], Phone]:
    def make() -> Phone:
        client = app.test_client()
        return Phone(client, csrf_headers(client))

    return make


@pytest.fixture
def staff(app: Any, staff_login: Callable[..., Any]) -> Callable[..., Staff]:
    counter = iter(range(1, 1000))

    def make(role: str = "organiser", events: tuple[str, ...] = ()) -> Staff:
        client = app.test_client()
        email = f"{role}-{next(counter)}@example.org"
        user_id = staff_login(client, role=role, events=events, email=email)
        return Staff(client, csrf_headers(client), user_id, email)

    return make


def _pending(phone: Phone, org: Staff, body: str = "Waiting for a moderator") -> int:
    assert org.patch({"moderation": "pre"}).status_code == 200
    r = phone.ask(body)
    assert r.get_json()["status"] == "pending"
    return int(r.get_json()["id"])


def _logout(staff: Staff) -> Any:
    return staff.client.post("/logout", data={"csrf_token": staff.headers["X-CSRFToken"]})


# -- staff sessions end at once ----------------------------------------------------


def test_a_session_cookie_saved_before_logout_is_dead_after_it(
    app: Flask, staff: Callable[..., Staff]
) -> None:
    org = staff("organiser")
    saved = org.client.get_cookie("discussion_session")
    assert saved is not None
    assert org.client.get("/staff").status_code == 200
    assert _logout(org).status_code == 302
    thief = app.test_client()
    thief.set_cookie("discussion_session", saved.value)
    assert thief.get("/staff").status_code == 302  # to the login form
    assert thief.get(f"{API}/events/{CODE}/moderation-log").status_code == 401


def test_get_logout_changes_nothing(staff: Callable[..., Staff]) -> None:
    org = staff("organiser")
    page = org.client.get("/logout")
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    assert org.client.get("/staff").status_code == 200
    # A cross-site POST without the token is refused and changes nothing either.
    assert org.client.post("/logout").status_code == 400
    assert org.client.get("/staff").status_code == 200


def test_logout_ends_every_browser_of_the_account(
    app: Flask, staff: Callable[..., Staff]
) -> None:
    org = staff("organiser")
    other_browser = app.test_client()
    other_browser.set_cookie("discussion_session",
                             org.client.get_cookie("discussion_session").value)
    _logout(org)
    assert other_browser.get("/staff").status_code == 302


def test_an_open_console_loses_its_rights_at_logout(
    staff: Callable[..., Staff], phone: Callable[[], Phone], socket_client: Any
) -> None:
    org = staff("organiser")
    p = phone()
    console = socket_client(org.client)
    assert console.emit("join", {"event": CODE, "staff": True}, callback=True)["ok"]
    qid = _pending(p, org, "First pending")
    assert any(m.get("id") == qid for m in received(console, "question"))
    _logout(org)
    assert "session_ended" in [m["name"] for m in console.get_received()]
    # No staff room any more: the next pending text does not reach it...
    p.ask("Second pending, private")
    assert not any("private" in str(m) for m in console.get_received())
    # ...and staff events are refused.
    ack = console.emit("moderate", {"question_id": 1, "action": "pin"}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "login_required"


def test_a_moderator_removed_from_an_event_stops_receiving_its_staff_room(
    staff: Callable[..., Staff], phone: Callable[[], Phone], socket_client: Any
) -> None:
    org = staff("organiser")
    mod = staff("moderator", (CODE,))
    p = phone()
    console = socket_client(mod.client)
    assert console.emit("join", {"event": CODE, "staff": True}, callback=True)["ok"]
    assert org.patch({"moderators": []}).status_code == 200
    assert "session_ended" in [m["name"] for m in console.get_received()]
    qid = _pending(p, org, "Pending after removal, private")
    assert not any("private" in str(m) for m in console.get_received())
    ack = console.emit("moderate", {"question_id": qid, "action": "approve"}, callback=True)
    assert ack["ok"] is False
    assert mod.client.get(f"/e/{CODE}/moderate").status_code == 403
    again = console.emit("join", {"event": CODE, "staff": True}, callback=True)
    assert again["ok"] is False and again["error"]["code"] == "forbidden"


@pytest.mark.parametrize("command", [
    ["users", "dismiss", "{email}", "--event", CODE],
    ["users", "set-password", "{email}", "--password", "another long password"],
    ["users", "set-role", "{email}", "--role", "moderator"],
    ["users", "remove", "{email}"],
])
def test_the_users_commands_end_rights_on_open_sockets(
    app: Flask, runner: Any, staff: Callable[..., Staff], phone: Callable[[], Phone],
    socket_client: Any, command: list[str],
) -> None:
    from discussion.sockets import check_staff

    role = "organiser" if "set-role" in command else "moderator"
    mod = staff(role, (CODE,))
    console = socket_client(mod.client)
    assert console.emit("join", {"event": CODE, "staff": True}, callback=True)["ok"]
    result = runner.invoke(args=[part.format(email=mod.email) for part in command])
    assert result.exit_code == 0, result.output
    # A server process sees a change made by the command within STAFF_CHECK_INTERVAL;
    # this is the check it runs then.
    with app.app_context():
        check_staff()
    assert "session_ended" in [m["name"] for m in console.get_received()]
    if "dismiss" not in command:
        assert mod.client.get("/staff").status_code == 302


def test_an_outsider_staff_account_reads_nothing_confidential(
    staff: Callable[..., Staff], phone: Callable[[], Phone], socket_client: Any
) -> None:
    org = staff("organiser")
    outsider = staff("moderator", ())
    p = phone()
    pending = _pending(p, org, "PENDING-SECRET")
    org.patch({"moderation": "post"})
    visible = p.ask("A question with a hidden comment").get_json()["id"]
    cid = p.comment(visible, "HIDDEN-COMMENT-SECRET").get_json()["id"]
    assert org.mod_comment(cid, "hide").status_code == 200
    assert org.mod(visible, "edit", body="Edited, no number").status_code == 200
    listed = outsider.client.get(f"{API}/events/{CODE}/questions").get_data(as_text=True)
    thread = outsider.client.get(f"{API}/questions/{visible}/comments").get_data(as_text=True)
    for raw in (listed, thread):
        assert "SECRET" not in raw and "original_body" not in raw
    assert outsider.client.get(f"{API}/questions/{pending}/comments").status_code == 404
    sc = socket_client(outsider.client)
    ack = sc.emit("join", {"event": CODE}, callback=True)
    assert ack["ok"] and "SECRET" not in str(ack)
    # Drafts: only their moderators see them.
    org.client.post(f"{API}/events", json={"code": "draft-room", "title": "DRAFT-SECRET",
                                           "status": "draft"}, headers=org.headers)
    assert outsider.client.get(f"{API}/events/draft-room").status_code == 404
    assert outsider.client.get("/e/draft-room").status_code == 404
    assert org.client.get(f"{API}/events/draft-room").status_code == 200


# -- redirects ------------------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.example", "/%09/evil.example", "/\t/evil.example", "/\\evil.example",
    "\\\\evil.example", "https://evil.example/", "http:evil.example", "/%2F/evil.example",
    " //evil.example", "/\n/evil.example", "\x00/x", "javascript:alert(1)", "//%5Cevil.example",
    "/%5C/evil.example", "////evil.example", "https:/evil.example", "/\r\nLocation: x",
    "%2F%2Fevil.example", "evil.example", "/" + "a" * 5000,
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_never_leaves_the_site(
    app: Flask, client: Any, runner: Any, target: str
) -> None:
    runner.invoke(args=["users", "create", "o@example.org", "--role", "organiser",
                        "--password", "a long password"])
    encoded = quote(target, safe="")
    page = client.get(f"/login?next={encoded}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = client.post(f"/login?next={encoded}", data={
        "email": "o@example.org", "password": "a long password", "csrf_token": token})
    assert r.status_code == 302
    assert r.headers["Location"] == "/staff"
    lang = client.get(f"/lang/es?next={encoded}")
    assert lang.status_code == 302 and lang.headers["Location"] == "/"


def test_a_local_next_is_kept(app: Flask, client: Any, runner: Any) -> None:
    runner.invoke(args=["users", "create", "o@example.org", "--role", "organiser",
                        "--password", "a long password"])
    assert client.get("/e/smartcities/moderate").headers["Location"].endswith(
        "next=/e/smartcities/moderate")
    r = login(client, "o@example.org", "a long password")
    assert r.headers["Location"] == "/staff"
    page = client.get("/login?next=/e/smartcities/moderate")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = client.post("/login?next=/e/smartcities/moderate", data={
        "email": "o@example.org", "password": "a long password", "csrf_token": token})
    assert r.headers["Location"] == "/e/smartcities/moderate"


# -- forget me keeps one person, one vote ----------------------------------------------


def test_forget_me_cannot_mint_a_new_voter(phone: Callable[[], Phone]) -> None:
    me = phone()
    for _round in range(3):
        r = me.vote(1)
        assert r.status_code == 200
        assert r.get_json()["votes"] == 1 and r.get_json()["voted"] is True
        assert me.client.delete(f"{API}/events/{CODE}/me", headers=me.headers).status_code == 200
    listed = {q["id"]: q for q in me.questions()}
    assert listed[1]["votes"] == 1 and listed[1]["voted"] is True
    # Taking the vote back still works, once.
    assert me.vote(1, up=False).get_json() == {"id": 1, "votes": 0, "voted": False}
    assert me.vote(1, up=False).get_json()["votes"] == 0
    assert me.vote(1).get_json()["votes"] == 1


def test_a_mute_survives_forget_me(
    staff: Callable[..., Staff], phone: Callable[[], Phone]
) -> None:
    org = staff("organiser")
    me = phone()
    qid = me.ask("Something rude").get_json()["id"]
    assert org.mod(qid, "mute", reason="Rude").status_code == 200
    assert me.client.delete(f"{API}/events/{CODE}/me", headers=me.headers).status_code == 200
    r = me.ask("Posting again at once")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "muted"


def test_forget_me_erases_what_only_its_author_touched_and_edited_out_text(
    app: Flask, staff: Callable[..., Staff], phone: Callable[[], Phone]
) -> None:
    from discussion.extensions import db
    from discussion.models import Question

    org = staff("organiser")
    me, other = phone(), phone()
    self_voted = me.ask("Only I upvoted this").get_json()["id"]
    me.vote(self_voted)
    kept = me.ask("Call me at 555-0100 about this").get_json()["id"]
    other.vote(kept)
    assert org.mod(kept, "edit", body="Call me about this").status_code == 200
    result = me.client.delete(f"{API}/events/{CODE}/me", headers=me.headers).get_json()
    assert result["questions_erased"] == 1 and result["questions_anonymised"] == 1
    with app.app_context():
        assert db.session.get(Question, self_voted) is None
        row = db.session.get(Question, kept)
        assert row.original_body is None and row.body == "Call me about this"
        dump = "\n".join(str(v) for r in db.session.execute(select(Question)).scalars()
                         for v in (r.body, r.original_body, r.author))
    assert "555-0100" not in dump
    archive = org.client.get(f"/e/{CODE}/export.json").get_data(as_text=True)
    assert "555-0100" not in archive


# -- broadcasts reach only who may read them --------------------------------------------


def test_restoring_a_comment_on_a_hidden_question_tells_only_staff(
    staff: Callable[..., Staff], phone: Callable[[], Phone], socket_client: Any
) -> None:
    org = staff("organiser")
    p = phone()
    qid = p.ask("A question soon hidden").get_json()["id"]
    cid = p.comment(qid, "COMMENT-TEXT-PRIVATE").get_json()["id"]
    assert org.mod_comment(cid, "hide").status_code == 200
    assert org.mod(qid, "hide").status_code == 200
    watcher = socket_client()
    watcher.emit("join", {"event": CODE}, callback=True)
    console = socket_client(org.client)
    console.emit("join", {"event": CODE, "staff": True}, callback=True)
    watcher.get_received()
    console.get_received()
    assert org.mod_comment(cid, "restore").status_code == 200
    assert not any("PRIVATE" in str(m) for m in watcher.get_received())
    assert any("PRIVATE" in str(m) for m in console.get_received())


def test_forget_me_does_not_broadcast_the_id_of_a_pending_question(
    staff: Callable[..., Staff], phone: Callable[[], Phone], socket_client: Any
) -> None:
    org = staff("organiser")
    me = phone()
    qid = _pending(me, org)
    watcher = socket_client()
    watcher.emit("join", {"event": CODE}, callback=True)
    watcher.get_received()
    me.client.delete(f"{API}/events/{CODE}/me", headers=me.headers)
    assert not any(str(qid) in str(m) for m in watcher.get_received())


def test_the_author_is_told_what_happened_to_their_question(
    staff: Callable[..., Staff], phone: Callable[[], Phone], socket_client: Any
) -> None:
    org = staff("organiser")
    author, bystander = phone(), phone()
    qid = author.ask("Please tell me what happens").get_json()["id"]
    target = author.ask("The original of a duplicate").get_json()["id"]
    mine = socket_client(author.client)
    mine.emit("join", {"event": CODE}, callback=True)
    theirs = socket_client(bystander.client)
    theirs.emit("join", {"event": CODE}, callback=True)
    theirs.get_received()
    assert org.mod(qid, "hide", reason="Say it kindly",
                   reason_code="personal_attack").status_code == 200
    assert org.mod(qid, "restore").status_code == 200
    assert org.mod(qid, "merge", into=target).status_code == 200
    notices = received(mine, "notice")
    assert [n["action"] for n in notices] == ["hidden", "restored", "merged"]
    assert notices[0] == {"question_id": qid, "action": "hidden", "reason": "Say it kindly",
                          "reason_code": "personal_attack", "into": None}
    assert notices[2]["into"] == target
    assert received(theirs, "notice") == []


# -- keys and files at rest --------------------------------------------------------------


def test_participant_keys_are_keyed_with_the_secret(
    database_url: str, tmp_path: Path
) -> None:
    from conftest import make_app
    from itsdangerous import URLSafeSerializer

    from discussion.extensions import db
    from discussion.models import Participant

    app = make_app(database_url, tmp_path / "instance")
    client = app.test_client()
    me = Phone(client, csrf_headers(client))
    me.ask("Who am I in the database?")
    token = URLSafeSerializer(app.config["SECRET_KEY"], salt="participant").loads(
        client.get_cookie("discussion_participant").value)
    unkeyed = hashlib.sha256(f"1:{token}".encode()).hexdigest()
    with app.app_context():
        keys = list(db.session.scalars(select(Participant.key)))
        assert len(keys) == 1 and unkeyed not in keys[0]
        # As the upgrade leaves a key stored by the first release:
        db.session.execute(Participant.__table__.update().values(key="legacy:" + unkeyed))
        db.session.commit()
        db.engine.dispose()
    # The server restarts on the upgraded database; the phone comes back.
    app = make_app(database_url, tmp_path / "instance")
    client2 = app.test_client()
    client2.set_cookie("discussion_participant", client.get_cookie("discussion_participant").value)
    again = Phone(client2, csrf_headers(client2))
    assert any(q["mine"] for q in again.questions())
    assert again.vote(1).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Participant.key)) == keys[0]
        db.engine.dispose()


def test_database_and_secret_files_are_private(app: Flask, client: Any, tmp_path: Path) -> None:
    client.put(f"{API}/questions/1/vote", headers=csrf_headers(client))
    db_file = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    files = [db_file, db_file.with_name(db_file.name + "-wal"),
             db_file.with_name(db_file.name + "-shm")]
    for file in files:
        assert file.exists(), file
        assert stat.S_IMODE(file.stat().st_mode) & 0o077 == 0, (file, oct(file.stat().st_mode))


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    from conftest import make_app

    db_file = tmp_path / "open.db"
    db_file.touch()
    os.chmod(db_file, 0o644)
    instance = tmp_path / "inst"
    make_app(f"sqlite:///{db_file}", instance, SECRET_KEY=None)
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE(instance.stat().st_mode) & 0o077 == 0


def test_staff_answers_are_never_cached(
    staff: Callable[..., Staff], phone: Callable[[], Phone]
) -> None:
    org = staff("organiser")
    for path in ("/staff", f"/e/{CODE}/moderate", f"/e/{CODE}", f"/e/{CODE}/board",
                 f"{API}/events/{CODE}/questions", f"{API}/events/{CODE}/moderation-log",
                 f"{API}/events"):
        r = org.client.get(path)
        assert r.status_code == 200, path
        assert r.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in phone().client.get(f"/e/{CODE}").headers.get("Cache-Control", "")


# -- login throttling ---------------------------------------------------------------------


@pytest.fixture
def accounts(app: Flask) -> None:
    from discussion.cli import _create_user

    with app.app_context():
        _create_user("moderator@example.org", "moderator", "the right password", (CODE,))


@pytest.mark.parametrize("app_config", [{"LOGIN_FREE_FAILURES": 3}])
def test_a_guessing_browser_waits_while_the_moderator_logs_in(
    app: Flask, client: Any, new_client: Any, accounts: None, app_config: Any
) -> None:
    for i in range(3):
        assert login(client, "moderator@example.org", f"guess {i}").status_code == 401
    slowed = login(client, "moderator@example.org", "guess 3")
    assert slowed.status_code == 429
    assert int(slowed.headers["Retry-After"]) >= 1
    assert "<html" in slowed.get_data(as_text=True)
    # Someone else in the same room, same address, same account: not locked out.
    assert login(new_client(), "moderator@example.org", "the right password").status_code == 302
    # Even the guessing browser gets in with the right password once it has waited.
    time.sleep(float(slowed.headers["Retry-After"]))
    assert login(client, "moderator@example.org", "the right password").status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_FREE_FAILURES": 1, "LOGIN_MAX_DELAY": 30}])
def test_the_waits_grow(app: Flask, client: Any, accounts: None, app_config: Any) -> None:
    assert login(client, "moderator@example.org", "guess").status_code == 401
    first = login(client, "moderator@example.org", "guess")
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert login(client, "moderator@example.org", "guess").status_code == 401
    second = login(client, "moderator@example.org", "guess")
    assert second.status_code == 429 and second.headers["Retry-After"] == "2"


@pytest.mark.parametrize("app_config", [{"LOGIN_ACCOUNT_CEILING": 3,
                                         "LOGIN_ACCOUNT_SLOWDOWN": 0.3}])
def test_a_guesser_dropping_cookies_slows_the_account_but_never_locks_it(
    app: Flask, new_client: Any, accounts: None, app_config: Any
) -> None:
    for i in range(4):  # a fresh browser each time: the per-browser wait never starts
        email = "Moderator@Example.org " if i % 2 else "moderator@example.org"
        assert login(new_client(), email, f"guess {i}").status_code == 401
    started = time.monotonic()
    assert login(new_client(), "moderator@example.org", "the right password").status_code == 302
    assert time.monotonic() - started >= 0.3

"""Every route and every socket event, against every role, on two events.

The routes come from the app's URL map and the socket events from the handler table,
so a route or event added later fails here until it declares what it needs
(``policy.access`` / ``sockets.acked``) and has a request below. Each request runs as
each role against event B while event A and a draft exist beside it; the outcome must
follow the declared need, and no answer or broadcast may carry a text the role may not
read (pending questions, hidden questions and comments, originals of edits, drafts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import csrf_headers

from discussion.rules.access import Need

API = "/api/v1"
A, B, DRAFT = "smartcities", "room-b", "room-draft"
ROLES = ("anonymous", "participant", "author", "moderator_a", "moderator_b", "organiser",
         "staff_none")
LOGGED_IN = {"moderator_a", "moderator_b", "organiser", "staff_none"}
# Who may read each confidential text.
SECRETS = {
    "B-PENDING-SECRET": {"author", "moderator_b", "organiser"},
    "B-PENDING-LIVE-SECRET": {"author", "moderator_b", "organiser"},
    "B-HIDDEN-QUESTION-SECRET": {"moderator_b", "organiser"},
    "B-HIDDEN-COMMENT-SECRET": {"moderator_b", "organiser"},
    "B-ORIGINAL-SECRET": {"moderator_b", "organiser"},
    "A-PENDING-SECRET": {"moderator_a", "organiser"},
    "DRAFT-SECRET": {"organiser"},
}


@dataclass
class World:
    """Two live events and a draft, with something confidential in each, and ids."""

    app: Flask
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def call(self, role: str, method: str, url: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = {"headers": self.headers[role]}
        if body is not None:
            kwargs["json"] = body
        return self.clients[role].open(url.format(**self.ids), method=method, **kwargs)


def _build(app: Flask, staff_login: Callable[..., Any]) -> World:
    world = World(app)
    for role in ROLES:
        client = app.test_client()
        if role == "moderator_a":
            staff_login(client, "moderator", (A,))
        elif role == "organiser":
            staff_login(client, "organiser")
        elif role == "staff_none":
            staff_login(client, "moderator", ())
        world.clients[role] = client
        world.headers[role] = {} if role == "anonymous" else csrf_headers(client)
    org, author = "organiser", "author"
    w = world.call
    assert w(org, "POST", f"{API}/events", {"code": B, "title": "Room B",
                                           "topics": ["Cities"]}).status_code == 201
    assert w(org, "POST", f"{API}/events", {"code": DRAFT, "title": "DRAFT-SECRET",
                                           "status": "draft"}).status_code == 201
    staff_login(world.clients["moderator_b"], "moderator", (B,))
    world.headers["moderator_b"] = csrf_headers(world.clients["moderator_b"], B)
    for role in ROLES:
        if role != "anonymous":
            world.headers[role] = csrf_headers(world.clients[role], B)

    def ask(role: str, code: str, body: str) -> int:
        r = w(role, "POST", f"{API}/events/{code}/questions", {"body": body})
        assert r.status_code == 201, r.get_json()
        return int(r.get_json()["id"])

    world.ids["visible"] = ask("participant", B, "A visible question in room B")
    world.ids["author_q"] = ask(author, B, "The author's own visible question")
    c = w(author, "POST", f"{API}/questions/{world.ids['author_q']}/comments",
          {"body": "The author's own comment"})
    world.ids["author_c"] = c.get_json()["id"]
    c = w("participant", "POST", f"{API}/questions/{world.ids['visible']}/comments",
          {"body": "B-HIDDEN-COMMENT-SECRET"})
    world.ids["hidden_c"] = c.get_json()["id"]
    assert w(org, "POST", f"{API}/comments/{world.ids['hidden_c']}/moderate",
             {"action": "hide"}).status_code == 200
    world.ids["edited"] = ask("participant", B, "B-ORIGINAL-SECRET")
    assert w(org, "POST", f"{API}/questions/{world.ids['edited']}/moderate",
             {"action": "edit", "body": "An edited question"}).status_code == 200
    world.ids["hidden_q"] = ask("participant", B, "B-HIDDEN-QUESTION-SECRET")
    assert w(org, "POST", f"{API}/questions/{world.ids['hidden_q']}/moderate",
             {"action": "hide"}).status_code == 200
    for code in (A, B):
        assert w(org, "PATCH", f"{API}/events/{code}", {"moderation": "pre"}).status_code == 200
    world.ids["pending"] = ask(author, B, "B-PENDING-SECRET")
    ask("participant", A, "A-PENDING-SECRET")
    world.ids["b"], world.ids["draft"] = B, DRAFT  # type: ignore[assignment]
    return world


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    body: Any = None
    on_draft: bool = False  # a public read of the draft: its moderators only
    need: Need | None = None  # a mode of the route that needs more than the route


SEED = 'format = 1\n[event]\ncode = "seeded-{role}"\ntitle = "Seeded"\n'
# One or more requests per endpoint, reads before writes, deletions last.
CALLS: dict[str, list[Call]] = {
    "views.index": [Call("GET", "/")],
    "views.join": [Call("GET", "/join?code={b}"), Call("GET", "/join?code={draft}", on_draft=True)],
    "views.event_page": [Call("GET", "/e/{b}"), Call("GET", "/e/{draft}", on_draft=True)],
    "views.board": [Call("GET", "/e/{b}/board"), Call("GET", "/e/{draft}/board", on_draft=True)],
    "views.privacy": [Call("GET", "/e/{b}/privacy"),
                      Call("GET", "/e/{draft}/privacy", on_draft=True)],
    "views.moderate": [Call("GET", "/e/{b}/moderate")],
    "views.staff": [Call("GET", "/staff")],
    "views.set_language": [Call("GET", "/lang/en?next=/e/{b}")],
    "auth.login": [Call("GET", "/login")],
    "board.qr_svg": [Call("GET", "/e/{b}/qr.svg"), Call("GET", "/e/{draft}/qr.svg", on_draft=True)],
    "export.download": [Call("GET", f"/e/{{b}}/export.{fmt}") for fmt in ("json", "csv", "md",
                                                                          "html")],
    "api.get_event": [Call("GET", f"{API}/events/{{b}}"),
                      Call("GET", f"{API}/events/{{draft}}", on_draft=True)],
    "api.get_questions": [Call("GET", f"{API}/events/{{b}}/questions"),
                          Call("GET", f"{API}/events/{{draft}}/questions", on_draft=True)],
    "api.comments": [Call("GET", f"{API}/questions/{{visible}}/comments", need=Need.ANYONE),
                     Call("POST", f"{API}/questions/{{visible}}/comments", {"body": "Agreed"})],
    "api.public_moderation": [Call("GET", f"{API}/events/{{b}}/moderation")],
    "api.get_similar": [Call("GET", f"{API}/events/{{b}}/similar?q=B-PENDING-SECRET question"),
                        Call("GET", f"{API}/events/{{b}}/similar?q=B-HIDDEN-QUESTION-SECRET"),
                        Call("GET", f"{API}/events/{{draft}}/similar?q=anything at all here",
                             on_draft=True)],
    "api.openapi": [Call("GET", f"{API}/openapi.json")],
    "api.list_events": [Call("GET", f"{API}/events")],
    "api.moderation_log": [Call("GET", f"{API}/events/{{b}}/moderation-log")],
    "api.post_question": [Call("POST", f"{API}/events/{{b}}/questions", {"body": "Mine too"})],
    "api.put_vote": [Call("PUT", f"{API}/questions/{{visible}}/vote"),
                     Call("DELETE", f"{API}/questions/{{visible}}/vote")],
    "api.create_event": [Call("POST", f"{API}/events", {"code": "made-{role}", "title": "New"})],
    "api.patch_event": [Call("PATCH", f"{API}/events/{{b}}", {"status": "live"})],
    "api.seed_event": [Call("POST", f"{API}/events/seed", {"toml": SEED})],
    "api.moderate_question": [Call("POST", f"{API}/questions/{{visible}}/moderate",
                                   {"action": "pin"})],
    "api.moderate_comment": [Call("POST", f"{API}/comments/{{author_c}}/moderate",
                                  {"action": "hide"})],
    "api.delete_comment": [Call("DELETE", f"{API}/comments/{{author_c}}")],
    "api.delete_question": [Call("DELETE", f"{API}/questions/{{author_q}}")],
    "api.forget_me": [Call("DELETE", f"{API}/events/{{b}}/me")],
    "auth.logout": [Call("GET", "/logout")],
}


def _allowed(need: Need, role: str, on_draft: bool) -> bool:
    """Whether a role may do what a need guards, on event B (or the draft)."""
    if on_draft:
        return role == "organiser"
    return {
        Need.ANYONE: True,
        Need.PARTICIPANT: role != "anonymous",  # a write needs the page's identity first
        Need.AUTHOR_OR_MODERATOR: role in {"author", "moderator_b", "organiser"},
        Need.MODERATOR: role in {"moderator_b", "organiser"},
        Need.ORGANISER: role == "organiser",
        Need.STAFF: role in LOGGED_IN,
    }[need]


def _refused(response: Any) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    if response.status_code == 400 and response.is_json:  # no CSRF token: no identity
        return bool(response.get_json()["error"]["code"] == "csrf_failed")
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def _leaks(role: str, text: str) -> list[str]:
    return [s for s, readers in SECRETS.items() if s in text and role not in readers]


def test_every_route_declares_its_need_and_is_exercised(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"}
    undeclared = sorted(e for e in endpoints if not hasattr(app.view_functions[e], "access"))
    assert undeclared == [], f"routes without a policy decision: {undeclared}"
    assert sorted(endpoints - set(CALLS)) == [], "routes without a request in CALLS"


def test_every_socket_event_declares_its_need_and_is_exercised() -> None:
    from discussion.sockets import _handlers

    names = {name for name, _handler in _handlers}
    assert all(hasattr(handler, "access") for _name, handler in _handlers)
    assert sorted(names - set(SOCKET_CALLS)) == [], "socket events without a call below"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_follows_the_policy_for(
    app: Flask, staff_login: Callable[..., Any], role: str
) -> None:
    world = _build(app, staff_login)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    problems = []
    for endpoint, calls in CALLS.items():
        need = app.view_functions[endpoint].access
        for call in calls:
            body = call.body
            if isinstance(body, dict):
                body = {k: v.format(role=role.replace("_", "-")) if isinstance(v, str) else v
                        for k, v in body.items()}
            r = world.call(role, call.method, call.url, body)
            where = f"{role} {call.method} {call.url.format(**world.ids)} -> {r.status_code}"
            if r.status_code >= 500:
                problems.append(f"{where}: server error")
                continue
            allowed = _allowed(call.need or need, role, call.on_draft)
            if allowed and _refused(r):
                problems.append(f"{where}: refused, but {need} allows {role}")
            if not allowed and not _refused(r):
                problems.append(f"{where}: answered, but {need} refuses {role}")
            leaked = _leaks(role, r.get_data(as_text=True))
            if leaked:
                problems.append(f"{where}: leaks {leaked}")
    assert problems == []


# -- sockets ------------------------------------------------------------------------

SOCKET_CALLS: dict[str, list[tuple[dict[str, Any], Need | None]]] = {
    "join": [({"event": "{b}"}, None), ({"event": "{b}", "staff": True}, Need.MODERATOR),
             # What changed since the event began: every question it ever had, as a delta.
             ({"event": "{b}", "since": 0}, None),
             ({"event": "{b}", "staff": True, "since": 0}, Need.MODERATOR)],
    "ask": [({"body": "Asked over the socket", "client_id": "s-1"}, None)],
    "vote": [({"question_id": "{visible}", "up": True}, None)],
    "comment": [({"question_id": "{visible}", "body": "Said over the socket",
                  "client_id": "s-2"}, None)],
    "moderate": [({"question_id": "{visible}", "action": "pin"}, None)],
    "similar": [({"body": "B-HIDDEN-QUESTION-SECRET"}, None),
                ({"body": "B-PENDING-SECRET please"}, None)],
}


def _fill(payload: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in payload.items():
        if isinstance(value, str) and value.startswith("{"):
            value = ids[value.strip("{}")]
        out[key] = value
    return out


@pytest.mark.parametrize("role", ROLES)
def test_every_socket_event_and_broadcast_follows_the_policy_for(
    app: Flask, staff_login: Callable[..., Any], role: str
) -> None:
    from discussion.extensions import socketio
    from discussion.sockets import _handlers

    world = _build(app, staff_login)
    needs = {name: handler.access for name, handler in _handlers}
    problems = []
    seen: list[Any] = []
    # The draft is invisible to everyone who does not moderate it.
    probe = socketio.test_client(app, flask_test_client=world.clients[role])
    draft = probe.emit("join", {"event": DRAFT}, callback=True)
    if draft["ok"] != _allowed(Need.ANYONE, role, on_draft=True):
        problems.append(f"{role} join draft: {draft}")
    seen.append(draft)
    probe.disconnect()
    for name, calls in SOCKET_CALLS.items():
        for payload, mode in calls:
            sc = socketio.test_client(app, flask_test_client=world.clients[role])
            if name != "join":
                assert sc.emit("join", {"event": B}, callback=True)["ok"]
            ack = sc.emit(name, _fill(payload, world.ids), callback=True)
            seen.append(ack)
            # A socket without a cookie gets a pseudonym of its own: a participant.
            as_role = "participant" if role == "anonymous" else role
            allowed = _allowed(mode or needs[name], as_role, on_draft=False)
            if ack["ok"] != allowed:
                problems.append(f"{role} {name} {payload}: {ack}")
            sc.disconnect()
    # Broadcasts while the role listens as a phone (and as staff where it may).
    phone = socketio.test_client(app, flask_test_client=world.clients[role])
    phone.emit("join", {"event": B}, callback=True)
    console = socketio.test_client(app, flask_test_client=world.clients[role])
    console.emit("join", {"event": B, "staff": True}, callback=True)
    w = world.call
    w("author", "POST", f"{API}/events/{B}/questions", {"body": "B-PENDING-LIVE-SECRET"})
    # A hidden comment restored on a hidden question stays with staff, as do changes to
    # a hidden question and an edited question's original.
    w("organiser", "POST", f"{API}/questions/{world.ids['visible']}/moderate", {"action": "hide"})
    w("organiser", "POST", f"{API}/comments/{world.ids['hidden_c']}/moderate",
      {"action": "restore"})
    w("organiser", "POST", f"{API}/comments/{world.ids['hidden_c']}/moderate",
      {"action": "hide"})
    w("organiser", "POST", f"{API}/questions/{world.ids['hidden_q']}/moderate",
      {"action": "pin"})
    w("organiser", "POST", f"{API}/questions/{world.ids['edited']}/moderate",
      {"action": "edit", "body": "Edited once more"})
    w("author", "DELETE", f"{API}/events/{B}/me")
    seen += phone.get_received() + console.get_received()
    for item in seen:
        leaked = _leaks(role, str(item))
        if leaked:
            problems.append(f"{role} socket: leaks {leaked} in {str(item)[:200]}")
    phone.disconnect()
    console.disconnect()
    assert problems == []

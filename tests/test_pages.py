"""Pages, headers, cookies and the staff CLI."""

from __future__ import annotations

import re

import pytest
from helpers import csrf_headers, login


@pytest.mark.parametrize("url", ["/", "/e/smartcities", "/login", "/e/smartcities/privacy",
                                 "/api/v1/events/smartcities", "/nope", "/api/v1/nope",
                                 "/socket.io/?EIO=4&transport=polling", "/socket.io/nope"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "*" not in csp
    assert "'unsafe-inline'" not in csp


def test_join_page_and_join_by_code(client):
    page = client.get("/").get_data(as_text=True)
    assert 'name="csrf-token"' in page
    assert "Smart Cities and Big Data" in page
    response = client.get("/join?code=SmartCities")
    assert response.status_code == 302 and response.headers["Location"].endswith("/e/smartcities")
    missing = client.get("/join?code=nothing")
    assert missing.status_code == 404
    assert "no event with this code" in missing.get_data(as_text=True)


def test_participant_page_reads_without_javascript(client):
    response = client.get("/e/SMARTCITIES", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "How do we make sure innovation in smart cities" in html
    assert re.search(r'<html[^>]* lang="en"', html)
    assert "discussion_participant=" in response.headers.get("Set-Cookie", "") or \
        response.history[0].headers.get("Set-Cookie")


def test_session_cookie_flags(client, staff_login):
    staff_login(client, "organiser")
    cookie = next(c for c in client._cookies.values() if c.key == "discussion_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_unknown_event_page_is_404(client):
    assert client.get("/e/nothing-here").status_code == 404


def test_users_create_and_login(runner, client):
    result = runner.invoke(args=["users", "create", "Mod@Example.org", "--role", "moderator",
                                 "--event", "smartcities", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    assert "moderator mod@example.org for smartcities" in result.output
    duplicate = runner.invoke(args=["users", "create", "mod@example.org", "--role", "moderator",
                                    "--password", "a long password"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    unknown = runner.invoke(args=["users", "create", "x@example.org", "--role", "moderator",
                                  "--event", "nope", "--password", "a long password"])
    assert unknown.exit_code != 0 and "no event" in unknown.output
    assert login(client, "mod@example.org", "wrong password").status_code == 401
    assert login(client, "mod@example.org", "a long password").status_code == 302
    assert client.get("/e/smartcities/moderate").status_code == 200


def test_users_create_prompts_for_the_password(runner):
    result = runner.invoke(args=["users", "create", "org@example.org", "--role", "organiser"],
                           input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "Created organiser org@example.org" in result.output


def test_ensure_organiser_prints_credentials_only_when_it_creates_one(runner, client):
    first = runner.invoke(args=["users", "ensure-organiser"])
    assert first.exit_code == 0
    password = re.search(r"password:\s+(\S+)", first.output).group(1)
    assert login(client, "organiser@localhost", password).status_code == 302
    second = runner.invoke(args=["users", "ensure-organiser"])
    assert "password" not in second.output


def test_login_rejects_open_redirects(runner, client):
    runner.invoke(args=["users", "create", "o@example.org", "--role", "organiser",
                        "--password", "a long password"])
    page = client.get("/login?next=//evil.example/x").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login?next=//evil.example/x",
                           data={"email": "o@example.org", "password": "a long password",
                                 "csrf_token": token})
    assert response.headers["Location"] == "/staff"  # staff land on their events


def test_moderate_page_needs_a_login(client):
    response = client.get("/e/smartcities/moderate")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_oversized_body_is_a_413_with_the_error_shape(client):
    headers = {**csrf_headers(client), "Content-Type": "application/json"}
    body = b'{"body": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/events/smartcities/questions", data=body, headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"

"""Helpers shared by the tests (importable as ``helpers``)."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

# CI sets this so that a missing PostgreSQL, Redis or Chromium fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("DISCUSSION_REQUIRE_SERVICES") == "1"


def service_unavailable(reason: str) -> None:
    """Skip with a clear reason on a developer machine; fail in CI."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (DISCUSSION_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


def csrf_headers(client: FlaskClient, code: str = "smartcities") -> dict[str, str]:
    """Load the event page (issuing the participant cookie) and return the CSRF header."""
    page = client.get(f"/e/{code}")
    assert page.status_code == 200, page.status_code
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert match, "the page carries no csrf-token meta"
    return {"X-CSRFToken": match.group(1)}


def login(client: FlaskClient, email: str, password: str) -> Any:
    """Log a test client in through the real form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the login form carries no csrf_token"
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
    )


def received(sc: SocketIOTestClient, name: str | None = None) -> list[Any]:
    """The arguments of the messages a socket client received (optionally of one event)."""
    return [
        m["args"][0] if m["args"] else None
        for m in sc.get_received()
        if name is None or m["name"] == name
    ]

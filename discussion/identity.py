"""Who is asking: a pseudonymous participant (signed cookie) or a staff user (Flask-Login).

A participant is a random token in a signed, HttpOnly, SameSite=Lax cookie. The
database never sees the token itself, only an HMAC of it with the event id, keyed
with the app's secret: one phone is an unlinkable participant in each event, and a
database dump without the secret cannot be matched to a cookie jar (someone who has
both the secret and a cookie can, which is what the server itself does).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import Response, current_app, g, has_request_context, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from .models import User

_SALT = "participant"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def new_token() -> str:
    """A fresh random participant token (192 bits)."""
    return secrets.token_urlsafe(24)


def token_from_cookie() -> str | None:
    """The participant token of this request's cookie, if it is present and signed by us."""
    raw = request.cookies.get(current_app.config["PARTICIPANT_COOKIE"])
    if not raw:
        return None
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) and 16 <= len(token) <= 64 else None


def participant_token() -> str:
    """This request's participant token, issuing a new cookie when there is none."""
    token = getattr(g, "participant_token", None)
    if token is None:
        token = token_from_cookie()
        if token is None:
            token = new_token()
            g.issue_participant_cookie = True
        g.participant_token = token
    return token


def set_participant_cookie(response: Response) -> Response:
    """after_request hook: send the cookie to a participant seen for the first time."""
    if getattr(g, "issue_participant_cookie", False):
        cfg = current_app.config
        response.set_cookie(
            cfg["PARTICIPANT_COOKIE"],
            _serializer().dumps(g.participant_token),
            max_age=cfg["PARTICIPANT_COOKIE_MAX_AGE"],
            httponly=True,
            samesite="Lax",
            secure=cfg["SESSION_COOKIE_SECURE"],
        )
    return response


def _keyed(message: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def participant_key(token: str, event_id: int) -> str:
    """The key stored in the database for this token in this event (an HMAC)."""
    return _keyed(f"participant:{event_id}:{token}")


def legacy_key(token: str, event_id: int) -> str:
    """The unkeyed digest the first release stored, still found until rewritten."""
    return "legacy:" + hashlib.sha256(f"{event_id}:{token}".encode()).hexdigest()


def tombstone(key: str) -> str:
    """What "forget me" leaves of a participant key: a further HMAC, so that the same
    cookie can be recognised (one vote, a mute) without anything readable kept."""
    return "t:" + _keyed(f"forgotten:{key}")


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever performs an operation: a participant token, a staff user, or both.

    Being logged in says nothing about an event: what a staff user may see or do in
    one is asked of :mod:`discussion.rules.access`, never of ``user`` alone.
    """

    token: str | None
    user: User | None = None


def staff_user() -> User | None:
    """The logged-in staff user of this request or socket, if any."""
    if has_request_context() and current_user.is_authenticated:
        user: User = current_user._get_current_object()  # flask_login ships no types
        return user
    return None


def http_actor() -> Actor:
    """The actor of an HTTP request (issues the participant cookie when missing)."""
    return Actor(token=participant_token(), user=staff_user())


def limit_key() -> str:
    """Rate-limit key: the staff user or the participant token, never the IP address."""
    user = staff_user()
    if user is not None:
        return f"user:{user.id}"
    token = token_from_cookie() if has_request_context() else None
    return f"p:{_keyed('limit:' + token)[:32]}" if token else "anonymous"

"""Parameters, security schemes, the error codes each kind of call can carry, and the
helpers that turn one call's description into an OpenAPI operation."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from ..rules.enums import ErrorCode
from .schema import ID, Schema, error_response, json_content, string

# ---------------------------------------------------------------------------
# Parameters and security

CODE_PARAM = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "The event's join code, in any case (`SmartCities` finds `smartcities`).",
    "schema": string(32, pattern="^[A-Za-z0-9][A-Za-z0-9-]{1,31}$"),
    "example": "smartcities",
}


def id_param(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"The {what}'s id. Any other number or text gets 404 `not_found`.",
        "schema": ID,
        "example": 1,
    }


QUESTION_ID = id_param("question_id", "question")
COMMENT_ID = id_param("comment_id", "comment")

# Who may call an operation. ``{}`` means "no credential needed".
Security = list[dict[str, list[str]]]
PUBLIC: Security = [{}, {"participantCookie": []}, {"sessionCookie": []}]
PARTICIPANT_WRITE: Security = [{"csrfToken": [], "sessionCookie": [], "participantCookie": []}]
STAFF_READ: Security = [{"sessionCookie": []}]
STAFF_WRITE: Security = [{"csrfToken": [], "sessionCookie": []}]
# Deleting a post: its author (participant cookie) or a moderator of the event (login).
AUTHOR_OR_STAFF = [*PARTICIPANT_WRITE, STAFF_WRITE[0]]


def _cookie_names() -> tuple[str, str]:
    if has_app_context():
        cfg = current_app.config
        return cfg["SESSION_COOKIE_NAME"], cfg["PARTICIPANT_COOKIE"]
    return "discussion_session", "discussion_participant"


def security_schemes() -> dict[str, Any]:
    session_cookie, participant_cookie = _cookie_names()
    return {
        "csrfToken": {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRFToken",
            "description": (
                "Every POST, PUT, PATCH and DELETE needs the page's CSRF token: GET the event "
                'page `/e/{code}`, read `<meta name="csrf-token" content="...">` and send '
                "it in this header together with the cookies that page set. Without it the "
                "answer is 400 `csrf_failed`. The token is bound to the session cookie and "
                "does not expire while the session lasts."
            ),
        },
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": session_cookie,
            "description": (
                "The signed Flask session: it holds the secret the CSRF token is checked "
                "against and, for staff, the login (form POST `/login` with `email`, "
                "`password` and the form's `csrf_token`). HttpOnly, SameSite=Lax."
            ),
        },
        "participantCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": participant_cookie,
            "description": (
                "The participant's pseudonymous identity: a random token in a signed cookie, "
                "issued by the first request to any page or API route of an event that comes "
                "without it (a request without it therefore acts as a new participant). "
                "`mine`, `voted`, deleting one's own posts and forget-me depend on it. "
                "HttpOnly, SameSite=Lax."
            ),
        },
    }


# ---------------------------------------------------------------------------
# Operations

CSRF = ErrorCode.CSRF_FAILED
BODY = ErrorCode.INVALID_JSON
TEXT_ERRORS = [
    ErrorCode.EMPTY,
    ErrorCode.INVALID_TYPE,
    ErrorCode.CONTROL_CHARACTERS,
    ErrorCode.TOO_LONG,
]
POST_ERRORS = [
    *TEXT_ERRORS,
    ErrorCode.INVALID_QUOTE,
    ErrorCode.INVALID_CLIENT_ID,
    ErrorCode.NAME_REQUIRED,
]
EVENT_FIELD_ERRORS = [
    *TEXT_ERRORS,
    ErrorCode.INVALID_STATUS,
    ErrorCode.INVALID_MODERATION,
    ErrorCode.INVALID_RETENTION,
    ErrorCode.INVALID_DATE,
    ErrorCode.INVALID_TIMEZONE,
    ErrorCode.INVALID_SLUG,
    ErrorCode.DUPLICATE_TOPIC,
    ErrorCode.INVALID_LANGUAGE,
    ErrorCode.UNKNOWN_KEY,
    ErrorCode.UNKNOWN_USER,
]
# A staff call's refusals: no login, or not this event's moderator (or not an organiser).
STAFF_ERRORS: dict[int, list[ErrorCode]] = {
    401: [ErrorCode.LOGIN_REQUIRED],
    403: [ErrorCode.FORBIDDEN],
}
# What the state of a question may refuse a moderation action.
QUESTION_STATE_ERRORS = [
    ErrorCode.NOT_PENDING,
    ErrorCode.ALREADY_ANSWERED,
    ErrorCode.ALREADY_HIDDEN,
    ErrorCode.NOT_HIDDEN,
    ErrorCode.NOT_VISIBLE,
    ErrorCode.ALREADY_MERGED,
    ErrorCode.NO_AUTHOR,
    ErrorCode.NO_CHANGE,
]
STATE_CHANGING = {"post", "put", "patch", "delete"}


def operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    responses: dict[str, Any],
    errors: dict[int, list[ErrorCode]],
    description: str = "",
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    security: list[dict[str, list[str]]] = PUBLIC,
) -> dict[str, Any]:
    """One operation; ``errors`` maps each error status to the codes it can carry
    (``finish`` adds those every operation of its kind has)."""
    out: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security,
        "responses": responses,
        "errors": errors,  # replaced by error responses in finish()
    }
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    return out


def finish(path: str, method: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Turn an operation's error codes into responses: every state-changing operation can
    fail the CSRF check, and a path with a parameter can fail to match (werkzeug's 404
    ``not_found``, for an id out of range or not a number)."""
    spec = dict(spec)
    errors = {status: list(codes) for status, codes in spec.pop("errors").items()}
    if method in STATE_CHANGING:
        errors.setdefault(400, []).insert(0, CSRF)
        errors.setdefault(413, []).append(ErrorCode.REQUEST_ENTITY_TOO_LARGE)
        errors.setdefault(503, []).append(ErrorCode.BUSY)
    if "{" in path:
        errors.setdefault(404, []).append(ErrorCode.NOT_FOUND)
    spec["responses"] = {
        **spec["responses"],
        **{str(s): error_response(s, codes) for s, codes in sorted(errors.items())},
    }
    return spec


def json_body(schema: Schema, example: Any) -> dict[str, Any]:
    return {"required": True, "content": json_content(schema, example)}

"""The OpenAPI 3.1 document of /api/v1, served at ``GET /api/v1/openapi.json``.

It is built from small helpers so that each operation reads as one call: what it
takes, what it answers, and which error codes each status can carry. The schemas are
generated from the pydantic models the server works with: the answers from
``rules.shapes`` (every answer is built through them), the request bodies that have
models from ``rules.schemas`` (both transports parse with them), so the document
cannot drift from what the server does. What stays here is prose: paths, summaries, examples and the
error codes each status can carry, listed by hand and checked by
``tests/test_openapi.py`` and ``tests/test_fuzz.py``.
Human-readable documentation of the same API: ``docs/api.md``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from pydantic import BaseModel

from .models import EventStatus
from .rules import events, shapes
from .rules import schemas as bodies
from .rules import text as validation  # the limits the hand-written schemas name

Schema = dict[str, Any]

ID_MAX = 2**31 - 1  # ids are 32-bit database keys; the URL converter refuses any other number

# Characters ``validation.text`` refuses: control characters other than tab and line
# breaks, the Unicode line/paragraph separators and bidi overrides.
_FORBIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# Required text: at least one character that is neither white space nor forbidden.
TEXT_PATTERN = rf"^[^{_FORBIDDEN}]*[^\s{_FORBIDDEN}][^{_FORBIDDEN}]*$"
# Optional text: white space alone means "not given".
OPTIONAL_TEXT_PATTERN = rf"^[^{_FORBIDDEN}]*$"

# ---------------------------------------------------------------------------
# Schema helpers


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or JSON null (OpenAPI 3.1 has no ``nullable``)."""
    if "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    out = {**schema, "type": [*kinds, "null"]}
    if "enum" in schema:
        out["enum"] = [*schema["enum"], None]
    return out


def string(max_length: int | None = None, **extra: Any) -> Schema:
    out: Schema = {"type": "string", **extra}
    if max_length is not None:
        out["maxLength"] = max_length
    return out


def text(max_length: int, description: str = "", *, required: bool = True) -> Schema:
    """A free-text field as ``validation.text`` takes it.

    It is trimmed, NFC-normalised and "\\r\\n" becomes "\\n" before the length is
    measured; more than two blank lines in a row are collapsed.
    """
    note = (
        f"At most {max_length} characters after trimming and NFC normalisation; "
        "no control characters (tab and line breaks are fine)."
    )
    if not required:
        note += " Empty or white space only means not given."
    if required:
        return string(
            max_length,
            minLength=1,
            pattern=TEXT_PATTERN,
            description=f"{description} {note}".strip(),
        )
    return string(
        max_length, pattern=OPTIONAL_TEXT_PATTERN, description=f"{description} {note}".strip()
    )


def integer(minimum: int | None = None, maximum: int | None = None, **extra: Any) -> Schema:
    out: Schema = {"type": "integer", **extra}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def enum(values: Any, description: str = "") -> Schema:
    out: Schema = {"type": "string", "enum": [str(getattr(v, "value", v)) for v in values]}
    if description:
        out["description"] = description
    return out


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def obj(
    properties: dict[str, Schema],
    *,
    required: list[str] | None = None,
    closed: bool = True,
    description: str = "",
    **extra: Any,
) -> Schema:
    """An object; every property is required unless ``required`` says otherwise.

    Response objects are ``closed`` (no other keys today; clients should still ignore
    unknown keys, since the API grows by adding fields). Request bodies are open: the
    server ignores keys it does not know.
    """
    out: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if closed:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    out.update(extra)
    return out


ID = integer(1, ID_MAX)


def from_model(model: Any) -> Schema:
    """A request body's schema from its pydantic model (rules.schemas), as the server
    reads it: unknown fields are ignored, so the object stays open."""
    schema = model.model_json_schema(mode="validation")
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        prop.pop("default", None) if prop.get("default") is None else None
    if "description" in schema:
        schema["description"] = " ".join(schema["description"].split())
    return dict(schema)


# ---------------------------------------------------------------------------
# Response helpers


def json_content(schema: Schema, example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def ok(description: str, schema: Schema, example: Any = None) -> dict[str, Any]:
    return {"description": description, "content": json_content(schema, example)}


ERROR_TITLES = {
    400: "Bad request: malformed input, a broken limit or a missing CSRF token",
    401: "A staff login is needed",
    403: "Identified, but without the right to do this",
    404: "Not found, or not visible to the caller",
    405: "This method is not allowed on this path",
    409: "Valid, but the current state does not allow it",
    413: "The request body is larger than the server accepts",
    429: "Posting too fast: wait a moment and try again",
    503: "The database stayed busy: retry after the Retry-After header's seconds",
}


def error_response(status: int, codes: list[str]) -> dict[str, Any]:
    """An error status with the exact list of ``error.code`` values it can carry."""
    listed = ", ".join(f"`{c}`" for c in codes)
    schema = {
        "allOf": [ref("Error")],
        "properties": {"error": {"properties": {"code": {"enum": codes}}}},
    }
    return {
        "description": f"{ERROR_TITLES[status]}. `error.code` is one of: {listed}.",
        "content": json_content(
            schema, {"error": {"code": codes[0], "message": "A readable explanation."}}
        ),
    }


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

CSRF = "csrf_failed"
BODY = "invalid_json"
TEXT_ERRORS = ["empty", "invalid_type", "control_characters", "too_long"]
POST_ERRORS = [*TEXT_ERRORS, "invalid_quote", "invalid_client_id", "name_required"]
EVENT_FIELD_ERRORS = [
    *TEXT_ERRORS,
    "invalid_status",
    "invalid_moderation",
    "invalid_retention",
    "invalid_date",
    "invalid_timezone",
    "invalid_slug",
    "duplicate_topic",
    "invalid_language",
    "unknown_key",
    "unknown_user",
]
STATE_CHANGING = {"post", "put", "patch", "delete"}


def operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    responses: dict[str, Any],
    errors: dict[int, list[str]],
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
        errors.setdefault(413, []).append("request_entity_too_large")
        errors.setdefault(503, []).append("busy")
    if "{" in path:
        errors.setdefault(404, []).append("not_found")
    spec["responses"] = {
        **spec["responses"],
        **{str(s): error_response(s, codes) for s, codes in sorted(errors.items())},
    }
    return spec


def json_body(schema: Schema, example: Any) -> dict[str, Any]:
    return {"required": True, "content": json_content(schema, example)}


# ---------------------------------------------------------------------------
# Components

REF = "#/components/schemas/{model}"


def components(*models: type[BaseModel]) -> dict[str, Schema]:
    """The answer components, generated from the models every answer is built through
    (rules.shapes): each model under its class name, beside the models it nests.

    Enumerations are written inline where they are used, as in the request bodies, and
    the titles pydantic derives from class and field names are left out.
    """
    found: dict[str, Schema] = {}
    for model in models:
        schema = model.model_json_schema(mode="serialization", ref_template=REF)
        for name, part in {**schema.pop("$defs", {}), model.__name__: schema}.items():
            if found.setdefault(name, part) != part:
                raise ValueError(f"two answer shapes are called {name}")
    # An enumeration's docstring is for the code's readers; its fields say what it means.
    enums = {REF.format(model=name): _untitled({**part, "description": ""})
             for name, part in found.items() if "enum" in part and "properties" not in part}
    return {name: _inline(_untitled(part), enums) for name, part in found.items()
            if REF.format(model=name) not in enums}


def _untitled(schema: Any) -> Any:
    """A generated schema without pydantic's titles, its descriptions on one line."""
    if isinstance(schema, list):
        return [_untitled(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue  # a property called "title" is a schema, not a string
        if key == "description" and isinstance(value, str):
            value = " ".join(value.split())
            if not value:
                continue
        out[key] = _untitled(value)
    return out


def _inline(schema: Any, enums: dict[str, Schema]) -> Any:
    """Every ``$ref`` to an enumeration replaced by the enumeration itself."""
    if isinstance(schema, list):
        return [_inline(item, enums) for item in schema]
    if not isinstance(schema, dict):
        return schema
    target = schema.get("$ref")
    if target in enums:
        schema = {**enums[target], **{k: v for k, v in schema.items() if k != "$ref"}}
    return {key: _inline(value, enums) for key, value in schema.items()}


def schemas() -> dict[str, Schema]:
    """Every component schema: the answers, then the request bodies."""
    return {
        # Answers: generated from the models the answers are built through.
        **components(*shapes.ANSWERS),
        # -- request bodies
        # Request bodies: generated from the models both transports parse with.
        "NewQuestion": from_model(bodies.NewQuestion),
        "NewComment": from_model(bodies.NewComment),
        "QuestionModeration": {
            **from_model(bodies.QuestionModeration),
            "allOf": [
                {
                    "if": {"properties": {"action": {"const": "edit"}}, "required": ["action"]},
                    "then": {"required": ["body"]},
                },
                {
                    "if": {"properties": {"action": {"const": "merge"}}, "required": ["action"]},
                    "then": {"required": ["into"]},
                },
            ],
        },
        "CommentModeration": from_model(bodies.CommentModeration),
        "NewEvent": from_model(events.NewEvent),
        "EventChanges": from_model(events.EventChanges),
    }


# ---------------------------------------------------------------------------
# Paths

QUESTION_EXAMPLE = {
    "id": 12,
    "body": "Who audits the sensor data?",
    "topic": "privacy",
    "votes": 3,
    "comments": 1,
    "status": "visible",
    "seeded": False,
    "author": "Ana",
    "created_at": "2016-12-08T15:04:05.123Z",
    "highlighted": False,
    "pinned": False,
    "edited": False,
    "mine": True,
    "voted": False,
}
COMMENT_EXAMPLE = {
    "id": 7,
    "question_id": 12,
    "body": "And who audits the auditors?",
    "author": None,
    "created_at": "2016-12-08T15:06:00.000Z",
    "mine": True,
}


def paths() -> dict[str, Any]:
    events = {
        "/events": {
            "get": operation(
                "listEvents",
                "The events the logged-in staff member can moderate",
                tag="staff",
                security=STAFF_READ,
                description="All events for organisers; the appointed events for moderators.",
                responses={"200": ok("The events, newest first.", ref("EventList"))},
                errors={401: ["login_required"]},
            ),
            "post": operation(
                "createEvent",
                "Create an event (organisers)",
                tag="staff",
                security=STAFF_WRITE,
                description="A new event is `live` and in `post` moderation unless told "
                "otherwise. The body is checked before the login.",
                body=json_body(
                    ref("NewEvent"),
                    {
                        "code": "smartcities-2017",
                        "title": "Smart Cities, one year on",
                        "topics": ["Consent", "Privacy"],
                    },
                ),
                responses={"201": ok("The created event.", ref("Event"))},
                errors={
                    400: [BODY, "invalid_code", *EVENT_FIELD_ERRORS],
                    401: ["login_required"],
                    403: ["forbidden"],
                    409: ["code_taken"],
                },
            ),
        },
        "/events/seed": {
            "post": operation(
                "seedEvent",
                "Load a seed file (organisers); idempotent",
                tag="staff",
                security=STAFF_WRITE,
                description="The seed file's TOML (docs/seed-format.md), as the JSON "
                '`{"toml": "..."}` or as the raw request body (any non-JSON '
                "content type, with `?status=` for the status). Creates or updates the "
                "event; adds only the questions it does not have yet. A reload keeps the "
                "event's status unless `status` is given (then logged publicly, like "
                "closing the event). Every load is in the moderation log (`load_seed`). "
                "`invalid_seed` names the place of each problem in the reader's language.",
                body={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": obj(
                                {
                                    "toml": string(minLength=1),
                                    "status": enum(
                                        EventStatus,
                                        "Set the event's status; a reload otherwise keeps "
                                        "it (the file's status is a new event's).",
                                    ),
                                },
                                required=["toml"],
                                closed=False,
                            ),
                            "example": {"toml": '[event]\ncode = "demo"\ntitle = "Demo"\n'},
                        },
                        "text/plain": {"schema": string(minLength=1)},
                    },
                },
                responses={
                    "200": ok(
                        "The event as loaded, and how many questions were added.", ref("SeedResult")
                    )
                },
                errors={
                    400: [BODY, "empty", "invalid_seed", "invalid_status"],
                    401: ["login_required"],
                    403: ["forbidden"],
                },
            ),
        },
        "/events/{code}": {
            "get": operation(
                "getEvent",
                "An event with its topics",
                tag="events",
                parameters=[CODE_PARAM],
                description="Draft events are found by staff only.",
                responses={"200": ok("The event.", ref("Event"))},
                errors={404: ["event_not_found"]},
            ),
            "patch": operation(
                "updateEvent",
                "Change an event (its moderators, or organisers)",
                tag="staff",
                security=STAFF_WRITE,
                parameters=[CODE_PARAM],
                description="A moderator of the event may change `status` and `moderation` "
                "(with a `reason`, logged); organisers may change every field. "
                "`topics` replaces the topic list.",
                body=json_body(
                    ref("EventChanges"), {"status": "closed", "reason": "The session is over."}
                ),
                responses={"200": ok("The changed event.", ref("Event"))},
                errors={
                    400: [BODY, *EVENT_FIELD_ERRORS],
                    401: ["login_required"],
                    403: ["forbidden"],
                    404: ["event_not_found"],
                },
            ),
        },
        "/events/{code}/questions": {
            "get": operation(
                "listQuestions",
                "The questions the caller may see, ranked",
                tag="questions",
                parameters=[
                    CODE_PARAM,
                    {
                        "name": "sort",
                        "in": "query",
                        "required": False,
                        "description": "`top`: pinned first, then most votes, ties oldest "
                        "first (then lowest id). `new`: newest first.",
                        "schema": {**enum(("top", "new")), "default": "top"},
                    },
                    {
                        "name": "topic",
                        "in": "query",
                        "required": False,
                        "description": "Only the questions of this topic slug (empty: all).",
                        "schema": string(64),
                    },
                ],
                description="Participants see `visible` and `answered` questions and their "
                "own `pending` ones; staff see every question, as StaffQuestion.",
                responses={
                    "200": ok(
                        "The questions.", ref("QuestionList"), {"questions": [QUESTION_EXAMPLE]}
                    )
                },
                errors={400: ["invalid_sort"], 404: ["event_not_found", "unknown_topic"]},
            ),
            "post": operation(
                "askQuestion",
                "Ask a question",
                tag="questions",
                security=PARTICIPANT_WRITE,
                parameters=[CODE_PARAM],
                description="The new question is `visible`, or `pending` when the event is in "
                "pre-moderation (unless a moderator asks it). A repeated "
                "`client_id` answers 200 with the stored question, even once the "
                "event is closed.",
                body=json_body(
                    ref("NewQuestion"),
                    {
                        "body": "Who audits the sensor data?",
                        "topic": "privacy",
                        "author": "Ana",
                        "quote": "named",
                        "client_id": "phone-3f2a-q-1",
                    },
                ),
                responses={
                    "201": ok("Created.", ref("Question"), QUESTION_EXAMPLE),
                    "200": ok(
                        "Already stored under this `client_id`: the stored question.",
                        ref("Question"),
                    ),
                },
                errors={
                    400: [BODY, *POST_ERRORS, "unknown_topic"],
                    403: ["muted"],
                    404: ["event_not_found"],
                    409: ["event_closed"],
                    429: ["rate_limited"],
                },
            ),
        },
        "/events/{code}/similar": {
            "get": operation(
                "similarQuestions",
                "Questions that say the same as a text being typed",
                tag="questions",
                parameters=[
                    CODE_PARAM,
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "The text to match, in any of English, Spanish and "
                        "Portuguese. Shorter than 12 characters: no suggestion.",
                        "schema": text(validation.QUESTION_MAX),
                        "example": "¿De dónde vienen los datos de la ciudad inteligente?",
                    },
                ],
                description="Up to three `visible` or `answered` questions of the event "
                "that say the same as `q`, best first, as Question with the caller's "
                "`mine` and `voted`; an empty list when nothing is alike. Pending and "
                "hidden questions are never suggested, to anyone. Matching runs on the "
                "server: no text is sent elsewhere. Limited per participant "
                "(`RATELIMIT_SIMILAR`, 60 a minute by default).",
                responses={
                    "200": ok(
                        "The questions alike, best first (at most three).",
                        ref("SimilarQuestions"),
                        {"questions": [QUESTION_EXAMPLE]},
                    )
                },
                errors={
                    400: TEXT_ERRORS,
                    404: ["event_not_found"],
                    429: ["rate_limited"],
                },
            ),
        },
        "/events/{code}/me": {
            "delete": operation(
                "forgetMe",
                "Forget me",
                tag="events",
                security=PARTICIPANT_WRITE,
                parameters=[CODE_PARAM],
                description="Erases the caller's comments, and their questions nobody voted "
                "on or commented; anonymises their other questions; keeps their "
                "votes counted but unlinks them. Afterwards the participant "
                "cookie no longer leads to anything in this event. Repeating it "
                "answers zeros.",
                responses={
                    "200": ok(
                        "What was done.",
                        ref("ForgetMeResult"),
                        {
                            "questions_erased": 1,
                            "questions_anonymised": 0,
                            "comments_erased": 2,
                            "votes_unlinked": 5,
                        },
                    )
                },
                errors={404: ["event_not_found"]},
            ),
        },
        "/events/{code}/moderation": {
            "get": operation(
                "publicModeration",
                "The public side of moderation",
                tag="events",
                parameters=[CODE_PARAM],
                description="The policy, how many questions and comments are hidden, and "
                "the public log entries with their reasons, never hidden text.",
                responses={
                    "200": ok(
                        "The public moderation record.",
                        ref("PublicModeration"),
                        {
                            "policy": "Personal attacks are hidden.",
                            "hidden": {"questions": 1, "comments": 0},
                            "entries": [
                                {
                                    "action": "hide",
                                    "reason": "Personal data",
                                    "reason_code": "personal_data",
                                    "at": "2016-12-08T15:10:00.000Z",
                                }
                            ],
                        },
                    )
                },
                errors={404: ["event_not_found"]},
            ),
        },
        "/events/{code}/moderation-log": {
            "get": operation(
                "moderationLog",
                "Every moderation action of the event (staff)",
                tag="staff",
                security=STAFF_READ,
                parameters=[CODE_PARAM],
                responses={"200": ok("The log, newest first.", ref("ModerationLog"))},
                errors={401: ["login_required"], 403: ["forbidden"], 404: ["event_not_found"]},
            ),
        },
    }
    questions = {
        "/questions/{question_id}": {
            "delete": operation(
                "deleteQuestion",
                "Delete a question (its author, or staff)",
                tag="questions",
                security=AUTHOR_OR_STAFF,
                parameters=[QUESTION_ID],
                description="Deletes it with its votes and thread.",
                responses={"204": {"description": "Deleted."}},
                errors={403: ["not_yours", "forbidden"], 404: ["question_not_found"]},
            ),
        },
        "/questions/{question_id}/vote": {
            method: operation(
                operation_id,
                summary,
                tag="questions",
                security=PARTICIPANT_WRITE,
                parameters=[QUESTION_ID],
                description="One vote per participant and question; repeating it changes "
                "nothing. A participant may upvote their own question. "
                "Only `visible` and `answered` questions of a `live` event.",
                responses={
                    "200": ok(
                        "The question's vote count and the caller's vote.",
                        ref("VoteResult"),
                        {"id": 12, "votes": 4, "voted": method == "put"},
                    )
                },
                errors={
                    404: ["question_not_found"],
                    409: ["event_closed", "not_votable"],
                    429: ["rate_limited"],
                },
            )
            for method, operation_id, summary in (
                ("put", "upvote", "Upvote a question"),
                ("delete", "unvote", "Take back an upvote"),
            )
        },
        "/questions/{question_id}/comments": {
            "get": operation(
                "listComments",
                "A question's thread, oldest first",
                tag="comments",
                parameters=[QUESTION_ID],
                description="Hidden comments are listed for staff only, with `hidden`.",
                responses={
                    "200": ok("The comments.", ref("CommentList"), {"comments": [COMMENT_EXAMPLE]})
                },
                errors={404: ["question_not_found"]},
            ),
            "post": operation(
                "postComment",
                "Comment on a question",
                tag="comments",
                security=PARTICIPANT_WRITE,
                parameters=[QUESTION_ID],
                description="Only on `visible` and `answered` questions of a `live` event. "
                "A repeated `client_id` answers 200 with the stored comment.",
                body=json_body(
                    ref("NewComment"),
                    {"body": "And who audits the auditors?", "client_id": "phone-3f2a-c-1"},
                ),
                responses={
                    "201": ok("Created.", ref("Comment"), COMMENT_EXAMPLE),
                    "200": ok(
                        "Already stored under this `client_id`: the stored comment.", ref("Comment")
                    ),
                },
                errors={
                    400: [BODY, *POST_ERRORS],
                    403: ["muted"],
                    404: ["question_not_found"],
                    409: ["event_closed", "not_commentable"],
                    429: ["rate_limited"],
                },
            ),
        },
        "/questions/{question_id}/moderate": {
            "post": operation(
                "moderateQuestion",
                "One moderation action on a question (staff)",
                tag="staff",
                security=STAFF_WRITE,
                parameters=[QUESTION_ID],
                description="`approve` a pending question; `hide` / `restore`; `answer`; "
                "`highlight` (un-highlights the others) / `unhighlight`; `pin` / "
                "`unpin`; `edit` with `body` (the original is kept for staff); "
                "`merge` `into` another visible question (distinct votes and the "
                "comments move over, the duplicate is hidden); `mute` / `unmute` "
                "its author. Every action is logged with its reason. An action "
                "that would change nothing (pin a pinned question, edit to the "
                "same text) is `409 no_change` and is not logged. The action "
                "is checked before the login.",
                body=json_body(
                    ref("QuestionModeration"),
                    {"action": "hide", "reason": "Personal data about a speaker."},
                ),
                responses={
                    "200": ok(
                        "The question as staff see it, after the action.", ref("StaffQuestion")
                    )
                },
                errors={
                    400: [BODY, "invalid_action", *TEXT_ERRORS, "invalid_id", "merge_into_self",
                          "invalid_reason_code"],
                    401: ["login_required"],
                    403: ["forbidden"],
                    404: ["question_not_found"],
                    409: [
                        "not_pending",
                        "already_answered",
                        "already_hidden",
                        "not_hidden",
                        "not_visible",
                        "already_merged",
                        "no_author",
                        "no_change",
                    ],
                },
            ),
        },
    }
    comments = {
        "/comments/{comment_id}": {
            "delete": operation(
                "deleteComment",
                "Delete a comment (its author, or staff)",
                tag="comments",
                security=AUTHOR_OR_STAFF,
                parameters=[COMMENT_ID],
                responses={"204": {"description": "Deleted."}},
                errors={
                    403: ["not_yours", "forbidden"],
                    404: ["comment_not_found", "question_not_found"],
                },
            ),
        },
        "/comments/{comment_id}/moderate": {
            "post": operation(
                "moderateComment",
                "Hide or restore a comment, or mute its author (staff)",
                tag="staff",
                security=STAFF_WRITE,
                parameters=[COMMENT_ID],
                body=json_body(
                    ref("CommentModeration"), {"action": "hide", "reason": "Off topic."}
                ),
                responses={
                    "200": ok("The comment after the action, with `hidden`.", ref("StaffComment"))
                },
                errors={
                    400: [BODY, "invalid_action", "invalid_type", "control_characters", "too_long",
                          "invalid_reason_code"],
                    401: ["login_required"],
                    403: ["forbidden"],
                    404: ["comment_not_found", "question_not_found"],
                    409: ["already_hidden", "not_hidden", "no_author", "no_change"],
                },
            ),
        },
        "/openapi.json": {
            "get": operation(
                "openapi",
                "This document",
                tag="meta",
                security=[{}],
                responses={"200": ok("The OpenAPI 3.1 document.", {"type": "object"})},
                errors={},
            ),
        },
    }
    raw = {**events, **questions, **comments}
    return {
        path: {method: finish(path, method, spec) for method, spec in item.items()}
        for path, item in raw.items()
    }


DESCRIPTION = """\
The JSON API of the live question board. Guide for client authors: `docs/api.md`.

**Identity and CSRF.** GET the event page `/e/{code}`: it sets the participant cookie and the
session cookie and carries `<meta name="csrf-token" content="...">`. Send both cookies with
every request, and the token as the `X-CSRFToken` header with every POST, PUT, PATCH and
DELETE. Staff log in through the form at `/login`.

**Errors.** Every 4xx answer is `{"error": {"code": "...", "message": "..."}}`; each response
below lists the codes it can carry. A path that exists with a method it does not support
answers 405 `method_not_allowed`; a path that does not exist (including an id outside
1..2147483647) answers 404 `not_found`.

**Ranking.** `sort=top`: pinned questions first, then most votes, ties oldest first.
`sort=new`: newest first.
"""


def openapi_document() -> dict[str, Any]:
    """The complete OpenAPI 3.1 document of /api/v1."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Workshop questions API",
            "version": "1",
            "summary": "Live discussion questions for a workshop room.",
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "events", "description": "Events, their public moderation record, forget me."},
            {"name": "questions", "description": "Asking, listing, voting, deleting."},
            {"name": "comments", "description": "Threads under questions."},
            {"name": "staff", "description": "Login required: organisers and moderators."},
            {"name": "meta", "description": "This document."},
        ],
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "responses": {"MethodNotAllowed": error_response(405, ["method_not_allowed"])},
            "securitySchemes": security_schemes(),
        },
    }

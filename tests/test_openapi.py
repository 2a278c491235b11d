"""The OpenAPI document: valid OpenAPI 3.1, complete, and true of real responses.

Every /api/v1 rule of the app is documented with exactly its methods (and nothing
else is), and real answers of the main flows (participant, staff, every error status)
validate against the documented schema of their operation and status, including the
list of error codes that status may carry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from discussion.openapi import ID_MAX, openapi_document

API = "/api/v1"
CODE = "smartcities"
DOC_URI = "urn:discussion:openapi"
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by Flask itself for every rule

DOC = openapi_document()
REGISTRY = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(DOC))


def pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def schema_validator(*parts: str) -> Draft202012Validator:
    """A validator for the schema at this place of the document, its $refs resolved."""
    return Draft202012Validator(
        {"$ref": DOC_URI + pointer(*parts)},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def openapi_path(flask_rule: str) -> str:
    """/api/v1/questions/<id:question_id>/vote -> /questions/{question_id}/vote"""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", flask_rule.removeprefix(API))


def check(response: Any, path: str, method: str) -> Any:
    """Assert the response is documented for this operation and matches its schema."""
    operation = DOC["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method} {path} answered {status}, documented: {list(operation['responses'])}; "
        f"{response.get_data(as_text=True)[:300]}"
    )
    documented = operation["responses"][status]
    if "content" not in documented:
        assert response.get_data() == b""
        return None
    assert response.mimetype == "application/json"
    body = response.get_json()
    errors = sorted(
        schema_validator(
            "paths",
            path,
            method.lower(),
            "responses",
            status,
            "content",
            "application/json",
            "schema",
        ).iter_errors(body),
        key=str,
    )
    assert not errors, f"{method} {path} {status}: {errors[0].message}; body: {body}"
    return body


# -- the document itself


def test_document_is_valid_openapi_3_1() -> None:
    validate(DOC, cls=OpenAPIV31SpecValidator)
    assert DOC["openapi"].startswith("3.1")


def test_served_document_is_this_document(app: Flask, client: FlaskClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    with app.app_context():
        assert response.get_json() == openapi_document()
    check(response, "/openapi.json", "GET")


def test_every_api_rule_is_documented_with_its_methods_and_nothing_else(app: Flask) -> None:
    in_app: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            for method in set(rule.methods or ()) - IGNORED_METHODS:
                in_app.add((openapi_path(rule.rule), method.lower()))
    documented = {(path, method) for path, item in DOC["paths"].items() for method in item}
    assert in_app - documented == set(), "routes missing from the document"
    assert documented - in_app == set(), "documented operations the app does not have"


def test_path_parameters_match_the_rules(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        path = openapi_path(rule.rule)
        for method in set(rule.methods or ()) - IGNORED_METHODS:
            params = {
                p["name"]: p
                for p in DOC["paths"][path][method.lower()].get("parameters", [])
                if p["in"] == "path"
            }
            assert set(params) == set(rule.arguments), (path, method)
            for name, converter in rule._converters.items():
                schema = params[name]["schema"]
                if type(converter).__name__ == "IdConverter":
                    assert (schema["type"], schema["minimum"], schema["maximum"]) == (
                        "integer",
                        1,
                        ID_MAX,
                    )
                    assert (converter.min, converter.max) == (1, ID_MAX)
                else:
                    assert schema["type"] == "string"


def test_operations_are_complete() -> None:
    ids = []
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            assert operation["summary"] and operation["tags"], (method, path)
            assert any(s.startswith("2") for s in operation["responses"]), (method, path)
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema["allOf"] == [{"$ref": "#/components/schemas/Error"}]
                    codes = schema["properties"]["error"]["properties"]["code"]["enum"]
                    assert codes and all(f"`{c}`" in response["description"] for c in codes)
            if method in ("post", "put", "patch", "delete"):
                assert all("csrfToken" in s for s in operation["security"]), (method, path)
                assert "csrf_failed" in _codes(operation, "400")
            if "requestBody" in operation:
                assert "invalid_json" in _codes(operation, "400") or path == "/events/seed"
    assert len(ids) == len(set(ids))
    assert set(DOC["components"]["securitySchemes"]) == {
        "csrfToken",
        "sessionCookie",
        "participantCookie",
    }


def _codes(operation: dict[str, Any], status: str) -> list[str]:
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    return schema["properties"]["error"]["properties"]["code"]["enum"]  # type: ignore[no-any-return]


def test_request_bodies_are_generated_from_the_models_the_server_parses_with(
    phone: Phone,
) -> None:
    from discussion.openapi import from_model
    from discussion.rules import events
    from discussion.rules import schemas as bodies

    components = DOC["components"]["schemas"]
    for name in ("NewQuestion", "NewComment", "CommentModeration"):
        assert components[name] == from_model(getattr(bodies, name))
    for name in ("NewEvent", "EventChanges"):
        assert components[name] == from_model(getattr(events, name))
    body = components["NewQuestion"]["properties"]["body"]
    # What the document says is what the server does: the limit, counted as people see it.
    limit = body["maxLength"]
    family = "\U0001F469\u200D\U0001F469\u200D\U0001F467"  # one grapheme, five code points
    stored = phone.call("POST", "/events/{code}/questions", code=CODE, expect=201,
                        json={"body": family * limit})
    assert len(stored["body"]) == 5 * limit
    phone.call("POST", "/events/{code}/questions", code=CODE, expect=400,
               json={"body": "x" * (limit + 1)})


# -- real responses of the main flows


@pytest.fixture
def phone(client: FlaskClient, csrf: Callable[..., dict[str, str]]) -> Phone:
    return Phone(client, csrf(client))


class Phone:
    """A client with its cookies and CSRF header that checks every answer against the
    document: ``phone.call("PUT", "/questions/{question_id}/vote", question_id=3)``."""

    def __init__(self, client: FlaskClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: int,
        json: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> Any:
        url = API + path.format(**params)
        response = self.client.open(
            url,
            method=method,
            json=json,
            query_string=query,
            headers=self.headers if headers is None else headers,
        )
        body = check(response, path, method)
        assert response.status_code == expect, (response.status_code, body)
        return body

    def ask(self, body: str = "Who audits the sensor data?", **extra: Any) -> Any:
        return self.call(
            "POST", "/events/{code}/questions", code=CODE, expect=201, json={"body": body, **extra}
        )


def error_code(body: Any) -> str:
    return body["error"]["code"]  # type: ignore[no-any-return]


def test_participant_flow_matches_the_document(phone: Phone, new_client: Any, csrf: Any) -> None:
    event = phone.call("GET", "/events/{code}", code="SmartCities", expect=200)
    assert event["code"] == CODE and event["topics"]
    for query in ({}, {"sort": "new"}, {"sort": "top", "topic": "privacy"}, {"topic": ""}):
        phone.call("GET", "/events/{code}/questions", code=CODE, query=query, expect=200)
    q = phone.ask(topic="privacy", author="Ana", quote="named", client_id="phone-1:q.1")
    again = phone.call(
        "POST",
        "/events/{code}/questions",
        code=CODE,
        expect=200,
        json={"body": "Anything", "client_id": "phone-1:q.1"},
    )
    assert again["id"] == q["id"] and q["mine"] is True
    assert phone.call("PUT", "/questions/{question_id}/vote", question_id=q["id"], expect=200) == {
        "id": q["id"],
        "votes": 1,
        "voted": True,
    }
    phone.call("PUT", "/questions/{question_id}/vote", question_id=q["id"], expect=200)
    assert (
        phone.call("DELETE", "/questions/{question_id}/vote", question_id=q["id"], expect=200)[
            "votes"
        ]
        == 0
    )
    c = phone.call(
        "POST",
        "/questions/{question_id}/comments",
        question_id=q["id"],
        expect=201,
        json={"body": "¿Y quién audita?", "client_id": "c-1"},
    )
    phone.call(
        "POST",
        "/questions/{question_id}/comments",
        question_id=q["id"],
        expect=200,
        json={"body": "retry", "client_id": "c-1"},
    )
    thread = phone.call("GET", "/questions/{question_id}/comments", question_id=q["id"], expect=200)
    assert thread["comments"][0]["mine"] is True and "hidden" not in thread["comments"][0]
    phone.call("DELETE", "/comments/{comment_id}", comment_id=c["id"], expect=204)
    phone.call("GET", "/events/{code}/moderation", code=CODE, expect=200)
    alike = phone.call("GET", "/events/{code}/similar", code=CODE, expect=200,
                       query={"q": "Where does the smart city data come from?"})
    assert alike["questions"][0]["seeded"] is True
    assert phone.call("GET", "/events/{code}/similar", code=CODE, expect=200,
                      query={"q": "What time is lunch served?"}) == {"questions": []}

    # Someone else's question cannot be deleted by this phone.
    other = Phone(new_client(), {})
    other.headers = csrf(other.client)
    theirs = other.ask("Another phone's question")
    body = phone.call("DELETE", "/questions/{question_id}", question_id=theirs["id"], expect=403)
    assert error_code(body) == "not_yours"
    phone.call("DELETE", "/questions/{question_id}", question_id=q["id"], expect=204)

    phone.ask("A question to be forgotten")
    forgotten = phone.call("DELETE", "/events/{code}/me", code=CODE, expect=200)
    assert forgotten["questions_erased"] == 1
    assert phone.call("DELETE", "/events/{code}/me", code=CODE, expect=200) == {
        "questions_erased": 0,
        "questions_anonymised": 0,
        "comments_erased": 0,
        "votes_unlinked": 0,
    }


@pytest.mark.parametrize(
    ("method", "path", "params", "json", "status", "code"),
    [
        ("GET", "/events/{code}", {"code": "nope-nope"}, None, 404, "event_not_found"),
        ("GET", "/events/{code}/questions", {"code": CODE}, None, 400, "invalid_sort"),
        ("POST", "/events/{code}/questions", {"code": CODE}, [1, 2], 400, "invalid_json"),
        ("POST", "/events/{code}/questions", {"code": CODE}, {"body": "  "}, 400, "empty"),
        ("POST", "/events/{code}/questions", {"code": CODE}, {"body": 5}, 400, "invalid_type"),
        ("POST", "/events/{code}/questions", {"code": CODE}, {"body": "x" * 501}, 400, "too_long"),
        (
            "POST",
            "/events/{code}/questions",
            {"code": CODE},
            {"body": "a\x00b"},
            400,
            "control_characters",
        ),
        (
            "POST",
            "/events/{code}/questions",
            {"code": CODE},
            {"body": "b", "quote": "x"},
            400,
            "invalid_quote",
        ),
        (
            "POST",
            "/events/{code}/questions",
            {"code": CODE},
            {"body": "b", "quote": "named"},
            400,
            "name_required",
        ),
        (
            "POST",
            "/events/{code}/questions",
            {"code": CODE},
            {"body": "b", "client_id": "a b"},
            400,
            "invalid_client_id",
        ),
        (
            "POST",
            "/events/{code}/questions",
            {"code": CODE},
            {"body": "b", "topic": "nope"},
            400,
            "unknown_topic",
        ),
        (
            "PUT",
            "/questions/{question_id}/vote",
            {"question_id": ID_MAX},
            None,
            404,
            "question_not_found",
        ),
        ("GET", "/questions/{question_id}/comments", {"question_id": 0}, None, 404, "not_found"),
        ("DELETE", "/comments/{comment_id}", {"comment_id": 99}, None, 404, "comment_not_found"),
        ("GET", "/events/{code}/similar", {"code": CODE}, None, 400, "empty"),
        ("GET", "/events/{code}/similar", {"code": "nope-nope"}, None, 404, "event_not_found"),
        ("GET", "/events", {}, None, 401, "login_required"),
        ("GET", "/events/{code}/moderation-log", {"code": CODE}, None, 401, "login_required"),
        ("PATCH", "/events/{code}", {"code": CODE}, {"status": "closed"}, 401, "login_required"),
        (
            "POST",
            "/questions/{question_id}/moderate",
            {"question_id": 1},
            {"action": "hide"},
            401,
            "login_required",
        ),
        (  # the login is checked before the body: a participant learns nothing more
            "POST",
            "/questions/{question_id}/moderate",
            {"question_id": 1},
            {"action": "nuke"},
            401,
            "login_required",
        ),
        ("POST", "/events/seed", {}, {"toml": "x"}, 401, "login_required"),
    ],
)
def test_errors_match_the_document(
    phone: Phone, method: str, path: str, params: dict[str, Any], json: Any, status: int, code: str
) -> None:
    query = {"sort": "best"} if code == "invalid_sort" else None
    body = phone.call(method, path, expect=status, json=json, query=query, **params)
    assert error_code(body) == code and body["error"]["message"]


def test_missing_csrf_token_is_a_documented_400(phone: Phone) -> None:
    body = phone.call(
        "POST",
        "/events/{code}/questions",
        code=CODE,
        expect=400,
        json={"body": "No token"},
        headers={},
    )
    assert error_code(body) == "csrf_failed"
    body = phone.call(
        "PUT",
        "/questions/{question_id}/vote",
        question_id=1,
        expect=400,
        headers={"X-CSRFToken": "forged"},
    )
    assert error_code(body) == "csrf_failed"


def test_wrong_method_is_the_documented_405(client: FlaskClient) -> None:
    for method, path in (
        ("POST", "/events/smartcities/moderation"),
        ("PUT", "/events"),
        ("GET", "/questions/1/vote"),
        ("DELETE", "/openapi.json"),
    ):
        response = client.open(API + path, method=method)
        assert response.status_code == 405, (method, path)
        errors = list(
            schema_validator(
                "components",
                "responses",
                "MethodNotAllowed",
                "content",
                "application/json",
                "schema",
            ).iter_errors(response.get_json())
        )
        assert not errors, errors


@pytest.mark.parametrize("question_id", [0, ID_MAX + 1])
def test_out_of_range_id_is_404_on_every_method(phone: Phone, question_id: int) -> None:
    body = phone.call(
        "POST",
        "/questions/{question_id}/comments",
        question_id=question_id,
        json={"body": "Hello"},
        expect=404,
    )
    assert error_code(body) == "not_found"


def test_staff_flow_matches_the_document(
    phone: Phone, staff_login: Any, csrf: Any, new_client: Any
) -> None:
    q = phone.ask("Please hide me")
    c = phone.call(
        "POST",
        "/questions/{question_id}/comments",
        question_id=q["id"],
        expect=201,
        json={"body": "A comment to hide"},
    )
    staff = Phone(new_client(), {})
    staff_login(staff.client, "organiser")
    staff.headers = csrf(staff.client)

    assert CODE in [e["code"] for e in staff.call("GET", "/events", expect=200)["events"]]
    created = staff.call(
        "POST",
        "/events",
        expect=201,
        json={
            "code": "Demo-2017",
            "title": "Demo",
            "date": "2017-12-08",
            "topics": ["Consent", {"slug": "priv", "name": "Privacy"}],
        },
    )
    assert created["code"] == "demo-2017" and created["status"] == "live"
    body = staff.call("POST", "/events", expect=409, json={"code": "demo-2017", "title": "x"})
    assert error_code(body) == "code_taken"
    staff.call(
        "PATCH",
        "/events/{code}",
        code="demo-2017",
        expect=200,
        json={"moderation": "pre", "policy": "Be kind.", "retention_days": 30},
    )
    loaded = staff.call(
        "POST",
        "/events/seed",
        expect=200,
        json={"toml": '[event]\ncode = "seeded"\ntitle = "Seeded"\n[[questions]]\nbody = "Why?"\n'},
    )
    assert loaded["added"] == 1
    body = staff.call("POST", "/events/seed", expect=400, json={"toml": "not toml ["})
    assert error_code(body) == "invalid_seed"

    hidden = staff.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=q["id"],
        expect=200,
        json={"action": "hide", "reason": "Test"},
    )
    assert hidden["status"] == "hidden" and "original_body" in hidden
    body = staff.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=q["id"],
        expect=409,
        json={"action": "hide"},
    )
    assert error_code(body) == "already_hidden"
    staff.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=1,
        expect=200,
        json={"action": "edit", "body": "An edited question", "reason": "typo"},
    )
    body = staff.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=2,
        expect=400,
        json={"action": "merge", "into": 2},
    )
    assert error_code(body) == "merge_into_self"
    staff.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=2,
        expect=200,
        json={"action": "merge", "into": 1},
    )
    listed = staff.call("GET", "/events/{code}/questions", code=CODE, expect=200)
    assert any(x["status"] == "hidden" and "quote" in x for x in listed["questions"])
    staff.call(
        "POST",
        "/comments/{comment_id}/moderate",
        comment_id=c["id"],
        expect=200,
        json={"action": "hide", "reason": "Off topic"},
    )
    thread = staff.call("GET", "/questions/{question_id}/comments", question_id=q["id"], expect=200)
    assert thread["comments"][0]["hidden"] is True
    log = staff.call("GET", "/events/{code}/moderation-log", code=CODE, expect=200)
    assert {"hide", "edit", "merge", "hide_comment"} <= {e["action"] for e in log["entries"]}
    public = phone.call("GET", "/events/{code}/moderation", code=CODE, expect=200)
    assert public["hidden"]["questions"] >= 1 and public["hidden"]["comments"] == 1

    # The participant no longer finds the hidden question; closing stops new posts.
    body = phone.call("GET", "/questions/{question_id}/comments", question_id=q["id"], expect=404)
    assert error_code(body) == "question_not_found"
    staff.call(
        "PATCH",
        "/events/{code}",
        code=CODE,
        expect=200,
        json={"status": "closed", "reason": "Time is up"},
    )
    body = phone.call("PUT", "/questions/{question_id}/vote", question_id=1, expect=409)
    assert error_code(body) == "event_closed"
    body = phone.call(
        "POST", "/events/{code}/questions", code=CODE, expect=409, json={"body": "Too late"}
    )
    assert error_code(body) == "event_closed"


def test_pending_questions_and_moderator_rights_match_the_document(
    phone: Phone, staff_login: Any, csrf: Any, new_client: Any
) -> None:
    organiser = Phone(new_client(), {})
    staff_login(organiser.client, "organiser")
    organiser.headers = csrf(organiser.client)
    organiser.call("PATCH", "/events/{code}", code=CODE, expect=200, json={"moderation": "pre"})
    pending = phone.ask("Waiting for approval")
    assert pending["status"] == "pending"
    body = phone.call("PUT", "/questions/{question_id}/vote", question_id=pending["id"], expect=409)
    assert error_code(body) == "not_votable"
    body = phone.call(
        "POST",
        "/questions/{question_id}/comments",
        question_id=pending["id"],
        expect=409,
        json={"body": "Me first"},
    )
    assert error_code(body) == "not_commentable"

    outsider = Phone(new_client(), {})
    staff_login(outsider.client, "moderator", events=())
    outsider.headers = csrf(outsider.client)
    body = outsider.call("GET", "/events/{code}/moderation-log", code=CODE, expect=403)
    assert error_code(body) == "forbidden"
    # A pending question of an event they do not moderate does not exist for them...
    body = outsider.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=pending["id"],
        expect=404,
        json={"action": "approve"},
    )
    assert error_code(body) == "question_not_found"
    # ...and a public one is refused.
    public = phone.call("GET", "/events/{code}/questions", code=CODE, expect=200)["questions"][0]
    body = outsider.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=public["id"],
        expect=403,
        json={"action": "pin"},
    )
    assert error_code(body) == "forbidden"
    assert outsider.call("GET", "/events", expect=200) == {"events": []}

    approved = organiser.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=pending["id"],
        expect=200,
        json={"action": "approve"},
    )
    assert approved["status"] == "visible"
    body = organiser.call(
        "POST",
        "/questions/{question_id}/moderate",
        question_id=pending["id"],
        expect=409,
        json={"action": "approve"},
    )
    assert error_code(body) == "not_pending"


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_QUESTIONS": "2/minute"}]
)
def test_rate_limit_is_the_documented_429(phone: Phone) -> None:
    phone.ask("One")
    phone.ask("Two")
    body = phone.call(
        "POST", "/events/{code}/questions", code=CODE, expect=429, json={"body": "Three"}
    )
    assert error_code(body) == "rate_limited"

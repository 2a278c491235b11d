"""Fuzzing the JSON API against its own OpenAPI document, and property tests of validation.

schemathesis generates requests for every operation of ``/api/v1/openapi.json`` (valid
ones and deliberately invalid ones), sends them to the app through its WSGI interface
(no server) with a real participant cookie, session cookie and CSRF token, and checks
that nothing answers 5xx and that every answer is documented: its status, its content
type and its body schema (which also pins the error codes each status may carry).
Bounded and deterministic: a fixed seed, derandomised Hypothesis, few examples.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from helpers import csrf_headers
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from discussion.errors import ValidationError
from discussion.openapi import TEXT_PATTERN, openapi_document
from discussion.rules.text import QUESTION_MAX, clean, is_invisible

API = "/api/v1"
CODE = "smartcities"
MAX_EXAMPLES = 12

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20161208,
        "generation": {
            "mode": "all",  # valid requests and deliberately invalid ones
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            # The real credentials are sent by the test; do not invent random ones.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class Identity:
    """Credentials of one caller: cookies from its Flask client and the CSRF header."""

    def __init__(self, client: FlaskClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def cookies(self) -> dict[str, str]:
        names = ("discussion_session", "discussion_participant")
        return {n: c.value for n in names if (c := self.client.get_cookie(n)) is not None}


@pytest.fixture
def callers(app: Flask, client: FlaskClient, staff_login: Any) -> list[Identity]:
    """A participant and an organiser, with something for every id-taking operation to
    find (small ids, as in the documented examples): the participant's question and
    comment, and a comment of the organiser's phone on seeded question 1."""
    participant = Identity(client, csrf_headers(client))
    staff_phone = app.test_client()
    organiser = Identity(staff_phone, csrf_headers(staff_phone))
    own = client.post(
        f"{API}/events/{CODE}/questions",
        headers=participant.headers,
        json={"body": "Who audits the sensor data?", "topic": "privacy"},
    )
    assert own.status_code == 201, own.get_json()
    for caller in (participant, organiser):
        r = caller.client.post(
            f"{API}/questions/1/comments", headers=caller.headers, json={"body": "A comment."}
        )
        assert r.status_code == 201, r.get_json()
    staff_login(staff_phone, "organiser")
    organiser.headers = csrf_headers(staff_phone)  # the login starts a new session
    return [participant, organiser]


def _call(case: Any, app: Flask, identity: Identity) -> None:
    response = case.call(app=app, headers=identity.headers, cookies=identity.cookies())
    case.validate_response(response, checks=CHECKS)
    # The credentials are real: writes get past CSRF and are really exercised.
    assert _error_code(response) != "csrf_failed"


def _error_code(response: Any) -> str | None:
    if response.status_code < 400:
        return None
    return response.json()["error"]["code"]  # type: ignore[no-any-return]


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_document(case: Any, app: Flask, callers: list[Identity]) -> None:
    """Each generated request is sent as the participant, then as the organiser."""
    for identity in callers:
        _call(case, app, identity)


# ---------------------------------------------------------------------------
# Hostile inputs schemathesis does not generate; each was once a defect found here.

DEEP_JSON = "[" * 1000 + "]" * 1000  # 2 KB


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/events/smartcities/questions"),
        ("POST", "/questions/1/comments"),
        ("POST", "/questions/1/moderate"),
        ("POST", "/events"),
        ("PATCH", "/events/smartcities"),
    ],
)
def test_deeply_nested_json_is_a_400(
    app: Flask, client: FlaskClient, method: str, path: str, staff_login: Any
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer the 500 instead of raising
    if not path.endswith(("/questions", "/comments")):
        staff_login(client, "organiser")  # staff routes check the login before the body
    response = client.open(
        API + path,
        method=method,
        data=DEEP_JSON,
        headers={**csrf_headers(client), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "toml",
    [
        'questions = 5\n[event]\ncode = "abc"\ntitle = "T"\n',
        '[event]\ncode = "abc"\ntitle = "T"\n[[questions]]\nbody = "Q?"\ntopic = [1]\n',
    ],
)
def test_ill_typed_seed_is_a_400(
    app: Flask, client: FlaskClient, staff_login: Any, toml: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    staff_login(client, "organiser")
    response = client.post(
        f"{API}/events/seed",
        data=toml,
        headers={**csrf_headers(client), "Content-Type": "text/plain"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_seed"


def test_client_id_with_a_trailing_newline_is_refused(client: FlaskClient) -> None:
    response = client.post(
        f"{API}/events/{CODE}/questions",
        headers=csrf_headers(client),
        json={"body": "Who audits?", "client_id": "abc\n"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_client_id"


# ---------------------------------------------------------------------------
# rules.text.clean: any string either is refused with a known code, or comes out clean

TEXT_CODES = {"empty", "invalid_type", "control_characters", "too_long"}
FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(value=st.text(), max_len=st.integers(1, 600), required=st.booleans())
def test_text_refuses_or_cleans(value: str, max_len: int, required: bool) -> None:
    try:
        out = clean(value, field="f", max_len=max_len, required=required)
    except ValidationError as exc:
        assert exc.code in TEXT_CODES
        assert exc.status == 400
        return
    if out is None:
        assert not required and not value.strip()
        return
    assert out == out.strip()
    assert out
    assert unicodedata.is_normalized("NFC", out)
    assert len(out) <= max_len
    assert not FORBIDDEN.search(out)
    assert "\r\n" not in out and "\n\n\n" not in out


@settings(max_examples=100, derandomize=True, deadline=None, database=None)
@given(
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.lists(st.text(max_size=3), max_size=3),
        st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    )
)
def test_text_refuses_other_json_types(value: Any) -> None:
    for required in (True, False):
        try:
            out = clean(value, field="f", max_len=500, required=required)
        except ValidationError as exc:
            assert exc.code == ("empty" if value is None else "invalid_type")
        else:
            assert value is None and out is None and not required


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600))
def test_a_clean_text_within_the_limit_is_kept(value: str) -> None:
    """What passes is only trimmed and normalised: nothing else of the text is lost."""
    kept = unicodedata.normalize("NFC", value).strip()
    if (
        not kept
        or is_invisible(kept)
        or FORBIDDEN.search(kept)
        or len(kept) > 500
        or "\r" in value
        or "\n\n\n" in kept
    ):
        return
    assert clean(value, field="f", max_len=500) == kept


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(st.from_regex(re.compile(TEXT_PATTERN), fullmatch=True))
def test_text_the_document_allows_is_accepted(value: str) -> None:
    """Whatever matches the documented pattern of a text field (within its length) is
    accepted, so clients that follow the document are never refused."""
    assume(len(unicodedata.normalize("NFC", value).strip()) <= QUESTION_MAX)
    assert clean(value, field="body", max_len=QUESTION_MAX)

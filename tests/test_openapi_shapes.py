"""The answer components of the OpenAPI document are generated from the models every
answer is built through (``discussion.rules.shapes``), and what the server sends, over
HTTP and over Socket.IO, is what they say.

``tests/test_openapi.py`` checks every HTTP answer of the main flows against the
documented schema of its operation; here: the document has each model's fields and
no others, a field added to a model reaches the document, the hand-written examples
are true, and the Socket.IO payloads that carry the same shapes validate against the
same components.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, get_type_hints, is_typeddict

import pytest
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from helpers import csrf_headers, received
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field, create_model
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from discussion.openapi import components, openapi_document
from discussion.rules import shapes

API = "/api/v1"
CODE = "smartcities"
DOC_URI = "urn:discussion:openapi"
DOC = openapi_document()
SCHEMAS = DOC["components"]["schemas"]
REGISTRY = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(DOC))

# The names clients and the tests of the first releases know the answers by.
KNOWN = ("Error", "Topic", "EventTexts", "Event", "EventList", "SeedResult", "Question",
         "StaffQuestion", "QuestionList", "Comment", "CommentList", "VoteResult",
         "ForgetMeResult", "PublicModeration", "ModerationLog")


def _shape_types() -> list[type]:
    """Every answer shape declared in rules.shapes: the models and the TypedDicts."""
    found: list[type] = []
    for name, value in vars(shapes).items():
        if name.startswith("_") or not isinstance(value, type):
            continue
        if value.__module__ != shapes.__name__ or value is shapes.Shape:
            continue
        if is_typeddict(value) or issubclass(value, BaseModel):
            found.append(value)
    return found


def _fields(shape: type) -> tuple[set[str], set[str]]:
    """A shape's field names, and those an answer always carries."""
    if is_typeddict(shape):
        return set(get_type_hints(shape)), set(shape.__required_keys__)  # type: ignore[attr-defined]
    fields = shape.model_fields  # type: ignore[attr-defined]
    return set(fields), {name for name, field in fields.items() if field.is_required()}


def errors_of(instance: Any, name: str) -> list[str]:
    """What is wrong with ``instance`` as the component ``name`` (its $refs resolved)."""
    validator = Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{name}"},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(instance)]


def assert_shape(instance: Any, name: str) -> None:
    problems = errors_of(instance, name)
    assert not problems, f"not a {name}: {problems[:3]}; {instance}"


# -- the document is generated


def test_the_component_names_clients_know_are_kept() -> None:
    assert set(KNOWN) <= set(SCHEMAS)


def test_every_shape_is_a_component_with_exactly_its_fields() -> None:
    shape_types = _shape_types()
    assert {t.__name__ for t in shape_types} <= set(SCHEMAS)
    for shape in shape_types:
        schema = SCHEMAS[shape.__name__]
        fields, required = _fields(shape)
        assert set(schema["properties"]) == fields, shape.__name__
        assert set(schema.get("required", [])) == required, shape.__name__
        assert schema["additionalProperties"] is False, shape.__name__


def test_the_answer_components_are_what_the_models_generate() -> None:
    generated = components(*shapes.ANSWERS)
    assert {name: SCHEMAS[name] for name in generated} == generated
    # Nothing pydantic-specific is left for clients: no titles, no local $defs.
    assert not list(_titles(generated)) and "$defs" not in json.dumps(generated)
    assert SCHEMAS["Event"]["properties"]["title"] == {"type": "string", "maxLength": 200}


def _titles(schema: Any) -> Any:
    """Every ``title`` keyword of a schema (a property called "title" is not one)."""
    if isinstance(schema, list):
        for item in schema:
            yield from _titles(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key == "title" and isinstance(value, str):
                yield value
            yield from _titles(value)


def test_a_field_added_to_a_model_appears_in_the_document() -> None:
    grown = create_model(
        "VoteResult", __base__=shapes.VoteResult,
        weight=(int, Field(ge=1, description="How much the vote counts.")),
    )
    schema = components(grown)["VoteResult"]
    assert schema["properties"]["weight"] == {
        "type": "integer", "minimum": 1, "description": "How much the vote counts."}
    assert "weight" in schema["required"]
    assert set(schema["properties"]) - {"weight"} == set(SCHEMAS["VoteResult"]["properties"])


def test_enumerations_are_written_where_they_are_used() -> None:
    status = SCHEMAS["Question"]["properties"]["status"]
    assert status["enum"] == ["pending", "visible", "answered", "hidden"]
    assert status["description"].startswith("`pending`")
    assert not {"QuestionStatus", "Quote", "EventStatus", "Moderation",
                "ReasonCode"} & set(SCHEMAS)


def test_the_documented_examples_are_valid() -> None:
    checked = 0
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            media = [
                *(r.get("content", {}).get("application/json")
                  for r in operation["responses"].values()),
                operation.get("requestBody", {}).get("content", {}).get("application/json"),
            ]
            for content in media:
                if content and "example" in content and "$ref" in content["schema"]:
                    name = content["schema"]["$ref"].rsplit("/", 1)[1]
                    problems = errors_of(content["example"], name)
                    assert not problems, (method, path, problems)
                    checked += 1
    assert checked >= 10


def test_a_staff_list_is_either_shape_and_nothing_else() -> None:
    question = {
        "id": 1, "body": "Why?", "topic": None, "votes": 0, "comments": 0,
        "status": "visible", "seeded": False, "author": None,
        "created_at": "2016-12-08T15:04:05.123Z", "highlighted": False, "pinned": False,
        "edited": False, "mine": False, "voted": False,
    }
    staff = {**question, "original_body": None, "merged_into": None, "quote": "anonymous",
             "author_muted": False, "duplicate_of": None}
    assert_shape({"questions": [question, staff]}, "QuestionList")
    assert errors_of({"questions": [{**question, "quote": "anonymous"}]}, "QuestionList")
    assert errors_of(question, "StaffQuestion") and errors_of(staff, "Question")


def test_listing_refuses_keys_its_model_does_not_have() -> None:
    assert shapes.listing(shapes.CommentList, comments=[]) == {"comments": []}
    with pytest.raises(TypeError):
        shapes.listing(shapes.CommentList, questions=[])


# -- Socket.IO carries the same shapes


Factory = Callable[..., SocketIOTestClient]


def _acked(sc: SocketIOTestClient, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    ack = sc.emit(event, payload, callback=True)
    assert isinstance(ack, dict)
    return ack


def _answer(ack: dict[str, Any]) -> dict[str, Any]:
    """An ``ok: true`` ack without its ``ok``: the answer it carries."""
    assert ack["ok"] is True, ack
    return {k: v for k, v in ack.items() if k != "ok"}


def test_socket_payloads_are_the_documented_shapes(
    client: FlaskClient, new_client: Callable[[], FlaskClient], socket_client: Factory,
    staff_login: Callable[..., Any],
) -> None:
    csrf_headers(client)  # the phone's participant cookie, shared with its socket
    phone = socket_client(client)
    joined = _answer(_acked(phone, "join", {"event": CODE}))
    assert_shape(joined["event"], "EventSummary")
    assert errors_of(joined["event"], "Event")  # the phone's event is the smaller one
    assert joined["questions"]
    for question in joined["questions"]:
        assert_shape(question, "Question")

    asked = _answer(_acked(phone, "ask", {"body": "Who keeps the logs?", "client_id": "s-1"}))
    assert_shape(asked["question"], "Question")
    assert_shape(_answer(_acked(phone, "vote", {"question_id": 1, "up": True})), "VoteResult")
    commented = _answer(_acked(phone, "comment", {"question_id": 1, "body": "And for how long?"}))
    assert_shape(commented["comment"], "Comment")
    alike = _answer(_acked(phone, "similar",
                           {"body": "Where does the smart city data come from?"}))
    assert_shape(alike, "SimilarQuestions")
    refused = _acked(phone, "vote", {"question_id": "one", "up": True})
    assert refused["ok"] is False
    assert_shape(refused["error"], "ErrorDetail")
    assert_shape({"error": refused["error"]}, "Error")

    staff_client = new_client()
    staff_login(staff_client, "organiser")
    staff = socket_client(staff_client)
    console = _answer(_acked(staff, "join", {"event": CODE, "staff": True}))
    assert_shape(console["event"], "Event")
    for question in console["questions"]:
        assert_shape(question, "StaffQuestion")
    phone.get_received()
    staff.get_received()
    moderated = _answer(_acked(staff, "moderate", {"question_id": asked["question"]["id"],
                                                   "action": "pin"}))
    assert_shape(moderated["question"], "StaffQuestion")
    hidden = _answer(_acked(staff, "moderate", {"comment_id": commented["comment"]["id"],
                                                "action": "hide"}))
    assert_shape(hidden["comment"], "StaffComment")

    # The room's messages: a question as the phone reads it, the event in its language.
    [pinned, *_] = received(phone, "question")
    assert_shape(pinned, "Question")
    response = staff_client.patch(f"{API}/events/{CODE}", headers=csrf_headers(staff_client),
                                  json={"policy": "Be kind."})
    assert response.status_code == 200
    [event] = received(phone, "event")
    assert_shape(event, "EventSummary")
    assert event["policy"] == "Be kind."
    [staff_event] = received(staff, "event")
    assert_shape(staff_event, "Event")

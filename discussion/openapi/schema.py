"""Schema helpers and the components: generated from the pydantic models the server
builds its answers with and parses requests with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..rules import events, shapes
from ..rules import schemas as bodies
from ..rules.enums import ErrorCode

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


def error_response(status: int, codes: list[ErrorCode]) -> dict[str, Any]:
    """An error status with the exact list of ``error.code`` values it can carry."""
    values = [code.value for code in codes]  # plain strings, as every enum of the document
    listed = ", ".join(f"`{c}`" for c in values)
    schema = {
        "allOf": [ref("Error")],
        "properties": {"error": {"properties": {"code": {"enum": values}}}},
    }
    return {
        "description": f"{ERROR_TITLES[status]}. `error.code` is one of: {listed}.",
        "content": json_content(
            schema, {"error": {"code": values[0], "message": "A readable explanation."}}
        ),
    }


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
    enums = {
        REF.format(model=name): _untitled({**part, "description": ""})
        for name, part in found.items()
        if "enum" in part and "properties" not in part
    }
    return {
        name: _inline(_untitled(part), enums)
        for name, part in found.items()
        if REF.format(model=name) not in enums
    }


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

"""The OpenAPI 3.1 document of /api/v1, served at ``GET /api/v1/openapi.json``.

It is built from small helpers so that each operation reads as one call: what it
takes, what it answers, and which error codes each status can carry. The schemas are
generated from the pydantic models the server works with: the answers from
``rules.shapes`` (every answer is built through them), the request bodies that have
models from ``rules.schemas`` (both transports parse with them), so the document
cannot drift from what the server does. What stays here is prose: paths, summaries, examples and the
error codes each status can carry, listed by hand (as ``rules.enums.ErrorCode`` members)
and checked by ``tests/test_openapi.py`` and ``tests/test_fuzz.py``.
Human-readable documentation of the same API: ``docs/api.md``.
"""

from __future__ import annotations

from typing import Any

from ..rules.enums import ErrorCode
from .operation import security_schemes
from .paths import paths
from .schema import ID_MAX, TEXT_PATTERN, components, error_response, from_model, schemas

__all__ = ["ID_MAX", "TEXT_PATTERN", "components", "from_model", "openapi_document"]

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
            "responses": {"MethodNotAllowed": error_response(405, [ErrorCode.METHOD_NOT_ALLOWED])},
            "securitySchemes": security_schemes(),
        },
    }

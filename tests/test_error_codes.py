"""Error codes are declared once (``ErrorCode``): raised only as its members, listed by
the OpenAPI document, documented in docs/, and read by the page scripts from the rules
table rather than spelled out in them."""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
)

from discussion import api
from discussion.errors import DomainError
from discussion.export import views as export_views
from discussion.rules import archive, schemas, shapes
from discussion.rules.enums import RETRY_LATER, ErrorCode, browser_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "discussion"
CODES = {code.value for code in ErrorCode}
CODE_LIKE = re.compile(r"^[a-z][a-z_]*$")


def test_every_code_is_named_after_its_value() -> None:
    """The scripts find ERR.LOGIN_REQUIRED from the values alone; the document's pattern
    takes every code."""
    pattern = shapes.ErrorDetail.model_json_schema()["properties"]["code"]["pattern"]
    for code in ErrorCode:
        assert code.name == code.value.upper()
        assert re.fullmatch(pattern, code.value)
    assert len(CODES) == len(ErrorCode)


# -- every raise site names a member


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def _code_takers() -> dict[str, int]:
    """Everything called with an error code, by name: where its code goes."""
    import discussion.seeding  # noqa: F401  # SeedError, a subclass taking no code

    takers = {"PydanticCustomError": 0}
    for cls in {DomainError, *_subclasses(DomainError)}:
        params = list(inspect.signature(cls.__init__).parameters)[1:]
        if "code" in params:
            takers[cls.__name__] = params.index("code")
    for fn in (api.error, shapes.error, schemas._fail, archive.refuse, export_views._refuse):
        takers[fn.__name__] = list(inspect.signature(fn).parameters).index("code")
    return takers


def _codes_passed() -> tuple[list[str], int]:
    """Bare strings passed as a code anywhere in discussion/, and how many members were."""
    takers = _code_takers()
    bare: list[str] = []
    members = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            given = [k.value for k in node.keywords if k.arg == "code"]
            if name in takers and len(node.args) > takers[name]:
                given.append(node.args[takers[name]])
            for arg in given:
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                        and CODE_LIKE.match(arg.value):
                    bare.append(f"{where} {name}({arg.value!r})")
                elif isinstance(arg, ast.Attribute) and getattr(arg.value, "id", "") == "ErrorCode":
                    members += 1
    return bare, members


def test_no_code_is_a_bare_string() -> None:
    """Every ValidationError, NotFound, Conflict, ..., pydantic custom error, archive
    refusal and error answer names its code as an ErrorCode member."""
    bare, members = _codes_passed()
    assert bare == []
    assert members > 100  # the scan sees the raise sites (about 145 of them)


def test_every_code_is_raised_or_listed_somewhere() -> None:
    """No member is left over from a code the server no longer has."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")
                       if p.name != "enums.py")
    unused = [code.name for code in ErrorCode if f"ErrorCode.{code.name}" not in source]
    assert unused == []


@pytest.mark.parametrize(("exc", "code"), [
    (BadRequest(), "bad_request"),
    (NotFound(), "not_found"),
    (MethodNotAllowed(), "method_not_allowed"),
    (RequestEntityTooLarge(), "request_entity_too_large"),
    (TooManyRequests(), "rate_limited"),
    (InternalServerError(), "internal_server_error"),
    (UnsupportedMediaType(), "bad_request"),  # one the app is not known to answer
])
def test_http_errors_carry_werkzeug_names_as_members(exc: HTTPException, code: str) -> None:
    assert api.http_error_code(exc) == code
    assert isinstance(api.http_error_code(exc), ErrorCode)


# -- the OpenAPI document and the docs


def _listed(document: dict[str, Any]) -> list[Any]:
    """Every code any operation's error responses list, as the document holds them."""
    codes: list[Any] = []
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    codes += schema["properties"]["error"]["properties"]["code"]["enum"]
    return codes


def test_every_code_an_operation_lists_is_a_member(app: Any) -> None:
    """The lists are written with members (mypy refuses a string there); the document
    served to clients holds their values."""
    listed = _listed(app.test_client().get("/api/v1/openapi.json").get_json())
    assert len(listed) > 50
    assert set(listed) - CODES == set()
    # Every status of every operation lists at least one code, each once.
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    codes = schema["properties"]["error"]["properties"]["code"]["enum"]
                    assert codes and len(codes) == len(set(codes)), (path, method, status)


def _section(text: str, heading: str, end: str = "\n## ") -> str:
    start = text.index(heading)
    stop = text.find(end, start + len(heading))
    return text[start: stop if stop >= 0 else len(text)]


def _table_codes() -> set[str]:
    """The codes of docs/api.md's error tables (the first column of each row)."""
    section = _section((ROOT / "docs" / "api.md").read_text(encoding="utf-8"), "## Error codes")
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {code for row in rows for code in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def _realtime_codes() -> set[str]:
    """The codes docs/realtime.md names besides the API's, before its table of events."""
    text = (ROOT / "docs" / "realtime.md").read_text(encoding="utf-8")
    section = _section(text, "## Client to server", end="\n| event |")
    return set(re.findall(r"`([a-z_]+)`", section)) & CODES


def test_docs_error_table_is_the_enum(app: Any) -> None:
    """docs/api.md's table names no code the server lacks and every code the OpenAPI
    document lists; with realtime.md's socket codes, it documents every member."""
    table = _table_codes()
    assert table - CODES == set()
    assert set(_listed(app.test_client().get("/api/v1/openapi.json").get_json())) <= table
    assert CODES - table - _realtime_codes() == set()
    assert _realtime_codes() >= {"not_joined", "unknown_event", "internal"}


# -- the browser's table


def test_browser_table_carries_the_codes_and_what_to_retry() -> None:
    table = browser_table()
    assert table["errors"] == [code.value for code in ErrorCode]
    assert table["retry_later"] == sorted(RETRY_LATER)
    assert set(table["retry_later"]) <= set(table["errors"])
    json.dumps(table)  # page data: plain JSON


def test_retry_later_is_what_the_server_says_to_try_again() -> None:
    """Too fast, busy, a fault of the server, a socket not joined yet: the answers a
    phone keeps its post for. A refusal about the post itself is never among them."""
    again = {ErrorCode.RATE_LIMITED, ErrorCode.BUSY, ErrorCode.INTERNAL,
             ErrorCode.INTERNAL_SERVER_ERROR, ErrorCode.NOT_JOINED}
    assert again <= RETRY_LATER
    final = {ErrorCode.EVENT_CLOSED, ErrorCode.NOT_VOTABLE, ErrorCode.TOO_LONG,
             ErrorCode.MUTED, ErrorCode.QUESTION_NOT_FOUND}
    assert not RETRY_LATER & final


def test_the_participant_page_carries_the_rules_table(client: FlaskClient) -> None:
    html = client.get("/e/smartcities").get_data(as_text=True)
    match = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html,
                      re.S)
    assert match
    assert json.loads(match.group(1))["rules"] == browser_table()


SCRIPTS = ["participant.js", "moderate.js", "staff.js", "board.js", "lib.js"]
# A code compared with, set as or returned as a literal in a script.
SPELLED = re.compile(r"(?:===?|!==?|code:|return)\s*'([a-z_]+)'")


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_name_codes_through_the_table(script: str) -> None:
    """The page scripts spell no server error code, and decide nothing by a pattern over
    the codes' names: they read ERR.<NAME> and the retry set from the rules table."""
    source = (ROOT / "static" / "js" / script).read_text(encoding="utf-8")
    assert set(SPELLED.findall(source)) & CODES == set()
    assert not re.search(r"\}\s*\[[\w.]*code\]", source)  # a {code: ...} map read by code
    assert not re.search(r"/[^/\n]*\|[^/\n]*/i?\.test\([^)]*code", source)  # a pattern
    for name in re.findall(r"\bERR\.([A-Z_]+)", source):
        assert name.lower() in CODES, name


def test_error_strings_of_the_pages_are_keyed_by_codes() -> None:
    """The console's and staff home's ``err_<code>`` sentences name real codes (or the
    few situations only the browser knows)."""
    browser_only = {"generic", "network", "title_required", "no_file", "file_too_big",
                    "file_unreadable"}
    for template in ("moderate.html", "staff.html"):
        text = (ROOT / "templates" / template).read_text(encoding="utf-8")
        keys = set(re.findall(r'"err_([a-z_]+)"', text))
        assert keys and keys - browser_only <= CODES, template

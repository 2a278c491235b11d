"""The JSON archive: its published schema, the round trip through ``flask import``, and
the refusals.

What an organiser relies on: an archive restores the event as it was (participant
figure included); a file that is not an archive, a tampered one, one of an unknown
version, and one whose digest is valid over bad content are all refused with a clear
message naming the place and the rule, a non-zero exit and nothing written, never a
traceback; the limits are those the API applies, with the same error codes.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from export_room import (
    API,
    CODE,
    HIDDEN_NAMED_Q,
    HIDDEN_Q,
    NAMED_Q,
    ROOT,
    archive_of,
    build_room,
    cli_export,
    fresh_app,
)
from flask import Flask
from flask.testing import FlaskClient
from helpers import csrf_headers

from discussion.export import archive_digest
from discussion.export.schema import schema_text
from discussion.extensions import db
from discussion.seeding import SeedError, parse_seed_text


@pytest.fixture
def room(app: Flask, client: FlaskClient, new_client, csrf, staff_login) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return build_room(app, client, new_client, csrf, staff_login)


@pytest.fixture
def second_app(tmp_path: Path) -> Iterator[Flask]:
    app = fresh_app(tmp_path, "second")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def resign(document: dict[str, Any]) -> dict[str, Any]:
    """Give a changed archive a valid digest again, as anyone can."""
    document["digest"] = {"algorithm": "sha256", "value": archive_digest(document)}
    return document


def import_file(runner: Any, path: Path) -> Any:
    result = runner.invoke(args=["import", str(path)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result


# -- the published schema -----------------------------------------------------------------


def test_schema_file_is_generated_from_the_models() -> None:
    """docs/export-schema.json is what `python -m discussion.export.schema` writes."""
    committed = (ROOT / "docs" / "export-schema.json").read_text("utf-8")
    assert committed == schema_text(), (
        "docs/export-schema.json is out of date: run "
        "python -m discussion.export.schema docs/export-schema.json")
    jsonschema.Draft202012Validator.check_schema(json.loads(committed))


def test_archive_validates_against_its_published_schema(runner, room) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads((ROOT / "docs" / "export-schema.json").read_text("utf-8"))
    archive = archive_of(runner)
    jsonschema.Draft202012Validator(schema).validate(archive)
    # And the schema says no: a member more, a status it does not know.
    validator = jsonschema.Draft202012Validator(schema)
    extra = copy.deepcopy(archive)
    extra["questions"][0]["participant_id"] = 1
    assert not validator.is_valid(extra)
    unknown = copy.deepcopy(archive)
    unknown["questions"][0]["status"] = "deleted"
    assert not validator.is_valid(unknown)


# -- the round trip -----------------------------------------------------------------------


def comparable(archive: dict[str, Any]) -> dict[str, Any]:
    """The content of an archive, with database ids replaced by positions."""
    qpos = {q["id"]: i for i, q in enumerate(archive["questions"])}
    cpos = {c["id"]: (i, j) for i, q in enumerate(archive["questions"])
            for j, c in enumerate(q["thread"])}
    questions = []
    for q in archive["questions"]:
        q = {**q, "id": qpos[q["id"]],
             "merged_into": qpos.get(q["merged_into"]) if q["merged_into"] else None,
             "thread": [{k: v for k, v in c.items() if k != "id"} for c in q["thread"]]}
        questions.append(q)
    log = [{**e, "question_id": qpos.get(e["question_id"]),
            "comment_id": cpos.get(e["comment_id"])} for e in archive["moderation_log"]]
    return {"event": archive["event"], "licence": archive["licence"],
            "topics": archive["topics"], "questions": questions, "log": log,
            "figures": archive["figures"]}


def test_round_trip_through_import(tmp_path, runner, room, second_app) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "archive.json"
    result = runner.invoke(args=["export", CODE, "--format", "json", "-o", str(path)])
    assert result.exit_code == 0, result.output
    original = json.loads(path.read_text("utf-8"))

    second = second_app.test_cli_runner()
    result = import_file(second, path)
    assert result.exit_code == 0, result.output
    assert f"Restored event '{CODE}'" in result.output
    assert original["digest"]["value"] in result.output
    restored = json.loads(second.invoke(args=["export", CODE, "--format", "json"]).stdout_bytes)
    # Everything, the participant figure included: it comes back as the event's total.
    assert comparable(restored) == comparable(original)
    md_a = cli_export(runner, "md").decode()
    md_b = second.invoke(args=["export", CODE, "--format", "md"]).stdout_bytes.decode()

    def threads(md: str) -> str:
        start, end = md.index("## Consent"), md.index("---\n\n*Exported")
        return re.sub(r"#\d+\*", "#*", md[start:end])

    assert threads(md_a) == threads(md_b)
    assert "| 3 | 15 | 4 | 2 | 1 |" in md_b, "the restored report keeps its participants"
    client = second_app.test_client()
    r = client.get(f"{API}/events/{CODE}/questions")
    assert r.status_code == 200
    bodies = [q["body"] for q in r.get_json()["questions"]]
    assert NAMED_Q in bodies and HIDDEN_Q not in bodies and HIDDEN_NAMED_Q not in bodies


def test_import_beside_other_events(tmp_path, app, runner, room, second_app, staff_login) -> None:  # type: ignore[no-untyped-def]
    """An archive restores into a database that already holds other events."""
    staff = app.test_client()
    staff_login(staff, "organiser")
    r = staff.post(f"{API}/events", json={"code": "taller-2", "title": "Taller 2 — ñ",
                                          "timezone": "America/Sao_Paulo"},
                   headers=csrf_headers(staff))
    assert r.status_code == 201, r.get_json()
    path = tmp_path / "taller.json"
    assert runner.invoke(args=["export", "taller-2", "--format", "json", "-o", str(path)]
                         ).exit_code == 0
    smart = tmp_path / "smart.json"
    assert runner.invoke(args=["export", CODE, "-o", str(smart)]).exit_code == 0
    second = second_app.test_cli_runner()
    assert import_file(second, smart).exit_code == 0
    result = import_file(second, path)
    assert result.exit_code == 0, result.output
    listed = json.loads(second.invoke(args=["export", "taller-2", "--format", "json"]
                                      ).stdout_bytes)
    assert listed["event"]["title"] == "Taller 2 — ñ"
    assert listed["event"]["timezone"] == "America/Sao_Paulo"


def test_version_1_archives_still_import(tmp_path, runner, room, second_app) -> None:  # type: ignore[no-untyped-def]
    """An archive written before time zones and reason codes takes their defaults."""
    archive = archive_of(runner)
    archive["schema_version"] = 1
    del archive["event"]["timezone"]
    del archive["figures"]["merged_questions"]
    for entry in archive["moderation_log"]:
        del entry["reason_code"]
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(resign(archive)), "utf-8")
    second = second_app.test_cli_runner()
    result = import_file(second, path)
    assert result.exit_code == 0, result.output
    restored = json.loads(second.invoke(args=["export", CODE]).stdout_bytes)
    assert restored["schema_version"] == 2 and restored["event"]["timezone"] == "UTC"
    assert {e["reason_code"] for e in restored["moderation_log"]} == {None}


# -- refusals -----------------------------------------------------------------------------


def test_import_refuses_a_tampered_archive(tmp_path, runner, room, second_app) -> None:  # type: ignore[no-untyped-def]
    raw = cli_export(runner, "json").decode("utf-8")
    tampered = raw.replace("Who audits the sensors?", "Who audits the sensorz?", 1)
    assert tampered != raw
    path = tmp_path / "tampered.json"
    path.write_text(tampered, "utf-8")
    second = second_app.test_cli_runner()
    result = import_file(second, path)
    assert result.exit_code != 0
    assert "digest mismatch" in result.output and "altered" in result.output
    assert second.invoke(args=["export", CODE]).exit_code != 0, "nothing was restored"


def test_import_refuses_an_existing_code(tmp_path, runner, room) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "same.json"
    assert runner.invoke(args=["export", CODE, "-o", str(path)]).exit_code == 0
    result = import_file(runner, path)
    assert result.exit_code != 0
    assert f"an event with code '{CODE}' already exists" in result.output


def test_import_refuses_what_is_not_an_archive(tmp_path, runner, second_app) -> None:  # type: ignore[no-untyped-def]
    archive = archive_of(runner)
    good = json.dumps(archive)
    second = second_app.test_cli_runner()
    cases: list[tuple[bytes, str]] = [
        (b"not json at all", "not a JSON archive"),
        (b"", "not a JSON archive"),
        (b"\xff\xfe{}", "not a JSON archive (not UTF-8"),
        (b"[1, 2]", "unknown schema"),
        (json.dumps({**archive, "schema": "something-else"}).encode(), "unknown schema"),
        (json.dumps({**archive, "schema_version": 3}).encode(), "unknown schema version 3"),
        (json.dumps({**archive, "schema_version": "2"}).encode(), "unknown schema version '2'"),
        (json.dumps({**archive, "schema_version": True}).encode(), "unknown schema version"),
        (json.dumps({k: v for k, v in archive.items() if k != "digest"}).encode(),
         "has no sha256 digest"),
        # A number too long for any integer, NaN, a member given twice, deep nesting.
        (good.replace('"votes": 0', '"votes": ' + "9" * 5000, 1).encode(),
         "not a JSON archive"),
        (good.replace('"votes": 0', '"votes": NaN', 1).encode(),
         "NaN is not a JSON number"),
        (('{"licence": "x", ' + good[1:]).encode(), "'licence' is given twice"),
        (b'{"schema": "discussion-archive", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
         "not a JSON archive"),
    ]
    path = tmp_path / "bad.json"
    for raw, message in cases:
        path.write_bytes(raw)
        result = import_file(second, path)
        assert result.exit_code == 1, (raw[:60], result.output)
        assert message in result.output, (raw[:60], result.output)
    assert second.invoke(args=["export", CODE]).exit_code != 0, "nothing was restored"


def _question(doc: dict[str, Any], body: str) -> tuple[int, dict[str, Any]]:
    return next((i, q) for i, q in enumerate(doc["questions"]) if q["body"] == body)


def _commented(doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return next((i, q) for i, q in enumerate(doc["questions"]) if q["thread"])


Change = Callable[[dict[str, Any]], str]  # changes the archive, returns the expected message


def _set(path: str, value: Any) -> Change:
    """Set a member by its place ('event.retention_days', 'moderation_log[0].reason')."""

    def change(doc: dict[str, Any]) -> str:
        parts = re.findall(r"[a-z_]+|\[\d+\]", path)
        target: Any = doc
        for part in parts[:-1]:
            target = target[int(part[1:-1])] if part.startswith("[") else target[part]
        last = parts[-1]
        if last.startswith("["):
            target[int(last[1:-1])] = value
        else:
            target[last] = value
        return path

    return change


def _merge_into_self(doc: dict[str, Any]) -> str:
    doc["questions"][2]["merged_into"] = doc["questions"][2]["id"]
    return "questions[2].merged_into: a question cannot be merged into itself [merge_into_self]"


def _merge_cycle(doc: dict[str, Any]) -> str:
    a, b = doc["questions"][0], doc["questions"][1]
    a["merged_into"], b["merged_into"] = b["id"], a["id"]
    return "the merges go round in a circle [merge_cycle]"


def _comment_body(value: str) -> Change:
    def change(doc: dict[str, Any]) -> str:
        i, q = _commented(doc)
        q["thread"][0]["body"] = value
        return f"questions[{i}].thread[0].body"

    return change


def _duplicate_slug(doc: dict[str, Any]) -> str:
    doc["topics"][1]["slug"] = doc["topics"][0]["slug"]
    return f"topics[1].slug: the topic '{doc['topics'][0]['slug']}' is given twice " \
           "[duplicate_topic]"


def _duplicate_id(doc: dict[str, Any]) -> str:
    doc["questions"][1]["id"] = doc["questions"][0]["id"]
    return "questions[1].id: the id"


def _missing(doc: dict[str, Any]) -> str:
    del doc["questions"][0]["body"]
    return "questions[0].body: is missing [missing]"


def _dangling_log(doc: dict[str, Any]) -> str:
    doc["moderation_log"][0]["question_id"] = 999_999
    return "moderation_log[0].question_id: names the question 999999, which the archive " \
           "does not have [question_not_found]"


# Each: a change to a valid archive, and what the refusal must say (its place and rule).
BAD_CONTENT: list[tuple[Change, str]] = [
    (_set("moderation_log[0].reason", "x" * 2000),
     "moderation_log[0].reason: is longer than 500 characters [too_long]"),
    (_set("event.description", "a" * 100_000),
     "event.description: is longer than 5000 characters [too_long]"),
    (_set("questions[3].body", "Looks fine \u202etxet nedd\u202c"),
     "questions[3].body: contains control characters [control_characters]"),
    (_comment_body("a NUL \x00 here"), "contains control characters [control_characters]"),
    (_merge_into_self, ""),
    (_merge_cycle, ""),
    (_set("questions[1].merged_into", 999_999), "questions[1].merged_into: names the question"),
    (_set("event.retention_days", -5),
     "event.retention_days: 'retention_days' is 1 to 3650 [invalid_retention]"),
    (_set("event.date", "2016-13-45"), "event.date: 'date' is YYYY-MM-DD [invalid_date]"),
    (_set("event.date", "8 December 2016"), "[invalid_date]"),
    (_set("questions[0].created_at", "2016-12-08T25:61:00.000Z"),
     "questions[0].created_at: is not a valid time [invalid_time]"),
    (_set("questions[0].created_at", "2016-12-08 15:00"), "[invalid_time]"),
    (_set("exported_at", "yesterday"), "exported_at: "),
    (_set("questions[0].votes", 10**20),
     "questions[0].votes: input should be less than or equal to 2147483647"),
    (_set("questions[0].votes", -1), "questions[0].votes: input should be greater than"),
    (_set("questions[0].votes", True), "questions[0].votes: input should be a valid integer"),
    (_set("questions[0].comments", 2.5), "questions[0].comments"),
    (_set("figures.participants", -3), "figures.participants"),
    (_duplicate_slug, ""),
    (_duplicate_id, "[duplicate_id]"),
    (_set("questions[0].topic", "nowhere"),
     "questions[0].topic: names the topic 'nowhere', which the archive does not have"),
    (_set("questions[0].status", "deleted"), "questions[0].status: input should be"),
    (_set("questions[0].quote", "public"), "questions[0].quote: 'quote' must be"),
    (_set("questions[0].author", "x" * 61),
     "questions[0].author: is longer than 60 characters [too_long]"),
    (_set("event.code", "Bad Code!"), "event.code: the event code must be"),
    (_set("event.timezone", "Mars/Olympus_Mons"),
     "event.timezone: is not a known time zone: give an IANA name"),
    (_set("event.title", "   "), "event.title: must not be empty [empty]"),
    (_set("event.status", "archived"), "[invalid_status]"),
    (_set("event.moderation", "later"), "[invalid_moderation]"),
    (_set("event.speakers", ["x"] * 51), "event.speakers"),
    (_set("licence", "L" * 101), "licence: is longer than 100 characters [too_long]"),
    (_set("topics[0].name", "t" * 101), "topics[0].name: is longer than 100 characters"),
    (_set("topics[0].slug", "Not A Slug"), "[invalid_slug]"),
    (_set("moderation_log[0].action", "nuke"), "moderation_log[0].action: input should be"),
    (_set("moderation_log[0].reason_code", "rude"), "[invalid_reason_code]"),
    (_dangling_log, ""),
    (_set("questions[0].participant_id", 7),
     "questions[0].participant_id: is not part of the archive format [extra_forbidden]"),
    (_missing, ""),
    (_set("topics", {"consent": "Consent"}), "topics: input should be a valid list"),
    (_set("questions[0].thread", [{"id": 1}]), "questions[0].thread[0].body: is missing"),
]


def test_bad_content_with_a_valid_digest_is_refused_by_place(tmp_path, runner, room,
                                                             second_app) -> None:  # type: ignore[no-untyped-def]
    """Anyone can compute a digest: the content of a re-signed archive is still checked,
    by the API's own rules, and the refusal names where and which rule."""
    archive = archive_of(runner)
    second = second_app.test_cli_runner()
    path = tmp_path / "resigned.json"
    for change, expected in BAD_CONTENT:
        doc = copy.deepcopy(archive)
        named = change(doc)
        path.write_text(json.dumps(resign(doc)), "utf-8")
        result = import_file(second, path)
        assert result.exit_code == 1, (named, result.output)
        assert "the archive does not fit its schema" in result.output, (named, result.output)
        assert (expected or named) in result.output, (expected or named, result.output)
    assert second.invoke(args=["export", CODE]).exit_code != 0, "nothing was restored"


def test_many_problems_are_listed_with_a_count(tmp_path, runner, second_app) -> None:  # type: ignore[no-untyped-def]
    archive = archive_of(runner)
    for q in archive["questions"]:
        q["votes"] = q["comments"] = -1
    path = tmp_path / "many.json"
    path.write_text(json.dumps(resign(archive)), "utf-8")
    result = import_file(second_app.test_cli_runner(), path)
    assert result.exit_code == 1
    assert result.output.count("input should be greater than or equal to 0") == 10
    assert f"... and {2 * len(archive['questions']) - 10} more" in result.output


TWICE = [{"slug": "privacy", "name": "Privacy"}, {"slug": "privacy", "name": "Privacidad"}]


def _toml(value: Any) -> str:
    """A TOML value; strings escaped as TOML basic strings, but a lone surrogate (which
    no escape may name) left raw, as a client's text would carry it."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if not isinstance(value, str):
        return str(value)
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029" \
                or "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _seed_text(field: str, value: Any) -> str:
    """A seed file of a new event with the bad value in its place."""
    if field == "topics":
        tables = "".join(f'[[topics]]\nslug = "{t["slug"]}"\nname = "{t["name"]}"\n'
                         for t in value)
        return f'[event]\ncode = "door-seed"\ntitle = "Seeded"\n{tables}'
    title = "" if field == "title" else 'title = "Seeded"\n'
    return f'[event]\ncode = "door-seed"\n{title}{field} = {_toml(value)}\n'


@pytest.mark.parametrize(("field", "value", "code"), [
    ("retention_days", -5, "invalid_retention"),
    ("retention_days", 10**30, "invalid_retention"),
    ("title", "A \u202eTITLE", "control_characters"),
    ("title", "A lone \ud800 surrogate", "control_characters"),
    ("title", "t" * 201, "too_long"),
    ("description", "d" * 5001, "too_long"),
    ("timezone", "Europe/Atlantis", "invalid_timezone"),
    ("date", "2016-02-30", "invalid_date"),
    ("date", "8 December 2016", "invalid_date"),
    ("place", "\x00", "control_characters"),
    ("status", "archived", "invalid_status"),
    ("moderation", "later", "invalid_moderation"),
    ("speakers", ["x"] * 51, "invalid_type"),
    ("topics", TWICE, "duplicate_topic"),
])
def test_every_door_refuses_a_bad_event_alike(tmp_path, runner, client, staff_login,
                                              second_app, field, value, code) -> None:  # type: ignore[no-untyped-def]
    """One rule, one error code, whichever door the value comes through: POST and PATCH
    /events, a seed file (`flask seed` and the console's upload) and `flask import`
    of an archive with a valid digest."""
    staff_login(client, "organiser")
    headers = csrf_headers(client)
    new = {"code": "door-new", "title": "New", field: value}
    r = client.post(f"{API}/events", json=new, headers=headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code, r.get_json()
    message = r.get_json()["error"]["message"]
    r = client.patch(f"{API}/events/{CODE}", json={field: value}, headers=headers)
    assert r.status_code == 400 and r.get_json()["error"] == {"code": code, "message": message}

    # A seed file: refused as a whole (invalid_seed), the problem by the same rule.
    text = _seed_text(field, value)
    with pytest.raises(SeedError) as caught:
        parse_seed_text(text)
    assert caught.value.problem.code == code and message in caught.value.message
    r = client.post(f"{API}/events/seed", json={"toml": text}, headers=headers)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_seed"
    assert message in r.get_json()["error"]["message"]
    seed = tmp_path / "door.toml"
    try:
        seed.write_text(text, "utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 file can hold it
        seed.write_bytes(text.encode("utf-8", "surrogatepass"))
        message = "the file is not UTF-8 text."
    result = runner.invoke(args=["seed", str(seed)])
    assert result.exit_code == 1 and message in result.output, result.output

    archive = archive_of(runner)
    if field == "topics":
        archive["topics"] = value
    else:
        archive["event"][field] = value
    path = tmp_path / "same-rule.json"
    try:
        path.write_text(json.dumps(resign(archive)), "utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the archive cannot be hashed
        path.write_text(json.dumps(archive), "utf-8")
        result = import_file(second_app.test_cli_runner(), path)
        assert result.exit_code == 1 and "it cannot be written canonically" in result.output
        return
    result = import_file(second_app.test_cli_runner(), path)
    where = "topics[1].slug" if field == "topics" else f"event.{field}"
    assert result.exit_code == 1 and f"{where}: " in result.output, result.output
    assert f"[{code}]" in result.output, result.output
    assert second_app.test_cli_runner().invoke(args=["export", CODE]).exit_code != 0


def test_texts_come_back_clean(tmp_path, runner, second_app) -> None:  # type: ignore[no-untyped-def]
    """What the API would clean, an import cleans too: a name or title with a line
    break is kept on one line (it would break the Markdown report), text is NFC."""
    archive = archive_of(runner)
    archive["event"]["title"] = "Smart\nCities # not a heading"
    q = archive["questions"][0]
    q.update(author="Ana\nNu\u0301n\u0303ez", quote="named", body="  Cafe\u0301?  ")
    path = tmp_path / "clean.json"
    path.write_text(json.dumps(resign(archive)), "utf-8")
    second = second_app.test_cli_runner()
    assert import_file(second, path).exit_code == 0
    restored = json.loads(second.invoke(args=["export", CODE]).stdout_bytes)
    assert restored["event"]["title"] == "Smart Cities # not a heading"
    first = restored["questions"][0]
    assert first["author"] == "Ana Núñez" and first["body"] == "Café?"
    md = second.invoke(args=["export", CODE, "--format", "md"]).stdout_bytes.decode()
    assert md.startswith("# Smart Cities \\# not a heading\n"), md[:80]

"""Exports: CSV, JSON archive, Markdown and HTML reports, from the CLI and the console.

What an organiser relies on: every format opens with accents and emoji intact; the
CSV reads as a spreadsheet reads it; no participant identifier leaves the database and
names appear only with ``quote: named``; ``quote: none`` text stays out of the reports;
the archive survives a round trip through ``flask import`` and refuses tampering,
unknown versions and duplicate codes; only the event's staff can download.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import select

from discussion import create_app
from discussion.export import md_escape
from discussion.extensions import db
from discussion.models import Participant

API = "/api/v1"
CODE = "smartcities"
ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("csv", "json", "md", "html")
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}

NAMED_Q = "¿Quién da el consentimiento? São Paulo, Señora Núñez 🙂 é ñ ã"
ANON_Q = "Who audits the sensors? Ação cidadã 🙂"
SECRET_Q = "Do not quote me: dados pessoais NOQUOTE-Q 🙂"
HTML_Q = "<script>alert('x')</script> & *bold* | pipe # hash"
HIDDEN_Q = "Personal attack HIDDEN-Q-TEXT"
DUP_Q = "¿Quién da el consentimiento? (duplicate)"
EDITED_Q = "Typo in teh question"
NAMED_C = "Buena pregunta, señor 🙂 ñ"
SECRET_C = "Comentario NOQUOTE-C reservado"
HIDDEN_C = "Spam HIDDEN-C-TEXT"
ANON_NAME = "Bruno Secreto"  # given, but with quote: anonymous
NAME = "Ana Núñez"


# -- building an event with everything an export must handle ----------------------------


def ask(client: FlaskClient, headers: dict[str, str], body: str, **extra: Any) -> int:
    r = client.post(f"{API}/events/{CODE}/questions", json={"body": body, **extra},
                    headers=headers)
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def comment(client: FlaskClient, headers: dict[str, str], qid: int, body: str,
            **extra: Any) -> int:
    r = client.post(f"{API}/questions/{qid}/comments", json={"body": body, **extra},
                    headers=headers)
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def vote(client: FlaskClient, headers: dict[str, str], qid: int) -> None:
    r = client.put(f"{API}/questions/{qid}/vote", headers=headers)
    assert r.status_code == 200, r.get_json()


def moderate(client: FlaskClient, headers: dict[str, str], path: str, **data: Any) -> None:
    r = client.post(f"{API}/{path}/moderate", json=data, headers=headers)
    assert r.status_code == 200, r.get_json()


@pytest.fixture
def room(app: Flask, client: FlaskClient, new_client, csrf, staff_login) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two participants post, vote and comment; an organiser moderates."""
    ana, bruno = client, new_client()
    ha, hb = csrf(ana), csrf(bruno)
    ids: dict[str, Any] = {}
    ids["named"] = ask(ana, ha, NAMED_Q, topic="consent", author=NAME, quote="named")
    ids["anon"] = ask(bruno, hb, ANON_Q, topic="consent", author=ANON_NAME)
    ids["secret"] = ask(bruno, hb, SECRET_Q, topic="privacy", author=ANON_NAME, quote="none")
    ids["html"] = ask(ana, ha, HTML_Q)
    ids["hidden"] = ask(bruno, hb, HIDDEN_Q, topic="consent")
    ids["dup"] = ask(bruno, hb, DUP_Q, topic="consent")
    ids["edited"] = ask(ana, ha, EDITED_Q, topic="privacy", author=NAME, quote="named")
    for qid in (ids["named"], ids["anon"], ids["secret"]):
        vote(ana, ha, qid)
    vote(bruno, hb, ids["named"])
    vote(bruno, hb, ids["dup"])
    ids["c_named"] = comment(ana, ha, ids["anon"], NAMED_C, author=NAME, quote="named")
    ids["c_secret"] = comment(bruno, hb, ids["anon"], SECRET_C, quote="none")
    ids["c_hidden"] = comment(bruno, hb, ids["named"], HIDDEN_C, author=ANON_NAME)

    staff = new_client()
    staff_login(staff, "organiser")
    hs = csrf(staff)
    moderate(staff, hs, f"questions/{ids['hidden']}", action="hide", reason="Personal attack")
    moderate(staff, hs, f"comments/{ids['c_hidden']}", action="hide", reason="Spam")
    moderate(staff, hs, f"questions/{ids['named']}", action="answer")
    moderate(staff, hs, f"questions/{ids['edited']}", action="edit",
             body="Typo in the question", reason="typo")
    moderate(staff, hs, f"questions/{ids['dup']}", action="merge", into=ids["named"])

    ids["cookies"] = [c.get_cookie("discussion_participant").value for c in (ana, bruno)]
    with app.app_context():
        ids["keys"] = [k for k in db.session.scalars(select(Participant.key)) if k]
    assert len(ids["keys"]) >= 2
    ids["staff"] = staff
    return ids


def cli_export(runner, fmt: str, *args: str) -> bytes:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["export", CODE, "--format", fmt, *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def archive_of(runner) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return json.loads(cli_export(runner, "json"))


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# -- every format ---------------------------------------------------------------------


def test_csv_reads_as_a_spreadsheet_would(runner, room) -> None:  # type: ignore[no-untyped-def]
    data = cli_export(runner, "csv")
    assert data.startswith(b"\xef\xbb\xbf"), "a UTF-8 byte-order mark keeps accents in Excel"
    rows = csv_rows(data)
    assert rows[0].keys() >= {"kind", "question_id", "comment_id", "topic", "status", "votes",
                              "comments", "author", "quote", "body", "created_at",
                              "answered_at", "highlighted", "pinned", "edited", "seeded"}
    # Each comment row follows its question's row (or a sibling comment).
    current = None
    for row in rows:
        assert row["kind"] in ("question", "comment")
        if row["kind"] == "question":
            current = row["question_id"]
        else:
            assert row["question_id"] == current
    by_body = {r["body"]: r for r in rows}
    named = by_body[NAMED_Q]
    assert named["author"] == NAME and named["quote"] == "named"
    assert named["status"] == "answered" and named["answered_at"].endswith("Z")
    assert named["votes"] == "2"  # the duplicate's voter had voted for it already
    assert by_body[ANON_Q]["author"] == "" and by_body[ANON_Q]["topic"] == "consent"
    assert by_body[NAMED_C]["kind"] == "comment" and by_body[NAMED_C]["author"] == NAME
    # Staff data: hidden posts and "do not quote" text are kept, marked, without names.
    assert by_body[HIDDEN_Q]["status"] == "hidden"
    assert by_body[HIDDEN_C]["status"] == "hidden" and by_body[HIDDEN_C]["author"] == ""
    assert by_body[SECRET_Q]["quote"] == "none" and by_body[SECRET_Q]["author"] == ""
    assert by_body[SECRET_C]["quote"] == "none"
    assert by_body["Typo in the question"]["edited"] == "true"
    assert EDITED_Q not in data.decode("utf-8-sig"), "the original of an edit is archive-only"
    assert by_body[DUP_Q]["merged_into"] == str(room["named"])
    seeded = [r for r in rows if r["seeded"] == "true"]
    assert seeded and all(r["kind"] == "question" for r in seeded)
    # Comments of a question follow it, oldest first.
    anon_at = [r["body"] for r in rows if r["kind"] == "comment"
               and r["question_id"] == str(room["anon"])]
    assert anon_at == [NAMED_C, SECRET_C]


def test_csv_cells_never_run_as_formulas(runner, client, csrf) -> None:  # type: ignore[no-untyped-def]
    headers = csrf(client)
    ask(client, headers, '=HYPERLINK("http://evil.example","clic")')
    ask(client, headers, "+1 for open data")
    rows = csv_rows(cli_export(runner, "csv"))
    bodies = {r["body"] for r in rows}
    assert '\'=HYPERLINK("http://evil.example","clic")' in bodies
    assert "'+1 for open data" in bodies


def test_json_archive_is_complete_and_carries_its_digest(runner, room) -> None:  # type: ignore[no-untyped-def]
    raw = cli_export(runner, "json")
    archive = json.loads(raw)
    assert archive["schema"] == "discussion-archive" and archive["schema_version"] == 1
    assert archive["licence"] == "CC-BY-4.0"
    assert datetime.fromisoformat(archive["exported_at"].replace("Z", "+00:00")).tzinfo
    event = archive["event"]
    assert event["code"] == CODE and event["date"] == "2016-12-08"
    assert event["place"] == "Guadalajara, Mexico" and len(event["speakers"]) == 6
    assert [t["slug"] for t in archive["topics"]][:2] == ["consent", "transparency"]
    # The digest: sha256 of the canonical form without the digest member.
    body = {k: v for k, v in archive.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert archive["digest"] == {
        "algorithm": "sha256",
        "value": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    }
    assert "🙂" in raw.decode("utf-8"), "UTF-8 as is, not \\u escapes"
    # The file is the canonical form with the digest appended (docs/export.md).
    assert hashlib.sha256(raw[:-109] + b"}").hexdigest() == archive["digest"]["value"]
    questions = {q["body"]: q for q in archive["questions"]}
    named = questions[NAMED_Q]
    assert named["author"] == NAME and named["votes"] == 2 and named["status"] == "answered"
    assert named["answered_at"] and named["topic"] == "consent"
    assert [c["body"] for c in named["thread"]] == [HIDDEN_C]
    assert named["thread"][0]["hidden"] is True and named["thread"][0]["author"] is None
    assert named["comments"] == 0  # visible comments only
    assert [c["body"] for c in questions[ANON_Q]["thread"]] == [NAMED_C, SECRET_C]
    assert questions[ANON_Q]["author"] is None
    assert questions[SECRET_Q]["quote"] == "none" and questions[SECRET_Q]["author"] is None
    assert questions[HIDDEN_Q]["status"] == "hidden"
    assert questions[DUP_Q]["merged_into"] == named["id"]
    edited = questions["Typo in the question"]
    assert edited["edited"] is True and edited["original_body"] == EDITED_Q
    actions = [e["action"] for e in archive["moderation_log"]]
    assert {"hide", "hide_comment", "answer", "edit", "merge"} <= set(actions)
    assert all(set(e) == {"action", "question_id", "comment_id", "reason", "at"}
               for e in archive["moderation_log"])
    assert archive["figures"]["participants"] == 2
    assert archive["figures"]["hidden_questions"] == 2  # the hidden one and the duplicate
    assert archive["figures"]["hidden_comments"] == 1


def test_archive_matches_its_published_schema(runner, room) -> None:  # type: ignore[no-untyped-def]
    """docs/export-schema.json names exactly the members the archive has."""
    schema = json.loads((ROOT / "docs" / "export-schema.json").read_text())
    archive = archive_of(runner)
    defs = schema["$defs"]

    def same(obj: dict[str, Any], spec: dict[str, Any], where: str) -> None:
        assert set(obj) == set(spec["properties"]), where
        assert set(spec["required"]) <= set(obj), where

    same(archive, schema, "archive")
    assert schema["properties"]["schema_version"]["const"] == archive["schema_version"]
    same(archive["event"], defs["event"], "event")
    same(archive["figures"], defs["figures"], "figures")
    for q in archive["questions"]:
        same(q, defs["question"], "question")
        for c in q["thread"]:
            same(c, defs["comment"], "comment")
    for e in archive["moderation_log"]:
        same(e, defs["moderation_entry"], "moderation entry")


def test_markdown_report(runner, room) -> None:  # type: ignore[no-untyped-def]
    text = cli_export(runner, "md").decode("utf-8")
    assert text.startswith("# Smart Cities and Big Data: Boundless Opportunities?")
    for fact in ("December 8, 2016", "Guadalajara, Mexico", "Privacy International",
                 "Amber Sinha", "Jamila Venturini", "CC-BY-4.0"):
        assert fact in text
    # Summary: participants, questions, votes, comments, answered (as in the archive).
    f = archive_of(runner)["figures"]
    # 10 seeded + 5 published here (the hidden one and the merged duplicate are out).
    assert (f["participants"], f["questions"], f["votes"], f["comments"], f["answered"]) == \
        (2, 15, 4, 2, 1)
    assert f"| {f['participants']} | {f['questions']} | {f['votes']} | {f['comments']} | " \
           f"{f['answered']} |" in text
    assert NAMED_Q in text and NAME in text and md_escape(NAMED_C) in text
    assert "Ação cidadã 🙂" in text
    # Do-not-quote posts are counted but their text stays out; hidden text never shows.
    for absent in ("NOQUOTE-Q", "NOQUOTE-C", "HIDDEN-Q-TEXT", "HIDDEN-C-TEXT", ANON_NAME,
                   EDITED_Q, "<script>"):
        assert absent not in text, absent
    assert text.count("(not quoted at the author's request)") == 2
    assert "\\<script\\>" in text and "\\*bold\\*" in text and "\\| pipe" in text
    # Sections per topic, ranked by votes.
    consent = text.index("## Consent")
    assert text.index(NAMED_Q) > consent
    assert text.index(NAMED_Q) < text.index("Who audits the sensors?")
    assert "## No topic" in text and text.index("## No topic") < text.index("## Moderation")
    assert "Questions hidden | 1 |" in text and "Comments hidden | 1 |" in text
    assert "A comment was hidden: Spam" in text  # the public log, as participants see it
    assert "A question was hidden: Personal attack" in text


def test_html_report(runner, room) -> None:  # type: ignore[no-untyped-def]
    html = cli_export(runner, "html").decode("utf-8")
    assert html.startswith("<!doctype html>")
    # The stylesheet's address carries its fingerprint, as every static URL of a page does.
    link = r'<link rel="stylesheet" href="/static/css/report\.css\?v=[0-9a-f]{12}">'
    assert re.search(link, html)
    assert "<script" not in html.replace("&lt;script&gt;", "")
    assert "<style" not in html and " style=" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Smart Cities and Big Data: Boundless Opportunities?" in html
    assert "Guadalajara, Mexico" in html and "Iván Mantilla Gaviria" in html
    assert "Señora Núñez 🙂 é ñ ã" in html and NAME in html
    for absent in ("NOQUOTE-Q", "NOQUOTE-C", "HIDDEN-Q-TEXT", "HIDDEN-C-TEXT", ANON_NAME,
                   EDITED_Q):
        assert absent not in html, absent
    assert html.count("(not quoted at the author&#39;s request)") == 2
    # Ranked within its topic: three votes before one.
    assert html.index(NAMED_Q) < html.index("Who audits the sensors?")


def test_report_ranks_by_votes_then_oldest_first(runner, client, new_client, csrf) -> None:  # type: ignore[no-untyped-def]
    a, b = client, new_client()
    ha, hb = csrf(a), csrf(b)
    first = ask(a, ha, "RANK-first, no votes", topic="security")
    ask(a, ha, "RANK-second, no votes", topic="security")
    top = ask(a, ha, "RANK-third, two votes", topic="security")
    vote(a, ha, top)
    vote(b, hb, top)
    vote(a, ha, first)
    text = cli_export(runner, "md").decode("utf-8")
    found = re.findall(r"RANK-(\w+)", text)
    assert found == ["third", "first", "second"]


# -- anonymity --------------------------------------------------------------------------


def test_no_participant_identifier_in_any_export(app, runner, room) -> None:  # type: ignore[no-untyped-def]
    staff = room["staff"]
    outputs = []
    for fmt in FORMATS:
        outputs.append(cli_export(runner, fmt).decode("utf-8-sig"))
        r = staff.get(f"/e/{CODE}/export.{fmt}")
        assert r.status_code == 200
        outputs.append(r.get_data(as_text=True))
    secrets = [*room["cookies"], *room["keys"]]
    # The cookie carries the token; the database only its digests. Neither may leak.
    with app.app_context():
        ids = [str(i) for i in db.session.scalars(select(Participant.id))]
    for text in outputs:
        for secret in secrets:
            assert secret not in text
        assert ANON_NAME not in text, "a name given without quote: named stays out"
        assert "participant" not in text.lower() or "participants" in text.lower()
    archive = json.loads(outputs[2])
    for q in archive["questions"]:
        assert "participant_id" not in q and "client_id" not in q
    assert ids  # participants exist, their ids appear in no export field


# -- the archive round trip and its refusals -----------------------------------------


def fresh_app(tmp_path: Path, name: str) -> Flask:
    """A second, empty, migrated database (no seed)."""
    instance = tmp_path / f"instance-{name}"
    os.environ["DISCUSSION_INSTANCE_PATH"] = str(instance)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "another-secret", "SOCKETIO_ASYNC_MODE": "threading",
        "DATABASE_URL": f"sqlite:///{tmp_path / (name + '.db')}", "VOTE_TICK": 0,
        "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def second_app(tmp_path: Path) -> Iterator[Flask]:
    app = fresh_app(tmp_path, "second")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def comparable(archive: dict[str, Any]) -> dict[str, Any]:
    """The thread content of an archive, with database ids replaced by positions."""
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
    figures = {k: v for k, v in archive["figures"].items() if k != "participants"}
    return {"event": archive["event"], "licence": archive["licence"],
            "topics": archive["topics"], "questions": questions, "log": log,
            "figures": figures}


def test_round_trip_through_import(tmp_path, runner, room, second_app) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "archive.json"
    result = runner.invoke(args=["export", CODE, "--format", "json", "-o", str(path)])
    assert result.exit_code == 0, result.output
    original = json.loads(path.read_text("utf-8"))

    second = second_app.test_cli_runner()
    result = second.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Restored event '{CODE}'" in result.output
    assert original["digest"]["value"] in result.output
    restored = json.loads(second.invoke(args=["export", CODE, "--format", "json"]).stdout_bytes)
    assert comparable(restored) == comparable(original)
    # The restored event serves the same ranked board and reports.
    assert restored["figures"]["votes"] == original["figures"]["votes"]
    md_a = cli_export(runner, "md").decode()
    md_b = second.invoke(args=["export", CODE, "--format", "md"]).stdout_bytes.decode()

    def threads(md: str) -> str:
        start, end = md.index("## Consent"), md.index("## Moderation")
        return re.sub(r"#\d+\*", "#*", md[start:end])

    assert threads(md_a) == threads(md_b)
    client = second_app.test_client()
    r = client.get(f"{API}/events/{CODE}/questions")
    assert r.status_code == 200
    bodies = [q["body"] for q in r.get_json()["questions"]]
    assert NAMED_Q in bodies and HIDDEN_Q not in bodies


def test_import_beside_other_events(tmp_path, app, runner, room, second_app, staff_login) -> None:  # type: ignore[no-untyped-def]
    """An archive restores into a database that already holds other events."""
    staff = app.test_client()
    staff_login(staff, "organiser")
    r = staff.post(f"{API}/events", json={"code": "taller-2", "title": "Taller 2 — ñ"},
                   headers={"X-CSRFToken": _token(staff)})
    assert r.status_code == 201, r.get_json()
    path = tmp_path / "taller.json"
    assert runner.invoke(args=["export", "taller-2", "--format", "json", "-o", str(path)]
                         ).exit_code == 0
    smart = tmp_path / "smart.json"
    assert runner.invoke(args=["export", CODE, "-o", str(smart)]).exit_code == 0
    second = second_app.test_cli_runner()
    assert second.invoke(args=["import", str(smart)]).exit_code == 0
    result = second.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    listed = second.invoke(args=["export", "taller-2", "--format", "json"])
    assert json.loads(listed.stdout_bytes)["event"]["title"] == "Taller 2 — ñ"


def _token(client: FlaskClient) -> str:
    page = client.get(f"/e/{CODE}").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def test_import_refuses_a_tampered_archive(tmp_path, runner, room, second_app) -> None:  # type: ignore[no-untyped-def]
    raw = cli_export(runner, "json").decode("utf-8")
    tampered = raw.replace("Who audits the sensors?", "Who audits the sensorz?", 1)
    assert tampered != raw
    path = tmp_path / "tampered.json"
    path.write_text(tampered, "utf-8")
    second = second_app.test_cli_runner()
    result = second.invoke(args=["import", str(path)])
    assert result.exit_code != 0
    assert "digest mismatch" in result.output and "altered" in result.output
    assert second.invoke(args=["export", CODE]).exit_code != 0, "nothing was restored"


def test_import_refuses_an_unknown_schema_version(tmp_path, runner, room, second_app) -> None:  # type: ignore[no-untyped-def]
    archive = archive_of(runner)
    second = second_app.test_cli_runner()
    for change, message in (({"schema_version": 2}, "unknown schema version 2"),
                            ({"schema": "something-else"}, "unknown schema")):
        path = tmp_path / "other.json"
        path.write_text(json.dumps({**archive, **change}), "utf-8")
        result = second.invoke(args=["import", str(path)])
        assert result.exit_code != 0
        assert message in result.output
    path.write_text("not json at all", "utf-8")
    result = second.invoke(args=["import", str(path)])
    assert result.exit_code != 0 and "not a JSON archive" in result.output


def test_import_refuses_an_existing_code(tmp_path, runner, room) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "same.json"
    assert runner.invoke(args=["export", CODE, "-o", str(path)]).exit_code == 0
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0
    assert f"an event with code '{CODE}' already exists" in result.output


def test_cli_export_errors_and_output_file(tmp_path, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["export", "no-such-event", "--format", "csv"])
    assert result.exit_code != 0 and "no event with code" in result.output
    result = runner.invoke(args=["export", CODE, "--format", "pdf"])
    assert result.exit_code != 0
    target = tmp_path / "report.md"
    result = runner.invoke(args=["export", CODE.upper(), "--format", "md", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text("utf-8").startswith("# Smart Cities")
    assert not list(tmp_path.glob("*.part"))


def test_standalone_html_embeds_its_stylesheet(runner) -> None:  # type: ignore[no-untyped-def]
    html = cli_export(runner, "html", "--standalone").decode()
    assert 'href="data:text/css;base64,' in html and "style-src data:" in html


# -- downloads from the console ----------------------------------------------------------


def test_download_needs_a_login(client, csrf) -> None:  # type: ignore[no-untyped-def]
    for fmt in FORMATS:
        r = client.get(f"/e/{CODE}/export.{fmt}", headers={"Accept": "application/json"})
        assert r.status_code == 401
        assert r.get_json()["error"]["code"] == "login_required"
    r = client.get(f"/e/{CODE}/export.csv", headers={"Accept": "text/html"})
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")
    assert "export.csv" in r.headers["Location"]
    # A participant (cookie, no login) is no better off.
    csrf(client)
    r = client.get(f"/e/{CODE}/export.json")
    assert r.status_code == 401


def test_download_is_for_this_events_staff(app, client, new_client, staff_login) -> None:  # type: ignore[no-untyped-def]
    staff, other = new_client(), new_client()
    organiser = new_client()
    staff_login(organiser, "organiser")
    r = organiser.post(f"{API}/events", json={"code": "other", "title": "Other"},
                       headers={"X-CSRFToken": _token(organiser)})
    assert r.status_code == 201
    staff_login(other, "moderator", events=("other",))
    r = other.get(f"/e/{CODE}/export.csv", headers={"Accept": "application/json"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert other.get("/e/other/export.csv").status_code == 200
    staff_login(staff, "moderator", events=(CODE,))
    assert organiser.get(f"/e/{CODE}/export.md").status_code == 200
    today = datetime.now(UTC).date().isoformat()
    for fmt in FORMATS:
        r = staff.get(f"/e/{CODE}/export.{fmt}")
        assert r.status_code == 200, fmt
        assert r.get_data()
        assert r.headers["Content-Type"] == TYPES[fmt]
        assert r.headers["Content-Disposition"] == \
            f'attachment; filename="{CODE}-{today}.{fmt}"'
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert staff.get(f"/e/{CODE}/export.pdf").status_code == 404
    r = staff.get("/e/nothing-here/export.csv", headers={"Accept": "application/json"})
    assert r.status_code == 404


def test_download_html_links_the_servers_stylesheet(client, staff_login) -> None:  # type: ignore[no-untyped-def]
    staff_login(client, "organiser")
    r = client.get(f"/e/{CODE}/export.html")
    html = r.get_data(as_text=True)
    assert '<link rel="stylesheet" href="http://localhost/static/css/report.css">' in html
    assert "style-src 'self' http://localhost;" in unescape(html)
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert client.get("/static/css/report.css").status_code == 200


def test_download_matches_the_cli(runner, room) -> None:  # type: ignore[no-untyped-def]
    staff = room["staff"]
    r = staff.get(f"/e/{CODE}/export.csv")
    assert r.data.startswith(b"\xef\xbb\xbf")
    assert csv_rows(r.data) == csv_rows(cli_export(runner, "csv"))
    archive = json.loads(staff.get(f"/e/{CODE}/export.json").data)
    body = {k: v for k, v in archive.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == archive["digest"]["value"]


def test_markdown_escaping() -> None:
    assert md_escape("# not a heading") == "\\# not a heading"
    assert md_escape("1. not a list") == "1\\. not a list"
    assert md_escape("- item\n> quote") == "\\- item\\\n\\> quote"
    assert md_escape("a <b> & &amp; [link](x)") == "a \\<b\\> & \\&amp; \\[link\\](x)"
    assert md_escape("one\n\ntwo") == "one\n\ntwo"


def test_import_checks_content_even_with_a_valid_digest(tmp_path, runner, room, second_app) -> None:  # type: ignore[no-untyped-def]
    """Anyone can compute a digest: the content of a re-signed archive is still checked."""
    from discussion.export import archive_digest

    archive = archive_of(runner)
    second = second_app.test_cli_runner()
    path = tmp_path / "resigned.json"
    for change, message in (
        (lambda a: a["questions"][0].update(status="deleted"), "not one of"),
        (lambda a: a["questions"][0].update(topic="nowhere"), "unknown topic"),
        (lambda a: a["questions"][0].update(author="x" * 61), "too long"),
        (lambda a: a["questions"][0].update(votes=True), "wrong type"),
        (lambda a: a["event"].update(code="Bad Code!"), "not a valid event code"),
    ):
        doc = json.loads(json.dumps(archive))
        change(doc)
        doc["digest"]["value"] = archive_digest(doc)
        path.write_text(json.dumps(doc), "utf-8")
        result = second.invoke(args=["import", str(path)])
        assert result.exit_code != 0 and message in result.output, result.output
    assert second.invoke(args=["export", CODE]).exit_code != 0


def test_reports_follow_the_chosen_language(runner) -> None:  # type: ignore[no-untyped-def]
    text = cli_export(runner, "md", "--lang", "es").decode()
    assert "8 de diciembre de 2016" in text

"""Exports: CSV, JSON archive, Markdown and HTML reports, from the CLI and the console.

What an organiser relies on: every format opens with accents and emoji intact; the
CSV reads as a spreadsheet reads it; no participant identifier leaves the database and
names appear only with ``quote: named``; ``quote: none`` text stays out of the reports;
the archive survives a round trip through ``flask import`` and refuses tampering,
unknown versions and duplicate codes; only the event's staff can download.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest
from export_room import (
    ANON_NAME,
    ANON_Q,
    API,
    CODE,
    DUP_Q,
    EDITED_Q,
    FORMATS,
    HIDDEN_C,
    HIDDEN_NAME,
    HIDDEN_NAMED_Q,
    HIDDEN_Q,
    NAME,
    NAMED_C,
    NAMED_Q,
    SECRET_C,
    SECRET_Q,
    archive_of,
    ask,
    build_room,
    cli_export,
    csv_rows,
    vote,
)
from flask import Flask
from flask.testing import FlaskClient
from helpers import csrf_headers
from sqlalchemy import select

from discussion.export import md_escape
from discussion.extensions import db
from discussion.models import Participant

TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@pytest.fixture
def room(app: Flask, client: FlaskClient, new_client, csrf, staff_login) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return build_room(app, client, new_client, csrf, staff_login)


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
    # Staff data: hidden posts and "do not quote" text are kept, marked, without names
    # (docs/export.md), even where the author chose quote: named.
    assert by_body[HIDDEN_Q]["status"] == "hidden"
    hidden_named = by_body[HIDDEN_NAMED_Q]
    assert hidden_named["status"] == "hidden" and hidden_named["quote"] == "named"
    assert hidden_named["author"] == ""
    assert by_body[HIDDEN_C]["status"] == "hidden" and by_body[HIDDEN_C]["quote"] == "named"
    assert by_body[HIDDEN_C]["author"] == ""
    assert HIDDEN_NAME not in data.decode("utf-8-sig")
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
    assert archive["schema"] == "discussion-archive" and archive["schema_version"] == 2
    assert archive["licence"] == "CC-BY-4.0"
    assert datetime.fromisoformat(archive["exported_at"].replace("Z", "+00:00")).tzinfo
    event = archive["event"]
    assert event["code"] == CODE and event["date"] == "2016-12-08"
    assert event["place"] == "Guadalajara, Mexico" and len(event["speakers"]) == 6
    assert event["timezone"] == "UTC"
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
    assert named["thread"][0]["quote"] == "named"  # consent kept, the name not: it is hidden
    assert questions[HIDDEN_NAMED_Q]["author"] is None
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
    assert all(set(e) == {"action", "question_id", "comment_id", "reason", "reason_code", "at"}
               for e in archive["moderation_log"])
    assert [e["reason_code"] for e in archive["moderation_log"]
            if e["reason"] == "Personal attack"] == ["personal_attack"]
    assert archive["figures"]["participants"] == 3
    assert archive["figures"]["hidden_questions"] == 3  # two hidden ones and the duplicate
    assert archive["figures"]["merged_questions"] == 1
    assert archive["figures"]["hidden_comments"] == 1
    assert HIDDEN_NAME not in raw.decode("utf-8")


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
        (3, 15, 4, 2, 1)
    assert f"| {f['participants']} | {f['questions']} | {f['votes']} | {f['comments']} | " \
           f"{f['answered']} |" in text
    assert NAMED_Q in text and NAME in text and md_escape(NAMED_C) in text
    assert "Ação cidadã 🙂" in text
    # Do-not-quote posts are counted but their text stays out; hidden text never shows.
    for absent in ("NOQUOTE-Q", "NOQUOTE-C", "HIDDEN-Q-TEXT", "HIDDEN-C-TEXT", ANON_NAME,
                   EDITED_Q, "<script>", "HIDDEN-NAMED-Q", HIDDEN_NAME):
        assert absent not in text, absent
    assert text.count("(not quoted at the author's request)") == 2
    assert "\\<script\\>" in text and "\\*bold\\*" in text and "\\| pipe" in text
    # Sections per topic, ranked by votes.
    consent = text.index("## Consent")
    assert text.index(NAMED_Q) > consent
    assert text.index(NAMED_Q) < text.index("Who audits the sensors?")
    assert "## No topic" in text and text.index("## No topic") < text.index("## Moderation")
    # Moderation by question (where things stand) and by action (posts, times).
    assert "- Questions hidden by a moderator: 2\n" in text
    assert "- Duplicates merged into another question: 1\n" in text
    assert "- Comments hidden: 1\n" in text and "- Questions awaiting approval: 0\n" in text
    assert "| Questions hidden | 2 | 2 |" in text and "| Comments hidden | 1 | 1 |" in text
    assert "| Duplicates merged | 1 | 1 |" in text
    assert "A comment was hidden: Spam" in text  # the public log, as participants see it
    assert "A question was hidden: Personal attack" in text


def test_html_report(runner, room) -> None:  # type: ignore[no-untyped-def]
    html = cli_export(runner, "html").decode("utf-8")
    assert html.startswith("<!doctype html>")
    # Self-contained: the stylesheet inline, allowed by its hash and nothing else.
    assert "<link" not in html and " style=" not in html
    css = inline_css(html)
    assert css.startswith("/* The workshop report") and css.endswith("@page { size: A4; }\n")
    assert f"style-src {style_hash(css)};" in unescape(html)
    assert "<script" not in html.replace("&lt;script&gt;", "")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Smart Cities and Big Data: Boundless Opportunities?" in html
    assert "Guadalajara, Mexico" in html and "Iván Mantilla Gaviria" in html
    assert "Señora Núñez 🙂 é ñ ã" in html and NAME in html
    for absent in ("NOQUOTE-Q", "NOQUOTE-C", "HIDDEN-Q-TEXT", "HIDDEN-C-TEXT", ANON_NAME,
                   EDITED_Q, "HIDDEN-NAMED-Q", HIDDEN_NAME):
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


# -- the command line ------------------------------------------------------------------


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


def test_report_paper_is_a4_unless_letter_is_chosen(runner) -> None:  # type: ignore[no-untyped-def]
    assert inline_css(cli_export(runner, "html")).endswith("@page { size: A4; }\n")
    letter = cli_export(runner, "html", "--paper", "letter").decode()
    css = inline_css(letter)
    assert css.endswith("@page { size: letter; }\n")
    assert f"style-src {style_hash(css)};" in unescape(letter)
    result = runner.invoke(args=["export", CODE, "--format", "html", "--paper", "b5"])
    assert result.exit_code == 2 and "'b5' is not one of 'a4', 'letter'" in result.output


def test_html_may_link_the_servers_stylesheet(runner) -> None:  # type: ignore[no-untyped-def]
    """--base-url links the server's stylesheet (the page size still inline, hashed);
    --standalone keeps it inline even then."""
    html = cli_export(runner, "html", "--base-url", "https://talks.example.org",
                      "--paper", "letter").decode()
    assert '<link rel="stylesheet" href="https://talks.example.org/static/css/report.css' in html
    css = inline_css(html)
    assert css == "@page { size: letter; }\n"
    assert f"style-src 'self' https://talks.example.org {style_hash(css)};" in unescape(html)
    embedded = cli_export(runner, "html", "--base-url", "https://talks.example.org",
                          "--standalone").decode()
    assert "<link" not in embedded and inline_css(embedded).startswith("/* The workshop")


def inline_css(html: str | bytes) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    match = re.search(r"<style>(.*?)</style>", text, re.S)
    assert match, "no inline stylesheet"
    return match.group(1)


def style_hash(css: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


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
                       headers=csrf_headers(organiser))
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
        # The report opens in a tab, to print; the others are saved.
        disposition = "inline" if fmt == "html" else "attachment"
        assert r.headers["Content-Disposition"] == \
            f'{disposition}; filename="{CODE}-{today}.{fmt}"'
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert staff.get(f"/e/{CODE}/export.pdf").status_code == 404
    r = staff.get("/e/nothing-here/export.csv", headers={"Accept": "application/json"})
    assert r.status_code == 404


def test_download_html_is_a_self_contained_page_to_print(client, staff_login) -> None:  # type: ignore[no-untyped-def]
    staff_login(client, "organiser")
    r = client.get(f"/e/{CODE}/export.html")
    html = r.get_data(as_text=True)
    css = inline_css(html)
    assert "<link" not in html and css.endswith("@page { size: A4; }\n")
    # The response's policy (which replaces the app's: that one forbids inline styles)
    # allows exactly this stylesheet, as the page's own meta policy does for a file.
    policy = r.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'; style-src " + style_hash(css) + ";")
    assert "frame-ancestors 'none'" in policy and "script-src" not in policy
    assert f"style-src {style_hash(css)};" in unescape(html)
    assert r.headers["Content-Disposition"].startswith("inline;")
    saved = client.get(f"/e/{CODE}/export.html?download=1&paper=letter")
    assert saved.headers["Content-Disposition"].startswith("attachment;")
    assert inline_css(saved.get_data(as_text=True)).endswith("@page { size: letter; }\n")
    for bad in ("b5", "", "A4; size: 1px"):
        r = client.get(f"/e/{CODE}/export.html?paper={bad}",
                       headers={"Accept": "application/json"})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_paper", bad
    assert client.get(f"/e/{CODE}/export.html?paper=LETTER").status_code == 200


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


def test_reports_follow_the_chosen_language(runner) -> None:  # type: ignore[no-untyped-def]
    text = cli_export(runner, "md", "--lang", "es").decode()
    assert "8 de diciembre de 2016" in text

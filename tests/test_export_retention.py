"""Reports that stay true: the participant count through a purge and a restore, the
event's time zone, seeded questions dated by the event, moderation by question and by
action, and warnings before the retention period removes names.

Real databases: SQLite, and PostgreSQL where the count or the migration concern it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from export_room import (
    API,
    CODE,
    NAME,
    archive_of,
    ask,
    build_room,
    cli_export,
    comment,
    csv_rows,
    moderate,
    vote,
)
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from helpers import csrf_headers
from sqlalchemy import select, text

from discussion.extensions import db
from discussion.models import Event, Participant, utcnow
from discussion.operations import purge

BOTH = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)


@pytest.fixture
def room(app: Flask, client: FlaskClient, new_client, csrf, staff_login) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return build_room(app, client, new_client, csrf, staff_login)


def total(app: Flask, code: str = CODE) -> int:
    with app.app_context():
        return int(db.session.scalar(select(Event.participants_total).where(Event.code == code)))


def summary(md: str) -> tuple[int, ...]:
    """(participants, questions, votes, comments, answered) from a Markdown report."""
    row = re.search(r"\| ---: \|.*\n\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", md)
    assert row, md[:400]
    return tuple(int(n) for n in row.groups())


# -- the participant count --------------------------------------------------------------


@BOTH
def test_participants_are_counted_once_each(app, client, new_client, csrf) -> None:  # type: ignore[no-untyped-def]
    assert total(app) == 0
    ana, bea = client, new_client()
    ha, hb = csrf(ana), csrf(bea)
    qid = ask(ana, ha, "Counted once, however much I do")
    vote(ana, ha, qid)
    comment(ana, ha, qid, "And a comment")
    assert total(app) == 1
    vote(bea, hb, qid)
    assert total(app) == 2
    csrf(new_client())  # a phone that only reads is no participant
    assert total(app) == 2


@BOTH
def test_someone_back_after_forget_me_is_not_counted_again(app, client, new_client,
                                                          csrf) -> None:  # type: ignore[no-untyped-def]
    ana, bea = client, new_client()
    ha, hb = csrf(ana), csrf(bea)
    qid = ask(ana, ha, "Asked, then forgotten")
    vote(bea, hb, qid)
    assert total(app) == 2
    assert ana.delete(f"/api/v1/events/{CODE}/me", headers=ha).status_code == 200
    ask(ana, ha, "Back with a new question")
    comment(ana, ha, qid, "And a comment")
    assert total(app) == 2, "the same phone, back after forget me, is not a new person"
    carl = new_client()
    ask(carl, csrf(carl), "Someone new")
    assert total(app) == 3


@BOTH
def test_participants_survive_the_purge(app, runner, room) -> None:  # type: ignore[no-untyped-def]
    before = summary(cli_export(runner, "md").decode())
    assert before[0] == 3
    with app.app_context():
        assert purge(now=utcnow() + timedelta(days=91))["participants_purged"] >= 3
        assert db.session.scalar(select(Participant.id).where(Participant.key.is_not(None))) \
            is None
    md = cli_export(runner, "md").decode()
    assert summary(md) == before, "the figures are the same after the purge"
    assert NAME not in md, "the names went with the purge"
    assert archive_of(runner)["figures"]["participants"] == 3


@BOTH
def test_participants_survive_delete_and_restore(tmp_path, app, runner, room) -> None:  # type: ignore[no-untyped-def]
    """flask events delete writes the archive; flask import brings the event back with
    its participant figure, though no participant comes back."""
    before = summary(cli_export(runner, "md").decode())
    archive = tmp_path / "kept.json"
    result = runner.invoke(args=["events", "delete", CODE, "--yes", "--archive", str(archive)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["import", str(archive)])
    assert result.exit_code == 0, result.output
    assert total(app) == 3
    with app.app_context():
        assert db.session.scalar(select(Participant.id)) is None
    assert summary(cli_export(runner, "md").decode()) == before


@BOTH
def test_migration_counts_the_participants_of_existing_events(app, client, new_client,
                                                              csrf) -> None:  # type: ignore[no-untyped-def]
    ana, bea = client, new_client()
    ha, hb = csrf(ana), csrf(bea)
    qid = ask(ana, ha, "Asked before the upgrade")
    vote(bea, hb, qid)
    with app.app_context():
        questions = db.session.scalar(text("SELECT COUNT(*) FROM questions"))
        db.session.remove()
        downgrade(revision="3c5e2a7d41f0")
        # Going down and up keeps every row (SQLite rebuilds tables without cascading).
        assert db.session.scalar(text("SELECT COUNT(*) FROM questions")) == questions
        assert db.session.scalar(text("SELECT COUNT(*) FROM votes")) == 1
        db.session.remove()
        upgrade()
        row = db.session.execute(
            select(Event.participants_total, Event.timezone).where(Event.code == CODE)
        ).one()
        assert tuple(row) == (2, "UTC")
        assert db.session.scalar(text("SELECT COUNT(*) FROM votes")) == 1


# -- warnings before names go -------------------------------------------------------------


def test_purge_warns_of_events_about_to_lose_names(app, runner, room, staff_login) -> None:  # type: ignore[no-untyped-def]
    staff = room["staff"]
    r = staff.patch(f"{API}/events/{CODE}", json={"retention_days": 3},
                    headers=room["staff_headers"])
    assert r.status_code == 200, r.get_json()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "Purged the personal links of 0 participant(s)." in result.output
    warning = re.search(r"Warning: from (\S+ \S+) UTC, retention removes the links of (\d+) "
                        r"participant\(s\) and the names on (\d+) post\(s\) of 'smartcities'",
                        result.output)
    assert warning, result.output
    assert warning.group(2) == "3"
    # Every post that carries a name, quoted with it or not: Ana's three, Bruno's two
    # (given with quote: anonymous), Carla's two.
    assert warning.group(3) == "7"
    assert f"flask export {CODE} --format html" in result.output
    with app.app_context():
        first = db.session.scalar(select(Participant.created_at).order_by(Participant.id))
    assert warning.group(1) == f"{first + timedelta(days=3):%Y-%m-%d %H:%M}"
    quiet = runner.invoke(args=["purge", "--warn-days", "2"])
    assert quiet.exit_code == 0 and "Warning" not in quiet.output


def test_console_data_says_when_names_go(app, room) -> None:  # type: ignore[no-untyped-def]
    page = room["staff"].get(f"/e/{CODE}/moderate").get_data(as_text=True)
    data = json.loads(re.search(r'id="page-data">(.*?)</script>', page, re.S).group(1))
    event = data["event"]
    assert event["timezone"] == "UTC" and event["retention_days"] == 90
    with app.app_context():
        first = db.session.scalar(select(Participant.created_at).order_by(Participant.id))
    expected = first + timedelta(days=90)
    assert event["purge_at"] == expected.isoformat(timespec="milliseconds") + "Z"
    with app.app_context():
        purge(now=utcnow() + timedelta(days=91))
    page = room["staff"].get(f"/e/{CODE}/moderate").get_data(as_text=True)
    data = json.loads(re.search(r'id="page-data">(.*?)</script>', page, re.S).group(1))
    assert data["event"]["purge_at"] is None, "nothing left to remove"


# -- the event's time zone ------------------------------------------------------------------


def test_time_zone_through_the_api(client, staff_login) -> None:  # type: ignore[no-untyped-def]
    staff_login(client, "organiser")
    headers = csrf_headers(client)
    r = client.post(f"{API}/events", json={"code": "lisboa", "title": "Lisboa",
                                           "timezone": "Europe/Lisbon"}, headers=headers)
    assert r.status_code == 201, r.get_json()
    for bad in ("Europe/Nowhere", "../../etc/passwd", "UTC+3", 5, "x" * 65):
        r = client.patch(f"{API}/events/lisboa", json={"timezone": bad}, headers=headers)
        assert r.status_code == 400, bad
        assert r.get_json()["error"]["code"] in ("invalid_timezone", "invalid_type"), bad
    r = client.patch(f"{API}/events/lisboa", json={"timezone": None}, headers=headers)
    assert r.status_code == 200


def test_reports_show_times_in_the_events_zone(runner, room) -> None:  # type: ignore[no-untyped-def]
    staff, headers = room["staff"], room["staff_headers"]
    assert staff.patch(f"{API}/events/{CODE}", json={"timezone": "America/Mexico_City"},
                       headers=headers).status_code == 200
    archive = archive_of(runner)
    assert archive["event"]["timezone"] == "America/Mexico_City"
    asked = next(q for q in archive["questions"] if q["author"] == NAME)
    utc = datetime.fromisoformat(asked["created_at"].replace("Z", "+00:00"))
    local = utc - timedelta(hours=6)  # Mexico City: UTC−6 all year since 2022
    md = cli_export(runner, "md").decode()
    assert f"{local:%Y-%m-%d %H:%M} CST" in md
    assert f"{utc:%Y-%m-%d %H:%M} UTC" not in md
    assert "- **Time zone:** America/Mexico\\_City" in md
    assert "Times are shown in the time zone America/Mexico\\_City." in md
    html = cli_export(runner, "html").decode()
    assert f"{local:%Y-%m-%d %H:%M} CST" in html and "America/Mexico_City" in html
    # The CSV and the archive keep UTC, as their documentation says.
    rows = csv_rows(cli_export(runner, "csv"))
    assert all(r["created_at"].endswith("Z") for r in rows)
    # A zone without letters for its time is named by its offset.
    staff.patch(f"{API}/events/{CODE}", json={"timezone": "America/Sao_Paulo"},
                headers=headers)
    assert f"{utc - timedelta(hours=3):%Y-%m-%d %H:%M} UTC\u221203" in \
        cli_export(runner, "md").decode()


def test_seeded_questions_are_dated_by_the_event(runner, client, staff_login) -> None:  # type: ignore[no-untyped-def]
    md = cli_export(runner, "md").decode()
    assert md.count("*Seeded by the organisers · December 8, 2016 · \\#") == 10
    staff_login(client, "organiser")
    r = client.patch(f"{API}/events/{CODE}", json={"date": None}, headers=csrf_headers(client))
    assert r.status_code == 200
    md = cli_export(runner, "md").decode()
    assert "Seeded by the organisers · December" not in md
    assert re.search(r"Seeded by the organisers · \d{4}-\d\d-\d\d \d\d:\d\d UTC", md)


# -- moderation, by question and by action ------------------------------------------------


def test_moderation_counts_questions_and_actions_apart(runner, client, new_client, csrf,
                                                       staff_login) -> None:  # type: ignore[no-untyped-def]
    """A question hidden, restored and hidden again is one hidden question, two hides."""
    phone = csrf(client)
    qid = ask(client, phone, "Hidden twice")
    other = ask(client, phone, "Merged away")
    keep = ask(client, phone, "Kept")
    staff = new_client()
    staff_login(staff, "organiser")
    hs = csrf(staff)
    moderate(staff, hs, f"questions/{qid}", action="hide", reason="Off topic")
    moderate(staff, hs, f"questions/{qid}", action="restore")
    moderate(staff, hs, f"questions/{qid}", action="hide", reason="Still off topic")
    moderate(staff, hs, f"questions/{other}", action="merge", into=keep)
    figures = archive_of(runner)["figures"]
    assert (figures["hidden_questions"], figures["merged_questions"]) == (2, 1)
    md = cli_export(runner, "md").decode()
    assert "- Questions hidden by a moderator: 1\n" in md
    assert "- Duplicates merged into another question: 1\n" in md
    assert "| Questions hidden | 1 | 2 |" in md
    assert "| Questions restored | 1 | 1 |" in md
    assert "| Duplicates merged | 1 | 1 |" in md
    html = cli_export(runner, "html").decode()
    assert re.search(r"<td>Questions hidden</td><td class=\"num\">1</td>"
                     r"<td class=\"num\">2</td>", html)


def test_paper_size_reaches_the_printed_page(tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    """The page size rule is the last word of the stylesheet, so it wins over report.css."""
    html = cli_export(runner, "html", "--paper", "letter").decode()
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    rules = re.findall(r"(?<![-\w])size:\s*([^;]+);", style)
    assert rules[-1] == "letter" and rules[0] == "A4"


def test_upgrading_a_populated_sqlite_database_keeps_every_row(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it; the rebuild must not cascade to the rows that
    refer to it (the first release's databases upgrade with their votes and links)."""
    from discussion import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "s", "SOCKETIO_ASYNC_MODE": "threading",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}"})
    with app.app_context():
        upgrade(revision="9b1ed485688c")
        for statement in (
            "INSERT INTO events (id, code, title, description, place, moderator, speakers,"
            " organisers, status, moderation, policy, licence, retention_days, created_at)"
            " VALUES (1, 'old', 'Old', '', '', '', '[]', '[]', 'live', 'post', '', 'CC-BY-4.0',"
            " 90, '2016-12-08 15:00:00')",
            "INSERT INTO participants (id, event_id, key, muted, created_at)"
            " VALUES (1, 1, 'k1', 0, '2016-12-08 15:00:00'),"
            " (2, 1, 'k2', 0, '2016-12-08 15:01:00')",
            "INSERT INTO questions (id, event_id, participant_id, body, quote, seeded, status,"
            " highlighted, pinned, edited, votes, comments, created_at)"
            " VALUES (1, 1, 1, 'Kept?', 'anonymous', 0, 'visible', 0, 0, 0, 2, 0,"
            " '2016-12-08 15:02:00')",
            "INSERT INTO votes (question_id, participant_id, created_at)"
            " VALUES (1, 1, '2016-12-08 15:03:00'), (1, 2, '2016-12-08 15:04:00')",
        ):
            db.session.execute(text(statement))
        db.session.commit()
        db.session.remove()
        upgrade()
        assert db.session.scalar(text("SELECT COUNT(*) FROM votes")) == 2
        assert db.session.scalar(text("SELECT participant_id FROM questions")) == 1
        assert db.session.scalar(select(Event.participants_total)) == 2
        db.session.remove()
        db.engine.dispose()

"""The command line: `flask events delete`, and every command failing with a clear message
and a non-zero exit (never a traceback) when the database or a file lets it down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from conftest import free_port
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy import func, select

from discussion import create_app
from discussion.extensions import db
from discussion.models import Event, Question

CODE = "smartcities"


def clean_failure(result: Result, *phrases: str, code: int = 1) -> None:
    """Exit 1 (2 for a usage error) with an 'Error:' line holding the phrases, and no
    traceback."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), result.exception
    assert "Error:" in result.output
    for phrase in phrases:
        assert phrase in result.output, (phrase, result.output)


def flask_cli(app: Flask, args: list[str], **kwargs):  # type: ignore[no-untyped-def]
    """Run a command as `flask ...` does, plugins (flask db) included."""
    return app.test_cli_runner().invoke(FlaskGroup(create_app=lambda: app),
                                        args=args, obj=ScriptInfo(create_app=lambda: app),
                                        **kwargs)


def event_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Event)) or 0)


# -- flask events delete


def test_delete_asks_for_the_code_and_archives_first(app: Flask, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    wrong = runner.invoke(args=["events", "delete", CODE], input="smart\n")
    clean_failure(wrong, "does not match: nothing was deleted")
    assert event_count(app) == 1

    result = runner.invoke(args=["events", "delete", CODE], input=f"{CODE}\n")
    assert result.exit_code == 0, result.output
    assert "Type the event code (smartcities) to confirm" in result.output
    assert "The event is live" in result.output
    archives = list((Path(app.instance_path) / "archives").glob(f"{CODE}-*.json"))
    assert len(archives) == 1
    assert f"Wrote the archive of '{CODE}' to {archives[0]}" in result.output
    assert f"Deleted event '{CODE}': 10 question(s)" in result.output
    assert event_count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0

    # The archive restores what was deleted.
    restored = runner.invoke(args=["import", str(archives[0])])
    assert restored.exit_code == 0, restored.output
    assert f"Restored event '{CODE}'" in restored.output
    assert json.loads(archives[0].read_text())["event"]["code"] == CODE


def test_delete_for_scripts(app: Flask, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "kept.json"
    result = runner.invoke(args=["events", "delete", CODE, "--yes", "--archive", str(target)])
    assert result.exit_code == 0, result.output
    assert "confirm" not in result.output
    assert json.loads(target.read_text())["schema"] == "discussion-archive"
    assert event_count(app) == 0


def test_delete_without_archive(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["events", "delete", CODE, "--yes", "--no-archive"])
    assert result.exit_code == 0, result.output
    assert "archive" not in result.stdout.lower()
    assert not (Path(app.instance_path) / "archives").exists()
    assert event_count(app) == 0


def test_delete_refuses_what_it_cannot_do(app: Flask, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clean_failure(runner.invoke(args=["events", "delete", "nosuch", "--yes"]),
                  "There is no event with code 'nosuch'")
    clean_failure(runner.invoke(args=["events", "delete", CODE, "--yes", "--archive",
                                      str(tmp_path / "missing" / "a.json")]),
                  "the folder", "does not exist")
    assert event_count(app) == 1  # no archive, no deletion
    usage = runner.invoke(args=["events", "delete", CODE, "--archive", "a.json",
                                "--no-archive"])
    assert usage.exit_code == 2 and "contradict" in usage.output
    assert event_count(app) == 1


# -- clear errors


def test_export_into_a_missing_folder(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clean_failure(runner.invoke(args=["export", CODE, "-o", str(tmp_path / "no" / "x.md")]),
                  "the folder", "does not exist (create it first)")
    clean_failure(runner.invoke(args=["export", CODE, "-o", str(tmp_path)]),
                  "it is a folder")
    assert not list(tmp_path.glob("*.part"))


def test_export_into_an_unwritable_place(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("")
    clean_failure(runner.invoke(args=["export", CODE, "-o", str(blocker / "x.json")]),
                  "is not a folder")


def test_import_of_what_is_not_an_archive(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clean_failure(runner.invoke(args=["import", str(tmp_path)]), "is a directory", code=2)
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\xff\xfe not json")
    clean_failure(runner.invoke(args=["import", str(junk)]), "not a JSON archive")


def test_commands_say_which_database(runner, database_url) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert f"Database: {database_url}" in result.stderr


def test_a_database_without_tables(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISCUSSION_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    runner = app.test_cli_runner()
    for args in (["users", "list"], ["seed"], ["purge"], ["export", CODE],
                 ["events", "delete", CODE, "--yes"],
                 ["users", "create", "a@example.org", "--role", "organiser",
                  "--password", "long enough password"]):
        clean_failure(runner.invoke(args=args), "has no tables yet", "flask db upgrade")


@pytest.mark.parametrize("args", [["users", "list"], ["purge"], ["seed"],
                                  ["export", CODE], ["db", "upgrade"], ["db", "current"]])
def test_an_unreachable_database(tmp_path, monkeypatch, args) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISCUSSION_INSTANCE_PATH", str(tmp_path / "instance"))
    url = f"postgresql://someone:s3cret@127.0.0.1:{free_port()}/nowhere"  # nothing listens
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    result = flask_cli(app, args)
    clean_failure(result, "cannot use the database postgresql://someone:***@127.0.0.1:",
                  "Connection refused")
    assert "s3cret" not in result.output


def test_a_settings_file_naming_no_database_stops_before_creating_one(tmp_path,
                                                                       monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """instance/env means a deployment: a command must not quietly start a new SQLite
    database because the file's database line was mistyped."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "env").write_text("DISCUSSION_DATABSE_URL=postgresql://u@127.0.0.1/d\n")
    monkeypatch.setenv("DISCUSSION_INSTANCE_PATH", str(instance))
    app = create_app({"TESTING": True})
    for args in (["db", "upgrade"], ["users", "list"], ["seed"]):
        clean_failure(flask_cli(app, args), "names no database (DISCUSSION_DATABASE_URL)",
                      "new, empty SQLite database")
    assert not (instance / "discussion.db").exists()

    # Naming SQLite on purpose works.
    (instance / "env").write_text(f"DISCUSSION_DATABASE_URL=sqlite:///{instance}/discussion.db\n")
    app = create_app({"TESTING": True})
    result = flask_cli(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (instance / "discussion.db").exists()

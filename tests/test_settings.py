"""The deployment's settings: instance/env read by the app itself, warnings for what would
be misread, the process's name in X-Served-By, what the server says at start."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from conftest import make_app

from discussion import create_app
from discussion.settings import SettingsError, read_env_file, redact


def app_with_env(tmp_path: Path, text: str, **config):  # type: ignore[no-untyped-def]
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    (instance / "env").write_text(text)
    return make_app(f"sqlite:///{tmp_path / 'discussion.db'}", instance, **config)


def warnings_of(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records
                     if r.name == "discussion.settings" and r.levelno >= logging.WARNING)


@pytest.fixture(autouse=True)
def _no_discussion_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests say what the environment holds."""
    import os

    for name in list(os.environ):
        if name.startswith("DISCUSSION_") and name != "DISCUSSION_INSTANCE_PATH":
            monkeypatch.delenv(name)


def test_the_env_file_is_read_by_the_app(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    app = app_with_env(tmp_path, (
        "# settings of this instance\n"
        "\n"
        "DISCUSSION_INSTANCE_NAME=web-a\n"
        "DISCUSSION_PROXY_FIX=1\n"
        "DISCUSSION_RATELIMIT_QUESTIONS=3/minute\n"
    ))
    assert app.config["INSTANCE_NAME"] == "web-a"
    assert app.config["PROXY_FIX"] == 1
    assert app.config["RATELIMIT_QUESTIONS"] == "3/minute"
    assert app.config["SETTINGS_FILE"].endswith("instance/env")
    assert warnings_of(caplog) == ""


def test_lines_read_differently_elsewhere_are_skipped_with_a_warning(tmp_path: Path,
                                                                      caplog) -> None:  # type: ignore[no-untyped-def]
    app = app_with_env(tmp_path, (
        "export DISCUSSION_INSTANCE_NAME=exported\n"
        "DISCUSSION_REDIS_URL=redis://127.0.0.1:6379/0   # the queue\n"
        "DISCUSSION_PROXY_FIX = 1\n"
        'DISCUSSION_SERVER_NAME="q.example.org"\n'
        "FLASK_APP=wsgi.py\n"
        "DISCUSSION_DATABSE_URL=postgresql://x@h/d\n"
        "DISCUSSION_SESSION_COOKIE_SECURE=yes\n"
    ))
    said = warnings_of(caplog)
    assert app.config["INSTANCE_NAME"] is None and app.config["REDIS_URL"] is None
    assert not app.config["PROXY_FIX"] and app.config["SERVER_NAME"] is None
    assert "env:1: skipped 'export ...'" in said
    assert "env:2: skipped DISCUSSION_REDIS_URL" in said and "comment" in said
    assert "env:3: skipped: not NAME=value" in said
    assert "env:4: skipped DISCUSSION_SERVER_NAME" in said
    assert "env:5: skipped FLASK_APP" in said
    assert "DISCUSSION_DATABSE_URL is not a setting of this app" in said
    assert "DISCUSSION_SESSION_COOKIE_SECURE='yes' is not true or false" in said


def test_a_file_that_sets_nothing_says_so(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    app_with_env(tmp_path, "export DISCUSSION_DATABASE_URL=postgresql://u@h/d  # main db\n")
    assert "sets nothing this app reads" in warnings_of(caplog)


def test_the_environment_wins_over_the_file(tmp_path: Path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISCUSSION_INSTANCE_NAME", "from-environment")
    app = app_with_env(tmp_path, "DISCUSSION_INSTANCE_NAME=from-file\n")
    assert app.config["INSTANCE_NAME"] == "from-environment"
    assert "DISCUSSION_INSTANCE_NAME from the environment overrides" in warnings_of(caplog)


def test_an_unreadable_env_file_stops_with_a_clear_error(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    instance = tmp_path / "instance"
    (instance / "env").mkdir(parents=True)  # unreadable as a file, even for root
    monkeypatch.setenv("DISCUSSION_INSTANCE_PATH", str(instance))
    with pytest.raises(SettingsError, match=r"cannot read the settings in .*instance/env"):
        create_app({"TESTING": True})


def test_env_file_parser_keeps_plain_values(tmp_path: Path) -> None:
    path = tmp_path / "env"
    path.write_text("DISCUSSION_DATABASE_URL=postgresql://u:p-_@127.0.0.1/d?sslmode=disable\n")
    env = read_env_file(path)
    assert env is not None and not env.problems
    assert env.values == {"DISCUSSION_DATABASE_URL":
                          "postgresql://u:p-_@127.0.0.1/d?sslmode=disable"}
    assert read_env_file(tmp_path / "missing") is None


def test_urls_are_shown_without_their_password() -> None:
    assert redact("postgresql://app:s3cret@db:5432/app") == "postgresql://app:***@db:5432/app"
    assert redact("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redact("redis://cache:6379/0") == "redis://cache:6379/0"


def test_every_response_names_the_process(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'd.db'}", tmp_path / "i", INSTANCE_NAME="web-b")
    app.config["SERVED_BY"] = "web-b"
    client = app.test_client()
    assert client.get("/api/v1/events/smartcities").headers["X-Served-By"] == "web-b"
    assert client.get("/static/css/app.css").headers["X-Served-By"] == "web-b"


def test_secure_cookies_over_plain_http_are_reported_once(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    app = make_app(f"sqlite:///{tmp_path / 'd.db'}", tmp_path / "i",
                   SESSION_COOKIE_SECURE=True)
    # The migration's logging set-up replaced the root's handlers: listen again.
    logging.getLogger().addHandler(caplog.handler)
    client = app.test_client()
    client.get("/e/smartcities")
    client.get("/e/smartcities")
    said = [r.getMessage() for r in caplog.records if "plain HTTP" in r.getMessage()]
    assert len(said) == 1
    assert "DISCUSSION_PROXY_FIX=1" in said[0]
    caplog.clear()
    client.get("/e/smartcities", base_url="https://localhost")
    assert not [r for r in caplog.records if "plain HTTP" in r.getMessage()]


@pytest.mark.postgres
@pytest.mark.redis
def test_the_server_says_what_it_runs_on(live_server_factory, postgres_url, redis_url) -> None:  # type: ignore[no-untyped-def]
    # Trust authentication ignores the password; the log must not show it.
    url = postgres_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret-pw@")
    assert "s3cret-pw" in url
    channel = f"test-{uuid.uuid4().hex[:8]}"
    server = live_server_factory(url, DISCUSSION_REDIS_URL=redis_url,
                                 DISCUSSION_SOCKETIO_CHANNEL=channel,
                                 DISCUSSION_INSTANCE_NAME="web-c")
    import urllib.request

    with urllib.request.urlopen(server.url + "/api/v1/events/smartcities") as response:
        assert response.headers["X-Served-By"] == "web-c"
    log = server.log.read_text()
    assert "s3cret-pw" not in log
    assert f"serving on http://127.0.0.1:{server.port} as web-c" in log
    assert "database: postgresql://postgres:***@127.0.0.1:5432/" in log
    assert f"message queue: {redis_url}, channel '{channel}'" in log
    assert "mode: gevent, several processes sharing the message queue" in log


def test_a_lone_server_says_it_is_alone(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server = live_server_factory()
    log = server.log.read_text()
    assert "database: sqlite:///" in log
    assert "message queue: none (one process" in log
    assert "mode: gevent, one process" in log
    import urllib.request

    with urllib.request.urlopen(server.url + "/api/v1/events/smartcities") as response:
        assert response.headers["X-Served-By"].endswith(f":{server.port}")

"""Fixtures: a fresh migrated database per test, the bundled seed, HTTP and socket clients."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_socketio import SocketIOTestClient
from helpers import csrf_headers, login, service_unavailable

from discussion import create_app
from discussion.extensions import db, socketio
from discussion.seeding import BUNDLED, load_seed, read_seed


def make_app(database_url: str, instance: Path, **config: Any) -> Flask:
    """An app on the given database, migrated, with the bundled workshop seeded."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "SOCKETIO_ASYNC_MODE": "threading",
        "VOTE_TICK": 0,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
    }
    settings.update(config)
    os.environ["DISCUSSION_INSTANCE_PATH"] = str(instance)
    app = create_app(settings)
    with app.app_context():
        upgrade()
        load_seed(read_seed(BUNDLED))
        db.session.commit()
    return app


POSTGRES_ADMIN = os.environ.get("DISCUSSION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin():  # type: ignore[no-untyped-def]
    """An autocommit connection to the PostgreSQL server the tests use, or a skip."""
    import psycopg

    try:
        return psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        service_unavailable(f"PostgreSQL is not reachable at {POSTGRES_ADMIN}: {exc}")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated, seeded PostgreSQL database that each test copies (fast) and drops."""
    import uuid

    admin = _pg_admin()
    name = f"disc_tmpl_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    try:
        app = make_app(f"{base}/{name}", Path(os.environ.get("TMPDIR", "/tmp")) / name)
        with app.app_context():
            db.engine.dispose()
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, copied from the migrated template."""
    import uuid

    template = request.getfixturevalue("pg_template")
    admin = _pg_admin()
    name = f"disc_test_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite file per test, or a PostgreSQL database where a module asks for
    ``pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)``."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'discussion.db'}"


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override per module or test to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    application = make_app(database_url, tmp_path / "instance", **app_config)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def csrf() -> Callable[..., dict[str, str]]:
    return csrf_headers


@pytest.fixture
def new_client(app: Flask) -> Callable[[], FlaskClient]:
    """Another phone: a separate cookie jar."""
    return app.test_client


@pytest.fixture
def socket_client(app: Flask) -> Iterator[Callable[..., SocketIOTestClient]]:
    """Factory of connected Socket.IO test clients, sharing a Flask client's cookies if given."""
    made: list[SocketIOTestClient] = []

    def factory(flask_client: FlaskClient | None = None) -> SocketIOTestClient:
        sc = socketio.test_client(app, flask_test_client=flask_client)
        assert sc.is_connected()
        made.append(sc)
        return sc

    yield factory
    for sc in made:
        if sc.is_connected():
            sc.disconnect()


@pytest.fixture
def staff_login(app: Flask) -> Callable[..., Any]:
    """Create a staff user and log the given client in as them."""
    counter = iter(range(1, 1000))

    def do(
        client: FlaskClient,
        role: str = "organiser",
        events: tuple[str, ...] = (),
        email: str | None = None,
    ) -> Any:
        from discussion.cli import _create_user

        email = email or f"{role}{next(counter)}@example.org"
        with app.app_context():
            user = _create_user(email, role, "correct horse battery", events)
            user_id = user.id
        response = login(client, email, "correct horse battery")
        assert response.status_code == 302, response.status_code
        return user_id

    return do


class LiveServer:
    """``python -m discussion.server`` in a subprocess on a free port, as `make run` serves."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        import subprocess
        import sys

        self.port = port
        self.database_url = ""
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._logfh = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "discussion.server"],
            env={**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port)},
            cwd=Path(__file__).resolve().parent.parent,
            stdout=self._logfh,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 20) -> None:
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/events/smartcities", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int | None = None) -> None:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGTERM)
            try:
                self.proc.wait(10)
            except Exception:
                self.proc.kill()
                self.proc.wait(10)
        self._logfh.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start real server processes on a migrated, seeded database of the test's own."""
    servers: list[LiveServer] = []
    instance = tmp_path / "live-instance"

    def start(database_url: str | None = None, **env: str) -> LiveServer:
        url = database_url or f"sqlite:///{tmp_path / 'live.db'}"
        settings = {"DISCUSSION_DATABASE_URL": url, "DISCUSSION_INSTANCE_PATH": str(instance),
                    "DISCUSSION_SECRET_KEY": "live-test-secret", **env}
        if not any(server.database_url == url for server in servers):
            _prepare(url, instance)
        server = LiveServer(settings, free_port(), tmp_path / f"server-{len(servers)}.log")
        server.database_url = url
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _prepare(url: str, instance: Path) -> None:
    """Migrate and seed the database a live server will use, then let go of it."""
    app = make_app(url, instance)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis server (database 0), or a skip."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {url}: {exc}")
    return url

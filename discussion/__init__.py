"""Live discussion questions for a workshop room."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any, get_args

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import assets
from .rules.enums import Language

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
LANGUAGES: tuple[str, ...] = get_args(Language)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _database_url(url: str) -> str:
    """Accept plain URLs as hosting providers give them (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def shipped(name: str) -> Path:
    """templates/, static/ or migrations/: inside the package when installed from a wheel,
    beside it in a source tree (pyproject.toml maps one onto the other)."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else ROOT / name


def default_instance() -> Path:
    """instance/ of the source tree; for an install from a wheel, Flask's own choice
    (``<venv>/var/discussion-instance``). DISCUSSION_INSTANCE_PATH overrides both."""
    if (PACKAGE / "templates").is_dir():
        return Path(sys.prefix) / "var" / "discussion-instance"
    return ROOT / "instance"


def _secret_key(instance: Path) -> str:
    """The instance's secret key, generated into ``instance/secret_key`` on first run."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    # Create with 0600 so the key is readable by the service user only.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process starting at the same moment made it
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _private_sqlite(uri: str) -> None:
    """Take group and other rights from an existing SQLite database and its WAL and
    SHM files: they hold password hashes and hidden text. A new file is made private
    as it is opened (``database._sqlite_connect``); SQLite gives the WAL and SHM files
    the mode of the database file."""
    from sqlalchemy.engine import make_url

    from .database import make_private

    url = make_url(uri)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        make_private(Path(str(url.database)))


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


class SecurityHeaders:
    """WSGI middleware adding the security headers to every response that lacks them,
    and ``X-Served-By`` naming the process that answered (docs/deploy.md)."""

    def __init__(self, wsgi_app: Any, config: dict[str, Any]) -> None:
        self.wsgi_app = wsgi_app
        self.config = config

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h in SECURITY_HEADERS if h[0].lower() not in present)
            headers.append(("X-Served-By", self.config["SERVED_BY"]))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def _socketio_middleware(server: Any, app: Flask) -> Any:
    """Flask-SocketIO's WSGI middleware, without its copy of each request's environ.

    python-socketio keeps the environ of a socket's handshake for the socket's life,
    and the WSGI server's handler keeps its own for as long: Flask-SocketIO's copy
    (made only to add ``flask.app``) doubled it, about 0.8 KB per connected phone.
    The server builds a fresh environ for every request, so the key goes in place.
    """
    import socketio as python_socketio

    class Middleware(python_socketio.WSGIApp):  # type: ignore[misc]  # socketio has no types
        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            environ["flask.app"] = app
            return super().__call__(environ, start_response)

    return Middleware(server, app.wsgi_app, socketio_path="socket.io")


class DiscussionFlask(Flask):
    """Flask, with fingerprinted static URLs (see assets.py), and static files answered
    from memory so their compressed forms are cached."""

    def url_for(self, endpoint: str, *args: Any, **values: Any) -> str:
        if endpoint == "static" and not values.get("_external"):
            assets.static_url_values(self, values)
        return super().url_for(endpoint, *args, **values)

    def send_static_file(self, filename: str) -> Response:
        response = super().send_static_file(filename)
        if response.status_code == 200:
            # A file stream would be compressed again on every request; bytes are
            # compressed once per encoding (see StaticCompressCache).
            response.direct_passthrough = False
            response.set_data(response.get_data())
            assets.serve(self, filename, response)
        return response


class StaticCompressCache:
    """Flask-Compress's cache, holding the compressed static files and nothing else
    (every page and API answer is different and is compressed as it goes)."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self._data.get(key)

    def set(self, key: str, value: bytes) -> None:
        if ";/static/" in key:
            self._data[key] = value


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, sockets, CLI."""
    from . import settings

    instance = Path(os.environ.get("DISCUSSION_INSTANCE_PATH") or default_instance())
    app = DiscussionFlask(
        __name__,
        instance_path=str(instance),
        instance_relative_config=True,
        template_folder=str(shipped("templates")),
        static_folder=str(shipped("static")),
    )
    app.config.from_mapping(
        SECRET_KEY=None,
        DATABASE_URL=f"sqlite:///{instance / 'discussion.db'}",
        REDIS_URL=None,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        PARTICIPANT_COOKIE="discussion_participant",
        PARTICIPANT_COOKIE_MAX_AGE=60 * 60 * 24 * 90,
        SESSION_COOKIE_NAME="discussion_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # a workshop day is longer than the default hour
        WTF_CSRF_SSL_STRICT=False,  # behind a TLS proxy the Referer check adds nothing
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        LANGUAGES=LANGUAGES,
        SOCKETIO_ASYNC_MODE=None,
        SOCKETIO_MAX_PACKET=16 * 1024,
        SOCKETIO_CHANNEL="discussion",
        ALLOWED_ORIGINS=None,
        VOTE_TICK=0.1,
        VOTE_TICK_MAX=1.0,
        PRESENCE_INTERVAL=2.0,
        CACHE_TTL=1.0,
        JOIN_WINDOW=1000,  # versions of an event for which a rejoin gets only what changed
        JOIN_OVERLAP=8,  # versions before `since` sent again, for broadcasts sent out of order
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="sweptmemory://",  # see discussion/ratelimit.py
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_QUESTIONS="6/minute",
        RATELIMIT_COMMENTS="20/minute",
        RATELIMIT_VOTES="120/minute",
        LOGIN_FREE_FAILURES=3,  # wrong passwords from one browser before it must wait
        LOGIN_MAX_DELAY=60.0,  # the longest wait between its attempts, in seconds
        LOGIN_ACCOUNT_CEILING=30,  # failures on one account in 15 min before all slow down
        LOGIN_ACCOUNT_SLOWDOWN=1.0,  # seconds each attempt on such an account waits
        STAFF_CHECK_INTERVAL=1.0,  # seconds between checks of open staff sockets' rights
        RATELIMIT_JOINS="30/minute",  # per participant: a flapping phone rejoins often
        RATELIMIT_SIMILAR="60/minute",  # per participant: a phone looks up as its owner types
        SIMILAR_REFRESH=30.0,  # seconds after which a similar-questions index is re-read anyway
        SOCKET_EVENT_RATE=20.0,  # events a second one socket may send, on average
        SOCKET_EVENT_BURST=40.0,  # and at once after a quiet spell
        PROXY_FIX=0,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # a seed file is the largest body (1 MB of text)
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        COMPRESS_CACHE_BACKEND=StaticCompressCache,
        COMPRESS_CACHE_KEY=assets.compress_cache_key,
        # Pages, styles, scripts and exports; not the JSON API, whose answers are small
        # and whose clients (scripts, test transports) may not decode every encoding.
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "text/markdown",
            "text/csv",
            "image/svg+xml",
        ],
        JSON_SORT_KEYS=False,
        INSTANCE_NAME=None,  # X-Served-By; default host:port (see settings.instance_name)
        LOG_LEVEL="INFO",  # of python -m discussion.server
    )
    app.config.from_pyfile("config.py", silent=True)
    warnings = settings.load(app, instance)  # instance/env, then the environment
    if test_config is not None:
        app.config.update(test_config)
    app.config["SERVED_BY"] = settings.instance_name(app)
    if warnings:
        # Through app.logger, which prints to stderr when nothing else is set up (flask ...).
        app.logger  # noqa: B018
        for warning in warnings:
            settings.log.warning("%s", warning)

    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(instance)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(
        app.config.get("SQLALCHEMY_DATABASE_URI") or app.config["DATABASE_URL"]
    )
    _private_sqlite(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["REDIS_URL"] and app.config["RATELIMIT_STORAGE_URI"] == "sweptmemory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # WSGI middleware
            app.wsgi_app, x_for=0, x_proto=1, x_host=1, x_prefix=1
        )

    _init_extensions(app)
    _register(app)
    settings.check_scheme(app)
    return app


def _select_locale() -> str:
    """The language chosen with the switcher (a cookie), else the browser's best match."""
    chosen = request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "es", "pt-BR", "pt"], default="en")
    return "pt_BR" if best.startswith("pt") else best


def _own_origins(app: Flask) -> list[str]:
    """The app's own origins when a list of extra ones is configured (SERVER_NAME)."""
    name = app.config.get("SERVER_NAME")
    return [f"https://{name}", f"http://{name}"] if name else []


def _init_extensions(app: Flask) -> None:
    from . import cache, database, live, ratelimit, similar  # noqa: F401  (engine listeners, storage)
    from .extensions import babel, compress, csrf, db, login_manager, migrate, socketio

    assets.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(shipped("migrations")), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    ratelimit.init_app(app)
    cache.init_app(app)
    compress.init_app(app)
    origins = app.config["ALLOWED_ORIGINS"]
    if isinstance(origins, str):
        origins = [o.strip() for o in origins.split(",") if o.strip()]
    app.config["ALLOWED_ORIGINS_LIST"] = list(origins or [])
    if origins:
        # Listing other origins must not lock out the app's own pages.
        origins = [*origins, *_own_origins(app)]
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"],
        channel=app.config["SOCKETIO_CHANNEL"],
        cors_allowed_origins=origins,  # None: the app's own origin only
        max_http_buffer_size=app.config["SOCKETIO_MAX_PACKET"],
        ping_interval=25,
        ping_timeout=20,
        json=None,
        # Handlers read the session (a staff login), never write it: no per-socket
        # copy of it to keep (about 0.35 KB per phone).
        manage_session=False,
    )
    # Unwrap Flask-SocketIO's own middleware to put ours (without the environ copy) there.
    # The SocketIO stubs leave out its server and middleware, internal to it.
    sockio_mw: Any = app.wsgi_app
    app.wsgi_app = sockio_mw.wsgi_app  # type: ignore[method-assign]  # WSGI middleware
    server: Any = socketio.server  # type: ignore[attr-defined]  # not in the stubs
    middleware = _socketio_middleware(server, app)
    socketio.sockio_mw = middleware  # type: ignore[attr-defined]  # not in the stubs
    app.wsgi_app = middleware  # type: ignore[method-assign]  # WSGI middleware
    live.init_app(app)
    similar.init_app(app)
    # Engine.IO answers /socket.io/ outside Flask: its responses get the headers too.
    app.wsgi_app = SecurityHeaders(  # type: ignore[method-assign]  # WSGI middleware
        app.wsgi_app, app.config
    )


class IdConverter(IntegerConverter):
    """Row ids in URLs: positive and within a 32-bit column, so no id reaches the database
    out of range."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def _localdate(value: str | None) -> str:
    """An ISO date (YYYY-MM-DD) written out in the reader's language."""
    from datetime import date

    from flask_babel import format_date

    if not value:
        return ""
    try:
        return str(format_date(date.fromisoformat(value[:10]), "long"))
    except ValueError:
        return value


def _register(app: Flask) -> None:
    from . import api, auth, board, cli, export, sockets, views
    from .identity import set_participant_cookie

    app.url_map.converters["id"] = IdConverter
    app.jinja_env.filters["localdate"] = _localdate

    app.register_blueprint(views.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(export.bp)
    sockets.register(app)
    cli.init_app(app)
    auth.init_app(app)
    api.init_app(app)
    app.after_request(set_participant_cookie)

"""Serve the room with gevent: thousands of websockets in one process.

``python -m discussion.server`` (what ``make run`` calls); HOST and PORT override
127.0.0.1:5000. gevent's WSGI server with gevent-websocket, as Flask-SocketIO's
maintainers advise; no access log, so no address is written anywhere. At start it
logs what it runs on: database (without password), message queue, mode, settings.
"""

from gevent import monkey

monkey.patch_all()

import contextlib  # noqa: E402
import gc  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402
import gevent  # noqa: E402
from flask import Flask  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

from . import create_app, live, settings  # noqa: E402

log = logging.getLogger("discussion.server")


class QuietHandler(WebSocketHandler):  # type: ignore[misc]  # gevent-websocket has no types
    """gevent-websocket's handler without its access log (it writes client addresses),
    refusing websockets from foreign origins before the upgrade.

    gevent-websocket completes the handshake before the application runs, so
    Engine.IO's own Origin check would come too late for websockets.
    """

    allowed_origins: tuple[str, ...] = ()

    def log_request(self) -> None:
        pass

    def upgrade_websocket(self) -> Any:  # whatever gevent-websocket answers, or a refusal
        origin = self.environ.get("HTTP_ORIGIN")
        if origin and self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            scheme = self.environ.get("HTTP_X_FORWARDED_PROTO") or self.environ["wsgi.url_scheme"]
            own = f"{scheme}://{self.environ.get('HTTP_HOST', '')}"
            if origin != own and origin not in self.allowed_origins:
                self.start_response("403 Forbidden", [("Content-Type", "text/plain")])
                return [b"Not an accepted origin."]
        return super().upgrade_websocket()


def tune_gc() -> None:
    """Keep the garbage collector from pausing the room.

    Thousands of sockets are thousands of long-lived objects; CPython's full
    collections walk them all, and each such pause (a few hundred ms with 2,000
    phones) held up every vote and broadcast behind it: it was the whole tail of
    the latency in bench/. Objects alive after start-up are frozen out of
    collection, young collections run less often, and full collections are left
    to quiet moments (see ``Coalescer.idle_gc``).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 1000)


def announce(app: Flask, host: str, port: int) -> None:
    """Say at start what this process runs on, so a wrong setting shows in the first lines
    of the log (journalctl -u 'discussion@*') instead of in a puzzled room."""
    several = bool(app.config["REDIS_URL"])
    log.info("serving on http://%s:%s as %s", host, port, app.config["SERVED_BY"])
    log.info("database: %s", settings.database_label(app))
    log.info("message queue: %s", settings.queue_label(app))
    log.info(
        "mode: gevent, %s; proxy headers %s; cookies %s",
        "several processes sharing the message queue" if several else "one process",
        "trusted (DISCUSSION_PROXY_FIX)" if app.config["PROXY_FIX"] else "ignored",
        "secure (HTTPS only)" if app.config["SESSION_COOKIE_SECURE"] else "plain",
    )
    log.info("settings: %s; instance folder %s", settings.settings_label(app), app.instance_path)
    if app.config["SESSION_COOKIE_SECURE"] and not app.config["PROXY_FIX"]:
        log.warning(
            "DISCUSSION_SESSION_COOKIE_SECURE is on without DISCUSSION_PROXY_FIX: "
            "this server speaks plain HTTP, so unless the proxy's X-Forwarded-Proto "
            "is trusted every request looks insecure and browsers drop the cookies"
        )


def serve(host: str, port: int) -> None:
    """Build the app in gevent mode and serve it until interrupted."""
    app = create_app({"SOCKETIO_ASYNC_MODE": "gevent"})
    try:  # DISCUSSION_LOG_LEVEL may come from instance/env, read with the app
        logging.getLogger().setLevel(str(app.config["LOG_LEVEL"]).upper())
    except ValueError:
        log.warning(
            "DISCUSSION_LOG_LEVEL=%s is not a level (DEBUG, INFO, WARNING, ERROR)",
            app.config["LOG_LEVEL"],
        )
    app.config["SERVED_BY"] = settings.instance_name(app, port)
    announce(app, host, port)
    settings.refuse_new_default_database(app)
    # gevent records where each greenlet was spawned (ten frames) for debugging
    # tools we do not use: with three greenlets a socket, about 1.3 KB per phone.
    gevent.config.track_greenlet_tree = False
    tune_gc()
    live.coalescer(app).idle_gc = True
    QuietHandler.allowed_origins = tuple(app.config["ALLOWED_ORIGINS_LIST"])
    server = pywsgi.WSGIServer(
        (host, port),
        app,
        handler_class=QuietHandler,
        log=None,
        error_log=logging.getLogger("discussion.server"),
        backlog=2048,
    )
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    print(f"Serving on http://{host}:{port}  (Ctrl+C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def main() -> None:
    # Whatever the server creates (database, WAL and SHM files, the secret key) is
    # readable by its own user only.
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugins announce themselves
    port = os.environ.get("PORT", "5000")
    if not port.isdigit():
        sys.exit(f"Error: PORT must be a number, not {port!r}.")
    try:
        serve(os.environ.get("HOST", "127.0.0.1"), int(port))
    except click.ClickException as exc:  # unreadable settings, a port taken
        sys.exit(f"Error: {exc.format_message()}")


if __name__ == "__main__":
    main()

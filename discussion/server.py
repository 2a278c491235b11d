"""Serve the room with gevent: thousands of websockets in one process.

``python -m discussion.server`` (what ``make run`` calls); HOST and PORT override
127.0.0.1:5000. gevent's WSGI server with gevent-websocket, as Flask-SocketIO's
maintainers advise; no access log, so no address is written anywhere.
"""

from gevent import monkey

monkey.patch_all()

import contextlib  # noqa: E402
import gc  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402

import gevent  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

from . import create_app  # noqa: E402
from .live import coalescer  # noqa: E402


class QuietHandler(WebSocketHandler):
    """gevent-websocket's handler without its access log (it writes client addresses),
    refusing websockets from foreign origins before the upgrade.

    gevent-websocket completes the handshake before the application runs, so
    Engine.IO's own Origin check would come too late for websockets.
    """

    allowed_origins: tuple[str, ...] = ()

    def log_request(self) -> None:
        pass

    def upgrade_websocket(self):  # type: ignore[no-untyped-def]
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


def serve(host: str, port: int) -> None:
    """Build the app in gevent mode and serve it until interrupted."""
    app = create_app({"SOCKETIO_ASYNC_MODE": "gevent"})
    # gevent records where each greenlet was spawned (ten frames) for debugging
    # tools we do not use: with three greenlets a socket, about 1.3 KB per phone.
    gevent.config.track_greenlet_tree = False
    tune_gc()
    coalescer.idle_gc = True
    QuietHandler.allowed_origins = tuple(app.config["ALLOWED_ORIGINS_LIST"])
    server = pywsgi.WSGIServer(
        (host, port), app, handler_class=QuietHandler, log=None,
        error_log=logging.getLogger("discussion.server"), backlog=2048,
    )
    print(f"Serving on http://{host}:{port}  (Ctrl+C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def main() -> None:
    logging.basicConfig(level=os.environ.get("DISCUSSION_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugins announce themselves
    serve(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000")))


if __name__ == "__main__":
    main()

"""Serve the room with gevent: thousands of websockets in one process.

``python -m discussion.server`` (what ``make run`` calls); HOST and PORT override
127.0.0.1:5000.
"""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import os  # noqa: E402

from . import create_app  # noqa: E402
from .extensions import socketio  # noqa: E402


def main() -> None:
    """Run the gevent server without access logs (no addresses are written anywhere)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app({"SOCKETIO_ASYNC_MODE": "gevent"})
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"Serving on http://{host}:{port}  (Ctrl+C to stop)", flush=True)
    socketio.run(app, host=host, port=port, log_output=False, use_reloader=False)


if __name__ == "__main__":
    main()

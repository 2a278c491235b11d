"""A bare python-socketio server speaking the app's protocol: the stack's own limit.

No Flask, no database, no coalescing: any page sets a cookie, ``join`` answers the
whole list of questions held in memory (it ignores ``since``), and each ``vote`` is
broadcast to the room at once, as a naive implementation would. Served by gevent's
WSGI server like the app.

    python bench/bare_server.py --port 5100 [--seed room.toml]

With ``--seed``, the event and its questions come from the same seed file the app
loads, in the app's public shapes, so that both send the same join answer.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import secrets  # noqa: E402
import threading  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402

QUESTIONS = [
    {"id": i, "body": f"Seeded question number {i} about smart cities and big data?",
     "topic": "privacy", "votes": 0, "comments": 0, "status": "visible", "seeded": True,
     "author": None, "created_at": "2016-12-08T09:00:00.000Z", "highlighted": False,
     "pinned": False, "edited": False, "mine": False, "voted": False}
    for i in range(1, 11)
]
EVENT = {"code": "smartcities", "title": "Smart Cities and Big Data: Boundless Opportunities?",
         "status": "live", "moderation": "post", "topics": [{"slug": "privacy", "name": "Privacy"}]}
PAGE = b"<!doctype html><html lang=en><title>bench</title><p>bare server</p></html>"


def from_seed(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The event and questions of a seed file, shaped as the app's join answer shapes them."""
    seed = tomllib.loads(path.read_text())
    ev = seed["event"]
    event = {
        "code": ev["code"], "title": ev["title"], "description": ev.get("description", ""),
        "date": str(ev["date"]) if "date" in ev else None, "place": ev.get("place", ""),
        "moderator": ev.get("moderator", ""), "speakers": ev.get("speakers", []),
        "organisers": ev.get("organisers", []), "status": ev.get("status", "live"),
        "moderation": ev.get("moderation", "post"), "licence": ev.get("licence", ""),
        "topics": [{"slug": t["slug"], "name": t["name"]} for t in seed.get("topics", [])],
    }
    questions = [
        {"id": i, "body": q["body"], "topic": q.get("topic"), "votes": 0, "comments": 0,
         "status": "visible", "seeded": True, "author": None,
         "created_at": "2016-12-08T09:00:00.000Z", "highlighted": False,
         "pinned": bool(q.get("pinned", False)), "edited": False, "mine": False, "voted": False}
        for i, q in enumerate(seed.get("questions", []), start=1)
    ]
    return event, questions


def build(
    max_packet: int = 16 * 1024, seed: Path | None = None
) -> tuple[socketio.Server, socketio.WSGIApp]:
    sio = socketio.Server(async_mode="gevent", max_http_buffer_size=max_packet,
                          cors_allowed_origins=None)
    event, questions = from_seed(seed) if seed else (EVENT, QUESTIONS)
    counts = {q["id"]: 0 for q in questions}
    voters: dict[int, set[str]] = {q["id"]: set() for q in questions}
    lock = threading.Lock()
    online = itertools.count()

    @sio.event
    def join(sid, data):  # type: ignore[no-untyped-def]
        sio.enter_room(sid, "event")
        next(online)
        current = [{**q, "votes": counts[q["id"]]} for q in questions]
        return {"ok": True, "event": event, "questions": current}

    @sio.event
    def vote(sid, data):  # type: ignore[no-untyped-def]
        qid = data.get("question_id")
        if qid not in counts:
            return {"ok": False, "error": {"code": "question_not_found", "message": "?"}}
        with lock:
            if data.get("up") and sid not in voters[qid]:
                voters[qid].add(sid)
                counts[qid] += 1
            n = counts[qid]
        sio.emit("votes", {str(qid): n}, to="event")
        return {"ok": True, "id": qid, "votes": n, "voted": True}

    def page(environ, start_response):  # type: ignore[no-untyped-def]
        cookie = f"participant={secrets.token_urlsafe(24)}; HttpOnly; SameSite=Lax; Path=/"
        start_response("200 OK", [("Content-Type", "text/html"), ("Set-Cookie", cookie)])
        return [PAGE]

    return sio, socketio.WSGIApp(sio, page)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5100)
    parser.add_argument("--seed", type=Path, default=None)
    args = parser.parse_args()
    _sio, app = build(seed=args.seed)
    print(f"bare server on http://{args.host}:{args.port}", flush=True)
    from geventwebsocket.handler import WebSocketHandler

    pywsgi.WSGIServer((args.host, args.port), app, log=None, backlog=2048,
                      handler_class=WebSocketHandler).serve_forever()


if __name__ == "__main__":
    main()

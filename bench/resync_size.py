"""What a phone back from a short drop receives: a full ``join`` against ``join {since}``.

    .venv/bin/python bench/resync_size.py                  # 300 questions, 5 changes
    .venv/bin/python bench/resync_size.py --questions 1000 --changes 20

An event of N questions on SQLite (the bundled workshop, filled up); a phone joins and
keeps the version; then a mix of changes happens while it is away (votes, a comment,
a new question, a hidden one: one in five each); the phone rejoins with ``since`` and
the sizes of both acks (JSON, as sent) and the time the server took for each are
printed. Through the app's own Socket.IO test client, so the answers are exactly
what a phone gets. Results go in bench/README.md; this is not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CODE = "smartcities"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20, help="joins timed per kind")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import select

    from discussion import create_app
    from discussion.extensions import db, socketio
    from discussion.models import Event, Question
    from discussion.seeding import BUNDLED, load_seed, read_seed

    workdir = Path(tempfile.mkdtemp(prefix="resync-bench-"))
    os.environ["DISCUSSION_INSTANCE_PATH"] = str(workdir)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "SOCKETIO_ASYNC_MODE": "threading",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "VOTE_TICK": 0,
        "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        upgrade()
        load_seed(read_seed(BUNDLED))
        event_id = db.session.scalar(select(Event.id).where(Event.code == CODE))
        have = len(db.session.scalars(select(Question.id)).all())
        db.session.add_all(
            Question(event_id=event_id, body=f"Question {n}: how long may the city keep "
                     "what its sensors record, and who decides?")
            for n in range(max(args.questions - have, 0))
        )
        db.session.commit()

    def phone() -> tuple[Any, dict[str, str]]:
        client = app.test_client()
        page = client.get(f"/e/{CODE}").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert token
        return client, {"X-CSRFToken": token.group(1)}

    def join(client: Any, since: int | None = None) -> tuple[dict[str, Any], float]:
        sc = socketio.test_client(app, flask_test_client=client)
        payload: dict[str, Any] = {"event": CODE}
        if since is not None:
            payload["since"] = since
        started = time.perf_counter()
        ack = sc.emit("join", payload, callback=True)
        took = time.perf_counter() - started
        sc.disconnect()
        assert ack["ok"], ack
        return ack, took

    reader, _ = phone()
    full, _ = join(reader)
    ids = [q["id"] for q in full["questions"]]
    room, room_headers = phone()
    staff, staff_headers = phone()
    from discussion.cli import _create_user

    with app.app_context():
        _create_user("bench@example.org", "organiser", "correct horse battery", ())
    login = staff.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert csrf
    staff.post("/login", data={"email": "bench@example.org", "password": "correct horse battery",
                               "csrf_token": csrf.group(1)})
    staff_headers = {"X-CSRFToken": re.search(  # type: ignore[union-attr]
        r'name="csrf-token" content="([^"]+)"', staff.get(f"/e/{CODE}").get_data(as_text=True)
    ).group(1)}
    for n in range(args.changes):
        target = ids[(n * 7 + 3) % len(ids)]
        kind = n % 5
        if kind in (0, 1):
            room.put(f"/api/v1/questions/{target}/vote", headers=room_headers)
        elif kind == 2:
            room.post(f"/api/v1/questions/{target}/comments", json={"body": "Agreed."},
                      headers=room_headers)
        elif kind == 3:
            room.post(f"/api/v1/events/{CODE}/questions",
                      json={"body": f"Asked while the phone was away, number {n}"},
                      headers=room_headers)
        else:
            staff.post(f"/api/v1/questions/{target}/moderate", json={"action": "hide"},
                       headers=staff_headers)

    delta, _ = join(reader, full["version"])
    full_now, _ = join(reader)
    full_times = [join(reader)[1] for _ in range(args.repeat)]
    delta_times = [join(reader, full["version"])[1] for _ in range(args.repeat)]
    full_bytes = len(json.dumps(full_now, ensure_ascii=False).encode())
    delta_bytes = len(json.dumps(delta, ensure_ascii=False).encode())
    print(f"questions: {len(full_now['questions'])}, changes while away: {args.changes}")
    print(f"full join:  {full_bytes:8d} bytes, median {statistics.median(full_times) * 1e3:.1f} ms"
          " (shared cached answer)")
    print(f"join since: {delta_bytes:8d} bytes, median "
          f"{statistics.median(delta_times) * 1e3:.1f} ms (shared cached answer); "
          f"{len(delta['questions'])} question(s), {len(delta['removed'])} removed")
    print(f"ratio: {delta_bytes / full_bytes:.1%}")


if __name__ == "__main__":
    main()

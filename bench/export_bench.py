"""Export benchmark: a large event, exported in every format, timed and memory-measured.

    .venv/bin/python bench/export_bench.py            # build, measure, print a table
    .venv/bin/python bench/export_bench.py --keep     # keep the database to look at it

Builds a temporary SQLite event of 10,000 questions, 50,000 comments and 200,000 votes
(bulk inserts), then runs each export in a fresh subprocess, twice: once for the wall
and CPU time and the peak resident memory (VmHWM), once under ``tracemalloc`` for the
peak of Python allocations. A last pair restores the JSON archive with ``flask import``
logic into a fresh database. Results go in bench/README.md; this is not part of
``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = 10_000
COMMENTS = 50_000
VOTES = 200_000
PARTICIPANTS = 5_000
CODE = "bench"
FORMATS = ("csv", "json", "md", "html")

WORDS = (
    "consentimiento", "datos", "ciudad", "sensores", "privacidad", "transparência", "cidadã",
    "accountability", "algoritmos", "vigilância", "seguridad", "públicos", "riesgo", "derechos",
    "humanos", "educación", "🙂", "ñandú", "São", "Paulo", "Núñez", "open", "data",
    "provenance", "mobility", "cámaras", "governança",
)


def make_app(db_path: Path, instance: Path) -> Any:
    os.environ["DISCUSSION_INSTANCE_PATH"] = str(instance)
    from discussion import create_app

    return create_app({
        "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{db_path}",
        "SOCKETIO_ASYNC_MODE": "threading", "RATELIMIT_ENABLED": False,
    })


def text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "?"


def build(db_path: Path, instance: Path) -> dict[str, float]:
    """Create and fill the large event with bulk inserts; returns timings."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from discussion.extensions import db
    from discussion.models import Comment, Event, Participant, Question, Topic, Vote

    rng = random.Random(2016)
    app = make_app(db_path, instance)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        event = Event(code=CODE, title="Benchmark: Smart Cities y Big Data 🙂",
                      place="Guadalajara, México", moderator="Moderadora",
                      speakers=["Ana Núñez", "João"], organisers=["Karisma"])
        event.topics = [Topic(slug=f"t{i}", name=f"Tema {i} ñ", position=i) for i in range(9)]
        db.session.add(event)
        db.session.flush()
        topic_ids = [t.id for t in event.topics] + [None]
        start = datetime(2016, 12, 8, 15, 0)
        db.session.execute(insert(Participant.__table__), [
            {"event_id": event.id, "key": f"{i:064x}", "muted": False, "created_at": start}
            for i in range(PARTICIPANTS)
        ])
        first_pid = db.session.scalar(db.select(db.func.min(Participant.id)))
        per_q_votes = [0] * QUESTIONS
        per_q_comments = [0] * QUESTIONS
        pairs = rng.sample(range(QUESTIONS * PARTICIPANTS), VOTES)
        for pair in pairs:
            per_q_votes[pair // PARTICIPANTS] += 1
        comment_q = [rng.randrange(QUESTIONS) for _ in range(COMMENTS)]
        hidden = set(rng.sample(range(COMMENTS), COMMENTS // 50))
        for i, q in enumerate(comment_q):
            if i not in hidden:
                per_q_comments[q] += 1
        statuses = ["visible"] * 90 + ["answered"] * 6 + ["hidden"] * 3 + ["pending"]
        quotes = ["anonymous"] * 6 + ["named"] * 3 + ["none"]
        db.session.execute(insert(Question.__table__), [
            {"event_id": event.id, "topic_id": rng.choice(topic_ids),
             "participant_id": first_pid + rng.randrange(PARTICIPANTS), "client_id": None,
             "body": text(rng, 8, 40), "original_body": None, "author": "Núñez 🙂",
             "quote": rng.choice(quotes), "seeded": False, "status": rng.choice(statuses),
             "highlighted": False, "pinned": False, "edited": False, "merged_into_id": None,
             "votes": per_q_votes[i], "comments": per_q_comments[i],
             "created_at": start + timedelta(seconds=i), "answered_at": None}
            for i in range(QUESTIONS)
        ])
        first_qid = db.session.scalar(db.select(db.func.min(Question.id)))
        db.session.execute(insert(Comment.__table__), [
            {"question_id": first_qid + q,
             "participant_id": first_pid + rng.randrange(PARTICIPANTS), "client_id": None,
             "body": text(rng, 5, 30), "author": "Ana",
             "quote": rng.choice(quotes), "hidden": i in hidden,
             "created_at": start + timedelta(seconds=QUESTIONS + i)}
            for i, q in enumerate(comment_q)
        ])
        db.session.execute(insert(Vote.__table__), [
            {"question_id": first_qid + pair // PARTICIPANTS,
             "participant_id": first_pid + pair % PARTICIPANTS, "created_at": start}
            for pair in pairs
        ])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"build_s": time.perf_counter() - started}


def memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process from /proc, in MB.

    ``ru_maxrss`` is not used: Linux carries the parent's peak across exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(fmt: str, db_path: Path, instance: Path, out: Path, traced: bool) -> dict[str, Any]:
    """In a fresh process: export (or import) once, report time and peak memory."""
    app = make_app(db_path, instance)
    from discussion import export
    from discussion.extensions import db

    baseline = memory_mb("VmRSS")
    if traced:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    with app.app_context():
        if fmt == "import":
            from flask_migrate import upgrade

            upgrade()
            document = export.read_archive(out.read_bytes())
            export.restore(document)
        else:
            with app.test_request_context("/"):
                export.begin_snapshot()
                model = export.build(CODE)
                with out.open("wb") as fh:
                    for piece in export.render(model, fmt):
                        fh.write(piece)
                db.session.rollback()
    elapsed = time.perf_counter() - started
    # CPU time too: on a shared machine the wall time says as much about the neighbours.
    result: dict[str, Any] = {"seconds": elapsed, "cpu_seconds": time.process_time() - cpu_started}
    if traced:
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    peak = memory_mb("VmHWM")
    result["rss_peak_mb"] = peak
    result["rss_growth_mb"] = peak - baseline
    if fmt != "import":
        result["size_mb"] = out.stat().st_size / 2**20
    return result


def child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} CPU ({platform.processor() or platform.machine()}), "
            f"{mem:.1f} GiB RAM, Python {platform.python_version()}, "
            f"SQLite {__import__('sqlite3').sqlite_version}, {platform.system()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        db_path = Path(args.db)
        print(json.dumps(measure(args.measure, db_path, db_path.parent / "instance",
                                 Path(args.out), args.traced)))
        return

    tmp = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        db_path = tmp / "bench.db"
        print(f"machine: {machine()}")
        print(f"building {QUESTIONS:,} questions, {COMMENTS:,} comments, {VOTES:,} votes ...",
              flush=True)
        built = build(db_path, tmp / "instance")
        print(f"built in {built['build_s']:.1f} s ({db_path.stat().st_size / 2**20:.0f} MB)\n")
        rows = []
        for fmt in FORMATS:
            out = tmp / f"export.{fmt}"
            plain = child(["--measure", fmt, "--db", str(db_path), "--out", str(out)])
            traced = child(["--measure", fmt, "--db", str(db_path), "--out", str(out),
                            "--traced"])
            rows.append((fmt, plain, traced))
        restore_db = tmp / "restore" / "bench.db"
        restore_db.parent.mkdir()
        plain = child(["--measure", "import", "--db", str(restore_db),
                       "--out", str(tmp / "export.json")])
        shutil.rmtree(restore_db.parent)
        restore_db.parent.mkdir()
        traced = child(["--measure", "import", "--db", str(restore_db),
                        "--out", str(tmp / "export.json"), "--traced"])
        rows.append(("import json", plain, traced))

        head = ("format", "time (s)", "CPU (s)", "output (MB)", "peak RSS (MB)",
                "RSS growth (MB)", "peak Python heap (MB)")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for fmt, plain, traced in rows:
            size = f"{plain['size_mb']:.1f}" if "size_mb" in plain else "-"
            print(f"| {fmt} | {plain['seconds']:.2f} | {plain['cpu_seconds']:.2f} | {size} | "
                  f"{plain['rss_peak_mb']:.0f} | "
                  f"{plain['rss_growth_mb']:.0f} | {traced['traced_peak_mb']:.1f} |")
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

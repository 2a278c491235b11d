"""Similar-questions benchmark: an event of 1,000 questions, looked up many times.

    .venv/bin/python bench/similar_bench.py                  # 1,000 questions
    .venv/bin/python bench/similar_bench.py --questions 3000

Generates questions from varied templates in English, Spanish and Portuguese (themes
of the workshop crossed with places, sectors and groups, so that many questions share
most of their words, as in a real room), then measures:

- the in-memory index alone: build time from the rows, and lookup time (matching a
  text and ranking) over many probes, median and p99;
- through the app, on SQLite: the first lookup of a process (which builds the index
  from the database), ``GET /api/v1/events/<code>/similar`` with the Flask test client
  (the per-lookup freshness query, matching, loading and serialising the answers),
  the same right after another write (which re-reads the event's questions), and the
  moderator's duplicate marks for every question, cold and remembered.

Results go in bench/README.md; this is not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CODE = "bench"

TEMPLATES = {
    "en": [
        "Who is accountable for the {topic} of {group} in {place}?",
        "How does {place} protect the {topic} of {group} when it uses {thing}?",
        "Should {thing} in {sector} be allowed without the {topic} of {group}?",
        "What should {place} publish about {thing} and the {topic} of {group}?",
        "Can {thing} in {sector} be trusted with the {topic} of {group}?",
    ],
    "es": [
        "¿Quién responde por la {topic_es} de {group_es} en {place}?",
        "¿Cómo protege {place} la {topic_es} de {group_es} cuando usa {thing_es}?",
        "¿Se deberían permitir {thing_es} en {sector_es} sin la {topic_es} de {group_es}?",
    ],
    "pt": [
        "Quem responde pela {topic_pt} de {group_pt} em {place}?",
        "Como {place} protege a {topic_pt} de {group_pt} quando usa {thing_pt}?",
        "Deveriam ser permitidos {thing_pt} em {sector_pt} sem a {topic_pt} de {group_pt}?",
    ],
}
SLOTS = {
    "topic": [("privacy", "privacidad", "privacidade"), ("security", "seguridad", "segurança"),
              ("consent", "autorización", "autorização"),
              ("transparency", "transparencia", "transparência"),
              ("data", "información", "informação")],
    "group": [("children", "los niños", "crianças"), ("citizens", "los ciudadanos", "cidadãos"),
              ("migrants", "los migrantes", "migrantes"), ("workers", "los trabajadores",
              "trabalhadores"), ("patients", "los pacientes", "pacientes"),
              ("students", "los estudiantes", "estudantes"), ("drivers", "los conductores",
              "motoristas"), ("tenants", "los inquilinos", "inquilinos")],
    "thing": [("cameras", "cámaras", "câmeras"), ("sensors", "sensores", "sensores"),
              ("algorithms", "algoritmos", "algoritmos"), ("drones", "drones", "drones"),
              ("smart meters", "medidores inteligentes", "medidores inteligentes"),
              ("apps", "aplicaciones", "aplicativos")],
    "sector": [("health", "salud", "saúde"), ("transport", "transporte", "transporte"),
               ("schools", "escuelas", "escolas"), ("housing", "vivienda", "moradia"),
               ("policing", "la policía", "policiamento"), ("water", "agua", "água")],
}
PLACES = ["Guadalajara", "Bogotá", "São Paulo", "Medellín", "Recife", "Monterrey", "Quito",
          "Lima", "Curitiba", "Cali", "Rosario", "Oaxaca", "Salvador", "Cusco", "Puebla"]


def generate(n: int, rng: random.Random) -> list[str]:
    """n distinct questions from the templates, in the three languages."""
    out: set[str] = set()
    while len(out) < n:
        lang = rng.choice(["en", "en", "es", "pt"])
        template = rng.choice(TEMPLATES[lang])
        values: dict[str, str] = {"place": rng.choice(PLACES)}
        for slot, options in SLOTS.items():
            en, es, pt = rng.choice(options)
            values[slot], values[f"{slot}_es"], values[f"{slot}_pt"] = en, es, pt
        out.add(template.format(**values))
    return sorted(out)


def typo(text: str, rng: random.Random) -> str:
    """Drop a letter and lower-case everything, as a phone keyboard would."""
    i = rng.randrange(1, len(text) - 1)
    return (text[:i] + text[i + 1:]).lower()


def timed(fn: Callable[[], Any], repeat: int) -> list[tuple[float, float]]:
    """(wall, CPU) times in milliseconds of ``repeat`` calls. On a shared machine the
    wall time's tail is mostly other processes' turns; the CPU time is this work's own."""
    out = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        out.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
    return out


def _quantiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(0.99 * len(values)))]


def summary(name: str, times: list[tuple[float, float]]) -> str:
    wall_median, wall_p99 = _quantiles([w for w, _ in times])
    cpu_median, cpu_p99 = _quantiles([c for _, c in times])
    return (f"| {name} | {len(times)} | {wall_median:.2f} | {wall_p99:.2f} | "
            f"{cpu_median:.2f} | {cpu_p99:.2f} |")


def probes(questions: list[str], rng: random.Random, count: int) -> list[str]:
    """What people type: a typo'd question of the event, or a new one from the templates."""
    fresh = generate(len(questions) + count, random.Random(rng.random()))
    out = []
    for i in range(count):
        out.append(typo(rng.choice(questions), rng) if i % 2 else fresh[i])
    return out


def bench_index(questions: list[str], texts: list[str]) -> list[str]:
    from discussion.similar.index import EventIndex
    from discussion.similar.text import features

    rows = [(i, body, True) for i, body in enumerate(questions, 1)]
    builds = []
    index = EventIndex()
    for _ in range(5):
        index = EventIndex()
        builds += timed(lambda index=index: index.sync(rows), 1)
    it = iter(texts * 2)
    lookups = timed(lambda: index.search(features(next(it))), len(texts))
    tracemalloc.start()
    kept = EventIndex()
    kept.sync(rows)
    size, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return [summary("index: build from 1 row per question", builds),
            summary("index: lookup (features + ranking)", lookups),
            f"\nIndex memory: {size / 2**20:.1f} MiB for {len(rows)} questions (tracemalloc).\n"]


def bench_app(questions: list[str], texts: list[str], workdir: Path) -> list[str]:
    os.environ["DISCUSSION_INSTANCE_PATH"] = str(workdir / "instance")
    from flask_migrate import upgrade

    from discussion import create_app, similar
    from discussion.extensions import db
    from discussion.models import Event, Question

    app = create_app({
        "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "SOCKETIO_ASYNC_MODE": "threading", "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        upgrade()
        event = Event(code=CODE, title="Similar questions bench")
        db.session.add(event)
        db.session.flush()
        db.session.add_all(Question(event_id=event.id, body=b) for b in questions)
        db.session.commit()
        event_id = event.id

    client = app.test_client()
    url = f"/api/v1/events/{CODE}/similar"
    it = iter(texts * 3)

    def lookup() -> None:
        r = client.get(url, query_string={"q": next(it)})
        assert r.status_code == 200, r.get_json()

    first = timed(lookup, 1)
    warm = timed(lookup, len(texts))

    # After another process's write: the fingerprint changes, the index re-reads the rows.
    after_write = []
    for _ in range(50):
        with app.app_context():
            db.session.add(Question(event_id=event_id, body=f"Another question {time.time()}?"))
            db.session.commit()
        after_write += timed(lookup, 1)

    with app.test_request_context():
        rows = [(q.id, q.body, q.status) for q in db.session.query(Question).filter_by(
            event_id=event_id)]

    def marks() -> None:
        with app.test_request_context():
            for qid, body, status in rows:
                similar.duplicate_of(event_id, qid, body, status)

    cold_marks = timed(marks, 1)  # the first console of the process
    warm_marks = timed(marks, 5)

    def edit_first() -> None:
        with app.test_request_context():
            first = db.session.get(Question, rows[0][0])
            first.body = f"{questions[1]} ({time.time()})"
            db.session.commit()
            similar.touched(event_id, first.id)

    edits = timed(edit_first, 5)
    after_edit = timed(marks, 1)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return [
        summary("app: first lookup of the process (builds from the database)", first),
        summary("app: GET /similar", warm),
        summary("app: GET /similar after another process's write", after_write),
        summary(f"app: duplicate marks of all {len(rows)} questions, none remembered",
                cold_marks),
        summary(f"app: duplicate marks of all {len(rows)} questions, remembered", warm_marks),
        summary("app: editing the earliest question (marks of all later ones checked)",
                edits),
        summary(f"app: duplicate marks of all {len(rows)} questions after that edit",
                after_edit),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(2016)
    questions = generate(args.questions, rng)
    texts = probes(questions, rng, args.lookups)
    print(f"{args.questions} questions, {args.lookups} lookups; Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    print("| what | runs | wall median ms | wall p99 ms | CPU median ms | CPU p99 ms |")
    print("|---|---|---|---|---|---|")
    *lines, memory = bench_index(questions, texts)
    with tempfile.TemporaryDirectory() as tmp:
        lines += bench_app(questions, texts, Path(tmp))
    print("\n".join(lines))
    print(memory)


if __name__ == "__main__":
    main()

"""Run the load benchmark: the app and the bare python-socketio server, side by side.

Each measurement starts a fresh app server (``python -m discussion.server``, as
``make run`` serves, on a fresh SQLite database) and then a fresh bare server
(``bench/bare_server.py``), and drives both with the same harness
(``bench/load.mjs``, the official Socket.IO client), one after the other, so each
figure comes with its ratio to the stack's own limit. Scenarios:

    small    100 and 300 phones, 5 votes a second: a workshop-sized room
    large    500, 2,000 and 5,000 phones, 20 votes a second
    drop     a room of 300 questions; 1,500 phones lose the Wi-Fi and come back
             within 2 s
    bigroom  500 questions: the join answer's size and time, then a phone's and the
             board's script time in Chromium at 4x CPU slowdown (bench/phone_bench.py)

    python bench/run.py                      # all of them (what `make bench` runs)
    python bench/run.py small drop           # some; or BENCH_SCENARIOS="small drop"
    python bench/run.py large --phones 2000  # other sizes for small/large
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
SCENARIOS = ("small", "large", "drop", "bigroom")
Starter = Callable[[int, Path, Path | None], subprocess.Popen[bytes]]


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def write_room(path: Path, code: str, questions: int) -> Path:
    """A seed file of one live event with ``questions`` open questions of varied length."""
    rng = random.Random(questions)
    topics = ["consent", "transparency", "security", "rights", "education"]
    starts = ["How", "Who decides how", "What happens when", "Why should", "Can we know how",
              "Which safeguards ensure that", "Where do", "Is it fair that"]
    subjects = ["city sensors", "mobility data", "public cameras", "health records",
                "energy meters", "school platforms", "open data portals", "private partners"]
    verbs = ["collect", "share", "keep", "combine", "sell", "analyse", "publish", "delete"]
    tails = ["data about residents", "location traces", "what people did not consent to",
             "records of children", "information used to score neighbourhoods"]
    lines = ['format = 1', '', '[event]', f'code = "{code}"',
             f'title = "A room of {questions} questions"', 'date = 2024-05-02',
             'place = "Main hall"', 'status = "live"', 'moderation = "post"',
             'licence = "CC-BY-4.0"', 'moderator = "Moderator, Organisation"',
             'description = "A benchmark room."', '']
    for slug in topics:
        lines += ['[[topics]]', f'slug = "{slug}"', f'name = "{slug.title()}"', '']
    for i in range(questions):
        body = (f"{rng.choice(starts)} {rng.choice(subjects)} {rng.choice(verbs)} "
                f"{rng.choice(tails)}")
        while len(body) < rng.randint(60, 240):
            body += f", and {rng.choice(verbs)} {rng.choice(tails)}"
        lines += ['[[questions]]', f'topic = "{rng.choice(topics)}"',
                  f'body = "{body} (#{i + 1})?"', '']
    path.write_text("\n".join(lines))
    return path


def app_env(port: int, workdir: Path) -> dict[str, str]:
    return {**os.environ, "DISCUSSION_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "DISCUSSION_INSTANCE_PATH": str(workdir), "FLASK_APP": "wsgi.py",
            "HOST": "127.0.0.1", "PORT": str(port)}


def start_app(port: int, workdir: Path, seed: Path | None = None) -> subprocess.Popen[bytes]:
    env = app_env(port, workdir)
    flask = [PY, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    subprocess.run([*flask, "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    if seed is not None:
        subprocess.run([*flask, "seed", str(seed)], env=env, cwd=ROOT, check=True,
                       capture_output=True)
    proc = subprocess.Popen([PY, "-m", "discussion.server"], env=env, cwd=ROOT,
                            stdout=(workdir / "app.log").open("wb"), stderr=subprocess.STDOUT)
    wait_up(f"http://127.0.0.1:{port}/api/v1/events/smartcities", proc)
    return proc


def start_bare(port: int, workdir: Path, seed: Path | None = None) -> subprocess.Popen[bytes]:
    cmd = [PY, str(BENCH / "bare_server.py"), "--port", str(port)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=(workdir / "bare.log").open("wb"),
                            stderr=subprocess.STDOUT)
    wait_up(f"http://127.0.0.1:{port}/e/smartcities", proc)
    return proc


SERVERS: tuple[tuple[str, Starter, int], ...] = (("app", start_app, 5200),
                                                 ("bare", start_bare, 5300))


def harness(port: int, pid: int, options: dict[str, Any]) -> dict[str, Any]:
    cmd = ["node", str(BENCH / "load.mjs"), "--url", f"http://127.0.0.1:{port}",
           "--pid", str(pid)]
    for key, value in options.items():
        cmd += [f"--{key}", str(value)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if out.returncode != 0:
        raise SystemExit(f"harness failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def measure(name: str, starter: Starter, port: int, options: dict[str, Any],
            questions: int = 0) -> dict[str, Any]:
    """One server, fresh, driven once by the harness."""
    with tempfile.TemporaryDirectory() as tmp:
        room = Path(tmp) / "room.toml"
        seed = write_room(room, options["code"], questions) if questions else None
        proc = starter(port, Path(tmp), seed)
        try:
            time.sleep(1)
            result = harness(port, proc.pid, options)
        finally:
            stop(proc)
    print(name, json.dumps(result), flush=True)
    return result


def ratio(a: object, b: object) -> str:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return f"{a / b:.2f}"
    return "-"


def table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(" | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    print()


def votes_scenario(label: str, sizes: list[int], rate: int, votes: int,
                   args: argparse.Namespace, results: dict[str, Any]) -> None:
    for phones in sizes:
        for name, starter, port in SERVERS:
            if args.only and name != args.only:
                continue
            options = {"scenario": "votes", "code": "smartcities", "phones": phones,
                       "join-rate": args.join_rate, "vote-rate": rate, "votes": votes}
            results[f"{label}-{name}-{phones}"] = measure(f"{label} {name} {phones}", starter,
                                                          port, options)
    rows = [("phones", "server", "joined/failed", "join/s", "deliveries", "p50 ms", "p95 ms",
             "p99 ms", "ack p99", "KB/phone")]
    for phones in sizes:
        for name, _, _ in SERVERS:
            r = results.get(f"{label}-{name}-{phones}")
            if r:
                rows.append((str(phones), name, f"{r['joined']}/{r['join_failures']}",
                             str(r["join_rate"]), f"{r['deliveries']}/{r['deliveries_expected']}",
                             str(r["latency_ms_p50"]), str(r["latency_ms_p95"]),
                             str(r["latency_ms_p99"]), str(r["vote_ack_ms_p99"]),
                             str(r["server_kb_per_phone"])))
        app, bare = results.get(f"{label}-app-{phones}"), results.get(f"{label}-bare-{phones}")
        if app and bare:
            rows.append((str(phones), "app/bare", "", ratio(app["join_rate"], bare["join_rate"]),
                         "", ratio(app["latency_ms_p50"], bare["latency_ms_p50"]),
                         ratio(app["latency_ms_p95"], bare["latency_ms_p95"]),
                         ratio(app["latency_ms_p99"], bare["latency_ms_p99"]), "",
                         ratio(app["server_kb_per_phone"], bare["server_kb_per_phone"])))
    print(f"{label}: {rate} votes a second")
    table(rows)


def drop_scenario(args: argparse.Namespace, results: dict[str, Any]) -> None:
    for name, starter, port in SERVERS:
        if args.only and name != args.only:
            continue
        options = {"scenario": "drop", "code": "drop300", "phones": args.drop_phones,
                   "join-rate": args.join_rate, "spread": 2000, "down": 1000,
                   "cookie-path": "/api/v1/events/drop300"}
        results[f"drop-{name}"] = measure(f"drop {name}", starter, port, options, questions=300)
    rows = [("server", "phones", "back/failed", "all back s", "rejoin p50", "rejoin p99",
             "partial", "full KB", "rejoin KB", "share", "room MB", "consistent")]
    for name, _, _ in SERVERS:
        r = results.get(f"drop-{name}")
        if r:
            rows.append((name, str(r["joined"]), f"{r['rejoined']}/{r['rejoin_failures']}",
                         str(r["all_back_s"]), str(r["rejoin_ms_p50"]), str(r["rejoin_ms_p99"]),
                         str(r["partial_answers"]), f"{r['full_join_bytes'] / 1000:.1f}",
                         f"{r['rejoin_bytes_mean'] / 1000:.1f}", str(r["rejoin_share_of_full"]),
                         str(r["room_rejoin_mb"]), str(r["consistent_phones"])))
    app, bare = results.get("drop-app"), results.get("drop-bare")
    if app and bare:
        rows.append(("app/bare", "", "", ratio(app["all_back_s"], bare["all_back_s"]),
                     ratio(app["rejoin_ms_p50"], bare["rejoin_ms_p50"]),
                     ratio(app["rejoin_ms_p99"], bare["rejoin_ms_p99"]), "", "", "", "",
                     ratio(app["room_rejoin_mb"], bare["room_rejoin_mb"]), ""))
    print("drop: 300 questions, every phone back within 2 s")
    table(rows)


def bigroom_scenario(args: argparse.Namespace, results: dict[str, Any]) -> None:
    for name, starter, port in SERVERS:
        if args.only and name != args.only:
            continue
        options = {"scenario": "joins", "code": "big500", "phones": 50}
        results[f"bigroom-{name}"] = measure(f"bigroom {name}", starter, port, options,
                                             questions=500)
    rows = [("server", "questions", "page KB", "page p50 ms", "join KB", "join p50 ms",
             "join p99 ms")]
    for name, _, _ in SERVERS:
        r = results.get(f"bigroom-{name}")
        if r:
            rows.append((name, str(r["questions"]), f"{r['page_bytes'] / 1000:.1f}",
                         str(r["page_ms_p50"]), f"{r['ack_bytes'] / 1000:.1f}",
                         str(r["ack_ms_p50"]), str(r["ack_ms_p99"])))
    print("bigroom: one phone joining at a time")
    table(rows)
    if args.only != "bare":
        out = subprocess.run([PY, str(BENCH / "phone_bench.py"), "--questions", "500"],
                             cwd=ROOT, check=False, capture_output=True, text=True, timeout=900)
        print(out.stdout, end="", flush=True)
        if out.returncode != 0:
            raise SystemExit(f"phone_bench failed: {out.stderr[-2000:]}")
        results["bigroom-browser"] = json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="scenario",
                        help=f"{' '.join(SCENARIOS)} (default: BENCH_SCENARIOS, else all)")
    parser.add_argument("--phones", type=int, nargs="+", default=None,
                        help="sizes for small and large instead of theirs")
    parser.add_argument("--drop-phones", type=int, default=1500)
    parser.add_argument("--join-rate", type=int, default=250)
    parser.add_argument("--only", choices=["app", "bare"], default=None)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "load.json")
    args = parser.parse_args()
    chosen = args.scenarios or os.environ.get("BENCH_SCENARIOS", "").split() or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if not (BENCH / "node_modules" / "socket.io-client").exists():
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=BENCH,
                       check=True)
    results: dict[str, Any] = {}
    for scenario in chosen:
        if scenario == "small":
            votes_scenario("small", args.phones or [100, 300], 5, 100, args, results)
        elif scenario == "large":
            votes_scenario("large", args.phones or [500, 2000, 5000], 20, 200, args, results)
        elif scenario == "drop":
            drop_scenario(args, results)
        elif scenario == "bigroom":
            bigroom_scenario(args, results)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(),
               "platform": platform.platform(), "loadavg": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()

"""Run the load benchmark: the app and the bare python-socketio server, side by side.

For each size, a fresh app server (``python -m discussion.server``, as ``make run``
serves, on a fresh SQLite database) and a fresh bare server are measured with the
same harness (``bench/load.mjs``, the official Socket.IO client), one after the
other, so each figure comes with its ratio to the stack's own limit.

    python bench/run.py --phones 500 2000 5000 [--votes 200] [--vote-rate 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable


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


def start_app(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DISCUSSION_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
           "DISCUSSION_INSTANCE_PATH": str(workdir), "FLASK_APP": "wsgi.py",
           "HOST": "127.0.0.1", "PORT": str(port)}
    flask = [PY, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    subprocess.run([*flask, "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    proc = subprocess.Popen([PY, "-m", "discussion.server"], env=env, cwd=ROOT,
                            stdout=(workdir / "app.log").open("wb"), stderr=subprocess.STDOUT)
    wait_up(f"http://127.0.0.1:{port}/api/v1/events/smartcities", proc)
    return proc


def start_bare(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([PY, str(BENCH / "bare_server.py"), "--port", str(port)],
                            cwd=ROOT, stdout=(workdir / "bare.log").open("wb"),
                            stderr=subprocess.STDOUT)
    wait_up(f"http://127.0.0.1:{port}/e/smartcities", proc)
    return proc


def harness(port: int, pid: int, phones: int, args: argparse.Namespace) -> dict[str, object]:
    cmd = ["node", str(BENCH / "load.mjs"), "--url", f"http://127.0.0.1:{port}",
           "--phones", str(phones), "--join-rate", str(args.join_rate),
           "--vote-rate", str(args.vote_rate), "--votes", str(args.votes), "--pid", str(pid)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if out.returncode != 0:
        raise SystemExit(f"harness failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def ratio(a: object, b: object) -> str:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return f"{a / b:.2f}"
    return "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phones", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--join-rate", type=int, default=250)
    parser.add_argument("--vote-rate", type=int, default=20)
    parser.add_argument("--votes", type=int, default=200)
    parser.add_argument("--only", choices=["app", "bare"], default=None)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "load.json")
    args = parser.parse_args()
    if not (BENCH / "node_modules" / "socket.io-client").exists():
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=BENCH,
                       check=True)
    results: dict[str, dict[str, object]] = {}
    for phones in args.phones:
        for name, starter, port in (("app", start_app, 5200), ("bare", start_bare, 5300)):
            if args.only and name != args.only:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                proc = starter(port, Path(tmp))
                try:
                    time.sleep(1)
                    results[f"{name}-{phones}"] = harness(port, proc.pid, phones, args)
                finally:
                    stop(proc)
            print(name, phones, json.dumps(results[f"{name}-{phones}"]), flush=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(),
               "platform": platform.platform()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    rows = [("phones", "server", "joined/failed", "join/s", "deliveries", "p50 ms", "p95 ms",
             "p99 ms", "KB/phone")]
    for phones in args.phones:
        for name in ("app", "bare"):
            r = results.get(f"{name}-{phones}")
            if not r:
                continue
            rows.append((str(phones), name, f"{r['joined']}/{r['join_failures']}",
                         str(r["join_rate"]), f"{r['deliveries']}/{r['deliveries_expected']}",
                         str(r["latency_ms_p50"]), str(r["latency_ms_p95"]),
                         str(r["latency_ms_p99"]), str(r["server_kb_per_phone"])))
        app, bare = results.get(f"app-{phones}"), results.get(f"bare-{phones}")
        if app and bare:
            rows.append((str(phones), "app/bare", "", ratio(app["join_rate"], bare["join_rate"]),
                         "", ratio(app["latency_ms_p50"], bare["latency_ms_p50"]),
                         ratio(app["latency_ms_p95"], bare["latency_ms_p95"]),
                         ratio(app["latency_ms_p99"], bare["latency_ms_p99"]),
                         ratio(app["server_kb_per_phone"], bare["server_kb_per_phone"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(" | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()

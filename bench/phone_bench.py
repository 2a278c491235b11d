"""A room of many questions in a real browser: a phone's and the board's script time.

Starts the app (``python -m discussion.server``) on a fresh database with a room of
``--questions`` questions, opens the participant page as a phone (390x844) and the
board (1920x1080) in Debian's Chromium with the CPU slowed down 4 times (CDP
``Emulation.setCPUThrottlingRate``), and measures with Chromium's own counters
(``Performance.getMetrics``):

- loading: from navigation until the ``join`` answer has been rendered: script,
  layout and style time, long tasks, and the wall time it took;
- live updates: ``--votes`` votes from other participants, a quarter of a second
  apart, each re-ranking the list: script and layout time per vote and the longest
  task.

A measurement, not a test: the figures go to bench/README.md.

    python bench/phone_bench.py [--questions 500] [--votes 20] [--slowdown 4]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import Page, sync_playwright

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import start_app, stop, write_room  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 1}
BOARD = {"viewport": {"width": 1920, "height": 1080}, "device_scale_factor": 1}
CODE = "big500"
# Long tasks (over 50 ms), as the page itself sees them.
LONG_TASKS = """
window.__long = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__long.push(e.duration);
}).observe({ type: 'longtask', buffered: true });
"""
METRICS = ("ScriptDuration", "TaskDuration", "LayoutDuration", "RecalcStyleDuration")


def metrics(cdp: Any) -> dict[str, float]:
    got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {name: got.get(name, 0.0) for name in METRICS}


def ms_between(a: dict[str, float], b: dict[str, float], per: int = 1) -> dict[str, float]:
    return {name: round((b[name] - a[name]) * 1000 / per, 1) for name in METRICS}


def settled(page: Page) -> None:
    """Two animation frames: what the last message scheduled has been drawn."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def long_tasks(page: Page, since: int = 0) -> tuple[int, list[float]]:
    tasks: list[float] = page.evaluate("() => window.__long")
    return len(tasks), tasks[since:]


def voters(url: str, count: int) -> list[tuple[requests.Session, str]]:
    """Participants with their cookie and CSRF token, as a phone's first page gives."""
    out = []
    for _ in range(count):
        session = requests.Session()
        page = session.get(f"{url}/e/{CODE}", timeout=30).text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
        assert token, "no csrf-token on the page"
        out.append((session, token.group(1)))
    return out


def measure_screen(browser: Any, url: str, path: str, screen: dict[str, Any],
                   voters_: list[tuple[requests.Session, str]], question_ids: list[int],
                   slowdown: float) -> dict[str, Any]:
    context = browser.new_context(**screen)
    page = context.new_page()
    page.add_init_script(LONG_TASKS)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeMode": "threadTicks"})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
    acks: list[float] = []
    updates: list[float] = []

    def on_socket(ws: Any) -> None:
        def frame(payload: str | bytes) -> None:
            text = payload if isinstance(payload, str) else ""
            if text.startswith("43"):  # a Socket.IO acknowledgement: the join answer
                acks.append(time.monotonic())
            elif text.startswith('42["votes"'):
                updates.append(time.monotonic())
        ws.on("framereceived", frame)

    page.on("websocket", on_socket)
    start = metrics(cdp)
    began = time.monotonic()
    # A slowed-down CPU on a shared machine can take longer than the default 30 s.
    response = page.goto(url + path, wait_until="load", timeout=180_000)
    page_bytes = len(response.body()) if response is not None else 0
    deadline = time.monotonic() + 60
    while not acks and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    if not acks:
        raise SystemExit(f"{path}: no join answer within a minute")
    settled(page)
    loaded_at = time.monotonic()
    loaded = metrics(cdp)
    count, load_long = long_tasks(page)

    # Live updates: each vote re-ranks the list on this screen.
    before = metrics(cdp)
    for k, (session, token) in enumerate(voters_):
        session.put(f"{url}/api/v1/questions/{question_ids[-(k + 1)]}/vote",
                    headers={"X-CSRFToken": token}, timeout=30).raise_for_status()
        page.wait_for_timeout(250)
    deadline = time.monotonic() + 30
    while len(updates) < len(voters_) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    settled(page)
    page.wait_for_timeout(500)
    after = metrics(cdp)
    _, update_long = long_tasks(page, count)
    context.close()
    return {
        "page_kb": round(page_bytes / 1000, 1),
        "load_wall_ms": round((loaded_at - began) * 1000),
        "load_ms": ms_between(start, loaded),
        "load_long_tasks": len(load_long),
        "load_longest_task_ms": round(max(load_long, default=0.0)),
        "votes": len(voters_),
        "vote_messages": len(updates),
        "per_vote_ms": ms_between(before, after, max(1, len(updates))),
        "update_long_tasks": len(update_long),
        "update_longest_task_ms": round(max(update_long, default=0.0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--votes", type=int, default=20)
    parser.add_argument("--slowdown", type=float, default=4.0)
    parser.add_argument("--port", type=int, default=5500)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as tmp:
        seed = write_room(Path(tmp) / "room.toml", CODE, args.questions)
        proc = start_app(args.port, Path(tmp), seed)
        try:
            ids = [q["id"] for q in requests.get(f"{url}/api/v1/events/{CODE}/questions",
                                                 timeout=30).json()["questions"]]
            result: dict[str, Any] = {"questions": len(ids), "slowdown": args.slowdown}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    for name, path, screen in (("phone", f"/e/{CODE}", PHONE),
                                               ("board", f"/e/{CODE}/board", BOARD)):
                        # Fresh voters per screen: a participant votes once per question.
                        result[name] = measure_screen(browser, url, path, screen,
                                                      voters(url, args.votes), ids,
                                                      args.slowdown)
                finally:
                    browser.close()
        finally:
            stop(proc)
    for name in ("phone", "board"):
        r = result[name]
        print(f"{name}: {result['questions']} questions, CPU {args.slowdown:g}x slower; "
              f"page {r['page_kb']} KB; loaded and joined in {r['load_wall_ms']} ms "
              f"(script {r['load_ms']['ScriptDuration']} ms, layout "
              f"{r['load_ms']['LayoutDuration']} ms, style {r['load_ms']['RecalcStyleDuration']} "
              f"ms, longest task {r['load_longest_task_ms']} ms); per vote: script "
              f"{r['per_vote_ms']['ScriptDuration']} ms, layout "
              f"{r['per_vote_ms']['LayoutDuration']} ms, style "
              f"{r['per_vote_ms']['RecalcStyleDuration']} ms, longest task "
              f"{r['update_longest_task_ms']} ms")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

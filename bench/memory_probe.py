"""Where a phone's memory goes: the server's Python allocations at N phones against none.

Serves the app (or the bare python-socketio server) inside this process, as
``python -m discussion.server`` does (gevent, gevent-websocket), connects phones
with the harness (``load.mjs --scenario hold``) and compares, after a warm-up and
with garbage collected at both ends:

- the resident memory (``/proc``), as ``run.py`` reports it;
- tracemalloc's allocations by source line, divided by the phones;
- the number of live objects of each type (``gc``), divided by the phones.

    python bench/memory_probe.py app --phones 500
    python bench/memory_probe.py bare --phones 500
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import collections  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from gevent import pywsgi  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]


def rss_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0])


def app_server(port: int, workdir: Path) -> pywsgi.WSGIServer:
    from run import PY, app_env

    env = app_env(port, workdir)
    for cmd in (["db", "upgrade"], ["seed"]):
        subprocess.run([PY, "-m", "flask", *cmd], env=env, cwd=ROOT, check=True,
                       capture_output=True)
    os.environ.update(env)
    from discussion import create_app
    from discussion.server import QuietHandler

    app = create_app({"SOCKETIO_ASYNC_MODE": "gevent"})
    import gevent

    gevent.config.track_greenlet_tree = False  # as discussion.server.serve does
    QuietHandler.allowed_origins = tuple(app.config["ALLOWED_ORIGINS_LIST"])
    return pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=QuietHandler, log=None)


def bare_server(port: int) -> pywsgi.WSGIServer:
    from bare_server import build
    from geventwebsocket.handler import WebSocketHandler

    _sio, app = build()
    return pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=WebSocketHandler, log=None)


LAYERS = ("discussion", "flask_socketio", "flask_login", "flask_wtf", "flask", "werkzeug",
          "socketio", "engineio", "geventwebsocket", "gevent", "bare_server")


def by_layer(stats: list[tracemalloc.StatisticDiff]) -> dict[str, int]:
    """Bytes by the layer nearest to each allocation on its stack (a line of ours,
    else the library that asked for the memory)."""
    out: collections.Counter[str] = collections.Counter()
    for stat in stats:
        layer = "other"
        for frame in reversed(stat.traceback):  # the allocating frame first
            name = frame.filename
            if "/discussion/" in name or name.endswith("bare_server.py"):
                layer = f"{Path(name).name}:{frame.lineno}"
                break
            hit = next((c for c in LAYERS if f"/{c}/" in name), None)
            if hit is not None:
                layer = hit
                break
        out[layer] += stat.size_diff
    return dict(out)


def deep(obj: object, seen: set[int]) -> int:
    """Bytes of an object and what it holds that nothing measured before holds."""
    if id(obj) in seen or obj is None or isinstance(obj, bool | int | float):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep(k, seen) + deep(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(deep(x, seen) for x in obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        size += deep(vars(obj), seen)
    if hasattr(obj, "__slots__") and not isinstance(obj, type):
        size += sum(deep(getattr(obj, name, None), seen) for name in obj.__slots__)
    return size


def anatomy(phones: int, app: Any) -> dict[str, float]:
    """Per phone: what the app keeps that a bare python-socketio server does not."""
    from discussion import live, sockets
    from discussion.extensions import socketio

    server = socketio.server
    shared: set[int] = set()  # what every socket refers to (the app, shared strings)
    shared.add(id(server))
    rooms = server.manager.rooms.get("/", {})
    out: dict[str, float] = {}
    environs = list(server.environ.values())
    sessions = [env.get("saved_session") for env in environs if "saved_session" in env]
    seen = set(shared)
    out["environ held by python-socketio (dict only)"] = sum(
        sys.getsizeof(env) for env in environs) / phones
    wsgi = [o for o in gc.get_objects() if isinstance(o, dict) and "wsgi.version" in o]
    out["every WSGI environ alive (dict only)"] = sum(sys.getsizeof(e) for e in wsgi) / phones
    out["saved_session copies"] = sum(deep(s, seen) for s in sessions) / phones
    seen = set(shared) | {id(env) for env in environs} | {id(server.eio), id(socketio)}
    for env in environs:
        seen.add(id(env.get("flask.app")))
    out["last event's Request kept in the environ"] = sum(
        deep(env.get("werkzeug.request"), seen) for env in environs) / phones
    seen = set(shared)
    out["connection records (sockets.Connection)"] = sum(
        deep(c, seen) for c in app.extensions[sockets.CONNECTIONS].values()) / phones
    seen = set(shared)
    out["participant rooms (p:...)"] = sum(
        deep(name, seen) + deep(members, seen) + 100  # the rooms dict's entry
        for name, members in rooms.items() if isinstance(name, str) and name.startswith("p:")
    ) / phones
    seen = set(shared)
    online = live.coalescer(app)._online.values()
    out["presence entries"] = sum(deep(c, seen) for c in online) / phones
    return {k: round(v) for k, v in out.items()}


def type_counts() -> collections.Counter[str]:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def settle() -> None:
    for _ in range(3):
        gc.collect()
    time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("server", choices=["app", "bare"])
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--port", type=int, default=5400)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--join-rate", type=int, default=250)
    parser.add_argument("--frames", type=int, default=1,
                        help="frames kept per allocation; more attributes lines to layers")
    parser.add_argument("--no-trace", action="store_true",
                        help="resident memory only (tracemalloc's own records inflate it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = args.server == "app"
        server = app_server(args.port, Path(tmp)) if app else bare_server(args.port)
        server.start()
        if not args.no_trace:
            tracemalloc.start(args.frames)
        node = subprocess.Popen(
            ["node", str(BENCH / "load.mjs"), "--scenario", "hold", "--url",
             f"http://127.0.0.1:{args.port}", "--phones", str(args.phones),
             "--join-rate", str(args.join_rate)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert node.stdout is not None and node.stdin is not None
        node.stdout.readline()  # warm: 20 phones came and went, as in run.py
        settle()
        before = tracemalloc.take_snapshot() if not args.no_trace else None
        types_before = type_counts()
        rss_before = rss_kb()
        node.stdin.write("go\n")
        node.stdin.flush()
        summary: dict[str, Any] = json.loads(node.stdout.readline())
        time.sleep(1.0)
        settle()
        rss_after = rss_kb()
        parts = anatomy(int(summary["joined"]), server.application) if app else {}
        types_after = type_counts()
        after = tracemalloc.take_snapshot() if not args.no_trace else None
        node.stdin.close()
        node.wait(60)
        server.stop(timeout=5)
    phones = summary["joined"]
    print(f"{args.server}: {phones} phones joined; resident "
          f"{(rss_after - rss_before) / phones:.1f} KB per phone")
    result: dict[str, Any] = {"server": args.server, "phones": phones,
                              "rss_kb_per_phone": round((rss_after - rss_before) / phones, 1)}
    if before is not None and after is not None:
        stats = after.compare_to(before, "lineno")
        total = sum(s.size_diff for s in stats)
        print(f"python allocations: {total / phones / 1024:.1f} KB per phone")
        result["traced_kb_per_phone"] = round(total / phones / 1024, 1)
        result["lines"] = []
        for stat in stats[: args.top]:
            frame = stat.traceback[0]
            where = f"{Path(frame.filename).name}:{frame.lineno}"
            per = stat.size_diff / phones
            result["lines"].append([where, round(per), round(stat.count_diff / phones, 2)])
            print(f"  {per:8.0f} B {stat.count_diff / phones:6.2f} blocks  {where}")
        if args.frames > 1:
            layers = by_layer(after.compare_to(before, "traceback"))
            print("python allocations per phone by the layer that made them:")
            for layer, size in sorted(layers.items(), key=lambda kv: -kv[1]):
                print(f"  {size / phones:8.0f} B  {layer}")
            result["layers"] = {k: round(v / phones) for k, v in layers.items()}
    if parts:
        print("what the app keeps per phone (bytes):")
        for name, size in parts.items():
            print(f"  {size:6d}  {name}")
        result["anatomy"] = parts
    diff = {k: (types_after[k] - types_before[k]) / phones for k in types_after}
    top = sorted(diff.items(), key=lambda kv: -kv[1])[: args.top]
    print("objects per phone:")
    for name, per in top:
        print(f"  {per:6.2f}  {name}")
    result["objects"] = [[name, round(per, 2)] for name, per in top]
    print(json.dumps(result))


if __name__ == "__main__":
    main()

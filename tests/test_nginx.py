"""The documented nginx configuration in front of two processes, as deployed."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import free_port
from helpers import service_unavailable
from test_scaleout import Phone

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CONF = Path(__file__).resolve().parent.parent / "docs" / "nginx" / "discussion.conf"


@pytest.fixture
def nginx(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Start nginx with docs/nginx/discussion.conf, its upstreams pointed at given ports."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                       else None)
    if binary is None:
        service_unavailable("nginx is not installed (apt-get install nginx-light)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(upstream_ports: list[int]) -> str:
        port = free_port()
        site = CONF.read_text()
        site = site.replace("server 127.0.0.1:5001;", f"server 127.0.0.1:{upstream_ports[0]};")
        site = site.replace("server 127.0.0.1:5002;", f"server 127.0.0.1:{upstream_ports[1]};")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
        (tmp_path / "logs").mkdir(exist_ok=True)
        (tmp_path / "discussion.conf").write_text(site)
        (tmp_path / "nginx.conf").write_text(
            "worker_processes 1;\nerror_log logs/error.log;\npid logs/nginx.pid;\n"
            "events { worker_connections 1024; }\n"
            "http {\n  client_body_temp_path logs/body;\n  proxy_temp_path logs/proxy;\n"
            "  fastcgi_temp_path logs/fastcgi;\n  uwsgi_temp_path logs/uwsgi;\n"
            "  scgi_temp_path logs/scgi;\n  include discussion.conf;\n}\n"
        )
        proc = subprocess.Popen([binary, "-p", str(tmp_path), "-c", "nginx.conf",
                                 "-g", "daemon off;"], stderr=subprocess.PIPE)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/api/v1/events/smartcities", timeout=1)
                return url
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read().decode()) from None
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


class Proxied:
    """A live server seen through nginx (the URL phones use)."""

    def __init__(self, url: str) -> None:
        self.url = url


def test_phones_behind_nginx_reach_each_other(live_server_factory, postgres_url, redis_url,
                                              nginx):
    env = {"DISCUSSION_REDIS_URL": redis_url, "DISCUSSION_PROXY_FIX": "1",
           "DISCUSSION_SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex[:8]}"}
    one = live_server_factory(postgres_url, **env)
    two = live_server_factory(postgres_url, **env)
    front = Proxied(nginx([one.port, two.port]))
    # Long-polling needs every request of a session on one process: the cookie hash
    # keeps each phone on its process, and six phones land on both processes.
    phones = [Phone(front, transports=["polling"]) for _ in range(6)]
    phones.append(Phone(front))  # and a websocket upgrade passes through the proxy
    try:
        assert phones[-1].sio.transport() == "websocket"
        ack = phones[0].sio.call("ask", {"body": "Through the proxy?", "client_id": "n1"},
                                 timeout=5)
        assert ack["ok"], ack
        qid = ack["question"]["id"]
        for phone in phones[1:]:
            phone.wait_for("question", lambda q: q["id"] == qid)
        vote = phones[-1].sio.call("vote", {"question_id": qid, "up": True}, timeout=5)
        assert vote["ok"], vote
        for phone in phones[:-1]:
            phone.wait_for("votes", lambda counts: counts.get(str(qid)) == 1)
    finally:
        for phone in phones:
            phone.sio.disconnect()

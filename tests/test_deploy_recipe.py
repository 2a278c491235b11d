"""docs/deploy.md's recipe, run as written: settings file, flask commands, two processes
as the systemd unit starts them, the shipped nginx site beside Debian's default site.

The commands are read from the guide's code blocks (``<!-- recipe: NAME -->`` before
each) and run with bash in one shell, in a temporary folder standing for /srv/discussion.
What cannot run here is adapted, and only that (see :func:`adapt`): the paths (a copy of
the source for $APP, a copy of Debian's /etc/nginx), the ports (free loopback ports for
nginx and the two processes), the names of the database role and database (unique, and
dropped afterwards), and running as the current user instead of ``discussion`` and
``postgres``. The blocks that install packages, add the system user, clone and install
the code and call systemd are not run: the processes are started with the unit's own
ExecStart, WorkingDirectory and Environment lines, in an environment as empty as
systemd's. Nothing outside the temporary folder changes, except the database and role
the test creates and drops.
"""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from conftest import POSTGRES_ADMIN, _pg_admin, free_port
from helpers import service_unavailable
from test_scaleout import Phone

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "deploy.md"
UNIT = ROOT / "docs" / "systemd" / "discussion@.service"
BLOCK = re.compile(r"<!-- recipe: (\w+) -->\n```(\w+)\n(.*?)\n```", re.S)
# Copied for $APP: what a clone holds that the app reads (the virtualenv is linked).
SOURCE = ("discussion", "templates", "static", "migrations", "docs", "wsgi.py",
          "pyproject.toml")


def recipe() -> dict[str, str]:
    """The guide's marked code blocks, by name."""
    blocks = {name: body for name, _lang, body in BLOCK.findall(GUIDE.read_text())}
    assert list(blocks) == ["settings", "packages", "user", "code", "install", "database",
                            "env", "migrate", "unit", "systemd", "nginx", "check"], list(blocks)
    return blocks


def test_the_guide_shows_the_shipped_unit() -> None:
    assert recipe()["unit"] + "\n" == UNIT.read_text()


def test_the_guide_runs_on_debian_packages_only() -> None:
    """Its install steps name the commands and packages, with no step left to guess."""
    blocks = recipe()
    assert "apt-get install -y python3 python3-venv" in blocks["packages"]
    assert "useradd --system" in blocks["user"]
    assert ".venv/bin/pip install -e '.[postgres,redis]'" in blocks["install"]
    assert "systemctl enable --now discussion@5001 discussion@5002" in blocks["systemd"]


@dataclass
class Machine:
    """The temporary stand-in for the deployment: folders, ports, names."""

    tmp: Path
    app: Path
    nginx_prefix: Path
    site: str = "127.0.0.1"
    nginx_port: int = field(default_factory=free_port)
    ports: tuple[int, int] = field(default_factory=lambda: (free_port(), free_port()))
    db: str = field(default_factory=lambda: f"recipe_{uuid.uuid4().hex[:10]}")
    channel: str = field(default_factory=lambda: f"recipe-{uuid.uuid4().hex[:8]}")
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def etc_nginx(self) -> Path:
        return self.nginx_prefix / "etc" / "nginx"


def adapt(name: str, block: str, m: Machine) -> str:
    """A recipe block as it runs here; every change is listed."""
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    if name == "database":
        block = re.sub(r"\bdiscussion\b", m.db, block)  # the role and the database
    if name in ("database", "env"):
        block = block.replace("postgresql://discussion:", f"postgresql://{m.db}:")
        block = block.replace("@127.0.0.1:5432/discussion", f"@127.0.0.1:5432/{m.db}")
        block = block.replace("runuser -u postgres -- ", "")
        block = block.replace("-o discussion -g discussion", f"-o {user} -g {group}")
        block = block.replace("-o root -g discussion", f"-o {user} -g {group}")
    if name == "migrate":
        block = block.replace("runuser -u discussion -- ", "")
    if name == "nginx":
        block = block.replace("/etc/nginx/", f"{m.etc_nginx}/")
        block = block.replace("nginx -t", f"{nginx_binary()} {nginx_args(m)} -t")
        block = block.replace("systemctl reload nginx", "")  # started by the test
    if name == "check":
        block = block.replace(":80:127.0.0.1", f":{m.nginx_port}:127.0.0.1")
        block = block.replace('"http://$SITE/', f'"http://$SITE:{m.nginx_port}/')
    return block


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_args(m: Machine) -> str:
    return (f"-p {m.nginx_prefix} -c {m.etc_nginx}/nginx.conf "
            f"-e {m.nginx_prefix}/log/error.log")


def copy_debian_nginx(m: Machine) -> None:
    """Debian's /etc/nginx, default site enabled, listening on the test's loopback port
    and writing its pid, logs and temporary files under the prefix."""
    if not (os.access(nginx_binary(), os.X_OK)
            and Path("/etc/nginx/nginx.conf").exists()
            and Path("/etc/nginx/sites-available/default").exists()):
        service_unavailable("Debian's nginx with its default site is not installed "
                            "(apt-get install nginx)")
    shutil.copytree("/etc/nginx", m.etc_nginx, symlinks=True)
    (m.nginx_prefix / "log").mkdir()
    enabled = m.etc_nginx / "sites-enabled" / "default"
    enabled.unlink(missing_ok=True)
    enabled.symlink_to(m.etc_nginx / "sites-available" / "default")
    prefix = str(m.nginx_prefix)
    for path in m.etc_nginx.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.suffix in (".so",):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        text = text.replace("/etc/nginx/", f"{m.etc_nginx}/")
        text = text.replace("/var/log/nginx/", f"{prefix}/log/")
        text = text.replace("/run/nginx.pid", f"{prefix}/nginx.pid")
        text = re.sub(r"listen 80 default_server;",
                      f"listen 127.0.0.1:{m.nginx_port} default_server;", text)
        text = re.sub(r"\s*listen \[::\]:80 default_server;", "", text)
        if path.name == "nginx.conf":
            temp = "".join(f"\t{kind}_temp_path {prefix}/{kind};\n"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            text = text.replace("http {\n", "http {\n" + temp, 1)
        path.write_text(text)


def copy_source(m: Machine) -> None:
    """$APP: the source as a clone holds it, with the ports of the shipped nginx site
    moved to the test's, and the virtualenv this test runs in."""
    m.app.mkdir(parents=True)
    for name in SOURCE:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, m.app / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, m.app / name)
    (m.app / "instance").mkdir(mode=0o755)  # a clone has it, with its .gitkeep
    (m.app / "instance" / ".gitkeep").touch()
    (m.app / ".venv").symlink_to(Path(sys.prefix))
    site = m.app / "docs" / "nginx" / "discussion.conf"
    text = site.read_text().replace("listen 80;", f"listen 127.0.0.1:{m.nginx_port};")
    for shipped, port in zip(("5001", "5002"), m.ports, strict=True):
        text = text.replace(f"server 127.0.0.1:{shipped};", f"server 127.0.0.1:{port};")
    site.write_text(text)


def run_blocks(m: Machine, names: list[str]) -> str:
    """Run recipe blocks in one bash, as root would in one shell; returns the output."""
    blocks = recipe()
    script = "set -euo pipefail\n" + f"SITE={m.site}\nAPP={m.app}\n" + "\n".join(
        adapt(name, blocks[name], m) for name in names)
    host, port = re.match(r"postgresql://[^@]*@([^:/]+):?(\d*)", POSTGRES_ADMIN).groups()
    env = {"PATH": os.environ["PATH"], "HOME": str(m.tmp), "LANG": "C.UTF-8",
           "PGHOST": host, "PGPORT": port or "5432", "PGUSER": "postgres"}
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True,
                            text=True, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{names}: {output}"
    return output


def unit_command(m: Machine, port: int) -> tuple[list[str], Path, dict[str, str]]:
    """ExecStart, WorkingDirectory and Environment of discussion@PORT.service."""
    unit = recipe()["unit"].replace("/srv/discussion", str(m.app)).replace("%i", str(port))
    lines = dict(re.findall(r"^(ExecStart|WorkingDirectory|Environment)=(.*)$", unit, re.M))
    env = dict(pair.split("=", 1) for pair in lines["Environment"].split())
    env |= {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}  # as systemd's
    return lines["ExecStart"].split(), Path(lines["WorkingDirectory"]), env


def wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError(f"exited: {log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer: {log.read_text()[-3000:]}")


@pytest.fixture
def machine(tmp_path: Path, redis_url: str) -> Iterator[Machine]:
    m = Machine(tmp=tmp_path, app=tmp_path / "srv" / "discussion",
                nginx_prefix=tmp_path / "nginx")
    m.nginx_prefix.mkdir()
    copy_debian_nginx(m)
    copy_source(m)
    admin = _pg_admin()
    try:
        yield m
    finally:
        for proc in m.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if proc.args[0] != nginx_binary()
                                 else signal.SIGQUIT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        admin.execute(f'DROP DATABASE IF EXISTS "{m.db}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{m.db}"')
        admin.close()


def served_by(response: requests.Response) -> str:
    return response.headers["X-Served-By"]


def test_the_recipe_serves_two_processes_behind_nginx(machine: Machine) -> None:
    m = machine
    # Steps 4 to 6: role and database, the settings file, tables, workshop, organiser.
    run_blocks(m, ["database", "env"])
    env_file = m.app / "instance" / "env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o640"
    assert oct((m.app / "instance").stat().st_mode & 0o777) == "0o750"
    lines = env_file.read_text().splitlines()
    assert all(re.fullmatch(r"#.*|DISCUSSION_[A-Z_]+=\S+", line) for line in lines), lines
    # Two test runs must not share Redis channels: a setting of the file's own format.
    with env_file.open("a") as fh:
        fh.write(f"DISCUSSION_SOCKETIO_CHANNEL={m.channel}\n")
    password = re.search(r"postgresql://[^:]+:([^@]+)@", env_file.read_text()).group(1)

    out = run_blocks(m, ["migrate"])
    assert f"Database: postgresql://{m.db}:***@127.0.0.1:5432/{m.db}" in out
    assert "Seeded event 'smartcities'" in out and "password:" in out
    assert password not in out
    assert "WARNING" not in out, out  # the settings file is read without a complaint

    # Step 7: the two processes, as systemd starts them from the unit.
    names = []
    for port in m.ports:
        command, cwd, env = unit_command(m, port)
        assert command[0] == str(m.app / ".venv/bin/python")
        log = m.tmp / f"discussion@{port}.log"
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log.open("wb"),
                                stderr=subprocess.STDOUT)
        m.procs.append(proc)
        wait_for(f"http://127.0.0.1:{port}/api/v1/events/smartcities", proc, log)
        text = log.read_text()
        assert f"database: postgresql://{m.db}:***@127.0.0.1:5432/{m.db}" in text, text
        assert f"message queue: redis://127.0.0.1:6379/0, channel '{m.channel}'" in text
        assert "mode: gevent, several processes sharing the message queue; " \
               "proxy headers trusted" in text
        assert f"settings: {m.app}/instance/env" in text
        assert password not in text and "WARNING" not in text, text
        names.append(f"{socket.gethostname()}:{port}")

    # Step 8: the shipped site beside Debian's default site.
    out = run_blocks(m, ["nginx"])
    assert "syntax is ok" in out and "test is successful" in out, out
    assert "conflicting server name" not in out, out
    nginx = subprocess.Popen([nginx_binary(), *nginx_args(m).split(), "-g", "daemon off;"],
                             stderr=subprocess.PIPE)
    m.procs.append(nginx)
    front = f"http://{m.site}:{m.nginx_port}"
    wait_for(front + "/api/v1/events/smartcities", nginx, m.nginx_prefix / "log/error.log")
    # Debian's default site still answers other names.
    other = requests.get(front + "/", headers={"Host": "localhost"}, timeout=5)
    assert "Welcome to nginx" in other.text and "X-Served-By" not in other.headers

    # Step 9, as written: the process's name, then the event.
    out = run_blocks(m, ["check"])
    assert re.search(r"(?im)^x-served-by: .+:\d+", out), out
    assert re.search(r"(?m)^HTTP/1.1 200", out), out

    # A client without cookies stays on one process.
    cookieless = {served_by(requests.get(front + "/e/smartcities", timeout=5))
                  for _ in range(12)}
    assert len(cookieless) == 1 and cookieless <= set(names), cookieless

    # Phones (each with its cookie) spread over both processes and stay on theirs.
    phones: dict[str, Phone] = {}
    seen = set()
    try:
        for _ in range(24):
            phone = Phone(SimpleNamespace(url=front), transports=["polling"])
            where = {served_by(phone.session.get(front + "/api/v1/events/smartcities",
                                                 timeout=5)) for _ in range(3)}
            assert len(where) == 1, where  # sticky by its cookie
            seen |= where
            if where.isdisjoint(phones):
                phones[where.pop()] = phone
            else:
                phone.sio.disconnect()
            if len(phones) == 2:
                break
        assert seen == set(names), seen
        # What one process takes in, the other's phone sees, and back.
        a, b = phones[names[0]], phones[names[1]]
        ack = a.sio.call("ask", {"body": "Asked through the recipe?", "client_id": "rc1"},
                         timeout=10)
        assert ack["ok"], ack
        qid = ack["question"]["id"]
        b.wait_for("question", lambda q: q["id"] == qid)
        vote = b.sio.call("vote", {"question_id": qid, "up": True}, timeout=10)
        assert vote["ok"], vote
        a.wait_for("votes", lambda counts: counts.get(str(qid)) == 1)
    finally:
        for phone in phones.values():
            phone.sio.disconnect()

"""Browser fixtures: one Chromium per session, phones, a board, staff, and real servers.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright's sync API; Playwright's
own browser downloads are never used. Servers are ``python -m discussion.server`` (what
``make run`` serves), one per test module where the tests do not conflict, each on a
migrated and seeded SQLite database of its own with a staff account. See docs/testing.md.
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

# tests/conftest.py (importable as ``conftest``, as ``helpers`` is).
from conftest import LiveServer, free_port, make_app
from helpers import service_unavailable

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 1,
}
SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 640}}
BOARD = {"viewport": {"width": 1920, "height": 1080}, "device_scale_factor": 1}
LAPTOP = {"viewport": {"width": 1366, "height": 900}, "device_scale_factor": 1}
STAFF_EMAIL = "moderator@example.org"
STAFF_PASSWORD = "correct horse battery staple"
CODE = "smartcities"
EVENT = f"/e/{CODE}"

# Figures and findings worth reading after a run (page weight, axe's moderate/minor
# findings): printed in the terminal summary as "browser notes".
NOTES: list[str] = []


def note(text: str) -> None:
    NOTES.append(text)
    print(text)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if NOTES:
        terminalreporter.section("browser notes")
        for line in NOTES:
            terminalreporter.write_line(line)


# --------------------------------------------------------------------------- servers


class BrowserServer:
    """A real server process that can be stopped and started again on the same port,
    database, instance folder and secret key (so the browser's cookies stay valid)."""

    def __init__(self, root: Path, **env: str) -> None:
        self.root = root
        self.instance = root / "instance"
        self.database_url = f"sqlite:///{root / 'live.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "DISCUSSION_DATABASE_URL": self.database_url,
            "DISCUSSION_INSTANCE_PATH": str(self.instance),
            "DISCUSSION_SECRET_KEY": "browser-test-secret",
            **env,
        }
        self.starts = 0
        _prepare_with_staff(self.database_url, self.instance)
        self.live: LiveServer | None = None
        self.start()

    def start(self) -> None:
        self.live = LiveServer(self.env, self.port, self.root / f"server-{self.starts}.log")
        self.live.database_url = self.database_url
        self.starts += 1

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.live is not None:
            self.live.stop(sig)
            self.live = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()


def _prepare_with_staff(url: str, instance: Path) -> None:
    """Migrate and seed the database, add the staff account, then let go of it."""
    from discussion.cli import _create_user
    from discussion.extensions import db

    app = make_app(url, instance)
    with app.app_context():
        _create_user(STAFF_EMAIL, "organiser", STAFF_PASSWORD, ())
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserServer]:
    """One server for the tests of a module (they must not depend on each other's posts)."""
    live = BrowserServer(tmp_path_factory.mktemp("browser-server"))
    yield live
    live.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[BrowserServer]:
    """A server for one test alone (for tests that stop and restart it)."""
    live = BrowserServer(tmp_path)
    yield live
    live.stop()


class Api:
    """A participant speaking the JSON API with requests (its own cookie and CSRF token)."""

    def __init__(self, server: BrowserServer) -> None:
        self.server = server
        self.session = requests.Session()
        page = self.session.get(server.url + EVENT, timeout=10)
        page.raise_for_status()
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert token, "no csrf-token meta"
        self.headers = {"X-CSRFToken": token.group(1)}

    def ask(self, body: str, **fields: Any) -> dict[str, Any]:
        r = self.session.post(
            f"{self.server.url}/api/v1/events/{CODE}/questions",
            json={"body": body, **fields},
            headers=self.headers,
            timeout=10,
        )
        assert r.status_code == 201, r.text
        return r.json()

    def vote(self, question_id: int) -> dict[str, Any]:
        r = self.session.put(
            f"{self.server.url}/api/v1/questions/{question_id}/vote",
            headers=self.headers,
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def questions(self, sort: str = "top") -> list[dict[str, Any]]:
        r = self.session.get(
            f"{self.server.url}/api/v1/events/{CODE}/questions", params={"sort": sort}, timeout=10
        )
        r.raise_for_status()
        return r.json()["questions"]

    def comments(self, question_id: int) -> list[dict[str, Any]]:
        r = self.session.get(
            f"{self.server.url}/api/v1/questions/{question_id}/comments", timeout=10
        )
        r.raise_for_status()
        return r.json()["comments"]


class StaffApi:
    """The staff account speaking the JSON API (logged in through the real form)."""

    def __init__(self, server: BrowserServer) -> None:
        self.server = server
        self.session = requests.Session()
        form = self.session.get(server.url + "/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "no csrf_token in the login form"
        r = self.session.post(
            server.url + "/login",
            data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token.group(1)},
            allow_redirects=False,
            timeout=10,
        )
        assert r.status_code in (302, 303), r.text
        page = self.session.get(server.url + EVENT, timeout=10).text
        meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
        assert meta, "no csrf-token meta"
        self.headers = {"X-CSRFToken": meta.group(1)}

    def moderate(self, question_id: int, action: str, **fields: Any) -> dict[str, Any]:
        r = self.session.post(
            f"{self.server.url}/api/v1/questions/{question_id}/moderate",
            json={"action": action, **fields},
            headers=self.headers,
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def patch_event(self, **fields: Any) -> dict[str, Any]:
        r = self.session.patch(
            f"{self.server.url}/api/v1/events/{CODE}", json=fields, headers=self.headers,
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def api(server: BrowserServer) -> Callable[[], Api]:
    """Factory of API participants on the module's server (each a new pseudonym)."""
    return lambda: Api(server)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, shared by every browser test of the session."""
    if not os.path.exists(CHROMIUM):
        service_unavailable(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        service_unavailable("Playwright is not installed: pip install -e '.[test]'")
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class ConsoleGuard:
    """Collects console errors and uncaught page errors of every page it watches.

    A test that expects some (it stopped the server, it went offline) says so with
    ``allow(regex)``; anything else fails the test after its body has run."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        self.closing = False

    def watch(self, page: Any, label: str = "") -> None:
        def on_console(msg: Any) -> None:
            if msg.type == "error" and not self.closing:
                where = (msg.location or {}).get("url", "")
                self.errors.append(f"[{label}] console error: {msg.text} ({where})")

        def on_pageerror(exc: Any) -> None:
            if not self.closing:
                self.errors.append(f"[{label}] page error: {exc}")

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]

    def check(self) -> None:
        bad = self.unexpected()
        if bad:
            pytest.fail("errors in the browser console:\n" + "\n".join(bad), pytrace=False)


@pytest.fixture
def console() -> ConsoleGuard:
    """Every page the browser fixtures open is watched; see ConsoleGuard."""
    return ConsoleGuard()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test whose pages logged an error it did not allow (after its own asserts)."""
    result = yield
    guard = getattr(item, "funcargs", {}).get("console")
    if isinstance(guard, ConsoleGuard):
        guard.check()
    return result


@pytest.fixture
def new_context(browser: Any, console: ConsoleGuard) -> Iterator[Callable[..., Any]]:
    """Factory of browser contexts (each a separate person: own cookies and storage)."""
    made: list[Any] = []

    def make(kind: dict[str, Any] = PHONE, label: str = "page", **options: Any) -> Any:
        options.setdefault("locale", "en-US")
        context = browser.new_context(**kind, **options)
        context.set_default_timeout(10_000)
        context.on("page", lambda page: console.watch(page, label))
        made.append(context)
        return context

    yield make
    console.closing = True
    for context in made:
        context.close()


@pytest.fixture
def phone(new_context: Callable[..., Any], request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Factory: a new phone (390x844, touch, unless ``kind`` says otherwise) on the
    participant page (of the module's server unless ``on`` names another). ``setup`` runs
    on the page before it loads (to route its requests)."""

    def make(
        label: str = "phone",
        path: str = EVENT,
        on: BrowserServer | None = None,
        kind: dict[str, Any] = PHONE,
        setup: Callable[[Any], None] | None = None,
        **options: Any,
    ) -> Any:
        live = on or request.getfixturevalue("server")
        page = new_context(kind, label, **options).new_page()
        if setup is not None:
            setup(page)
        page.goto(live.url + path)
        return page

    return make


@pytest.fixture
def board(new_context: Callable[..., Any], request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Factory: a 1920x1080 board of the module's server."""

    def make(query: str = "", label: str = "board", **options: Any) -> Any:
        live = request.getfixturevalue("server")
        page = new_context(BOARD, label, **options).new_page()
        page.goto(f"{live.url}{EVENT}/board{query}")
        return page

    return make


def log_in(page: Any, base_url: str) -> None:
    """Log in through the real form as the staff account of the test servers."""
    page.goto(base_url + "/login")
    page.fill("input[name=email]", STAFF_EMAIL)
    page.fill("input[name=password]", STAFF_PASSWORD)
    with page.expect_navigation():
        page.locator("form button[type=submit], form input[type=submit]").first.click()
    assert "/login" not in page.url, "the staff login failed"


@pytest.fixture
def staff(new_context: Callable[..., Any], request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Factory: a logged-in moderator on a laptop, at the console of the module's server."""

    def make(label: str = "console", **options: Any) -> Any:
        server = request.getfixturevalue("server")
        page = new_context(LAPTOP, label, **options).new_page()
        log_in(page, server.url)
        page.goto(f"{server.url}{EVENT}/moderate")
        return page

    return make


# --------------------------------------------------------------------------- page helpers


def ready(page: Any) -> Any:
    """Wait until a participant page has joined the event over Socket.IO."""
    from playwright.sync_api import expect

    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    return page


CONSENT = f"dq:consent:{CODE}"


def agree_first(page: Any) -> None:
    """Accept the consent notice as the participant would, before the test's own post."""
    page.evaluate(f"() => localStorage.setItem({CONSENT!r}, 'true')")


def card(page: Any, body: str) -> Any:
    """A participant page's question card holding this text (a stored question, not a
    post still waiting in the outbox), open or in the answered group."""
    return page.locator(".q-list > li.q:not(.is-waiting)").filter(
        has=page.locator(".q-body", has_text=body)
    )


# --------------------------------------------------------------------------- evidence


def shot(page: Any, name: str, full_page: bool = False) -> Path:
    """Save a screenshot for a person to open: test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_axe_source: list[str] = []


def axe(page: Any, label: str) -> list[dict[str, Any]]:
    """Run axe-core on the page; fail on serious or critical violations, warn on the rest.

    The script is evaluated through the DevTools protocol, so the page's strict
    Content-Security-Policy (script-src 'self') does not block it."""
    if not _axe_source:
        _axe_source.append(AXE_PATH.read_text(encoding="utf-8"))
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source[0])
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))",
        AXE_TAGS,
    )
    lines = []
    for v in result:
        for n in v["nodes"][:5]:
            lines.append(f"{v['impact']}: {v['id']} ({v['help']}) at {n['target']}: {n['summary']}")
    out = SCREENSHOTS.parent / "axe"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{label}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    minor = [v for v in result if v["impact"] not in ("serious", "critical")]
    if minor:
        note(
            f"axe on {label}: "
            + "; ".join(
                f"{v['impact']} {v['id']} ({len(v['nodes'])}x: {v['nodes'][0]['target']})"
                for v in minor
            )
        )
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not serious, f"axe on {label}: serious or critical violations:\n" + "\n".join(lines)
    return result

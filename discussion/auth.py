"""Staff login with Flask-Login; participants never log in.

Staff sessions can be taken back: the session cookie carries the account's session
version (``User.get_id``), checked on every request and socket event, and bumped by
logout, a new password or role and the removal of the account. Password guessing is
slowed per guessing browser, never by locking the account (:class:`LoginThrottle`).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from . import signals
from .extensions import db, login_manager
from .models import User
from .rules.access import Need, access

bp = Blueprint("auth", __name__)

# A real hash to compare against when the email is unknown, so timing does not tell
# which staff emails exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's default)."""
    return generate_password_hash(password, method="scrypt")


def authenticate(email: str, password: str) -> User | None:
    """The staff user with these credentials, if any."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def end_sessions(user_id: int) -> None:
    """End every session and staff socket of this account (the caller commits).

    Used by logout, password and role changes and removal; the open sockets are
    checked once the change is committed (``staff_rights_changed``).
    """
    db.session.execute(
        update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target on this site, or ``default``.

    Parsed as a URL: no scheme, no host, a path that starts with one slash, and no
    backslash or control character anywhere (browsers drop tabs and newlines and read
    a backslash as a slash, which turns ``/\\evil.example`` or ``/%09/evil.example``
    into another host).
    """
    if not target or len(target) > 2000:
        return default
    # Checked as given and once decoded: a proxy or browser that decodes %2F, %5C or
    # %09 on the way must not find another host in it either.
    for form in (target, unquote(target)):
        if any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in form):
            return default
        try:
            parts = urlsplit(form)
        except ValueError:
            return default
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            return default
        if form.startswith("//") or parts.path.startswith("//"):
            return default
    return target


class LoginThrottle:
    """Slows password guessing without ever locking the right person out.

    Failures are counted per guessing client, i.e. per browser session (a random id
    in the session cookie), never per account alone nor per address (a venue's
    phones share one): after ``LOGIN_FREE_FAILURES`` failures, each further attempt
    from that browser must wait 1, 2, 4, ... seconds (at most ``LOGIN_MAX_DELAY``)
    after its last failure, and is answered 429 until then. The moderator's own
    browser is not that session, so the right password still works at once. A
    guesser who drops cookies to look new meets the per-account ceiling: past
    ``LOGIN_ACCOUNT_CEILING`` failures on one account within the window, every
    attempt on it is slowed by ``LOGIN_ACCOUNT_SLOWDOWN`` seconds, and still answered.
    Counts live in Redis when the app has one (several processes), else in memory.
    """

    WINDOW = 15 * 60

    def __init__(self, app: Flask) -> None:
        cfg = app.config
        self.free = int(cfg["LOGIN_FREE_FAILURES"])
        self.max_delay = float(cfg["LOGIN_MAX_DELAY"])
        self.ceiling = int(cfg["LOGIN_ACCOUNT_CEILING"])
        self.slowdown = float(cfg["LOGIN_ACCOUNT_SLOWDOWN"])
        self.prefix = f"{cfg['SOCKETIO_CHANNEL']}:login:"
        self._lock = threading.Lock()
        self._memory: dict[str, tuple[int, float]] = {}
        self._redis: Any = None
        if cfg.get("REDIS_URL"):
            import redis

            self._redis = redis.Redis.from_url(
                cfg["REDIS_URL"], socket_timeout=0.5, socket_connect_timeout=0.5
            )

    def _read(self, key: str) -> tuple[int, float]:
        now = time.time()
        if self._redis is not None:
            try:
                raw = self._redis.hmget(self.prefix + key, "n", "last")
            except Exception:  # a Redis outage must not stop logins
                return 0, 0.0
            return int(raw[0] or 0), float(raw[1] or 0)
        with self._lock:
            count, last = self._memory.get(key, (0, 0.0))
            if now - last > self.WINDOW:
                return 0, 0.0
            return count, last

    def _fail(self, key: str) -> None:
        now = time.time()
        if self._redis is not None:
            try:
                pipe = self._redis.pipeline()
                pipe.hincrby(self.prefix + key, "n", 1)
                pipe.hset(self.prefix + key, "last", f"{now:.3f}")
                pipe.expire(self.prefix + key, self.WINDOW)
                pipe.execute()
            except Exception:
                pass
            return
        with self._lock:
            if len(self._memory) > 50_000:  # a scanner must not grow memory without end
                self._memory = {k: v for k, v in self._memory.items() if now - v[1] <= self.WINDOW}
            count, _last = self._read_unlocked(key, now)
            self._memory[key] = (count + 1, now)

    def _read_unlocked(self, key: str, now: float) -> tuple[int, float]:
        count, last = self._memory.get(key, (0, 0.0))
        return (0, 0.0) if now - last > self.WINDOW else (count, last)

    def _clear(self, key: str) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                self._redis.delete(self.prefix + key)
            return
        with self._lock:
            self._memory.pop(key, None)

    def wait(self, client: str) -> float:
        """Seconds this browser must still wait before its next attempt (0: go ahead)."""
        count, last = self._read("c:" + client)
        if count < self.free:
            return 0.0
        delay = min(self.max_delay, 2.0 ** (count - self.free))
        return max(0.0, last + delay - time.time())

    def account_delay(self, email: str) -> float:
        """How much to slow an attempt on this account (0 below the ceiling)."""
        count, _last = self._read("a:" + email)
        return self.slowdown if count >= self.ceiling else 0.0

    def failed(self, client: str, email: str) -> None:
        self._fail("c:" + client)
        self._fail("a:" + email)

    def succeeded(self, client: str) -> None:
        self._clear("c:" + client)


def _throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions["discussion.login_throttle"]
    return throttle


def _login_client() -> str:
    """This browser's id for the throttle, kept in its session cookie."""
    client = session.get("login_client")
    if not isinstance(client, str):
        client = session["login_client"] = secrets.token_urlsafe(16)
    return client


@bp.route("/login", methods=["GET", "POST"])
@access(Need.ANYONE)
def login() -> ResponseReturnValue:
    """The staff login form (fields ``email`` and ``password``); staff land on their
    events, or where they were going."""
    from .extensions import socketio
    from .views import render

    error = None
    status = 200
    target = safe_next(request.args.get("next") or request.form.get("next"), "/staff")
    client = _login_client()
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()[:254]
        throttle = _throttle()
        wait = throttle.wait(client)
        if wait > 0:
            seconds = int(wait) + 1
            error = _(
                "Too many wrong passwords from this browser. Wait %(seconds)s seconds "
                "and try again.",
                seconds=seconds,
            )
            page, _status = render(
                "login.html", 429, error=error, next=target, email=request.form.get("email", "")
            )
            return Response(page, 429, headers={"Retry-After": str(seconds)})
        slow = throttle.account_delay(email)
        if slow:
            socketio.sleep(slow)  # type: ignore[arg-type]  # stubs say int; seconds may be float
        user = authenticate(email, request.form.get("password", ""))
        if user is not None:
            throttle.succeeded(client)
            session.pop("login_client", None)
            login_user(user)
            return redirect(target)
        throttle.failed(client, email)
        error = _("Wrong email or password.")
        status = 401
    return render(
        "login.html",
        status,
        error=error,
        next=request.args.get("next", ""),
        email=request.form.get("email", ""),
    )


@bp.route("/logout", methods=["GET", "POST"])
@access(Need.ANYONE)
def logout() -> ResponseReturnValue:
    """POST (with the CSRF token) ends the staff session, here and everywhere: every
    cookie and open socket of the account. A GET only shows the button."""
    from .views import render

    if request.method == "GET":
        return render("logout.html")
    if current_user.is_authenticated:
        end_sessions(int(current_user.id))
        db.session.commit()
        logout_user()
        signals.staff_rights_changed.send(
            current_app._get_current_object()  # type: ignore[attr-defined]  # the real app
        )
    session.clear()
    return redirect(url_for("views.index"))


def init_app(app: Flask) -> None:
    """Flask-Login: load staff users from the session cookie, refusing old versions."""
    app.extensions["discussion.login_throttle"] = LoginThrottle(app)

    def _load(session_id: str) -> User | None:
        user_id, _sep, version = str(session_id).partition(".")
        try:
            user = db.session.get(User, int(user_id))
        except (TypeError, ValueError):
            return None
        if user is None or version != str(user.session_version):
            return None
        return user

    # Registered by a call: flask_login ships no types, and its decorator would erase
    # _load's.
    login_manager.user_loader(_load)
    login_manager.login_view = "auth.login"
    # Revocation is by session version; Flask-Login's own session protection would
    # put a hash of the address and user agent into the cookie, which we do not keep.
    login_manager.session_protection = None

    @app.after_request
    def _no_store_for_staff(response: Response) -> Response:
        # What staff see (pending text, originals, logs) must not stay in a cache.
        if request.endpoint != "static" and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response

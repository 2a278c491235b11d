"""Staff login with Flask-Login; participants never log in."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db, limiter, login_manager
from .models import User

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


def _login_limit_key() -> str:
    """Failed logins are counted per target account, never per IP address."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN"],
    methods=["POST"],
    key_func=_login_limit_key,
    deduct_when=lambda response: response.status_code != 302,
)
def login():  # type: ignore[no-untyped-def]
    """The staff login form (fields ``email`` and ``password``)."""
    from .views import render

    error = None
    if request.method == "POST":
        user = authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next") or request.form.get("next")))
        error = _("Wrong email or password.")
    status = 401 if error else 200
    return render("login.html", status, error=error, next=request.args.get("next", ""),
                  email=request.form.get("email", ""))


@bp.route("/logout", methods=["GET", "POST"])
def logout():  # type: ignore[no-untyped-def]
    """End the staff session."""
    if current_user.is_authenticated:
        logout_user()
    return redirect(url_for("views.index"))


def init_app(app: Flask) -> None:
    """Flask-Login: load staff users from the session cookie."""

    @login_manager.user_loader
    def _load(user_id: str) -> User | None:
        try:
            return db.session.get(User, int(user_id))
        except (TypeError, ValueError):
            return None

    login_manager.login_view = "auth.login"

"""The deployment's settings: the instance's ``env`` file, checks that say what is wrong,
and the words the server and the commands use to say what they run on.

``instance/env`` holds ``DISCUSSION_*`` settings, one ``NAME=value`` a line (the format
systemd's ``EnvironmentFile=`` reads too). The app reads it itself, so the server, every
``flask`` command and a timer all run on the same settings without loading anything
first; a variable set in the environment wins over the file. A line the app would read
differently from systemd, or a name the app does not know, is skipped with a warning
instead of being half-understood (docs/deploy.md).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from flask import Flask, request

log = logging.getLogger("discussion.settings")

PREFIX = "DISCUSSION_"
ENV_FILE = "env"
# Read before the configuration exists (the folder holding this very file).
NOT_CONFIG = {"DISCUSSION_INSTANCE_PATH"}
# Settings the app reads that have no default in create_app's mapping.
EXTRA_KNOWN = {"SQLALCHEMY_DATABASE_URI"}
_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)")


class SettingsError(click.ClickException):
    """The settings cannot be read at all: the server and the commands stop with this."""


@dataclass
class EnvFile:
    """What ``instance/env`` says: the settings it gives and the lines it skipped."""

    path: Path
    values: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_env_file(path: Path) -> EnvFile | None:
    """Parse an env file (None when there is none); malformed lines become problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise SettingsError(
            f"cannot read the settings in {path}: {reason}. Run as the service's user "
            "(or root), or fix the file's owner and mode (docs/deploy.md)."
        ) from None
    env = EnvFile(path)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        if line.startswith("export "):
            env.problems.append(
                f"{where}: skipped 'export ...': write NAME=value, without 'export' "
                "(systemd skips such lines too)"
            )
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            env.problems.append(f"{where}: skipped: not NAME=value (no spaces around '=')")
            continue
        name, value = match.groups()
        if re.search(r"\s", value) or value[:1] in ("'", '"'):
            env.problems.append(
                f"{where}: skipped {name}: a value takes no quotes, spaces or comment after "
                "it (systemd would read them as part of the value); put comments on their "
                "own line"
            )
            continue
        if not name.startswith(PREFIX) or name in NOT_CONFIG:
            env.problems.append(
                f"{where}: skipped {name}: this file holds DISCUSSION_ settings only"
                + (
                    " (the instance folder is found before it is read)"
                    if name in NOT_CONFIG
                    else ""
                )
            )
            continue
        env.values[name] = value
    return env


def _load(value: str) -> Any:
    """A value as Flask's ``from_prefixed_env`` reads it: JSON when it parses, else text."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _set(config: dict[str, Any], key: str, value: Any) -> None:
    """Set a key, ``A__B`` meaning item B of dict A (as ``from_prefixed_env`` does)."""
    *parts, tail = key.split("__")
    for part in parts:
        config = config.setdefault(part, {})
    config[tail] = value


def load(app: Flask, instance: Path) -> list[str]:
    """Apply ``instance/env`` and the ``DISCUSSION_*`` environment to the app's config.

    Returns the warnings to log once the app can log: skipped lines, unknown names,
    a file that sets nothing, switches that are neither true nor false.
    """
    defaults = dict(app.config)
    env = read_env_file(instance / ENV_FILE)
    warnings: list[str] = []
    app.config["SETTINGS_FILE"] = None
    if env is not None:
        app.config["SETTINGS_FILE"] = str(env.path)
        warnings.extend(env.problems)
        used = 0
        for name, value in sorted(env.values.items()):
            key = name.removeprefix(PREFIX)
            if key.split("__")[0] not in defaults and key not in EXTRA_KNOWN:
                warnings.append(f"{env.path}: {name} is not a setting of this app (a typo?)")
                continue
            used += 1
            if name in os.environ:
                if os.environ[name] != value:
                    warnings.append(f"{name} from the environment overrides {env.path}")
                continue
            _set(app.config, key, _load(value))
        if not used:
            warnings.append(f"{env.path} sets nothing this app reads (see above)")
    app.config.from_prefixed_env(PREFIX.rstrip("_"))
    given = set(env.values if env else ()) | {k for k in os.environ if k.startswith(PREFIX)}
    app.config["DATABASE_URL_GIVEN"] = bool(
        given & {"DISCUSSION_DATABASE_URL", "DISCUSSION_SQLALCHEMY_DATABASE_URI"}
    )
    for name in sorted(given):
        key = name.removeprefix(PREFIX)
        if isinstance(defaults.get(key), bool) and not isinstance(app.config.get(key), bool):
            warnings.append(
                f"{name}={app.config.get(key)!r} is not true or false: "
                "write true or false (any other text counts as true)"
            )
    return warnings


# ---------------------------------------------------------------------------
# Saying what the app runs on


def redact(url: str | None) -> str | None:
    """A URL without its password (``***`` in its place)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def database_label(app: Flask) -> str:
    """The database the app uses, password hidden; says when a SQLite file is new."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    label = redact(url.replace("postgresql+psycopg://", "postgresql://", 1)) or ""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path == Path(app.instance_path) / "discussion.db":
            label += " (the default: no DISCUSSION_DATABASE_URL is set)"
        if not path.exists():
            label += " (a new file)"
    return label


def refuse_new_default_database(app: Flask) -> None:
    """Stop before creating the default SQLite file when instance/env exists.

    A settings file means a deployment; one that names no database (a typo, a line
    skipped) would otherwise have the server or `flask db upgrade` quietly start a new,
    empty SQLite database beside the real one.
    """
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    default = Path(app.instance_path) / "discussion.db"
    if (
        app.config.get("SETTINGS_FILE")
        and not app.config.get("DATABASE_URL_GIVEN")
        and url == f"sqlite:///{default}"
        and not default.exists()
    ):
        raise SettingsError(
            f"{app.config['SETTINGS_FILE']} names no database (DISCUSSION_DATABASE_URL), so "
            f"this would create a new, empty SQLite database at "
            f"{url.removeprefix('sqlite:///')}. Set DISCUSSION_DATABASE_URL in that file "
            "(a sqlite:/// URL to use SQLite on purpose)."
        )


def queue_label(app: Flask) -> str:
    """The message queue, or the words saying there is none."""
    url = app.config.get("REDIS_URL")
    if not url:
        return "none (one process: set DISCUSSION_REDIS_URL to run several)"
    return f"{redact(url)}, channel {app.config['SOCKETIO_CHANNEL']!r}"


def settings_label(app: Flask) -> str:
    path = app.config.get("SETTINGS_FILE")
    return path or "the environment only (no instance/env)"


def instance_name(app: Flask, port: int | None = None) -> str:
    """This process's name in ``X-Served-By``: DISCUSSION_INSTANCE_NAME, else host:port."""
    name = app.config.get("INSTANCE_NAME")
    if name:
        return str(name)
    return f"{socket.gethostname()}:{port if port is not None else os.getpid()}"


def check_scheme(app: Flask) -> None:
    """Warn once when secure cookies are on but a request arrived over plain HTTP:
    browsers then drop the cookies, and logins, sticky routing and polling fail."""
    state = {"warned": False}

    def before() -> None:
        if state["warned"] or request.scheme != "http":
            return
        state["warned"] = True
        hint = (
            "set DISCUSSION_PROXY_FIX=1 so the app reads X-Forwarded-Proto from the TLS proxy"
            if not app.config["PROXY_FIX"]
            else "check that the proxy sets X-Forwarded-Proto https"
        )
        log.warning(
            "SESSION_COOKIE_SECURE is on but a request arrived over plain HTTP: browsers will "
            "not send the cookies back, so staff cannot log in and phones lose their "
            "participant. Serve over HTTPS and %s, or set "
            "DISCUSSION_SESSION_COOKIE_SECURE=false on a plain-HTTP network.",
            hint,
        )

    if app.config["SESSION_COOKIE_SECURE"]:
        app.before_request(before)

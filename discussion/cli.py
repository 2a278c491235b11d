"""Command line: flask seed, flask users, flask events, flask export, flask import,
flask purge.

Every command says on stderr which database it uses, and ends with a clear message and
a non-zero exit, never a traceback, when the database or a file lets it down
(:func:`guarded`).
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .extensions import db
from .models import Event, EventStatus, Role, User
from .seeding import BUNDLED, SeedError, read_seed
from .settings import database_label, refuse_new_default_database

P = ParamSpec("P")
R = TypeVar("R")

users = AppGroup("users", help="Staff accounts (organisers and moderators).")
events = AppGroup("events", help="Events: delete one (after writing its archive).")


def database_problem(exc: SQLAlchemyError) -> str:
    """What went wrong with the database, in words an operator can act on."""
    label = database_label(current_app)
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    if re.search(r"no such table|relation \S+ does not exist", text):
        return (
            f"the database {label} has no tables yet: run 'flask db upgrade' first "
            f"(with the same settings). [{text}]"
        )
    if isinstance(exc, IntegrityError):
        return f"the database refused the change: {text}"
    return f"cannot use the database {label}: {text}"


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Say which database the command uses; turn a database that is down or not migrated,
    and a file that cannot be read or written, into a clear error (exit 1)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        click.echo(f"Database: {database_label(current_app)}", err=True)
        refuse_new_default_database(current_app)
        try:
            return fn(*args, **kwargs)
        except SQLAlchemyError as exc:
            with contextlib.suppress(SQLAlchemyError):
                db.session.rollback()
            raise click.ClickException(database_problem(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None

    return run


@click.command("seed")
@with_appcontext
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--status",
    type=click.Choice([s.value for s in EventStatus]),
    help="Set the event's status (a reload otherwise keeps it); logged publicly.",
)
@guarded
def seed_command(file: Path | None, status: str | None) -> None:
    """Load a seed file (default: the bundled Smart Cities 2016 workshop). Idempotent;
    the load is written to the event's moderation log."""
    from .operations import load_seed

    try:
        seed = read_seed(file or BUNDLED)
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
    event, added = load_seed(None, seed, status=status)
    click.echo(f"Seeded event '{event.code}' ({event.title}): {added} new question(s).")
    wanted = seed.event.get("status")
    if status is None and wanted and wanted != event.status:
        click.echo(
            f"The event stays {event.status} (the file says {wanted}; "
            f"give --status {wanted} to change it)."
        )


def _event(code: str) -> Event:
    """The event with this join code (any case), or a clear refusal."""
    event = db.session.scalar(select(Event).where(Event.code == code.strip().lower()))
    if event is None:
        raise click.ClickException(f"There is no event with code '{code}'.")
    return event


def _create_user(email: str, role: str, password: str, events: tuple[str, ...]) -> User:
    from .auth import hash_password

    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.ClickException(f"'{email}' is not an email address.")
    if db.session.scalar(select(User).where(User.email == email)) is not None:
        raise click.ClickException(f"A staff account for {email} already exists.")
    if len(password) < 10:
        raise click.ClickException("The password must have at least 10 characters.")
    appointed = []
    for code in events:
        appointed.append(_event(code))
    user = User(email=email, role=role, password_hash=hash_password(password), events=appointed)
    db.session.add(user)
    db.session.commit()
    return user


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--event", "events", multiple=True, help="An event code this moderator moderates.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
@guarded
def create_user(email: str, role: str, events: tuple[str, ...], password: str) -> None:
    """Create a staff account."""
    user = _create_user(email, role, password, events)
    where = f" for {', '.join(e.code for e in user.events)}" if user.events else ""
    click.echo(f"Created {role} {user.email}{where}.")


@users.command("ensure-organiser")
@click.option("--email", default="organiser@localhost", show_default=True)
@guarded
def ensure_organiser(email: str) -> None:
    """Create an organiser when none exists, printing its credentials once."""
    count = db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ORGANISER.value)
    )
    if count:
        click.echo("An organiser account exists.")
        return
    password = secrets.token_urlsafe(12)
    _create_user(email, Role.ORGANISER.value, password, ())
    click.echo("Created the organiser account (shown only this once):")
    click.echo(f"  email:    {email}")
    click.echo(f"  password: {password}")


def _user(email: str) -> User:
    user: User | None = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"There is no staff account for {email}.")
    return user


def _rights_changed() -> None:
    """Commit, and end the staff rights of open sockets in this process at once (a
    server process sees the change within STAFF_CHECK_INTERVAL seconds)."""
    from flask import current_app

    from . import signals

    db.session.commit()
    signals.staff_rights_changed.send(
        current_app._get_current_object()  # type: ignore[attr-defined]  # the real app
    )


@users.command("set-password")
@click.argument("email")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
def set_password(email: str, password: str) -> None:
    """Give a staff account a new password; its sessions and consoles end."""
    from .auth import end_sessions, hash_password

    user = _user(email)
    if len(password) < 10:
        raise click.ClickException("The password must have at least 10 characters.")
    user.password_hash = hash_password(password)
    end_sessions(user.id)
    _rights_changed()
    click.echo(f"New password set for {user.email}; its sessions have ended.")


@users.command("set-role")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
def set_role(email: str, role: str) -> None:
    """Change a staff account's role; its sessions and consoles end."""
    from .auth import end_sessions

    user = _user(email)
    user.role = role
    end_sessions(user.id)
    _rights_changed()
    click.echo(f"{user.email} is now {role}; its sessions have ended.")


@users.command("appoint")
@click.argument("email")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    help="An event code this moderator will moderate.",
)
def appoint(email: str, events: tuple[str, ...]) -> None:
    """Appoint a moderator to more events."""
    user = _user(email)
    for code in events:
        event = _event(code)
        if event not in user.events:
            user.events.append(event)
    db.session.commit()
    click.echo(f"{user.email} moderates {', '.join(e.code for e in user.events) or 'nothing'}.")


@users.command("dismiss")
@click.argument("email")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    help="An event code this moderator will no longer moderate.",
)
def dismiss(email: str, events: tuple[str, ...]) -> None:
    """Take events from a moderator; their consoles of those events close at once."""
    user = _user(email)
    codes = {c.strip().lower() for c in events}
    user.events = [e for e in user.events if e.code not in codes]
    _rights_changed()
    click.echo(f"{user.email} moderates {', '.join(e.code for e in user.events) or 'nothing'}.")


@users.command("remove")
@click.argument("email")
def remove(email: str) -> None:
    """Delete a staff account; its sessions and consoles end. The moderation log keeps
    what it did, without the address."""
    user = _user(email)
    db.session.delete(user)
    _rights_changed()
    click.echo(f"Removed the staff account {email.strip().lower()}.")


@users.command("list")
@guarded
def list_users() -> None:
    """List staff accounts and the events moderators moderate."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        codes = ", ".join(e.code for e in user.events)
        click.echo(f"{user.email}\t{user.role}\t{codes}")


@click.command("purge")
@click.option(
    "--warn-days",
    type=click.IntRange(0, 3650),
    default=14,
    show_default=True,
    help="List the events whose names go within this many days.",
)
@with_appcontext
@guarded
def purge_command(warn_days: int) -> None:
    """Apply every event's retention period (schedule it daily, e.g. with cron or a timer),
    then list the events that will lose names soon: export their reports before."""
    from .export.retention import due_within
    from .operations import purge

    result = purge()
    click.echo(f"Purged the personal links of {result['participants_purged']} participant(s).")
    for due in due_within(warn_days):
        click.echo(
            f"Warning: from {due.purge_at:%Y-%m-%d %H:%M} UTC, retention removes the links "
            f"of {due.participants} participant(s) and the names on {due.named_posts} "
            f"post(s) of '{due.code}' ({due.title}). Export its report and archive first: "
            f"flask export {due.code} --format html -o {due.code}.html",
            err=True,
        )


def _archive_path(code: str) -> Path:
    """Where the archive written before a deletion goes by default: the instance folder
    (which the service's user can write), named by code and time so none is overwritten."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    return Path(current_app.instance_path) / "archives" / f"{code}-{stamp}.json"


@events.command("delete")
@click.argument("code")
@click.option("--yes", is_flag=True, help="Do not ask for the code again (for scripts).")
@click.option(
    "--archive",
    "archive",
    type=click.Path(path_type=Path),
    help="Write the archive here (default: instance/archives/CODE-TIME.json).",
)
@click.option("--no-archive", is_flag=True, help="Delete without writing the archive first.")
@guarded
def delete_event_command(code: str, yes: bool, archive: Path | None, no_archive: bool) -> None:
    """Delete an event and everything in it, after writing its JSON archive
    (restorable with flask import)."""
    from .export import check_output, write_export
    from .operations import delete_event

    if archive is not None and no_archive:
        raise click.UsageError("--archive and --no-archive contradict each other.")
    event = _event(code)
    code, title, event_id, status = event.code, event.title, event.id, event.status
    if not yes:
        click.echo(
            f"This deletes '{code}' ({title}, {status}) with all its questions, "
            "comments, votes, participants and moderation log.",
            err=True,
        )
        if status == "live":
            click.echo("The event is live: phones in it will find it gone.", err=True)
        typed = click.prompt(
            f"Type the event code ({code}) to confirm", default="", show_default=False, err=True
        )
        if typed.strip().lower() != code:
            raise click.ClickException("The code does not match: nothing was deleted.")
    if not no_archive:
        target = archive or _archive_path(code)
        if archive is None:
            target.parent.mkdir(parents=True, exist_ok=True)
        check_output(target)
        write_export(code, "json", target)
        click.echo(f"Wrote the archive of '{code}' to {target}.")
    removed = delete_event(event_id)
    click.echo(
        f"Deleted event '{code}': {removed['questions']} question(s), "
        f"{removed['comments']} comment(s), {removed['votes']} vote(s), "
        f"{removed['participants']} participant(s)."
    )


_migrate_hooked = False


def _hook_migrations() -> None:
    """flask db ...: say which database, and stop with a clear message when it cannot be
    reached (Flask-Migrate would print a traceback)."""
    global _migrate_hooked
    if _migrate_hooked:
        return
    _migrate_hooked = True
    from .extensions import migrate

    @migrate.configure
    def announce(config: Any) -> Any:
        click.echo(f"Database: {database_label(current_app)}", err=True)
        refuse_new_default_database(current_app)
        try:
            with db.engine.connect():
                pass
        except SQLAlchemyError as exc:
            raise click.ClickException(database_problem(exc)) from None
        return config


def init_app(app: Flask) -> None:
    """Register the commands on the app's CLI."""
    from .export import register_cli

    app.cli.add_command(seed_command)
    app.cli.add_command(users)
    app.cli.add_command(events)
    app.cli.add_command(purge_command)
    register_cli(app)
    _hook_migrations()

"""Command line: flask seed, flask users, flask export, flask import, flask purge."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from .extensions import db
from .models import Event, Role, User
from .seeding import BUNDLED, SeedError, load_seed, read_seed

users = AppGroup("users", help="Staff accounts (organisers and moderators).")


@click.command("seed")
@with_appcontext
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def seed_command(file: Path | None) -> None:
    """Load a seed file (default: the bundled Smart Cities 2016 workshop). Idempotent."""
    try:
        seed = read_seed(file or BUNDLED)
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
    event, added = load_seed(seed)
    db.session.commit()
    click.echo(f"Seeded event '{event.code}' ({event.title}): {added} new question(s).")


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
        event = db.session.scalar(select(Event).where(Event.code == code.strip().lower()))
        if event is None:
            raise click.ClickException(f"There is no event with code '{code}'.")
        appointed.append(event)
    user = User(email=email, role=role, password_hash=hash_password(password), events=appointed)
    db.session.add(user)
    db.session.commit()
    return user


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--event", "events", multiple=True, help="An event code this moderator moderates.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given.")
def create_user(email: str, role: str, events: tuple[str, ...], password: str) -> None:
    """Create a staff account."""
    user = _create_user(email, role, password, events)
    where = f" for {', '.join(e.code for e in user.events)}" if user.events else ""
    click.echo(f"Created {role} {user.email}{where}.")


@users.command("ensure-organiser")
@click.option("--email", default="organiser@localhost", show_default=True)
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


@users.command("list")
def list_users() -> None:
    """List staff accounts and the events moderators moderate."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        codes = ", ".join(e.code for e in user.events)
        click.echo(f"{user.email}\t{user.role}\t{codes}")


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Apply every event's retention period (schedule it daily, e.g. with cron or a timer)."""
    from .operations import purge

    result = purge()
    click.echo(f"Purged the personal links of {result['participants_purged']} participant(s).")


def init_app(app: Flask) -> None:
    """Register the commands on the app's CLI."""
    from .export import register_cli

    app.cli.add_command(seed_command)
    app.cli.add_command(users)
    app.cli.add_command(purge_command)
    register_cli(app)

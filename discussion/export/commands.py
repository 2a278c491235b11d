"""``flask export`` and ``flask import``, and the writer ``flask events delete`` uses.

Both end with a clear message and a non-zero exit, never a traceback, when an event,
a file or an archive lets them down.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext

from ..cli import guarded
from ..extensions import db
from ..rules.enums import Paper
from . import FORMATS, render
from .archive import ArchiveError, parse_archive, read_archive, restore
from .model import ThreadModel, begin_snapshot, build, find_event_any
from .reports import Stylesheet


def _open_output(output: Path | None) -> tuple[Any, Callable[[bool], None]]:
    """A binary stream to write to, and a function that finishes it (ok or not).

    A file is written beside its target and moved into place only when complete.
    """
    if output is None or str(output) == "-":
        stream = sys.stdout.buffer
        return stream, lambda ok: stream.flush()
    partial = output.with_name(output.name + ".part")
    fh = partial.open("wb")

    def finish(ok: bool) -> None:
        fh.close()
        if ok:
            os.replace(partial, output)
        else:
            partial.unlink(missing_ok=True)

    return fh, finish


def write_export(
    code: str,
    fmt: str,
    output: Path | None,
    *,
    lang: str = "en",
    base_url: str | None = None,
    standalone: bool = True,
    paper: Paper = Paper.A4,
) -> ThreadModel:
    """Write one event's export to a file (complete or not at all) or to standard output.

    The HTML report carries its stylesheet unless ``base_url`` is given without
    ``standalone``: then it links the server's. Raises LookupError for an unknown code.
    Used by ``flask export`` and, for the archive written before a deletion,
    ``flask events delete``.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app object
    headers = {"Accept-Language": lang.replace("_", "-")}
    with app.test_request_context("/", base_url=base_url or "http://localhost/", headers=headers):
        if find_event_any(code) is None:
            raise LookupError(code)
        stylesheet = None
        if fmt == "html" and base_url and not standalone:
            href = url_for("static", filename="css/report.css", _external=True)
            stylesheet = Stylesheet.linked(href, paper)
        begin_snapshot()
        model = build(code)
        stream, finish = _open_output(output)
        ok = False
        try:
            for piece in render(model, fmt, paper=paper, stylesheet=stylesheet):
                stream.write(piece)
            ok = True
        finally:
            finish(ok)
        db.session.rollback()
    return model


def check_output(output: Path | None) -> None:
    """Refuse, before any work, a file whose folder is missing or is not a folder."""
    if output is None or str(output) == "-":
        return
    folder = output.parent
    if not folder.exists():
        raise click.ClickException(
            f"cannot write {output}: the folder {folder} does not exist (create it first)."
        )
    if not folder.is_dir():
        raise click.ClickException(f"cannot write {output}: {folder} is not a folder.")
    if output.is_dir():
        raise click.ClickException(f"cannot write {output}: it is a folder; name a file.")


@click.command("export")
@click.argument("code")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="json",
    show_default=True,
    help="csv, json (the archive), md or html (the reports).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, allow_dash=True),
    help="Write to this file instead of standard output.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "es", "pt_BR"]),
    default="en",
    show_default=True,
    help="Language of the Markdown and HTML reports.",
)
@click.option(
    "--paper",
    type=click.Choice([p.value for p in Paper]),
    default=Paper.A4.value,
    show_default=True,
    help="HTML: the paper size the report prints on.",
)
@click.option(
    "--base-url",
    default=None,
    help="HTML: link the stylesheet of the server at this address instead of "
    "carrying it (the report then needs that server to be styled).",
)
@click.option(
    "--standalone",
    is_flag=True,
    help="HTML: carry the stylesheet even with --base-url (the default without).",
)
@with_appcontext
@guarded
def export_command(
    code: str,
    fmt: str,
    output: Path | None,
    lang: str,
    paper: str,
    base_url: str | None,
    standalone: bool,
) -> None:
    """Export an event's threads (anonymised) as CSV, JSON archive, Markdown or HTML."""
    check_output(output)
    try:
        model = write_export(
            code,
            fmt,
            output,
            lang=lang,
            base_url=base_url,
            standalone=standalone or not base_url,
            paper=Paper(paper),
        )
    except LookupError:
        raise click.ClickException(f"There is no event with code '{code}'.") from None
    if output is not None and str(output) != "-":
        click.echo(f"Exported '{model.code}' as {fmt} to {output}.", err=True)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@guarded
def import_command(file: Path) -> None:
    """Restore a JSON archive (from flask export --format json) as a new event.

    The archive's digest is checked first, then its whole content against the archive
    schema (the limits the API applies); nothing is written unless all of it fits.
    """
    try:
        document = read_archive(file.read_bytes())
        event, counts = restore(parse_archive(document))
    except ArchiveError as exc:
        db.session.rollback()
        raise click.ClickException(f"{file}: {exc}") from None
    click.echo(
        f"Restored event '{event.code}' ({event.title}): {counts['questions']} question(s), "
        f"{counts['comments']} comment(s), {counts['votes']} vote(s), "
        f"{counts['log']} moderation entr{'y' if counts['log'] == 1 else 'ies'}; "
        f"archive sha256 {document['digest']['value']}."
    )


def register_cli(app: Flask) -> None:
    """flask export / flask import."""
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)

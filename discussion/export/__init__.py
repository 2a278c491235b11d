"""Exports of every thread: CSV, JSON archive, Markdown and HTML reports, and the import.

One thread model (:mod:`.model`), read from one database snapshot, is rendered four
ways: :mod:`.spreadsheet` (CSV), :mod:`.archive` (the JSON archive: written, verified
and restored), :mod:`.reports` (Markdown and HTML, from their templates). The console
downloads them through :mod:`.views`; ``flask export`` and ``flask import`` are in
:mod:`.commands`. The archive's format is declared in :mod:`discussion.rules.archive`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from ..rules.enums import Paper
from .archive import ArchiveError, archive_digest, parse_archive, read_archive, restore
from .model import ThreadModel, begin_snapshot, build, find_event_any
from .reports import Stylesheet, md_escape, render_html, render_md
from .spreadsheet import render_csv

FORMATS: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def render(
    model: ThreadModel, fmt: str, *, paper: Paper = Paper.A4, stylesheet: Stylesheet | None = None
) -> Iterator[bytes]:
    """The export in one of :data:`FORMATS`, as a stream of UTF-8 bytes."""
    from .archive import render_json

    if fmt == "json":
        return render_json(model)
    text: Iterator[str]
    if fmt == "csv":
        text = render_csv(model)
    elif fmt == "md":
        text = render_md(model)
    elif fmt == "html":
        text = render_html(model, paper=paper, stylesheet=stylesheet)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return (piece.encode("utf-8") for piece in text)


def filename(code: str, fmt: str, day: date | None = None) -> str:
    """``<code>-<YYYY-MM-DD>.<ext>`` with the export date."""
    return f"{code}-{(day or datetime.now(UTC).date()).isoformat()}.{fmt}"


# Imported last: they use render() and filename() above.
from .commands import check_output, register_cli, write_export  # noqa: E402
from .views import bp  # noqa: E402

__all__ = [
    "FORMATS",
    "ArchiveError",
    "Paper",
    "Stylesheet",
    "ThreadModel",
    "archive_digest",
    "begin_snapshot",
    "bp",
    "build",
    "check_output",
    "filename",
    "find_event_any",
    "md_escape",
    "parse_archive",
    "read_archive",
    "register_cli",
    "render",
    "restore",
    "write_export",
]

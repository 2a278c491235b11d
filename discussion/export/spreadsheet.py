"""The CSV export: every question and comment, one row each, for spreadsheets.

UTF-8 with a byte-order mark (Excel and LibreOffice then open accents and emoji
correctly), RFC 4180 quoting, CRLF line ends; each question row is followed by its
comment rows, oldest first. Staff data: hidden and pending posts are included and
marked, without their authors' names (docs/export.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from .archive import CHUNK
from .model import ThreadModel

CSV_COLUMNS = (
    "kind",
    "question_id",
    "comment_id",
    "topic",
    "topic_name",
    "status",
    "votes",
    "comments",
    "author",
    "quote",
    "body",
    "created_at",
    "answered_at",
    "highlighted",
    "pinned",
    "edited",
    "seeded",
    "merged_into",
)
_FORMULA_START = tuple("=+-@\t\r")


def cell(text: str | None) -> str:
    """A text cell a spreadsheet will not run as a formula (a leading ' is added then)."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _flag(value: bool) -> str:
    return "true" if value else "false"


def render_csv(model: ThreadModel) -> Iterator[str]:
    """Threads for spreadsheets: a BOM, then each question row followed by its comment rows.

    Names come from the thread model, which already left them out of hidden posts and
    of posts not quoted ``named``.
    """
    names = {t["slug"]: t["name"] for t in model.topics}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for thread in model.threads():
        q = thread.question
        topic_name = names.get(q["topic"], "") if q["topic"] else ""
        writer.writerow(
            (
                "question",
                q["id"],
                "",
                q["topic"] or "",
                cell(topic_name),
                q["status"],
                q["votes"],
                q["comments"],
                cell(q["author"]),
                q["quote"],
                cell(q["body"]),
                q["created_at"],
                q["answered_at"] or "",
                _flag(q["highlighted"]),
                _flag(q["pinned"]),
                _flag(q["edited"]),
                _flag(q["seeded"]),
                q["merged_into"] or "",
            )
        )
        for c in thread.comments:
            writer.writerow(
                (
                    "comment",
                    q["id"],
                    c["id"],
                    q["topic"] or "",
                    cell(topic_name),
                    "hidden" if c["hidden"] else "visible",
                    "",
                    "",
                    cell(c["author"]),
                    c["quote"],
                    cell(c["body"]),
                    c["created_at"],
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
        if buf.tell() >= CHUNK:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()

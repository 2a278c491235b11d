"""Exports of every thread: CSV, JSON archive, Markdown and HTML reports, and the import.

One thread model (:class:`ThreadModel`) is read from one database snapshot and
rendered four ways. Threads are streamed from ``yield_per`` queries, so a large
event is written with flat memory: the archive and the CSV in id order, the reports
in their ranked order (topics in their order, then "No topic"; most votes first,
ties oldest first).

Anonymised by default (docs/export.md): no participant key, id or pseudonym leaves
the database; a name only with ``quote: named``. The reports also leave out the
text of ``quote: none`` posts and everything hidden or pending.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    request,
    stream_with_context,
    url_for,
)
from flask.cli import with_appcontext
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, insert, literal, select, union, update

from .cli import guarded
from .database import write
from .extensions import db
from .models import (
    Comment,
    Event,
    EventStatus,
    Moderation,
    ModerationEntry,
    Question,
    QuestionStatus,
    Quote,
    Topic,
    Vote,
)
from .queries import PUBLIC_ACTIONS, iso  # the public log's actions: the reports list them
from .rules.access import Need, access, moderates

bp = Blueprint("export", __name__)

SCHEMA = "discussion-archive"
SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = (1,)
BATCH = 1000  # rows per fetch from the database, and per bulk insert on import
CHUNK = 64 * 1024  # characters gathered before a piece of output is handed on

FORMATS: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
CSV_COLUMNS = (
    "kind", "question_id", "comment_id", "topic", "topic_name", "status", "votes", "comments",
    "author", "quote", "body", "created_at", "answered_at", "highlighted", "pinned", "edited",
    "seeded", "merged_into",
)
PUBLISHED = (QuestionStatus.VISIBLE.value, QuestionStatus.ANSWERED.value)


# ---------------------------------------------------------------------------
# The thread model


def public_name(author: str | None, quote: str) -> str | None:
    """The name an export may print: only one its author gave and agreed to be quoted with."""
    return author if quote == Quote.NAMED and author else None


@dataclass(slots=True)
class Thread:
    """A question (archive shape, without ``thread``) and its comments, oldest first."""

    question: dict[str, Any]
    comments: list[dict[str, Any]]


@dataclass(slots=True)
class Section:
    """A topic of a report (``slug`` None: "No topic") with its figures and ranked threads."""

    slug: str | None
    name: str
    figures: dict[str, int]
    threads: Iterator[dict[str, Any]]


@dataclass
class ThreadModel:
    """Everything an export says about one event, read from one snapshot.

    The header, figures and moderation log are small and loaded at once; the threads
    are streamed by :meth:`threads` each time a renderer asks for them.
    """

    event_id: int
    code: str
    event: dict[str, Any]
    licence: str
    topics: list[dict[str, Any]]
    figures: dict[str, int]
    topic_figures: dict[str | None, dict[str, int]]
    moderation_log: list[dict[str, Any]]
    moderation_counts: dict[str, int]
    exported_at: datetime
    _slugs: dict[int, str] = field(default_factory=dict, repr=False)

    def threads(self, *, report: bool = False) -> Iterator[Thread]:
        """Every thread in id order (archive, CSV), or the published ones in report order."""
        q_stmt = select(*_QUESTION_COLUMNS).where(Question.event_id == self.event_id)
        c_stmt = (
            select(*_COMMENT_COLUMNS)
            .join(Question, Question.id == Comment.question_id)
            .where(Question.event_id == self.event_id)
        )
        if report:
            q_stmt = q_stmt.where(Question.status.in_(PUBLISHED))
            c_stmt = c_stmt.where(Question.status.in_(PUBLISHED), Comment.hidden.is_(False))
            order = self._report_order()
        else:
            order = (Question.id,)
        # Both streams follow the same question order, so one pass joins them; the
        # snapshot (begin_snapshot) guarantees they agree.
        questions = db.session.execute(
            q_stmt.order_by(*order).execution_options(yield_per=BATCH)
        )
        comments = iter(db.session.execute(
            c_stmt.order_by(*order, Comment.created_at, Comment.id)
            .execution_options(yield_per=BATCH)
        ))
        waiting = next(comments, None)
        for row in questions:
            thread = []
            while waiting is not None and waiting.question_id == row.id:
                thread.append(_comment_dict(waiting))
                waiting = next(comments, None)
            yield Thread(_question_dict(row, self._slugs), thread)

    def _report_order(self) -> tuple[Any, ...]:
        positions = {t["id"]: i for i, t in enumerate(self.topics)}
        topic_rank = (
            case(positions, value=Question.topic_id, else_=len(positions))
            if positions else literal(0)
        )
        return (topic_rank, Question.votes.desc(), Question.created_at.asc(), Question.id.asc())

    def sections(self) -> Iterator[Section]:
        """The report's sections: each topic in order, then "No topic" if it has threads."""
        stream = self.threads(report=True)
        head = next(stream, None)
        done: set[str | None] = set()
        parts = [(t["slug"], t["name"]) for t in self.topics] + [(None, _("No topic"))]

        def take(slug: str | None) -> Iterator[dict[str, Any]]:
            nonlocal head
            rank = 0
            while head is not None and head.question["topic"] == slug:
                rank += 1
                current, head = head, next(stream, None)
                yield report_thread(current, rank)

        for slug, name in parts:
            # A section the renderer did not read to the end is skipped here.
            while head is not None and head.question["topic"] in done:
                head = next(stream, None)
            figures = self.topic_figures.get(slug, _empty_figures())
            if slug is None and not figures["questions"]:
                break
            yield Section(slug, name, figures, take(slug))
            done.add(slug)


_QUESTION_COLUMNS = (
    Question.id, Question.topic_id, Question.body, Question.original_body, Question.author,
    Question.quote, Question.seeded, Question.status, Question.highlighted, Question.pinned,
    Question.edited, Question.merged_into_id, Question.votes, Question.comments,
    Question.created_at, Question.answered_at,
)
_COMMENT_COLUMNS = (
    Comment.id, Comment.question_id, Comment.body, Comment.author, Comment.quote,
    Comment.hidden, Comment.created_at,
)


def _question_dict(row: Any, slugs: dict[int, str]) -> dict[str, Any]:
    """A question as the archive stores it: no participant, a name only if quotable."""
    return {
        "id": row.id,
        "topic": slugs.get(row.topic_id) if row.topic_id else None,
        "body": row.body,
        "original_body": row.original_body,
        "author": public_name(row.author, row.quote),
        "quote": row.quote,
        "seeded": bool(row.seeded),
        "status": row.status,
        "highlighted": bool(row.highlighted),
        "pinned": bool(row.pinned),
        "edited": bool(row.edited),
        "merged_into": row.merged_into_id,
        "votes": row.votes,
        "comments": row.comments,
        "created_at": iso(row.created_at),
        "answered_at": iso(row.answered_at),
    }


def _comment_dict(row: Any) -> dict[str, Any]:
    """A comment as the archive stores it."""
    return {
        "id": row.id,
        "body": row.body,
        "author": public_name(row.author, row.quote),
        "quote": row.quote,
        "hidden": bool(row.hidden),
        "created_at": iso(row.created_at),
    }


def _empty_figures() -> dict[str, int]:
    return {"questions": 0, "votes": 0, "comments": 0, "answered": 0}


def begin_snapshot() -> None:
    """Start a fresh read transaction that sees one state of the database throughout.

    SQLite (WAL) keeps one snapshot per read transaction; PostgreSQL needs REPEATABLE
    READ for the same. Counts, threads and the log of an export then agree even while
    the room keeps voting.
    """
    db.session.rollback()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def find_event_any(code: str) -> Event | None:
    """The event with this code, drafts included (staff and the CLI export drafts too)."""
    return db.session.scalar(select(Event).where(Event.code == code.strip().lower()))


def build(code: str, *, now: datetime | None = None) -> ThreadModel:
    """Read the thread model of the event with this code (call :func:`begin_snapshot` first)."""
    event = find_event_any(code)
    if event is None:
        raise LookupError(code)
    topics = [{"id": t.id, "slug": t.slug, "name": t.name} for t in event.topics]
    slugs = {t["id"]: t["slug"] for t in topics}
    figures, per_topic = _figures(event.id, slugs)
    log = [
        {"action": e.action, "question_id": e.question_id, "comment_id": e.comment_id,
         "reason": e.reason, "at": iso(e.at)}
        for e in db.session.execute(
            select(ModerationEntry.action, ModerationEntry.question_id,
                   ModerationEntry.comment_id, ModerationEntry.reason, ModerationEntry.at)
            .where(ModerationEntry.event_id == event.id)
            .order_by(ModerationEntry.at, ModerationEntry.id)
        )
    ]
    counts: dict[str, int] = {}
    for entry in log:
        counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    return ThreadModel(
        event_id=event.id,
        code=event.code,
        event={
            "code": event.code,
            "title": event.title,
            "description": event.description,
            "date": event.date.isoformat() if event.date else None,
            "place": event.place,
            "moderator": event.moderator,
            "speakers": list(event.speakers or []),
            "organisers": list(event.organisers or []),
            "status": event.status,
            "moderation": event.moderation,
            "policy": event.policy,
            "retention_days": event.retention_days,
            "created_at": iso(event.created_at),
        },
        licence=event.licence,
        topics=topics,
        figures=figures,
        topic_figures=per_topic,
        moderation_log=log,
        moderation_counts=dict(sorted(counts.items())),
        exported_at=(now or datetime.now(UTC)).replace(tzinfo=None),
        _slugs=slugs,
    )


def _figures(
    event_id: int, slugs: dict[int, str]
) -> tuple[dict[str, int], dict[str | None, dict[str, int]]]:
    """Summary figures, for the event and per topic, computed in SQL.

    Questions, votes, comments and answered count published questions (visible or
    answered) and their visible comments, ``quote: none`` posts included. Participants
    are the distinct participants who asked, commented or voted, whatever the status.
    """
    in_event = Question.event_id == event_id
    published = Question.status.in_(PUBLISHED)
    per_topic: dict[str | None, dict[str, int]] = {}
    for topic_id, n, votes, answered in db.session.execute(
        select(
            Question.topic_id,
            func.count(),
            func.coalesce(func.sum(Question.votes), 0),
            func.coalesce(func.sum(case((Question.status == QuestionStatus.ANSWERED.value, 1),
                                        else_=0)), 0),
        ).where(in_event, published).group_by(Question.topic_id)
    ):
        per_topic[slugs.get(topic_id) if topic_id else None] = {
            "questions": n, "votes": int(votes), "comments": 0, "answered": int(answered)}
    for topic_id, n in db.session.execute(
        select(Question.topic_id, func.count())
        .select_from(Comment).join(Question, Question.id == Comment.question_id)
        .where(in_event, published, Comment.hidden.is_(False))
        .group_by(Question.topic_id)
    ):
        per_topic.setdefault(slugs.get(topic_id) if topic_id else None,
                             _empty_figures())["comments"] = n

    def count(stmt: Any) -> int:
        return int(db.session.scalar(stmt) or 0)

    people = union(
        select(Question.participant_id).where(in_event, Question.participant_id.is_not(None)),
        select(Comment.participant_id).join(Question, Question.id == Comment.question_id)
        .where(in_event, Comment.participant_id.is_not(None)),
        select(Vote.participant_id).join(Question, Question.id == Vote.question_id)
        .where(in_event),
    ).subquery()
    figures = {
        "participants": count(select(func.count()).select_from(people)),
        **{key: sum(t[key] for t in per_topic.values()) for key in _empty_figures()},
        "pending": count(select(func.count()).select_from(Question).where(
            in_event, Question.status == QuestionStatus.PENDING.value)),
        "hidden_questions": count(select(func.count()).select_from(Question).where(
            in_event, Question.status == QuestionStatus.HIDDEN.value)),
        "hidden_comments": count(
            select(func.count()).select_from(Comment)
            .join(Question, Question.id == Comment.question_id)
            .where(in_event, Comment.hidden.is_(True))),
    }
    return figures, per_topic


# ---------------------------------------------------------------------------
# Renderers: each yields pieces of text (the archive: bytes, hashed as they go)


def _gather(pieces: Iterable[str], size: int = CHUNK) -> Iterator[str]:
    """Join small pieces into chunks of about ``size`` characters."""
    buf: list[str] = []
    n = 0
    for piece in pieces:
        buf.append(piece)
        n += len(piece)
        if n >= size:
            yield "".join(buf)
            buf, n = [], 0
    if buf:
        yield "".join(buf)


def canonical(value: Any) -> str:
    """The canonical JSON text the digest is computed over (docs/export.md)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def archive_digest(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical form of an archive without its ``digest`` member."""
    body = {k: v for k, v in document.items() if k != "digest"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def render_json(model: ThreadModel) -> Iterator[bytes]:
    """The JSON archive, streamed.

    The file is the canonical form of the archive without ``digest`` (keys sorted, no
    whitespace), whose closing brace is replaced by ``,"digest":{...}}``: the digest is
    computed in the same pass, and anyone can verify it by parsing the file, dropping
    ``digest`` and hashing the canonical form again.
    """
    questions = object()  # where the streamed array goes, in sorted key order
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "exported_at": iso(model.exported_at),
        "generator": _generator(),
        "licence": model.licence,
        "event": model.event,
        "topics": [{"slug": t["slug"], "name": t["name"]} for t in model.topics],
        "figures": model.figures,
        "moderation_log": model.moderation_log,
        "questions": questions,
    }
    sha = hashlib.sha256()

    def pieces() -> Iterator[str]:
        yield "{"
        for i, key in enumerate(sorted(document)):
            yield ("," if i else "") + canonical(key) + ":"
            if document[key] is questions:
                yield "["
                for j, thread in enumerate(model.threads()):
                    yield ("," if j else "") + canonical({**thread.question,
                                                          "thread": thread.comments})
                yield "]"
            else:
                yield canonical(document[key])

    for chunk in _gather(pieces()):
        data = chunk.encode("utf-8")
        sha.update(data)
        yield data
    sha.update(b"}")
    digest = {"algorithm": "sha256", "value": sha.hexdigest()}
    yield ("," + canonical("digest") + ":" + canonical(digest) + "}\n").encode("utf-8")


def _generator() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"discussion {version('discussion')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "discussion"


_FORMULA_START = tuple("=+-@\t\r")


def _cell(text: str | None) -> str:
    """A text cell a spreadsheet will not run as a formula (a leading ' is added then)."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _flag(value: bool) -> str:
    return "true" if value else "false"


def render_csv(model: ThreadModel) -> Iterator[str]:
    """Threads for spreadsheets: a BOM, then each question row followed by its comment rows."""
    names = {t["slug"]: t["name"] for t in model.topics}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for thread in model.threads():
        q = thread.question
        topic_name = names.get(q["topic"], "") if q["topic"] else ""
        writer.writerow((
            "question", q["id"], "", q["topic"] or "", _cell(topic_name), q["status"],
            q["votes"], q["comments"], _cell(q["author"]), q["quote"], _cell(q["body"]),
            q["created_at"], q["answered_at"] or "", _flag(q["highlighted"]),
            _flag(q["pinned"]), _flag(q["edited"]), _flag(q["seeded"]),
            q["merged_into"] or "",
        ))
        for c in thread.comments:
            writer.writerow((
                "comment", q["id"], c["id"], q["topic"] or "", _cell(topic_name),
                "hidden" if c["hidden"] else "visible", "", "", _cell(c["author"]),
                c["quote"], _cell(c["body"]), c["created_at"], "", "", "", "", "", "",
            ))
        if buf.tell() >= CHUNK:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


# -- reports


def _when(stamp: str | None) -> str:
    """'2016-12-08 15:04 UTC' from an archive timestamp."""
    if not stamp:
        return ""
    return stamp[:10] + " " + stamp[11:16] + " UTC"


def report_post(post: dict[str, Any]) -> dict[str, Any]:
    """What a report may show of a post: the text unless its author said "do not quote",
    and a name only with ``quote: named``."""
    return {
        "text": None if post["quote"] == Quote.NONE else post["body"],
        "name": post["author"],  # already None unless quote is named
        "when": _when(post["created_at"]),
    }


def report_thread(thread: Thread, rank: int) -> dict[str, Any]:
    """A published thread as the reports show it (hidden comments are already left out)."""
    q = thread.question
    return {
        **report_post(q),
        "rank": rank,
        "id": q["id"],
        "votes": q["votes"],
        "comment_count": len(thread.comments),
        "answered": q["status"] == QuestionStatus.ANSWERED,
        "answered_when": _when(q["answered_at"]),
        "seeded": q["seeded"],
        "pinned": q["pinned"],
        "highlighted": q["highlighted"],
        "edited": q["edited"],
        "comments": [report_post(c) for c in thread.comments],
    }


def moderation_labels() -> dict[str, str]:
    """Readable names of the logged actions, for the counts of the moderation summary."""
    return {
        "approve": _("Questions approved"),
        "hide": _("Questions hidden"),
        "restore": _("Questions restored"),
        "answer": _("Questions marked answered"),
        "highlight": _("Questions highlighted on the board"),
        "unhighlight": _("Highlights removed"),
        "pin": _("Questions pinned"),
        "unpin": _("Questions unpinned"),
        "edit": _("Questions edited (typos)"),
        "merge": _("Duplicates merged"),
        "mute": _("Participants muted"),
        "unmute": _("Participants unmuted"),
        "hide_comment": _("Comments hidden"),
        "restore_comment": _("Comments restored"),
        "delete": _("Questions deleted by staff"),
        "delete_comment": _("Comments deleted by staff"),
        "status:closed": _("Event closed to new posts"),
        "status:live": _("Event opened"),
        "status:draft": _("Event set to draft"),
        "moderation:pre": _("Pre-moderation switched on"),
        "moderation:post": _("Pre-moderation switched off"),
        "create_event": _("Event created"),
        "load_seed": _("Seed file loaded"),
        "update_event": _("Event settings changed"),
    }


def report_context(model: ThreadModel) -> dict[str, Any]:
    """What both reports show besides the threads."""
    from .views import action_label  # the public log's wording, as on the privacy page

    event = model.event
    labels = moderation_labels()
    day = date.fromisoformat(event["date"]) if event["date"] else None
    return {
        "event": event,
        "licence": model.licence,
        "date_text": format_date(day, format="long") if day else "",
        "figures": model.figures,
        "sections": model.sections(),
        "moderation": [
            {"action": a, "label": labels.get(a, a), "count": n}
            for a, n in model.moderation_counts.items()
        ],
        "public_log": [
            {"label": action_label(e["action"]), "reason": e["reason"],
             "when": _when(e["at"])}
            for e in model.moderation_log if e["action"] in PUBLIC_ACTIONS
        ],
        "exported_when": _when(iso(model.exported_at)),
        "withheld": _("(not quoted at the author's request)"),
    }


_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def md_escape(text: str) -> str:
    """User text as literal Markdown: no markup, no raw HTML, line breaks kept."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = []
        for line in paragraph.split("\n"):
            line = _MD_INLINE.sub(r"\\\1", line)
            line = _MD_LINE_START.sub(_escape_line_start, line)
            lines.append(line)
        # A backslash at the end of a line is a hard line break.
        paragraphs.append("\\\n".join(lines))
    return "\n\n".join(paragraphs)


def _escape_line_start(m: re.Match[str]) -> str:
    """'# x' -> '\\# x', '- x' -> '\\- x', '1. x' -> '1\\. x': no heading, list or quote."""
    indent, mark = m.group(1), m.group(2)
    return indent + mark + "\\" if mark.isdigit() else indent + "\\" + mark


def _md_block(text: str, prefix: str) -> str:
    """Escaped text with every line after the first indented by ``prefix``."""
    return md_escape(text).replace("\n", "\n" + prefix)


def render_md(model: ThreadModel) -> Iterator[str]:
    """The Markdown report."""
    return _gather(_md_pieces(model, report_context(model)))


def _md_pieces(model: ThreadModel, ctx: dict[str, Any]) -> Iterator[str]:
    event, figures = ctx["event"], ctx["figures"]
    yield f"# {md_escape(event['title'])}\n\n"
    yield f"*{_('Workshop report')}*\n\n"
    facts = [
        (_("Date"), ctx["date_text"]),
        (_("Place"), event["place"]),
        (_("Moderator"), event["moderator"]),
    ]
    for label, value in facts:
        if value:
            yield f"- **{label}:** {md_escape(value)}\n"
    for label, people in ((_("Speakers"), event["speakers"]),
                          (_("Organisers"), event["organisers"])):
        if people:
            yield f"- **{label}:**\n"
            for person in people:
                yield f"  - {md_escape(person)}\n"
    yield f"- **{_('Licence of the contributions')}:** {md_escape(ctx['licence'])}\n\n"

    yield f"## {_('Summary')}\n\n"
    heads = (_("Participants"), _("Questions"), _("Votes"), _("Comments"), _("Answered"))
    keys = ("participants", "questions", "votes", "comments", "answered")
    yield "| " + " | ".join(heads) + " |\n"
    yield "|" + " ---: |" * len(heads) + "\n"
    yield "| " + " | ".join(str(figures[k]) for k in keys) + " |\n\n"
    yield _("Participants are the people who asked, commented or voted.") + " "
    yield _("Posts whose authors asked not to be quoted are counted but not shown.") + "\n\n"

    for section in ctx["sections"]:
        yield f"## {md_escape(section.name)}\n\n"
        f = section.figures
        yield f"*{_section_line(f)}*\n\n"
        empty = True
        for t in section.threads:
            empty = False
            yield from _md_thread(t, ctx["withheld"])
        if empty:
            yield _("No questions on this topic.") + "\n\n"

    yield f"## {_('Moderation')}\n\n"
    yield from _md_moderation(ctx)
    yield f"---\n\n*{_('Exported on %(when)s.', when=ctx['exported_when'])}*\n"


def _section_line(f: dict[str, int]) -> str:
    return " · ".join((
        ngettext("%(num)d question", "%(num)d questions", f["questions"]),
        ngettext("%(num)d vote", "%(num)d votes", f["votes"]),
        ngettext("%(num)d comment", "%(num)d comments", f["comments"]),
        ngettext("%(num)d answered", "%(num)d answered", f["answered"]),
    ))


def _thread_badges(t: dict[str, Any]) -> list[str]:
    badges = [ngettext("%(num)d vote", "%(num)d votes", t["votes"]),
              ngettext("%(num)d comment", "%(num)d comments", t["comment_count"])]
    if t["answered"]:
        badges.append(_("answered"))
    if t["highlighted"]:
        badges.append(_("highlighted"))
    if t["pinned"]:
        badges.append(_("pinned"))
    return badges


def _byline(t: dict[str, Any]) -> str:
    if t["seeded"]:
        who = _("Seeded by the organisers")
    elif t["name"]:
        who = _("Asked by %(name)s", name=t["name"])
    else:
        who = _("Asked anonymously")
    parts = [who, t["when"]]
    if t["edited"]:
        parts.append(_("edited by a moderator"))
    if t["answered"] and t["answered_when"]:
        parts.append(_("answered %(when)s", when=t["answered_when"]))
    parts.append(f"#{t['id']}")
    return " · ".join(parts)


def _md_thread(t: dict[str, Any], withheld: str) -> Iterator[str]:
    yield f"### {t['rank']}. " + " · ".join(_thread_badges(t)) + "\n\n"
    if t["text"] is None:
        yield f"> *{withheld}*\n\n"
    else:
        yield "> " + _md_block(t["text"], "> ") + "\n\n"
    yield f"*{md_escape(_byline(t))}*\n\n"
    if t["comments"]:
        yield f"**{_('Comments')}**\n\n"
        for c in t["comments"]:
            text = f"*{withheld}*" if c["text"] is None else _md_block(c["text"], "  ")
            who = md_escape(c["name"]) if c["name"] else _("anonymous")
            yield f"- {text}\\\n  — {who}, {c['when']}\n"
        yield "\n"


def _md_moderation(ctx: dict[str, Any]) -> Iterator[str]:
    figures = ctx["figures"]
    yield _("Hidden text is never shown in this report.") + " "
    yield _("Hidden questions: %(q)d. Hidden comments: %(c)d. Awaiting approval: %(p)d.",
            q=figures["hidden_questions"], c=figures["hidden_comments"],
            p=figures["pending"]) + "\n\n"
    if ctx["moderation"]:
        yield f"| {_('Action')} | {_('Times')} |\n| --- | ---: |\n"
        for row in ctx["moderation"]:
            yield f"| {md_escape(row['label'])} | {row['count']} |\n"
        yield "\n"
    else:
        yield _("No moderation action was logged.") + "\n\n"
    if ctx["public_log"]:
        yield f"### {_('Public moderation log')}\n\n"
        for e in ctx["public_log"]:
            reason = md_escape(e["reason"]) if e["reason"] else _("no reason given")
            yield f"- {e['when']} · {md_escape(e['label'])}: {reason}\n"
        yield "\n"


def render_html(model: ThreadModel, *, css_href: str) -> Iterator[str]:
    """The printable HTML report (templates/report.html, static/css/report.css)."""
    origin = urlsplit(css_href)
    style_src = "'self'"
    if origin.scheme in ("http", "https") and origin.netloc:
        style_src += f" {origin.scheme}://{origin.netloc}"
    elif origin.scheme == "data":
        style_src = "data:"
    template = current_app.jinja_env.get_template("report.html")
    return _gather(template.generate(
        **report_context(model), css_href=css_href, style_src=style_src,
        lang=_html_lang(), byline=_byline, section_line=_section_line,
    ))


def _html_lang() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en").replace("_", "-")


def standalone_css_href() -> str:
    """static/css/report.css as a data: URL, for a report file read without the server."""
    css = Path(current_app.static_folder or "static", "css", "report.css").read_bytes()
    return "data:text/css;base64," + base64.b64encode(css).decode("ascii")


def render(model: ThreadModel, fmt: str, *, css_href: str | None = None) -> Iterator[bytes]:
    """The export in one of :data:`FORMATS`, as a stream of UTF-8 bytes."""
    if fmt == "json":
        return render_json(model)
    text: Iterator[str]
    if fmt == "csv":
        text = render_csv(model)
    elif fmt == "md":
        text = render_md(model)
    elif fmt == "html":
        text = render_html(model, css_href=css_href or "/static/css/report.css")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return (piece.encode("utf-8") for piece in text)


def filename(code: str, fmt: str, day: date | None = None) -> str:
    """``<code>-<YYYY-MM-DD>.<ext>`` with the export date."""
    return f"{code}-{(day or datetime.now(UTC).date()).isoformat()}.{fmt}"


# ---------------------------------------------------------------------------
# Downloads from the console


def _wants_json() -> bool:
    """API clients (no Accept header, */*, JSON first) get JSON errors; browsers pages."""
    accept = request.accept_mimetypes
    if not accept:
        return True
    return accept.best_match(["application/json", "text/html"]) == "application/json"


def _refuse(status: int, code: str, message: str):  # type: ignore[no-untyped-def]
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    from .views import error_page

    return error_page(status, message)


@bp.get("/e/<code>/export.<any(csv, json, md, html):fmt>")
@access(Need.MODERATOR, files=True)
def download(code: str, fmt: str):  # type: ignore[no-untyped-def]
    """Staff who moderate the event download its export as an attachment."""
    event = find_event_any(code)
    if event is None:
        return _refuse(404, "event_not_found", _("There is no event with this code."))
    if not moderates(current_user, event):
        return _refuse(403, "forbidden", _("You do not moderate this event."))
    event_code = event.code
    css_href = url_for("static", filename="css/report.css", _external=True)

    def body() -> Iterator[bytes]:
        begin_snapshot()
        yield from render(build(event_code), fmt, css_href=css_href)

    response = Response(stream_with_context(body()), content_type=FORMATS[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename(event_code, fmt)}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------
# Import


class ArchiveError(ValueError):
    """The archive cannot be restored; the message says why."""


_STR, _INT, _BOOL = (str,), (int,), (bool,)
_OPT_STR = (str, type(None))
_OPT_INT = (int, type(None))

_EVENT_FIELDS: dict[str, tuple[type, ...]] = {
    "code": _STR, "title": _STR, "description": _STR, "date": _OPT_STR, "place": _STR,
    "moderator": _STR, "speakers": (list,), "organisers": (list,), "status": _STR,
    "moderation": _STR, "policy": _STR, "retention_days": _INT, "created_at": _OPT_STR,
}
_QUESTION_FIELDS: dict[str, tuple[type, ...]] = {
    "id": _INT, "topic": _OPT_STR, "body": _STR, "original_body": _OPT_STR,
    "author": _OPT_STR, "quote": _STR, "seeded": _BOOL, "status": _STR,
    "highlighted": _BOOL, "pinned": _BOOL, "edited": _BOOL, "merged_into": _OPT_INT,
    "votes": _INT, "comments": _INT, "created_at": _STR, "answered_at": _OPT_STR,
    "thread": (list,),
}
_COMMENT_FIELDS: dict[str, tuple[type, ...]] = {
    "id": _INT, "body": _STR, "author": _OPT_STR, "quote": _STR, "hidden": _BOOL,
    "created_at": _STR,
}
_LOG_FIELDS: dict[str, tuple[type, ...]] = {
    "action": _STR, "question_id": _OPT_INT, "comment_id": _OPT_INT, "reason": _STR,
    "at": _STR,
}


# The longest text each field may hold (the database's column sizes and the posting
# limits), so an archive that was never exported by this tool cannot overflow them.
_LIMITS = {
    "code": 32, "title": 200, "place": 200, "moderator": 200, "slug": 64, "name": 100,
    "author": 60, "action": 32, "body": 500, "original_body": 500, "reason": 2000,
}


def _check(obj: Any, fields: dict[str, tuple[type, ...]], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ArchiveError(f"{where} must be an object")
    for name, types in fields.items():
        if name not in obj:
            raise ArchiveError(f"{where}.{name} is missing")
        value = obj[name]
        # bool is an int in Python; an integer field must not take true/false.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ArchiveError(f"{where}.{name} has the wrong type")
        if isinstance(value, str) and len(value) > _LIMITS.get(name, 100_000):
            raise ArchiveError(f"{where}.{name} is too long")
        if isinstance(value, list) and name != "thread" and not all(
            isinstance(item, str) and len(item) <= 200 for item in value
        ):
            raise ArchiveError(f"{where}.{name} must be a list of short texts")
    return obj


def _one_of(value: str, allowed: Iterable[str], where: str) -> str:
    allowed = list(allowed)
    if value not in allowed:
        raise ArchiveError(f"{where} is {value!r}, not one of {', '.join(allowed)}")
    return value


def _moment(value: str | None, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ArchiveError(f"{where} is not an ISO 8601 time") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def read_archive(raw: bytes) -> dict[str, Any]:
    """Parse an archive and check its schema, version and digest (in that order)."""
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"not a JSON archive ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ArchiveError(f"unknown schema: this is not a '{SCHEMA}' file")
    version = document.get("schema_version")
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        known = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        raise ArchiveError(
            f"unknown schema version {version!r} (this version of the tool reads {known})"
        )
    digest = document.get("digest")
    if not isinstance(digest, dict) or digest.get("algorithm") != "sha256" \
            or not isinstance(digest.get("value"), str):
        raise ArchiveError("the archive has no sha256 digest")
    computed = archive_digest(document)
    if computed != digest["value"].lower():
        raise ArchiveError(
            "digest mismatch: the archive was altered after export "
            f"(it says {digest['value']}, its content hashes to {computed})"
        )
    return document


def _check_archive(document: dict[str, Any]) -> None:
    """Types, enumerations and references, so a restore never half-fails."""
    from .rules.schemas import CODE_RE

    event = _check(document.get("event"), _EVENT_FIELDS, "event")
    if not isinstance(event["code"], str) or not CODE_RE.fullmatch(event["code"]):
        raise ArchiveError("event.code is not a valid event code")
    _one_of(event["status"], [s.value for s in EventStatus], "event.status")
    _one_of(event["moderation"], [m.value for m in Moderation], "event.moderation")
    licence = document.get("licence")
    if not isinstance(licence, str) or len(licence) > 100:
        raise ArchiveError("licence is missing or too long")
    topics = document.get("topics")
    if not isinstance(topics, list):
        raise ArchiveError("topics must be a list")
    for i, t in enumerate(topics):
        _check(t, {"slug": _STR, "name": _STR}, f"topics[{i}]")
    slugs = {t["slug"] for t in topics}
    questions = document.get("questions")
    if not isinstance(questions, list):
        raise ArchiveError("questions must be a list")
    ids: set[int] = set()
    comment_ids: set[int] = set()
    statuses = [s.value for s in QuestionStatus]
    quotes = [q.value for q in Quote]
    for i, q in enumerate(questions):
        where = f"questions[{i}]"
        _check(q, _QUESTION_FIELDS, where)
        _one_of(q["status"], statuses, f"{where}.status")
        _one_of(q["quote"], quotes, f"{where}.quote")
        if q["topic"] is not None and q["topic"] not in slugs:
            raise ArchiveError(f"{where}.topic names an unknown topic")
        if q["votes"] < 0 or q["comments"] < 0:
            raise ArchiveError(f"{where} has a negative count")
        _moment(q["created_at"], f"{where}.created_at")
        _moment(q["answered_at"], f"{where}.answered_at")
        ids.add(q["id"])
        for j, c in enumerate(q["thread"]):
            _check(c, _COMMENT_FIELDS, f"{where}.thread[{j}]")
            _one_of(c["quote"], quotes, f"{where}.thread[{j}].quote")
            _moment(c["created_at"], f"{where}.thread[{j}].created_at")
            comment_ids.add(c["id"])
    for i, q in enumerate(questions):
        if q["merged_into"] is not None and q["merged_into"] not in ids:
            raise ArchiveError(f"questions[{i}].merged_into names no question of the archive")
    log = document.get("moderation_log")
    if not isinstance(log, list):
        raise ArchiveError("moderation_log must be a list")
    for i, e in enumerate(log):
        _check(e, _LOG_FIELDS, f"moderation_log[{i}]")
        _moment(e["at"], f"moderation_log[{i}].at")


@write
def restore(document: dict[str, Any]) -> tuple[Event, dict[str, int]]:
    """Restore a checked archive as a new event; refuses a code that already exists.

    Posts come back without a participant (the archive has none) and votes as counts;
    ids are new, references (merges, the log) are mapped to them.
    """
    _check_archive(document)
    fields = document["event"]
    if find_event_any(fields["code"]) is not None:
        raise ArchiveError(f"an event with code '{fields['code']}' already exists")
    event = Event(
        code=fields["code"], title=fields["title"], description=fields["description"],
        date=date.fromisoformat(fields["date"]) if fields["date"] else None,
        place=fields["place"], moderator=fields["moderator"],
        speakers=list(fields["speakers"]), organisers=list(fields["organisers"]),
        status=fields["status"], moderation=fields["moderation"], policy=fields["policy"],
        licence=document["licence"], retention_days=fields["retention_days"],
    )
    if fields["created_at"]:
        event.created_at = _moment(fields["created_at"], "event.created_at")  # type: ignore[assignment]
    event.topics = [Topic(slug=t["slug"], name=t["name"], position=i)
                    for i, t in enumerate(document["topics"])]
    db.session.add(event)
    db.session.flush()
    topic_ids = {t.slug: t.id for t in event.topics}

    question_ids: dict[int, int] = {}
    comment_ids: dict[int, int] = {}
    questions = document["questions"]
    for start in range(0, len(questions), BATCH):
        batch = questions[start:start + BATCH]
        rows = [{
            "event_id": event.id,
            "topic_id": topic_ids[q["topic"]] if q["topic"] else None,
            "participant_id": None, "client_id": None,
            "body": q["body"], "original_body": q["original_body"],
            "author": public_name(q["author"], q["quote"]), "quote": q["quote"],
            "seeded": q["seeded"], "status": q["status"], "highlighted": q["highlighted"],
            "pinned": q["pinned"], "edited": q["edited"], "merged_into_id": None,
            "votes": q["votes"], "comments": q["comments"],
            "created_at": _moment(q["created_at"], ""),
            "answered_at": _moment(q["answered_at"], ""),
        } for q in batch]
        new_ids = db.session.scalars(
            insert(Question).returning(Question.id, sort_by_parameter_order=True), rows
        ).all()
        question_ids.update(zip((q["id"] for q in batch), new_ids, strict=True))
    comments = [(question_ids[q["id"]], c) for q in questions for c in q["thread"]]
    for start in range(0, len(comments), BATCH):
        batch_c = comments[start:start + BATCH]
        rows = [{
            "question_id": qid, "participant_id": None, "client_id": None,
            "body": c["body"], "author": public_name(c["author"], c["quote"]),
            "quote": c["quote"], "hidden": c["hidden"],
            "created_at": _moment(c["created_at"], ""),
        } for qid, c in batch_c]
        new_ids = db.session.scalars(
            insert(Comment).returning(Comment.id, sort_by_parameter_order=True), rows
        ).all()
        comment_ids.update(zip((c["id"] for _, c in batch_c), new_ids, strict=True))
    for q in questions:
        if q["merged_into"] is not None:
            db.session.execute(
                update(Question).where(Question.id == question_ids[q["id"]])
                .values(merged_into_id=question_ids[q["merged_into"]])
            )
    log = [{
        "event_id": event.id, "action": e["action"],
        "question_id": question_ids.get(e["question_id"]) if e["question_id"] else None,
        "comment_id": comment_ids.get(e["comment_id"]) if e["comment_id"] else None,
        "participant_id": None, "user_id": None, "reason": e["reason"],
        "at": _moment(e["at"], ""),
    } for e in document["moderation_log"]]
    if log:
        db.session.execute(insert(ModerationEntry), log)
    db.session.commit()
    return event, {
        "questions": len(question_ids),
        "comments": len(comment_ids),
        "votes": sum(q["votes"] for q in questions),
        "log": len(log),
    }


# ---------------------------------------------------------------------------
# Command line


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


def write_export(code: str, fmt: str, output: Path | None, *, lang: str = "en",
                 base_url: str | None = None, standalone: bool = False) -> ThreadModel:
    """Write one event's export to a file (complete or not at all) or to standard output.

    Raises LookupError for an unknown code. Used by ``flask export`` and, for the archive
    written before a deletion, ``flask events delete``.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    headers = {"Accept-Language": lang.replace("_", "-")}
    with app.test_request_context("/", base_url=base_url or "http://localhost/",
                                  headers=headers):
        if find_event_any(code) is None:
            raise LookupError(code)
        if standalone:
            css_href = standalone_css_href()
        elif base_url:
            css_href = url_for("static", filename="css/report.css", _external=True)
        else:
            css_href = url_for("static", filename="css/report.css")
        begin_snapshot()
        model = build(code)
        stream, finish = _open_output(output)
        ok = False
        try:
            for piece in render(model, fmt, css_href=css_href):
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
            f"cannot write {output}: the folder {folder} does not exist (create it first).")
    if not folder.is_dir():
        raise click.ClickException(f"cannot write {output}: {folder} is not a folder.")
    if output.is_dir():
        raise click.ClickException(f"cannot write {output}: it is a folder; name a file.")


@click.command("export")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="json",
              show_default=True, help="csv, json (the archive), md or html (the reports).")
@click.option("-o", "--output", type=click.Path(path_type=Path, allow_dash=True),
              help="Write to this file instead of standard output.")
@click.option("--lang", type=click.Choice(["en", "es", "pt_BR"]), default="en",
              show_default=True, help="Language of the Markdown and HTML reports.")
@click.option("--base-url", default=None,
              help="Address of the server whose /static/css/report.css the HTML report links.")
@click.option("--standalone", is_flag=True,
              help="HTML: embed the stylesheet as a data: URL, for reading without the server.")
@with_appcontext
@guarded
def export_command(code: str, fmt: str, output: Path | None, lang: str, base_url: str | None,
                   standalone: bool) -> None:
    """Export an event's threads (anonymised) as CSV, JSON archive, Markdown or HTML."""
    check_output(output)
    try:
        model = write_export(code, fmt, output, lang=lang, base_url=base_url,
                             standalone=standalone)
    except LookupError:
        raise click.ClickException(f"There is no event with code '{code}'.") from None
    if output is not None and str(output) != "-":
        click.echo(f"Exported '{model.code}' as {fmt} to {output}.", err=True)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@guarded
def import_command(file: Path) -> None:
    """Restore a JSON archive (from flask export --format json) as a new event."""
    try:
        document = read_archive(file.read_bytes())
        event, counts = restore(document)
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

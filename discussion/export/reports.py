"""The workshop reports, Markdown and HTML, each rendered from its template.

Both read the same report context: the event's facts, the summary figures, one section
per topic ranked by votes, and the moderation figures, by question and by action. Times
are shown in the event's time zone, with the zone named; seeded questions are dated by
the event's day. The reports never show hidden or pending posts, the text of a post
whose author chose ``quote: none``, or the original of an edited question.

``templates/report.md`` is rendered with autoescape off: every user-written text in it
goes through the ``md`` (a block) or ``md_line`` (one line) filter, which write it as
literal Markdown. ``templates/report.html`` is autoescaped as every page is, and carries
its stylesheet inline (allowed by a CSP hash), so a report file opened from disk is
styled and prints on A4 or Letter without the server.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from jinja2 import Environment

from ..models import QuestionStatus, Quote
from ..rules.enums import PUBLIC_ACTIONS, Paper
from .archive import gather
from .model import Section, Thread, ThreadModel

# CSS page sizes of each paper choice.
PAPER_SIZES = {Paper.A4: "A4", Paper.LETTER: "letter"}


# -- times in the event's zone ------------------------------------------------------------


def local_time(stamp: str | None, model: ThreadModel) -> str:
    """'2016-12-08 09:04 CST' from an archive timestamp, in the event's zone."""
    if not stamp:
        return ""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(model.zone)
    return moment.strftime("%Y-%m-%d %H:%M") + " " + zone_abbreviation(moment)


def zone_abbreviation(moment: datetime) -> str:
    """'CST', 'WET', 'UTC'; 'UTC−03' where the zone has no letters for it."""
    name = moment.tzname() or "UTC"
    if re.fullmatch(r"[A-Za-z]{2,6}", name):
        return name
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}" + (f":{rest:02d}" if rest else "")


# -- what a report shows of a thread -------------------------------------------------------


class Phrases:
    """The words a report repeats for every thread, translated once per report: a large
    event asks for them tens of thousands of times, and each lookup goes through the
    request's locale."""

    def __init__(self) -> None:
        self.seeded = _("Seeded by the organisers")
        self.anonymously = _("Asked anonymously")
        self.asked_by = _("Asked by %(name)s")  # formatted here, below
        self.edited = _("edited by a moderator")
        self.answered_at = _("answered %(when)s")
        self.answered = _("answered")
        self.highlighted = _("highlighted")
        self.pinned = _("pinned")
        self.comments = _("Comments")
        self.anonymous = _("anonymous")
        self._votes: dict[int, str] = {}
        self._comment_counts: dict[int, str] = {}

    def votes(self, n: int) -> str:
        if n not in self._votes:
            self._votes[n] = ngettext("%(num)d vote", "%(num)d votes", n)
        return self._votes[n]

    def comment_count(self, n: int) -> str:
        if n not in self._comment_counts:
            self._comment_counts[n] = ngettext("%(num)d comment", "%(num)d comments", n)
        return self._comment_counts[n]


def report_post(post: dict[str, Any], model: ThreadModel) -> dict[str, Any]:
    """What a report may show of a post: the text unless its author said "do not quote",
    and a name only with ``quote: named`` (the thread model already dropped the others)."""
    return {
        "text": None if post["quote"] == Quote.NONE else post["body"],
        "name": post["author"],
        "when": local_time(post["created_at"], model),
    }


def report_thread(
    thread: Thread, rank: int, model: ThreadModel, day_text: str, words: Phrases
) -> dict[str, Any]:
    """A published thread as the reports show it (hidden comments are already left out)."""
    q = thread.question
    t = {
        **report_post(q, model),
        "rank": rank,
        "id": q["id"],
        "votes": q["votes"],
        "comment_count": len(thread.comments),
        "answered": q["status"] == QuestionStatus.ANSWERED,
        "answered_when": local_time(q["answered_at"], model),
        "seeded": q["seeded"],
        "pinned": q["pinned"],
        "highlighted": q["highlighted"],
        "edited": q["edited"],
        "comments": [report_post(c, model) for c in thread.comments],
    }
    if t["seeded"] and day_text:
        # Seeded questions were written for the event, not when the seed file was loaded.
        t["when"] = day_text
    t["badges"] = thread_badges(t, words)
    t["byline"] = byline(t, words)
    return t


def thread_badges(t: dict[str, Any], words: Phrases) -> list[str]:
    """Votes, comments and the flags of a thread, as short labels."""
    badges = [words.votes(t["votes"]), words.comment_count(t["comment_count"])]
    if t["answered"]:
        badges.append(words.answered)
    if t["highlighted"]:
        badges.append(words.highlighted)
    if t["pinned"]:
        badges.append(words.pinned)
    return badges


def byline(t: dict[str, Any], words: Phrases) -> str:
    """Who asked (or "seeded"), when, and what moderators did to it."""
    if t["seeded"]:
        who = words.seeded
    elif t["name"]:
        who = words.asked_by % {"name": t["name"]}
    else:
        who = words.anonymously
    parts = [who, t["when"]]
    if t["edited"]:
        parts.append(words.edited)
    if t["answered"] and t["answered_when"]:
        parts.append(words.answered_at % {"when": t["answered_when"]})
    parts.append(f"#{t['id']}")
    return " · ".join(parts)


def section_line(f: dict[str, int]) -> str:
    """A topic's figures in one line."""
    return " · ".join(
        (
            ngettext("%(num)d question", "%(num)d questions", f["questions"]),
            ngettext("%(num)d vote", "%(num)d votes", f["votes"]),
            ngettext("%(num)d comment", "%(num)d comments", f["comments"]),
            ngettext("%(num)d answered", "%(num)d answered", f["answered"]),
        )
    )


@dataclass(slots=True)
class ReportSection:
    """A topic as the templates read it; ``threads`` is streamed."""

    name: str
    line: str
    threads: Iterator[dict[str, Any]]


def report_sections(model: ThreadModel, day_text: str, words: Phrases) -> Iterator[ReportSection]:
    """The ranked sections, each thread numbered within its topic."""

    def ranked(section: Section) -> Iterator[dict[str, Any]]:
        for rank, thread in enumerate(section.threads, 1):
            yield report_thread(thread, rank, model, day_text, words)

    for section in model.sections():
        yield ReportSection(section.name, section_line(section.figures), ranked(section))


# -- moderation: by question and by action ---------------------------------------------


def moderation_labels() -> dict[str, str]:
    """Readable names of the logged actions."""
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


def moderation_state(figures: dict[str, int]) -> list[dict[str, Any]]:
    """Where the questions and comments stand at export time, each counted once."""
    merged = figures.get("merged_questions", 0)
    return [
        {
            "label": _("Questions hidden by a moderator"),
            "count": figures["hidden_questions"] - merged,
        },
        {"label": _("Duplicates merged into another question"), "count": merged},
        {"label": _("Comments hidden"), "count": figures["hidden_comments"]},
        {"label": _("Questions awaiting approval"), "count": figures["pending"]},
    ]


def report_context(model: ThreadModel, paper: Paper = Paper.A4) -> dict[str, Any]:
    """What both reports show; the threads are streamed as the template reads them."""
    from ..views import action_label  # the public log's wording, as on the privacy page

    event = model.event
    labels = moderation_labels()
    order = {action: i for i, action in enumerate(labels)}
    day = date.fromisoformat(event["date"]) if event["date"] else None
    day_text = format_date(day, format="long") if day else ""
    exported = model.exported_at.replace(tzinfo=UTC).astimezone(model.zone)
    words = Phrases()
    return {
        "event": event,
        "licence": model.licence,
        "date_text": day_text,
        "timezone": event.get("timezone") or "UTC",
        "figures": model.figures,
        "sections": report_sections(model, day_text, words),
        "words": words,
        "moderation_state": moderation_state(model.figures),
        "moderation": [
            {
                "action": a.action,
                "label": labels.get(a.action, a.action),
                "posts": a.posts,
                "times": a.times,
            }
            for a in sorted(model.moderation_actions, key=lambda a: order.get(a.action, 99))
        ],
        "public_log": [
            {
                "label": action_label(e["action"]),
                "reason": e["reason"],
                "when": local_time(e["at"], model),
            }
            for e in model.moderation_log
            if e["action"] in PUBLIC_ACTIONS
        ],
        "exported_when": exported.strftime("%Y-%m-%d %H:%M") + " " + zone_abbreviation(exported),
        "withheld": _("(not quoted at the author's request)"),
        "paper": paper.value,
    }


# -- Markdown ---------------------------------------------------------------------------

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")
_WHITE = re.compile(r"\s+")
_HASH = re.compile(r"(?<!\\)#")


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


def md_block(text: str | None, prefix: str = "") -> str:
    """Escaped text whose every line after the first starts with ``prefix`` (a quote
    block's "> ", a list item's indent), so a line break cannot end the block."""
    return md_escape(text or "").replace("\n", "\n" + prefix)


def md_line(text: str | None) -> str:
    """Escaped text on one line: a heading, a list item, a table cell. Line breaks (which
    would end them) become spaces, and every '#' is escaped (a heading's closing '#'s
    would be dropped)."""
    return _HASH.sub(r"\\#", md_escape(_WHITE.sub(" ", text or "").strip()))


def markdown_env() -> Environment:
    """The app's template environment without autoescape (Markdown is not HTML), with
    the Markdown filters; made once per app."""
    env = current_app.extensions.get("report_markdown_env")
    if env is None:
        env = current_app.jinja_env.overlay(autoescape=False, trim_blocks=True, lstrip_blocks=True)
        env.filters = {**env.filters, "md": md_block, "md_line": md_line}
        current_app.extensions["report_markdown_env"] = env
    return env


def render_md(model: ThreadModel) -> Iterator[str]:
    """The Markdown report (templates/report.md)."""
    template = markdown_env().get_template("report.md")
    return gather(template.generate(**report_context(model)))


# -- HTML -------------------------------------------------------------------------------


def report_css(paper: Paper) -> str:
    """static/css/report.css with the page size of the chosen paper."""
    css = Path(current_app.static_folder or "static", "css", "report.css").read_text("utf-8")
    return css.rstrip() + "\n" + paper_rule(paper)


def paper_rule(paper: Paper) -> str:
    """The @page rule that sets the paper size (it follows, so it wins)."""
    return f"@page {{ size: {PAPER_SIZES[paper]}; }}\n"


def style_hash(css: str) -> str:
    """The CSP source that allows exactly this inline stylesheet."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


def report_csp(style_src: str) -> str:
    """The report's Content-Security-Policy: no script, no image, only its own style."""
    return (
        f"default-src 'none'; style-src {style_src}; img-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


@dataclass(frozen=True, slots=True)
class Stylesheet:
    """How an HTML report gets its style: inline (``css``) or linked (``href``, with the
    paper size inline), and the CSP source list that allows exactly that."""

    css: str
    href: str | None
    style_src: str

    @classmethod
    def inline(cls, paper: Paper) -> Stylesheet:
        css = report_css(paper)
        return cls(css, None, style_hash(css))

    @classmethod
    def linked(cls, href: str, paper: Paper) -> Stylesheet:
        css = paper_rule(paper)
        origin = urlsplit(href)
        src = "'self'"
        if origin.scheme in ("http", "https") and origin.netloc:
            src += f" {origin.scheme}://{origin.netloc}"
        return cls(css, href, f"{src} {style_hash(css)}")


def render_html(
    model: ThreadModel, *, paper: Paper = Paper.A4, stylesheet: Stylesheet | None = None
) -> Iterator[str]:
    """The printable HTML report (templates/report.html), self-contained by default."""
    style = stylesheet or Stylesheet.inline(paper)
    template = current_app.jinja_env.get_template("report.html")
    return gather(
        template.generate(
            **report_context(model, paper),
            style=style,
            csp=report_csp(style.style_src),
            lang=str(get_locale() or "en").replace("_", "-"),
        )
    )

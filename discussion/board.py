"""Context for the projector board and the moderator console, and the join QR code."""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import Blueprint, Response, abort, request
from flask_babel import gettext, ngettext, pgettext
from markupsafe import Markup

from .errors import DomainError
from .identity import Actor, http_actor
from .models import Event
from .queries import event_dict, find_event, iso, list_questions
from .rules.access import Need, access, question_public
from .rules.enums import (
    PUBLIC_ACTIONS,
    EventStatus,
    QuestionStatus,
    ReasonCode,
    browser_table,
)
from .ui_strings import reason_labels

bp = Blueprint("board", __name__)

THEMES = ("dark", "light")
# QR codes are always dark modules on a light ground (inverted codes defeat many scanners),
# with the standard four-module quiet zone so the code scans on a dark board too.
QR_DARK, QR_LIGHT, QR_BORDER, QR_ERROR = "#000000", "#ffffff", 4, "m"
_COUNT = "%(count)s"
# The organiser is warned this many days before retention removes names and links.
PURGE_WARNING_DAYS = 14
# The board's controls (topic, theme, full screen) and the cursor hide after this many
# idle milliseconds; ``?idle=<ms>`` overrides it (tests use a short delay).
IDLE_MS, IDLE_MIN_MS, IDLE_MAX_MS = 4000, 200, 600_000


def join_url(event: Event) -> str:
    """The address phones open to join: this server's URL for the event."""
    return request.host_url.rstrip("/") + "/e/" + event.code


def short_url(url: str) -> str:
    """The join URL as people type it: without the scheme."""
    return url.split("://", 1)[-1]


def qr_code(url: str) -> segno.QRCode:
    """The QR code of a join URL (error correction M: survives a washed-out projection)."""
    return segno.make(url, error=QR_ERROR, micro=False)


def qr_svg_inline(url: str, label: str) -> Markup:
    """The QR code as an inline <svg> that CSS sizes (viewBox, no width/height, no style)."""
    svg = qr_code(url).svg_inline(
        scale=1,
        border=QR_BORDER,
        dark=QR_DARK,
        light=QR_LIGHT,
        omitsize=True,
        svgclass="qr-svg",
        lineclass="qr-line",
        title=label,
    )
    # segno escapes the title; the rest is its own fixed markup.
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))


def _plural_parts(pattern: str, n: int) -> dict[str, Any]:
    """A translated "%(count)s things" split around the number, so it can be set in bold."""
    before, _sep, after = pattern.partition(_COUNT)
    return {"n": n, "before": before, "after": after}


def _patterns(n: int) -> dict[str, str]:
    """Every plural pattern of the board for the count n, with the %(count)s placeholder kept.

    Literal calls, so that pybabel finds each msgid and its plural.
    """
    return {
        "here": ngettext("%(count)s person here", "%(count)s people here", n, count=_COUNT),
        "questions": ngettext("%(count)s question", "%(count)s questions", n, count=_COUNT),
        "votes": ngettext("%(count)s vote", "%(count)s votes", n, count=_COUNT),
        "comments": ngettext("%(count)s comment", "%(count)s comments", n, count=_COUNT),
        "more": ngettext(
            "%(count)s more question on your phones",
            "%(count)s more questions on your phones",
            n,
            count=_COUNT,
        ),
    }


def js_strings() -> dict[str, str]:
    """Every string board.js shows or announces, in the current locale.

    Plural pairs come as ``<key>_one`` and ``<key>_other`` with a ``%(count)s``
    placeholder; the script picks the form with ``Intl.PluralRules``.
    """
    strings: dict[str, str] = {
        "now_discussing": gettext("Now discussing"),
        "announce_now": gettext("Now discussing: %(body)s", body="%(body)s"),
        "announce_none": gettext("No question is highlighted now."),
        "answered": gettext("Answered"),
        "pinned": gettext("Pinned"),
        "edited": gettext("edited"),
        "seeded": gettext("From the organisers"),
        "votes_label": gettext("votes"),
        "no_questions": gettext("No questions yet. Scan the code and ask the first one."),
        "no_questions_topic": gettext("No questions on this topic yet."),
        "no_answered": gettext("None yet."),
        "live": gettext("Live"),
        "connecting": gettext("Connecting…"),
        "reconnecting": gettext("Reconnecting…"),
        "closed": gettext("Closed: no new questions, votes or comments"),
        "join": gettext("Join on your phone"),
        "join_closed": gettext("Read the questions on your phone"),
        "recent": gettext("Just asked: vote on your phone"),
        "recent_closed": gettext("Also asked"),
        "no_questions_closed": gettext("No questions were asked."),
        "no_questions_topic_closed": gettext("No questions on this topic."),
        "theme_to_light": gettext("Light theme"),
        "theme_to_dark": gettext("Dark theme"),
        "fullscreen": gettext("Full screen"),
        "fullscreen_exit": gettext("Exit full screen"),
    }
    for form, n in (("one", 1), ("other", 2)):
        for key, pattern in _patterns(n).items():
            strings[f"{key}_{form}"] = pattern
    return strings


def idle_ms() -> int:
    """How long the board waits before hiding its controls and the cursor."""
    try:
        value = int(request.args.get("idle", ""))
    except ValueError:
        return IDLE_MS
    return min(max(value, IDLE_MIN_MS), IDLE_MAX_MS)


# Which reasons fit which dialog: hiding judges the content (any reason), muting the
# behaviour.
HIDE_REASONS: tuple[str, ...] = tuple(code.value for code in ReasonCode)
MUTE_REASONS: tuple[str, ...] = tuple(
    code.value for code in (ReasonCode.PERSONAL_ATTACK, ReasonCode.SPAM, ReasonCode.PERSONAL_DATA)
)


def public_statuses() -> list[str]:
    """The question statuses the board shows, as the access policy says."""
    return [status.value for status in QuestionStatus if question_public(status.value)]


def console_keys() -> dict[str, str]:
    """The console's shortcut letter for each action, in the language shown.

    Each letter is translated with its label (es: "D" for "Destacar"), so the key on a
    button matches its word; tests/test_board.py checks every catalogue keeps them
    distinct and off the fixed keys (J, K, ?, /).
    """
    return {
        "highlight": pgettext("shortcut key for Highlight", "H"),
        "answer": pgettext("shortcut key for Mark answered", "A"),
        "pin": pgettext("shortcut key for Pin", "P"),
        "approve": pgettext("shortcut key for Approve", "V"),
        "hide": pgettext("shortcut key for Hide", "X"),
        "restore": pgettext("shortcut key for Restore", "R"),
        "edit": pgettext("shortcut key for Edit", "E"),
        "merge": pgettext("shortcut key for Merge", "M"),
        "mute": pgettext("shortcut key for Mute author", "U"),
        "comments": pgettext("shortcut key for Comments", "C"),
    }


def _rank(q: dict[str, Any]) -> tuple[Any, ...]:
    from .queries import rank_key

    return rank_key(q)


def board_context(event: Event) -> dict[str, Any]:
    """What the board page renders before its socket takes over.

    Only what participants see: questions are listed for an anonymous actor (no
    participant token, no staff login), so a moderator's laptop projecting the board
    never shows pending or hidden questions. ``?topic=<slug>`` filters the ranked
    lists (an unknown slug shows every topic); ``?theme=light|dark`` picks the theme.
    """
    from . import live
    from .views import html_lang

    data = event_dict(event, all_languages=False)
    questions = [
        q for q in list_questions(event, Actor(token=None)) if question_public(q["status"])
    ]
    slugs = {t["slug"] for t in data["topics"]}
    topic = request.args.get("topic") or None
    if topic not in slugs:
        topic = None
    theme = request.args.get("theme")
    if theme not in THEMES:
        theme = None

    highlighted = [q for q in questions if q["highlighted"]]
    now = min(highlighted, key=_rank) if highlighted else None
    in_topic = [q for q in questions if topic is None or q["topic"] == topic]
    ranked = [q for q in in_topic if q["status"] == QuestionStatus.VISIBLE and q is not now]
    answered = [q for q in in_topic if q["status"] == QuestionStatus.ANSWERED and q is not now]
    online = live.coalescer().online(event.id)
    total_votes = sum(q["votes"] for q in questions)

    url = join_url(event)
    qr_label = gettext("QR code to join: %(url)s", url=url)
    return {
        "event": data,
        # Closed: nothing can be asked, voted or commented; the board stops inviting it.
        "closed": data["status"] == EventStatus.CLOSED,
        "questions": questions,
        "now": now,
        "ranked": ranked,
        "answered": answered,
        "topic": topic,
        "topic_names": {t["slug"]: t["name"] for t in data["topics"]},
        "theme": theme,
        "idle_ms": idle_ms(),
        "join_url": url,
        "short_url": short_url(url),
        "qr_svg": qr_svg_inline(url, qr_label),
        "stats": {
            "online": _plural_parts(_patterns(online)["here"], online),
            "questions": _plural_parts(_patterns(len(questions))["questions"], len(questions)),
            "votes": _plural_parts(_patterns(total_votes)["votes"], total_votes),
        },
        "page_data": {
            "event": data,
            "questions": questions,
            "join_url": url,
            "topic": topic,
            "theme": theme,
            "online": online,
            "locale": html_lang(),
            "strings": js_strings(),
            "rules": browser_table(),
            "public_statuses": public_statuses(),
        },
    }


def console_context(event: Event) -> dict[str, Any]:
    """What the moderator console renders before its socket takes over."""
    from .export.retention import purge_at
    from .views import html_lang

    # Staff see the settings participants do not: the retention period and moderators.
    # The settings form edits the texts as written (``original``) and ``translations``.
    data = {
        **event_dict(event),
        "retention_days": event.retention_days,
        "moderators": [user.email for user in event.moderators],
        "timezone": event.timezone,
        "purge_at": iso(purge_at(event)),
    }
    questions = list_questions(event, http_actor())
    labels = reason_labels()
    rules = browser_table()
    return {
        "event": data,
        "questions": questions,
        "join_url": join_url(event),
        "keys": console_keys(),
        "reasons": labels,
        "rules": rules,
        "page_data": {
            "event": data,
            "questions": questions,
            "locale": html_lang(),
            "keys": console_keys(),
            "reasons": labels,
            "rules": rules,
            "public_statuses": public_statuses(),
            "hide_reasons": HIDE_REASONS,
            "mute_reasons": MUTE_REASONS,
            # The log entries participants see too (tagged "public" in the console's log).
            "public_log_actions": list(PUBLIC_ACTIONS),
            "purge_warning_days": PURGE_WARNING_DAYS,
        },
    }


@bp.get("/e/<code>/qr.svg")
@access(Need.ANYONE)
def qr_svg(code: str) -> Response:
    """The join QR code of an event as a standalone SVG file (for slides and print)."""
    try:
        event = find_event(code, http_actor())
    except DomainError:
        abort(404, gettext("There is no event with this code."))
    out = io.BytesIO()
    qr_code(join_url(event)).save(
        out,
        kind="svg",
        scale=10,
        border=QR_BORDER,
        dark=QR_DARK,
        light=QR_LIGHT,
        title=gettext("QR code to join: %(url)s", url=join_url(event)),
    )
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-cache"
    return response

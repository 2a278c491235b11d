"""Pages: join, participant, board, moderation console, privacy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from babel.dates import format_timedelta
from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from . import cache, operations
from .errors import DomainError
from .extensions import db
from .identity import Actor, http_actor, participant_token
from .models import Event, EventStatus
from .queries import (
    event_dict,
    event_ref,
    find_event,
    find_participant,
    list_questions,
    load_event,
    localised_event,
    public_moderation,
    reader_locale,
)
from .rules import access as policy
from .rules.access import Need, access
from .rules.enums import Role, browser_table
from .rules.text import AUTHOR_MAX, CODE_RE

bp = Blueprint("views", __name__)


def current_locale() -> str:
    return str(get_locale() or "en")


def html_lang() -> str:
    """BCP 47 for <html lang>: pt_BR becomes pt-BR."""
    return current_locale().replace("_", "-")


def render(template: str, http_status: int = 200, **context: Any) -> tuple[str, int]:
    """Render a page with what every page needs."""
    return render_template(template, current_locale=html_lang(), **context), http_status


def error_page(status: int, message: str) -> tuple[str, int]:
    """A readable error page in the visitor's language."""
    return render("error.html", status, status=status, message=message)


@bp.get("/")
@access(Need.ANYONE)
def index() -> ResponseReturnValue:
    """The join page: a code box and the live events."""
    return render("join.html", events=_live_events(), code="", error=None)


@bp.get("/join")
@access(Need.ANYONE)
def join() -> ResponseReturnValue:
    """Join by code (case-insensitive) from the form on /."""
    code = (request.args.get("code") or "").strip().lower()
    if CODE_RE.fullmatch(code):
        try:
            event = find_event(code, http_actor())
        except DomainError:
            pass
        else:
            return redirect(url_for("views.event_page", code=event.code))
    return render(
        "join.html",
        404,
        events=_live_events(),
        code=code[:32],
        error=_("There is no event with this code. Check it and try again."),
    )


def _live_events() -> list[dict[str, Any]]:
    events = db.session.scalars(
        select(Event).where(Event.status == EventStatus.LIVE.value).order_by(Event.date.desc())
    )
    locale = reader_locale()
    out = []
    for e in events:
        content = localised_event(e, locale)
        out.append(
            {
                "code": e.code,
                "title": content.title,
                "date": e.date.isoformat() if e.date else None,
                "place": content.place,
            }
        )
    return out


def _event_or_404(code: str) -> Event:
    try:
        return find_event(code, http_actor())
    except DomainError:
        abort(404, _("There is no event with this code."))


@bp.get("/e/<code>")
@access(Need.ANYONE)
def event_page(code: str) -> ResponseReturnValue:
    """The participant page: readable without JavaScript, live with it.

    A phone that has not posted yet sees what every such phone sees, so that page is
    rendered once per change of the event and shared (only the CSRF token differs).
    """
    token = participant_token()  # the first request to an event issues the cookie
    try:
        ref = event_ref(code, http_actor())
    except DomainError:
        abort(404, _("There is no event with this code."))
    if ref.code != code:
        return redirect(url_for("views.event_page", code=ref.code))
    actor = Actor(token=token)  # the participant view, even for a logged-in moderator
    # After "forget me" the page says it was done (the phone reloads with ?forgotten=1).
    forgotten = request.args.get("forgotten") == "1"
    if forgotten or find_participant(ref.id, token) is not None:
        return render_event_page(load_event(ref), actor, forgotten=forgotten)
    page = cache.cached(
        ref.id,
        f"page:{html_lang()}",
        lambda: render_event_page(load_event(ref), Actor(token=None), csrf=_CSRF_SLOT)[0],
    )
    return page.replace(_CSRF_SLOT, generate_csrf())


# Stands in for the CSRF token in the shared page; each response gets its own.
_CSRF_SLOT = "\x00csrf-slot\x00"


def render_event_page(
    event: Event, actor: Actor, csrf: str | None = None, *, forgotten: bool = False
) -> tuple[str, int]:
    """Render the participant page for one actor."""
    from .ui_strings import js_strings

    data = event_dict(event, all_languages=False)
    questions = list_questions(event, actor)
    page_data = {
        "event": data,
        "questions": questions,
        "strings": js_strings(),
        "locale": html_lang(),
        "author_max": AUTHOR_MAX,
        "rules": browser_table(),
    }
    extra: dict[str, Any] = {} if csrf is None else {"csrf_token": lambda: csrf}
    return render(
        "event.html",
        event=data,
        questions=questions,
        page_data=page_data,
        author_max=AUTHOR_MAX,
        forgotten=forgotten,
        **extra,
    )


@bp.app_template_filter("ago")
def ago(value: str | None) -> str:
    """How long ago an ISO timestamp was, in the reader's language, as the script
    writes it later (so that the text barely changes when the script takes over)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime.now(UTC)
    if abs(delta.total_seconds()) < 45:
        return str(_("now"))
    return format_timedelta(delta, add_direction=True, format="short", locale=get_locale())


@bp.get("/e/<code>/board")
@access(Need.ANYONE)
def board(code: str) -> ResponseReturnValue:
    """The projector board."""
    event = _event_or_404(code)
    from .board import board_context

    return render("board.html", **board_context(event))


@bp.get("/e/<code>/moderate")
@access(Need.MODERATOR)
def moderate(code: str) -> ResponseReturnValue:
    """The moderator console (staff of this event)."""
    from flask_login import current_user

    event = _event_or_404(code)
    if not policy.moderates(current_user, event):
        abort(403, _("You do not moderate this event."))
    from .board import console_context

    return render("moderate.html", **console_context(event))


@bp.get("/staff")
@access(Need.STAFF)
def staff() -> ResponseReturnValue:
    """Staff home: the events this user moderates; organisers create events here."""
    from flask_login import current_user

    from .board import PURGE_WARNING_DAYS

    events = [event_dict(e) for e in operations.events_for(current_user)]
    is_organiser = current_user.role == Role.ORGANISER
    return render(
        "staff.html",
        events=events,
        is_organiser=is_organiser,
        page_data={
            "events": events,
            "locale": html_lang(),
            "is_organiser": is_organiser,
            "rules": browser_table(),
            "purge_warning_days": PURGE_WARNING_DAYS,
        },
    )


@bp.get("/e/<code>/privacy")
@access(Need.ANYONE)
def privacy(code: str) -> ResponseReturnValue:
    """What is stored, for how long, and who sees it: generated from the real settings."""
    participant_token()
    event = _event_or_404(code)
    public = public_moderation(event)
    entries = [
        {
            **entry,
            "label": action_label(entry["action"]),
            "reason_label": reason_label(entry["reason_code"]),
            "at_display": format_datetime(parse_iso(entry["at"]), "medium"),
        }
        for entry in public["entries"]
    ]
    data = event_dict(event)
    return render(
        "privacy.html",
        event=data,
        retention_days=event.retention_days,
        policy=data["policy"],
        moderation_entries=entries,
    )


def parse_iso(value: str) -> datetime:
    """Our own ISO timestamps back into naive UTC datetimes."""
    return datetime.fromisoformat(value.rstrip("Z"))


def action_label(action: str) -> str:
    """A moderation action in the reader's language."""
    labels: dict[str, str] = {
        "hide": _("A question was hidden"),
        "restore": _("A question was restored"),
        "hide_comment": _("A comment was hidden"),
        "restore_comment": _("A comment was restored"),
        "merge": _("A duplicate question was merged into another"),
        "edit": _("A question was edited"),
        "mute": _("A participant's posting was paused"),
        "unmute": _("A participant's posting was resumed"),
        "delete": _("A question was deleted by a moderator"),
        "delete_comment": _("A comment was deleted by a moderator"),
        "status:closed": _("The event was closed to new posts"),
        "status:live": _("The event was opened for posts"),
    }
    return labels.get(action, action)


def reason_label(code: str | None) -> str:
    """A common moderation reason (stored as a code) in the reader's language."""
    from .ui_strings import reason_labels

    return reason_labels().get(code or "", "")


@bp.get("/lang/<lang>")
@access(Need.ANYONE)
def set_language(lang: str) -> ResponseReturnValue:
    """The language switcher: remember the choice in a cookie."""
    from flask import current_app

    from .auth import safe_next

    response = redirect(safe_next(request.args.get("next")))
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", lang, max_age=60 * 60 * 24 * 365, httponly=True, samesite="Lax")
    return response

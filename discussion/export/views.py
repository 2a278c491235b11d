"""Downloads from the console: ``GET /e/<code>/export.<csv|json|md|html>``.

Staff who moderate the event only. The HTML report opens in the browser (inline) so
it can be printed from its tab; the other formats are attachments (``?download=1``
makes the report one too). ``?paper=a4|letter`` lays the report out for that paper.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, jsonify, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from ..rules import shapes
from ..rules.access import Need, access, moderates
from ..rules.enums import ErrorCode, Paper
from . import FORMATS, filename, render
from .model import begin_snapshot, build, find_event_any
from .reports import Stylesheet, report_csp

bp = Blueprint("export", __name__)


def _wants_json() -> bool:
    """API clients (no Accept header, */*, JSON first) get JSON errors; browsers pages."""
    accept = request.accept_mimetypes
    if not accept:
        return True
    return accept.best_match(["application/json", "text/html"]) == "application/json"


def _refuse(status: int, code: ErrorCode, message: str):  # type: ignore[no-untyped-def]  # a Flask view
    if _wants_json():
        return jsonify(shapes.error(code, message)), status
    from ..views import error_page

    return error_page(status, message)


@bp.get("/e/<code>/export.<any(csv, json, md, html):fmt>")
@access(Need.MODERATOR, files=True)
def download(code: str, fmt: str):  # type: ignore[no-untyped-def]  # a Flask view
    """Staff who moderate the event download its export."""
    event = find_event_any(code)
    if event is None:
        return _refuse(404, ErrorCode.EVENT_NOT_FOUND, _("There is no event with this code."))
    if not moderates(current_user, event):
        return _refuse(403, ErrorCode.FORBIDDEN, _("You do not moderate this event."))
    try:
        paper = Paper(request.args.get("paper", Paper.A4.value).strip().lower())
    except ValueError:
        return _refuse(400, ErrorCode.INVALID_PAPER, _("The paper is a4 or letter."))
    event_code = event.code
    stylesheet = Stylesheet.inline(paper) if fmt == "html" else None

    def body() -> Iterator[bytes]:
        begin_snapshot()
        yield from render(build(event_code), fmt, paper=paper, stylesheet=stylesheet)

    response = Response(stream_with_context(body()), content_type=FORMATS[fmt])
    # The report opens in a tab, ready to print; everything else is saved.
    opens = fmt == "html" and request.args.get("download") not in ("1", "true", "yes")
    response.headers["Content-Disposition"] = (
        f'{"inline" if opens else "attachment"}; filename="{filename(event_code, fmt)}"'
    )
    response.headers["Cache-Control"] = "no-store"
    if stylesheet is not None:
        # The app's policy forbids inline styles; the report allows exactly its own.
        response.headers["Content-Security-Policy"] = (
            report_csp(stylesheet.style_src) + "; frame-ancestors 'none'"
        )
    return response

"""The JSON API under /api/v1: parse, call one operation or query, answer JSON."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from . import operations, queries
from .database import database_busy
from .errors import DomainError, ValidationError
from .extensions import db
from .identity import http_actor
from .models import ModerationEntry
from .openapi import openapi_document
from .queries import (
    event_dict,
    find_event,
    iso,
    list_comments,
    list_questions,
    similar_questions,
)
from .rules import access as policy
from .rules import schemas, shapes
from .rules.access import Need, access
from .rules.enums import ErrorCode
from .rules.event_rules import event_status
from .rules.events import EventChanges, NewEvent, parse_event
from .rules.schemas import moderation, parse, require_object
from .rules.text import QUESTION_MAX, clean

bp = Blueprint("api", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)


def error(code: ErrorCode, message: str, status: int) -> tuple[Response, int]:
    """The error shape of the contract (rules.shapes.Error)."""
    return jsonify(shapes.error(code, message)), status


def _body() -> dict[str, Any]:
    return require_object(_json())


def _json() -> Any:
    """The request's JSON, or None when it is not JSON at all.

    Deeply nested documents raise RecursionError, which ``silent`` does not catch.
    """
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise ValidationError(
            ErrorCode.INVALID_JSON, "The JSON document is nested too deeply."
        ) from None


# -- events and questions


@bp.get("/events/<code>")
@access(Need.ANYONE)
def get_event(code: str) -> ResponseReturnValue:
    """The event with its topics."""
    return jsonify(event_dict(find_event(code, http_actor())))


@bp.get("/events/<code>/questions")
@access(Need.ANYONE)
def get_questions(code: str) -> ResponseReturnValue:
    """The questions the caller may see, ranked."""
    actor = http_actor()
    event = find_event(code, actor)
    sort = request.args.get("sort", "top")
    if sort not in ("top", "new"):
        raise ValidationError(ErrorCode.INVALID_SORT, "'sort' is 'top' or 'new'.")
    topic = request.args.get("topic") or None
    questions = list_questions(event, actor, sort=sort, topic=topic)
    return jsonify(shapes.listing(shapes.QuestionList, questions=questions))


@bp.get("/events/<code>/similar")
@access(Need.ANYONE)
def get_similar(code: str) -> ResponseReturnValue:
    """Up to three visible questions that say the same as ``q``, best first."""
    actor = http_actor()
    event = find_event(code, actor)
    text = clean(request.args.get("q"), field="q", max_len=QUESTION_MAX)
    alike = similar_questions(event, actor, str(text))
    return jsonify(
        shapes.SimilarQuestions.model_validate({"questions": alike}).model_dump(mode="json")
    )


@bp.post("/events/<code>/questions")
@access(Need.PARTICIPANT)
def post_question(code: str) -> ResponseReturnValue:
    """Ask a question (201), or return the stored one for a repeated client_id (200)."""
    actor = http_actor()
    event = find_event(code, actor)
    new = parse(schemas.NewQuestion, _json())
    question, created = operations.ask(actor, event, new, new.topic)
    return jsonify(question), 201 if created else 200


@bp.route("/questions/<id:question_id>/vote", methods=["PUT", "DELETE"])
@access(Need.PARTICIPANT)
def put_vote(question_id: int) -> ResponseReturnValue:
    """Upvote (PUT) or take back (DELETE); repeating either changes nothing."""
    return jsonify(operations.vote(http_actor(), question_id, request.method == "PUT"))


@bp.route("/questions/<id:question_id>/comments", methods=["GET", "POST"])
@access(Need.PARTICIPANT)
def comments(question_id: int) -> ResponseReturnValue:
    """GET: a question's thread, oldest first. POST: comment (201), or the stored
    comment for a repeated client_id (200). One rule, so a bad id is 404 for both."""
    if request.method == "GET":
        thread = list_comments(question_id, http_actor())
        return jsonify(shapes.listing(shapes.CommentList, comments=thread))
    new, created = operations.comment(http_actor(), question_id, parse(schemas.NewComment, _json()))
    return jsonify(new), 201 if created else 200


@bp.delete("/questions/<id:question_id>")
@access(Need.AUTHOR_OR_MODERATOR)
def delete_question(question_id: int) -> ResponseReturnValue:
    """Delete a question (its author, or staff)."""
    operations.delete_question(http_actor(), question_id)
    return "", 204


@bp.delete("/comments/<id:comment_id>")
@access(Need.AUTHOR_OR_MODERATOR)
def delete_comment(comment_id: int) -> ResponseReturnValue:
    """Delete a comment (its author, or staff)."""
    operations.delete_comment(http_actor(), comment_id)
    return "", 204


@bp.delete("/events/<code>/me")
@access(Need.PARTICIPANT)
def forget_me(code: str) -> ResponseReturnValue:
    """Forget me: erase or anonymise everything this participant posted in the event."""
    actor = http_actor()
    return jsonify(operations.forget_me(actor, find_event(code, actor)))


@bp.get("/events/<code>/moderation")
@access(Need.ANYONE)
def public_moderation(code: str) -> ResponseReturnValue:
    """The public side of moderation: policy, how much is hidden, and why; never the text."""
    return jsonify(queries.public_moderation(find_event(code, http_actor())))


# -- staff


@bp.post("/events")
@access(Need.ORGANISER)
def create_event() -> ResponseReturnValue:
    """Create an event (organisers)."""
    data = parse_event(NewEvent, _body())
    event = operations.create_event(http_actor(), data)
    return jsonify(event_dict(event)), 201


@bp.patch("/events/<code>")
@access(Need.MODERATOR)
def patch_event(code: str) -> ResponseReturnValue:
    """Change an event: status and moderation mode (its moderators), anything (organisers)."""
    actor = http_actor()
    event = find_event(code, actor)
    data = parse_event(EventChanges, _body())
    return jsonify(event_dict(operations.update_event(actor, event, data)))


@bp.post("/questions/<id:question_id>/moderate")
@access(Need.MODERATOR)
def moderate_question(question_id: int) -> ResponseReturnValue:
    """One moderation action on a question; answers the (staff) Question."""
    given = parse(schemas.QuestionModeration, _json())
    return jsonify(operations.moderate_question(http_actor(), question_id, **moderation(given)))


@bp.post("/comments/<id:comment_id>/moderate")
@access(Need.MODERATOR)
def moderate_comment(comment_id: int) -> ResponseReturnValue:
    """Hide or restore a comment, or mute its author."""
    given = parse(schemas.CommentModeration, _json())
    return jsonify(operations.moderate_comment(http_actor(), comment_id, **moderation(given)))


@bp.get("/events/<code>/moderation-log")
@access(Need.MODERATOR)
def moderation_log(code: str) -> ResponseReturnValue:
    """Every moderation action of the event, newest first (staff)."""
    actor = http_actor()
    event = find_event(code, actor)
    policy.require_moderator(actor, event)
    entries = db.session.scalars(
        select(ModerationEntry)
        .where(ModerationEntry.event_id == event.id)
        .order_by(ModerationEntry.at.desc(), ModerationEntry.id.desc())
    )
    record = shapes.ModerationLog.model_validate(
        {
            "entries": [
                {
                    "id": e.id,
                    "action": e.action,
                    "question_id": e.question_id,
                    "comment_id": e.comment_id,
                    "reason": e.reason,
                    "reason_code": e.reason_code,
                    "by": e.user.email if e.user else None,
                    "at": iso(e.at),
                }
                for e in entries
            ]
        }
    )
    return jsonify(record.model_dump(mode="json"))


@bp.get("/openapi.json")
@access(Need.ANYONE)
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())


# -- errors: every failure under /api answers the error shape


def init_app(app: Flask) -> None:
    """Turn domain errors, HTTP errors, CSRF failures and a database that stays locked
    into the contract's error shape."""

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> ResponseReturnValue:
        db.session.rollback()
        if request.path.startswith("/api/") or request.is_json:
            return error(exc.code, exc.message, exc.status)
        from .views import error_page

        return error_page(exc.status, exc.message)

    @app.errorhandler(OperationalError)
    def _database_error(exc: OperationalError) -> ResponseReturnValue:
        busy = database_busy(exc)
        if busy is None:
            raise exc  # a real fault: Flask logs it and answers 500
        log.warning("database busy after retries: %s %s", request.method, request.path)
        response = make_response(_domain_error(busy))
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
        message = gettext(
            "Missing or invalid CSRF token: send the page's csrf-token as X-CSRFToken."
        )
        if request.path.startswith("/api/"):
            return error(ErrorCode.CSRF_FAILED, message, 400)
        from .views import error_page

        return error_page(400, message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        message = _http_message(exc)
        if request.path.startswith("/api/"):
            return error(http_error_code(exc), message, exc.code or 400)
        from .views import error_page

        return error_page(exc.code or 500, message)


def http_error_code(exc: HTTPException) -> ErrorCode:
    """The code of an HTTP error raised outside our rules: werkzeug's name for it
    (``method_not_allowed``), ``rate_limited`` for any 429, and for a status the app is
    not known to answer, the generic code of its class."""
    if exc.code == 429:
        return ErrorCode.RATE_LIMITED
    try:
        return ErrorCode((exc.name or "").lower().replace(" ", "_"))
    except ValueError:
        return ErrorCode.BAD_REQUEST if (exc.code or 500) < 500 else ErrorCode.INTERNAL_SERVER_ERROR


def _http_message(exc: HTTPException) -> str:
    """Our own description of an HTTP error (already translated), or werkzeug's default
    one replaced by a sentence in the reader's language."""
    if exc.description and exc.description != type(exc).description:
        return exc.description
    messages: dict[int, str] = {
        400: gettext("The request could not be understood."),
        401: gettext("Log in as staff to do this."),
        403: gettext("You do not have the right to do this."),
        404: gettext("There is nothing at this address."),
        405: gettext("This method is not allowed here."),
        413: gettext("The request is too large."),
        429: gettext("Too many requests: wait a moment and try again."),
    }
    fallback: str = gettext("Something went wrong; try again.")
    return messages.get(exc.code or 500, fallback)


@bp.get("/events")
@access(Need.STAFF)
def list_events() -> ResponseReturnValue:
    """Staff: the events this user can moderate (all of them for organisers)."""
    user = policy.require_staff(http_actor())
    events = [event_dict(e) for e in operations.events_for(user)]
    return jsonify(shapes.listing(shapes.EventList, events=events))


@bp.post("/events/seed")
@access(Need.ORGANISER)
def seed_event() -> ResponseReturnValue:
    """Organisers: load a seed file (TOML text, or JSON ``{"toml": "...", "status": ...}``);
    idempotent. A reload keeps the event's status unless ``status`` is given."""
    from .seeding import parse_seed_text

    actor = http_actor()
    policy.require_organiser(actor)
    if request.is_json:
        data = require_object(_json())
        raw, status = data.get("toml"), data.get("status")
    else:
        raw, status = request.get_data(as_text=True), request.args.get("status")
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError(ErrorCode.EMPTY, "Send the seed file's TOML text.")
    chosen = None if status in (None, "") else event_status(status)
    event, added = operations.load_seed(actor, parse_seed_text(raw), status=chosen)
    loaded = shapes.SeedResult.model_validate({"event": event_dict(event), "added": added})
    return jsonify(loaded.model_dump(mode="json"))

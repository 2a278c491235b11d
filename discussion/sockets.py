"""Socket.IO handlers: parse the payload, call the same operations as the API, return the ack.

Identity, role and room come from the server side: the participant cookie and the
staff login of the handshake, and the event this connection joined.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_babel import gettext
from flask_socketio import join_room, leave_room
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from . import cache, live, operations, ratelimit, signals
from .database import database_busy
from .errors import DomainError, RateLimited, ValidationError
from .extensions import db, socketio
from .identity import Actor, new_token, participant_key, staff_user, token_from_cookie
from .models import Event, User
from .queries import (
    EventRef,
    changes_since,
    event_dict,
    event_ref,
    event_version,
    find_participant,
    list_questions,
    load_event,
    reader_locale,
    similar_questions,
)
from .rules import access as policy
from .rules import schemas, shapes
from .rules.access import Need
from .rules.enums import ErrorCode
from .rules.event_rules import event_code
from .rules.schemas import moderation, parse, require_object

log = logging.getLogger(__name__)

# Defaults of the settings that bound one socket (see docs/security.md).


@dataclass(slots=True)
class Connection:
    """What the server knows of one socket: its participant token, joined event and
    the token bucket that bounds how fast it may send events."""

    token: str
    event_id: int | None = None
    rooms: tuple[str, ...] = ()
    presence_key: str | None = None
    staff_session: str | None = None  # "<user id>.<session version>" while in a staff room
    allowance: float | None = None  # events left in the bucket; None: full
    checked: float = 0.0

    def take(self, rate: float, burst: float) -> bool:
        """Spend one event from the bucket, refilled at ``rate`` a second up to ``burst``."""
        now = time.monotonic()
        if self.allowance is None:
            self.allowance = burst
        else:
            self.allowance = min(burst, self.allowance + (now - self.checked) * rate)
        self.checked = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True


CONNECTIONS = "discussion.connections"  # app.extensions key: sid -> Connection


def _table() -> dict[str, Connection]:
    """This app's connection table (state lives on the app, not in the module)."""
    return current_app.extensions[CONNECTIONS]  # type: ignore[no-any-return]  # values stored untyped


# (event name, handler): registered on each app's Socket.IO server by register().
_handlers: list[tuple[str, Callable[..., Any]]] = []


def _conn() -> Connection:
    conn = _table().get(request.sid)  # type: ignore[attr-defined]  # Flask-SocketIO adds sid to the request
    if conn is None:  # a handler ran before connect completed; treat as a fresh phone
        conn = _table()[request.sid] = Connection(token=new_token())  # type: ignore[attr-defined]  # Flask-SocketIO adds sid to the request
    return conn


def _actor(conn: Connection) -> Actor:
    return Actor(token=conn.token, user=staff_user())


def _joined(conn: Connection, code: Any = None) -> int:
    """The joined event's id; a payload naming an event must name that one."""
    if conn.event_id is None:
        raise ValidationError(ErrorCode.NOT_JOINED, "Join an event first.")
    named = None if code is None else event_ref(event_code(code), _actor(conn)).id
    if named is not None and named != conn.event_id:
        raise ValidationError(ErrorCode.NOT_JOINED, "Join an event first.")
    return conn.event_id


def _too_fast(conn: Connection) -> dict[str, Any] | None:
    """The ``rate_limited`` ack when this socket has spent its event bucket, else None.

    Checked before anything else, so a flood costs no database work.
    """
    config = current_app.config
    rate = float(config["SOCKET_EVENT_RATE"])
    if not ratelimit.enabled() or rate <= 0:
        return None
    if conn.take(rate, float(config["SOCKET_EVENT_BURST"])):
        return None
    error = RateLimited(ErrorCode.RATE_LIMITED, "You are sending too fast. Please wait a moment.")
    return {"ok": False, "error": error.to_dict()}


def acked(
    name: str, need: Need
) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register a handler whose return value is the ack; errors become ``ok: false``.

    ``need`` declares who may send the event (discussion.rules.access); the per-event check
    itself is made by the operation the handler calls.
    """

    def decorator(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(fn)
        def handler(payload: Any = None, *_extra: Any) -> dict[str, Any]:
            conn = _conn()
            refused = _too_fast(conn)
            if refused is not None:
                return refused
            try:
                data = require_object(payload)
                return {"ok": True, **fn(conn, data)}
            except DomainError as exc:
                db.session.rollback()
                return {"ok": False, "error": exc.to_dict()}
            except Exception as exc:  # a bug must not kill the socket; the phone gets an answer
                db.session.rollback()
                busy = database_busy(exc) if isinstance(exc, OperationalError) else None
                if busy is not None:
                    log.warning("socket handler %s: database busy after retries", name)
                    return {"ok": False, "error": busy.to_dict()}
                log.exception("socket handler %s failed", name)
                message = gettext("Something went wrong; try again.")
                return {
                    "ok": False,
                    "error": shapes.ErrorDetail(
                        code=ErrorCode.INTERNAL, message=message
                    ).model_dump(mode="json"),
                }

        handler.access = need  # type: ignore[attr-defined]  # the policy's mark on the handler
        _handlers.append((name, handler))
        return handler

    return decorator


def register(app: Flask) -> None:
    """Bind the handlers to the Socket.IO server that create_app just made."""
    app.extensions[CONNECTIONS] = {}
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    for name, handler in _handlers:
        socketio.on_event(name, handler)
    socketio.on_event("*", on_unknown)


def _sent_by_client() -> bool:
    """Whether a ``connect`` or ``disconnect`` handler runs for an event a client emitted
    under that name: the real ones run while the socket is half-open, that one does not."""
    return bool(socketio.server.manager.is_connected(request.sid, request.namespace))  # type: ignore[attr-defined]  # Flask-SocketIO adds sid to the request


def _unknown_event() -> dict[str, Any]:
    return {
        "ok": False,
        "error": ValidationError(ErrorCode.UNKNOWN_EVENT, "Unknown event.").to_dict(),
    }


def on_connect(auth: Any = None) -> dict[str, Any] | None:
    """Remember the participant token of the handshake (or a fresh one for this socket)."""
    if _sent_by_client():  # else a socket could shed its identity and presence at will
        return _unknown_event()
    _table()[request.sid] = Connection(token=token_from_cookie() or new_token())  # type: ignore[attr-defined]  # Flask-SocketIO adds sid to the request
    return None


def on_disconnect(*_args: Any) -> dict[str, Any] | None:
    """Forget the socket and take it out of the event's presence count."""
    if _sent_by_client():
        return _unknown_event()
    conn = _table().pop(request.sid, None)  # type: ignore[attr-defined]  # Flask-SocketIO adds sid to the request
    if conn is not None and conn.event_id is not None and conn.presence_key:
        live.coalescer().leave(conn.event_id, conn.presence_key)
    return None


def on_unknown(_event: Any, *_args: Any) -> dict[str, Any]:
    """Any other event name is answered, never acted on (and counts against the bucket)."""
    return _too_fast(_conn()) or _unknown_event()


def _limit_joins(conn: Connection) -> None:
    """Per-participant join limit, before any database work; never per IP address.

    Keyed on the participant token, so a room of phones reconnecting at once after a
    restart is never refused: each phone is its own key.
    """
    who = hashlib.sha256(conn.token.encode()).hexdigest()[:32]
    if not ratelimit.hit(current_app.config["RATELIMIT_JOINS"], "socket", "join", who):
        raise RateLimited(
            ErrorCode.RATE_LIMITED,
            "You are reconnecting very often. Please wait a moment and try again.",
        )


def _since(data: dict[str, Any]) -> int | None:
    """The version a reconnecting client last saw (``since``), if it sent one."""
    since = data.get("since")
    if since is None:
        return None
    if isinstance(since, bool) or not isinstance(since, int):
        raise ValidationError(
            ErrorCode.INVALID_TYPE, "'%(field)s' must be an integer.", field="since"
        )
    return since


@acked("join", Need.ANYONE)
def on_join(conn: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """Join an event's room; the ack carries its current questions (resynchronisation),
    or with ``since``, only what changed after that version (see docs/realtime.md).

    ``staff: true`` joins the staff room instead, for the event's moderators only;
    the staff session is watched from then on (see :func:`check_staff`).
    """
    code = event_code(data.get("event"))
    since = _since(data)
    _limit_joins(conn)
    actor = _actor(conn)
    ref = event_ref(code, actor)
    as_staff = data.get("staff") is True
    staff_session = None
    if as_staff:
        staff_session = policy.require_moderator(actor, ref).get_id()
    # A projector board is a screen, not a person: it does not count as present.
    counted = not as_staff and data.get("board") is not True
    for room in conn.rooms:
        leave_room(room)
    if conn.event_id is not None and conn.presence_key:
        live.coalescer().leave(conn.event_id, conn.presence_key)
    key = participant_key(conn.token, ref.id)
    locale = reader_locale() or "en"
    rooms = (
        (live.staff_room(ref.id),)
        if as_staff
        else (live.event_room(ref.id), live.participant_room(key))
    ) + (live.language_room(ref.id, locale, staff=as_staff),)
    for room in rooms:
        join_room(room)
    conn.event_id, conn.rooms = ref.id, rooms
    conn.staff_session = staff_session
    if staff_session is not None:
        _watch_staff()
    conn.presence_key = key if counted else None
    if counted:
        live.coalescer().enter(ref.id, key)
    # Read before the questions: what commits meanwhile is sent again next time.
    version = event_version(ref.id)
    return {
        "event": event_dict(load_event(ref), locale)
        if as_staff
        else cache.cached(
            ref.id,
            f"event:{locale}",
            lambda: event_dict(load_event(ref), locale, all_languages=False),
            version=version,
        ),
        "version": version,
        **_questions_for(ref, actor, conn.token, as_staff, version, since),
        "online": live.coalescer().online(ref.id),
    }


def _delta_from(version: int, since: int | None) -> int | None:
    """The version from which a join answers with changes only, or None for everything:
    no ``since``, one from the future (another database) or older than remembered.
    A few versions before ``since`` are sent again: two writes committed at the same
    moment may broadcast in the other order, and the phone may have dropped between."""
    config = current_app.config
    if since is None or since > version or since < version - int(config["JOIN_WINDOW"]):
        return None
    return max(since - int(config["JOIN_OVERLAP"]), 0)


def _questions_for(
    ref: EventRef, actor: Actor, token: str, as_staff: bool, version: int, since: int | None
) -> dict[str, Any]:
    """The join ack's questions: everything (``full: true``), or what changed after
    ``since`` and the ids to drop (``full: false``). A phone that never posted gets
    the answer shared by every such phone."""
    start = _delta_from(version, since)

    def answer(who: Actor) -> dict[str, Any]:
        event = load_event(ref)
        if start is None:
            return {"questions": list_questions(event, who), "full": True}
        questions, removed = changes_since(event, who, start)
        return {"questions": questions, "removed": removed, "full": False}

    if as_staff:
        return answer(actor)
    if find_participant(ref.id, token) is not None:
        return answer(Actor(token=token))
    key = "questions" if start is None else f"since:{start}"
    return cache.cached(ref.id, key, lambda: answer(Actor(token=None)), version=version)


@acked("ask", Need.PARTICIPANT)
def on_ask(conn: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """Ask in the joined event."""
    actor = _actor(conn)
    event = find_event_by_id(_joined(conn), actor)
    new = parse(schemas.NewQuestion, data)
    question, _created = operations.ask(actor, event, new, new.topic)
    return {"question": question}


@acked("vote", Need.PARTICIPANT)
def on_vote(conn: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """Upvote or take back a vote on a question of the joined event."""
    given = parse(schemas.SocketVote, data)
    return operations.vote(_actor(conn), given.question_id, given.up, event_id=_joined(conn))


@acked("comment", Need.PARTICIPANT)
def on_comment(conn: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """Comment on a question of the joined event."""
    given = parse(schemas.SocketComment, data)
    new, _created = operations.comment(
        _actor(conn), given.question_id, given, event_id=_joined(conn)
    )
    return {"comment": new}


@acked("similar", Need.ANYONE)
def on_similar(conn: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """Questions of the joined event that say the same as ``body`` (at most three)."""
    actor = _actor(conn)
    given = parse(schemas.Similar, data)
    event = find_event_by_id(_joined(conn, given.event), actor)
    alike = similar_questions(event, actor, given.body)
    return shapes.SimilarQuestions.model_validate({"questions": alike}).model_dump(mode="json")


@acked("moderate", Need.MODERATOR)
def on_moderate(conn: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """Staff: one moderation action on a question (or, with comment_id, a comment)."""
    actor = _actor(conn)
    if "comment_id" in data:
        on_comment = parse(schemas.SocketCommentModeration, data)
        return {
            "comment": operations.moderate_comment(
                actor, on_comment.comment_id, **moderation(on_comment)
            )
        }
    on_question = parse(schemas.SocketQuestionModeration, data)
    return {
        "question": operations.moderate_question(
            actor, on_question.question_id, **moderation(on_question)
        )
    }


def find_event_by_id(event_id: int, actor: Actor) -> Event:
    """The joined event, re-read so that a change of status (closed) is seen at once."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise ValidationError(ErrorCode.NOT_JOINED, "Join an event first.")
    return event


# ---------------------------------------------------------------------------
# Staff rights on open sockets: revoked at once


def check_staff() -> int:
    """Take every local socket whose staff rights ended out of its staff room.

    Rights end when the account is gone, its session version moved on (logout, a new
    password or role) or it no longer moderates the event. Run at once after such a
    change in this process (the ``staff_rights_changed`` signal) and every
    ``STAFF_CHECK_INTERVAL`` seconds for changes made elsewhere (another process, the
    ``flask users`` commands). Returns how many sockets lost their rights.
    """
    watched = [(sid, conn) for sid, conn in list(_table().items()) if conn.staff_session]
    if not watched:
        return 0
    ids = {int(str(conn.staff_session).split(".")[0]) for _sid, conn in watched}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    revoked = 0
    for sid, conn in watched:
        user = users.get(int(str(conn.staff_session).split(".")[0]))
        event = db.session.get(Event, conn.event_id) if conn.event_id else None
        if (
            user is not None
            and event is not None
            and user.get_id() == conn.staff_session
            and policy.moderates(user, event)
        ):
            continue
        for room in conn.rooms:
            # The stubs of Flask-SocketIO leave out its python-socketio server.
            socketio.server.leave_room(sid, room, namespace="/")  # type: ignore[attr-defined]  # the Flask-SocketIO stubs leave out .server
        conn.rooms, conn.staff_session = (), None
        socketio.emit("session_ended", {}, to=sid)
        revoked += 1
    return revoked


def _watch_staff() -> None:
    """Start this app's watch over staff sockets (once; it ends when none is left)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app object
    interval = float(app.config["STAFF_CHECK_INTERVAL"])
    state = app.extensions.setdefault("discussion.staff_watch", {"running": False})
    if interval <= 0 or state["running"]:
        return
    state["running"] = True

    def run() -> None:
        try:
            while True:
                socketio.sleep(interval)  # type: ignore[arg-type]  # the stubs say int; a float works
                with app.app_context():
                    if not any(c.staff_session for c in list(_table().values())):
                        return
                    try:
                        check_staff()
                    except Exception:  # the watch must outlive a database hiccup
                        log.exception("staff socket check failed")
                    finally:
                        db.session.remove()
        finally:
            state["running"] = False

    socketio.start_background_task(run)


@signals.staff_rights_changed.connect
def _on_staff_rights_changed(_sender: Any, **_extra: Any) -> None:
    check_staff()

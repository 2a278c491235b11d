"""Publishing to Socket.IO rooms after commit, with vote counts and presence coalesced.

Rooms: ``event:<id>`` for everyone in an event, ``staff:<id>`` for its moderators,
``p:<id>`` for one participant's own sockets (their pending questions). Every
message is serialised once by python-socketio's manager, whatever the room size.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, has_app_context

from . import cache
from .extensions import socketio
from .presence import PresenceStore
from .rules import access as policy

log = logging.getLogger(__name__)


def _emit(name: str, data: Any, *, to: str | list[str]) -> None:
    """socketio.emit to one room or several (``data`` may be a tuple: the payload and
    its version, as two Socket.IO arguments)."""
    # The Flask-SocketIO stubs take one room; the library takes a list too.
    socketio.emit(name, data, to=to)  # type: ignore[arg-type]


def event_room(event_id: int) -> str:
    return f"event:{event_id}"


def staff_room(event_id: int) -> str:
    return f"staff:{event_id}"


def language_room(event_id: int, locale: str, *, staff: bool = False) -> str:
    """The sockets of an event's room (or of its staff room) reading in one language:
    the event's own texts are sent to each in its language."""
    return f"{'staff-lang' if staff else 'lang'}:{event_id}:{locale}"


def participant_room(key: str) -> str:
    """A participant's own sockets, by the digest that identifies them in the event."""
    return f"p:{key}"


# -- versions: every broadcast carries its event's version beside the payload

VERSIONS = "discussion.versions"  # app.extensions: event id -> latest version published
_publishing: contextvars.ContextVar[dict[int, int] | None] = contextvars.ContextVar(
    "publishing", default=None
)


@contextlib.contextmanager
def publishing(versions: dict[int, int]) -> Iterator[None]:
    """While a unit of work publishes after its commit: its events' new versions."""
    token = _publishing.set(versions)
    try:
        yield
    finally:
        _publishing.reset(token)


def note_versions(app: Flask, versions: dict[int, int]) -> None:
    """Remember the latest version this process has published of each event (noted
    after the publishing, so a coalesced message never claims a version whose own
    broadcast has not gone out yet)."""
    known = app.extensions.setdefault(VERSIONS, {})
    for event_id, version in versions.items():
        if version > known.get(event_id, -1):
            known[event_id] = version


def version_of(event_id: int, app: Flask | None = None) -> int | None:
    """The version a message about this event carries: the publishing unit's, else the
    latest this process published (None before any)."""
    current = _publishing.get()
    if current is not None and event_id in current:
        return current[event_id]
    if app is None:
        if not has_app_context():
            return None
        app = current_app
    return app.extensions.get(VERSIONS, {}).get(event_id)  # type: ignore[no-any-return]  # values stored untyped


def with_version(payload: Any, event_id: int, app: Flask | None = None) -> Any:
    """A broadcast's data: the payload as documented and, as a second Socket.IO
    argument, ``{"version": N}`` (the payload alone while no version is known)."""
    version = version_of(event_id, app)
    return payload if version is None else (payload, {"version": version})


class Coalescer:
    """Collects vote counts and presence changes per event and emits them once a tick.

    A room voting fast produces one ``votes`` message per event per tick holding the
    latest count of every question that changed, so the cost of fan-out follows the
    tick, not the vote rate. The tick is ``VOTE_TICK`` (100 ms) while the room is
    calm; under load it stretches so that sending a broadcast takes at most ``BUDGET``
    of the process's time, capped at ``VOTE_TICK_MAX``: a slower tick that every
    screen keeps up with beats a fast one that queues behind itself. The cost is
    measured, not guessed: after a flush the ticker yields once, which returns when
    every socket's writer has had its turn, i.e. when the broadcast has gone out.
    A tick of 0 emits at once (some tests use it).

    Leading edge, trailing edge: a vote that arrives when no ``votes`` broadcast went
    out within the last tick goes out at once, from the voter's own handler, and the
    tick starts from there; votes arriving during that tick are coalesced and go out at
    its end. A room of a few hundred voting now and then so sees each vote as soon
    as the bare stack would, while a busy room, where a broadcast always went out
    within the last tick, keeps the (stretched) tick. Calm is judged for the whole
    process, since one ticker sends for every event: a vote in a quiet room waits
    for the tick while a busy room next to it is broadcasting.

    Counts are read again from the database when they are sent, so that with several
    processes the latest committed count wins whichever process sends it.
    """

    # Share of the process's time that broadcasts may take. Measured at 2,000 phones
    # (bench/README.md): 0.75 keeps the tick near 100 ms where 0.55 stretched it to
    # about 150, and leaves the votes and joins a quarter of the process.
    BUDGET = 0.75

    def __init__(self, app: Flask | None = None) -> None:
        self.tick = 0.1
        self.max_tick = 1.0
        self._lock = threading.Lock()
        self._votes: dict[int, dict[int, int]] = {}
        self._presence: set[int] = set()
        self._online: dict[int, Counter[str]] = {}
        self._started = False
        # People arriving by the hundred per second would otherwise re-send the count to
        # every screen each tick; a count a second or two old is current enough.
        self.presence_interval = 2.0
        self._presence_sent: dict[int, float] = {}
        # Set by the production server (server.tune_gc): full garbage collections run
        # when the room has been quiet for a while, not in the middle of a vote.
        self.idle_gc = False
        self.gc_every = 300.0
        self._app: Flask | None = None
        self.presence_store: PresenceStore | None = None
        # When the last flush that sent votes began, and the tick (flush to flush) it
        # set: a vote later than that finds the room calm and wakes the ticker.
        self._votes_sent = float("-inf")
        self._period = self.tick
        if app is not None:
            self.configure(app)

    def configure(self, app: Flask) -> None:
        """Take the tick from the app's config."""
        self.tick = float(app.config["VOTE_TICK"])
        self.max_tick = max(self.tick, float(app.config["VOTE_TICK_MAX"]))
        self.presence_interval = float(app.config["PRESENCE_INTERVAL"])
        self._period = self.tick
        self._app = app
        url = app.config.get("REDIS_URL")
        self.presence_store = PresenceStore(url, app.config["SOCKETIO_CHANNEL"]) if url else None

    def next_tick(self, sending: float) -> float:
        """The pause before the next flush, given how long the last one took to send.

        The tick (flush to flush) is ``VOTE_TICK``, or long enough that sending takes
        at most ``BUDGET`` of it, whichever is longer, and at most ``VOTE_TICK_MAX``.
        """
        return max(self.period(sending) - sending, 0.01)

    def period(self, sending: float) -> float:
        """The tick, flush to flush, after a flush that took ``sending`` seconds."""
        return min(self.max_tick, max(self.tick, sending / self.BUDGET))

    # -- presence: a participant with two tabs counts once.

    def enter(self, event_id: int, who: str) -> None:
        with self._lock:
            self._online.setdefault(event_id, Counter())[who] += 1
        self._mark_presence(event_id)

    def leave(self, event_id: int, who: str) -> None:
        with self._lock:
            counter = self._online.get(event_id)
            if counter is None:
                return
            counter[who] -= 1
            if counter[who] <= 0:
                del counter[who]
        self._mark_presence(event_id)

    def local_online(self, event_id: int) -> int:
        with self._lock:
            return len(self._online.get(event_id, ()))

    def online(self, event_id: int) -> int:
        """People here: this process's, plus the other processes' when they share Redis."""
        local = self.local_online(event_id)
        if self.presence_store is None:
            return local
        return self.presence_store.total(event_id, local)

    def _mark_presence(self, event_id: int) -> None:
        if self.tick <= 0:
            self._emit_presence(event_id)
            return
        with self._lock:
            self._presence.add(event_id)
        self._ensure_started()

    def _emit_presence(self, event_id: int) -> None:
        if self.presence_store is not None:
            self.presence_store.publish(event_id, self.local_online(event_id))
        _emit(
            "presence",
            {"online": self.online(event_id)},
            to=[event_room(event_id), staff_room(event_id)],
        )

    # -- votes

    def votes(self, event_id: int, counts: dict[int, int]) -> None:
        if self.tick <= 0:
            self._emit_votes(event_id, counts)
            return
        now = time.monotonic()
        with self._lock:
            pending = self._votes.setdefault(event_id, {})
            pending.update(counts)
            calm = now - self._votes_sent >= self._period
            if calm:  # leading edge: nothing went out within the last tick, send now
                # Votes arriving from now on wait for the tick's end.
                self._votes_sent = now
                del self._votes[event_id]
        self._ensure_started()
        if calm:
            # Sent by the voter's own greenlet, before its ack: the counts were read in
            # the transaction that just committed, so no re-read and no wait for the
            # ticker to be scheduled (a few ms that a small room would feel).
            self._emit_votes(event_id, pending)

    def _emit_votes(self, event_id: int, counts: dict[int, int]) -> None:
        payload = {str(qid): n for qid, n in counts.items()}
        _emit(
            "votes",
            with_version(payload, event_id, self._app),
            to=[event_room(event_id), staff_room(event_id)],
        )

    def _latest(self, counts: dict[int, int]) -> dict[int, int]:
        """The committed counts now (another process may have counted more since)."""
        if self._app is None:
            return counts
        from sqlalchemy import select

        from .extensions import db
        from .models import Question

        try:
            with self._app.app_context():
                rows = db.session.execute(
                    select(Question.id, Question.votes).where(Question.id.in_(list(counts)))
                ).all()
                db.session.remove()
        except Exception:  # the database is busy or gone: send what we know
            log.warning("could not re-read vote counts; sending the coalesced ones")
            return counts
        return {**counts, **{row.id: row.votes for row in rows}}

    def flush(self, *, force: bool = False) -> None:
        """Emit pending votes now, and presence where its interval has passed."""
        now = time.monotonic()
        with self._lock:
            votes, self._votes = self._votes, {}
            due = {
                e
                for e in self._presence
                if force or now - self._presence_sent.get(e, 0.0) >= self.presence_interval
            }
            self._presence -= due
            for event_id in due:
                self._presence_sent[event_id] = now
        for event_id, counts in votes.items():
            self._emit_votes(event_id, self._latest(counts))
        for event_id in due:
            self._emit_presence(event_id)

    def _ensure_started(self) -> None:
        if not self._started and self._claim_start():
            socketio.start_background_task(self._run)

    def _claim_start(self) -> bool:
        """Whether this call starts the ticker (another thread may have just done so)."""
        with self._lock:
            if self._started:
                return False
            self._started = True
            return True

    def _run(self) -> None:
        pause = self.tick
        quiet_since = last_gc = last_beat = time.monotonic()
        while True:
            socketio.sleep(pause)  # type: ignore[arg-type]  # the stubs say int; it takes float seconds
            started = time.monotonic()
            try:
                with self._lock:
                    busy = bool(self._votes or self._presence)
                    voting = bool(self._votes)
                    if voting:
                        # From now on votes are coalesced into the next tick: set
                        # before sending, so that a vote during this flush waits.
                        self._votes_sent = started
                if busy:
                    quiet_since = started
                elif (
                    self.idle_gc
                    and started - quiet_since > 10.0
                    and started - last_gc > self.gc_every
                ):
                    gc.collect()
                    last_gc = time.monotonic()
                self.flush()
                # Yield once: the writers woken by the flush send before this returns.
                socketio.sleep(0)
                sending = time.monotonic() - started
                pause = self.next_tick(sending)
                if voting:
                    with self._lock:
                        self._period = self.period(sending)
                log.debug("flush sent in %.1f ms, next in %.1f ms", sending * 1e3, pause * 1e3)
                beat_due = started - last_beat >= PresenceStore.HEARTBEAT
                if self.presence_store is not None and beat_due:
                    last_beat = started
                    with self._lock:
                        self._presence.update(self._online)
            except Exception:  # a broken emit must not stop the ticker
                log.exception("live flush failed")


COALESCER = "discussion.coalescer"


def init_app(app: Flask) -> None:
    """Give the app its own coalescer: its counts, presence and ticker are the app's,
    so two apps in one process never send each other's votes."""
    app.extensions[COALESCER] = Coalescer(app)


def coalescer(app: Flask | None = None) -> Coalescer:
    """The coalescer of ``app`` (else of the current app)."""
    found: Coalescer = (app or current_app).extensions[COALESCER]
    return found


def audience(
    event_id: int, *, public: bool, author_key: str | None = None, staff: bool = True
) -> list[str]:
    """The rooms a message about something in an event may reach, from the policy.

    The event's room (every phone and board) only when participants may read the
    thing (``public``); the author's own sockets when the thing is theirs and not
    public (their pending question); the staff room, whose sockets belong to the
    event's moderators (see sockets.on_join and StaffWatch). Every emit below asks
    this function, so nothing reaches a room that may not read it.
    """
    rooms = []
    if public:
        rooms.append(event_room(event_id))
    elif author_key is not None:
        rooms.append(participant_room(author_key))
    if staff:
        rooms.append(staff_room(event_id))
    return rooms


def publish_question(
    event_id: int,
    public: dict[str, Any],
    staff: dict[str, Any],
    author_key: str | None,
    *,
    was_public: bool = True,
) -> None:
    """A question was created or changed: tell each audience what it may see.

    Staff consoles sit in the staff room only, so they get the staff shape once.
    """
    cache.bump(event_id)
    readable = policy.question_public(public["status"])
    if readable:
        _emit(
            "question",
            with_version(public, event_id),
            to=audience(event_id, public=True, staff=False),
        )
    else:
        # Hidden or pending: gone from the public list (if it was ever on it, so that a
        # pending question's id reaches no one else); only its author sees it pending.
        if was_public:
            publish_removed(event_id, public["id"], was_public=True, staff=False)
        if public["status"] == "pending" and author_key is not None:
            _emit(
                "question",
                with_version({**public, "mine": True}, event_id),
                to=audience(event_id, public=False, author_key=author_key, staff=False),
            )
    _emit("question", with_version(staff, event_id), to=staff_room(event_id))


def publish_staff_questions(event_id: int, question_ids: list[int]) -> None:
    """Questions changed for the event's moderators alone (their likely original moved
    as others were hidden, edited or deleted): the staff shape to the staff room."""
    from .extensions import db
    from .models import Event, Question
    from .queries import staff_question_dict, topic_slugs

    event = db.session.get(Event, event_id)
    if event is None:
        return
    slugs = topic_slugs(event)
    for question_id in question_ids:
        question = db.session.get(Question, question_id)
        if question is not None and question.event_id == event_id:
            _emit(
                "question",
                with_version(staff_question_dict(question, slugs), event_id),
                to=staff_room(event_id),
            )


def publish_removed(
    event_id: int, question_id: int, *, was_public: bool, staff: bool = True
) -> None:
    """A question was deleted or merged away (its id reaches only who could see it)."""
    cache.bump(event_id)
    rooms = audience(event_id, public=was_public, staff=staff)
    if rooms:
        _emit("question_removed", with_version({"id": question_id}, event_id), to=rooms)


def publish_comment(event_id: int, comment: dict[str, Any], *, public: bool = True) -> None:
    """A comment was added or restored: its text goes to participants only when they
    may read it (a visible comment on a public question), else to staff only."""
    cache.bump(event_id)
    _emit("comment", with_version(comment, event_id), to=audience(event_id, public=public))


def publish_comment_removed(
    event_id: int, comment_id: int, question_id: int, *, was_public: bool = True
) -> None:
    """A comment was deleted or hidden."""
    cache.bump(event_id)
    _emit(
        "comment_removed",
        with_version({"id": comment_id, "question_id": question_id}, event_id),
        to=audience(event_id, public=was_public),
    )


def publish_notice(event_id: int, author_key: str | None, notice: dict[str, Any]) -> None:
    """Tell a question's author what a moderator did with it (their own sockets only)."""
    if author_key is None:
        return
    _emit("notice", notice, to=participant_room(author_key))


def publish_event(event: Any) -> None:
    """The event changed (status, moderation mode, title, topics)."""
    cache.bump(event.id)
    cache.bump_events()
    from . import LANGUAGES
    from .queries import event_dict

    # The event's room and its staff room, split by language (see sockets.on_join);
    # only the consoles, which edit them, get every language's texts.
    for locale in LANGUAGES:
        _emit(
            "event",
            with_version(event_dict(event, locale, all_languages=False), event.id),
            to=language_room(event.id, locale),
        )
        _emit(
            "event",
            with_version(event_dict(event, locale), event.id),
            to=language_room(event.id, locale, staff=True),
        )


def publish_votes(event_id: int, counts: dict[int, int]) -> None:
    """New vote counts (of public questions: only those can be voted on), coalesced."""
    cache.bump(event_id)
    coalescer().votes(event_id, counts)

"""Publishing to Socket.IO rooms after commit, with vote counts and presence coalesced.

Rooms: ``event:<id>`` for everyone in an event, ``staff:<id>`` for its moderators,
``p:<id>`` for one participant's own sockets (their pending questions). Every
message is serialised once by python-socketio's manager, whatever the room size.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from flask import Flask

from . import cache
from .extensions import socketio

PUBLIC_STATUSES = ("visible", "answered")


def event_room(event_id: int) -> str:
    return f"event:{event_id}"


def staff_room(event_id: int) -> str:
    return f"staff:{event_id}"


def participant_room(key: str) -> str:
    """A participant's own sockets, by the digest that identifies them in the event."""
    return f"p:{key}"


class Coalescer:
    """Collects vote counts and presence changes per event and emits them once a tick.

    A room voting fast produces one ``votes`` message per event per tick holding the
    latest count of every question that changed, so the cost of fan-out follows the
    tick, not the vote rate. A tick of 0 emits at once (used by some tests).
    """

    def __init__(self) -> None:
        self.tick = 0.1
        self._lock = threading.Lock()
        self._votes: dict[int, dict[int, int]] = {}
        self._presence: set[int] = set()
        self._online: dict[int, Counter[str]] = {}
        self._started = False

    def configure(self, app: Flask) -> None:
        """Take the tick from the app's config and start from a clean slate."""
        self.tick = float(app.config["VOTE_TICK"])
        cache.clear()
        cache.TTL = float(app.config["CACHE_TTL"])
        with self._lock:
            self._votes.clear()
            self._presence.clear()
            self._online.clear()

    # -- presence: in-memory, per process; a participant with two tabs counts once.

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

    def online(self, event_id: int) -> int:
        with self._lock:
            return len(self._online.get(event_id, ()))

    def _mark_presence(self, event_id: int) -> None:
        if self.tick <= 0:
            self._emit_presence(event_id)
            return
        with self._lock:
            self._presence.add(event_id)
        self._ensure_started()

    def _emit_presence(self, event_id: int) -> None:
        socketio.emit(
            "presence",
            {"online": self.online(event_id)},
            to=[event_room(event_id), staff_room(event_id)],
        )

    # -- votes

    def votes(self, event_id: int, counts: dict[int, int]) -> None:
        cache.bump(event_id)
        if self.tick <= 0:
            self._emit_votes(event_id, counts)
            return
        with self._lock:
            self._votes.setdefault(event_id, {}).update(counts)
        self._ensure_started()

    def _emit_votes(self, event_id: int, counts: dict[int, int]) -> None:
        payload = {str(qid): n for qid, n in counts.items()}
        socketio.emit("votes", payload, to=[event_room(event_id), staff_room(event_id)])

    def flush(self) -> None:
        """Emit everything pending now."""
        with self._lock:
            votes, self._votes = self._votes, {}
            presence, self._presence = self._presence, set()
        for event_id, counts in votes.items():
            self._emit_votes(event_id, counts)
        for event_id in presence:
            self._emit_presence(event_id)

    def _ensure_started(self) -> None:
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            self._started = True
        socketio.start_background_task(self._run)

    def _run(self) -> None:
        while True:
            socketio.sleep(self.tick)
            try:
                self.flush()
            except Exception:  # pragma: no cover - a broken emit must not stop the ticker
                import logging

                logging.getLogger(__name__).exception("live flush failed")


coalescer = Coalescer()


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
    if public["status"] in PUBLIC_STATUSES:
        socketio.emit("question", public, to=event_room(event_id))
    else:
        # Hidden or pending: gone from the public list (if it was ever on it, so that a
        # pending question's id reaches no one else); only its author sees it pending.
        if was_public:
            socketio.emit("question_removed", {"id": public["id"]}, to=event_room(event_id))
        if public["status"] == "pending" and author_key is not None:
            socketio.emit("question", {**public, "mine": True}, to=participant_room(author_key))
    socketio.emit("question", staff, to=staff_room(event_id))


def publish_removed(event_id: int, question_id: int) -> None:
    """A question was deleted or merged away."""
    cache.bump(event_id)
    socketio.emit(
        "question_removed", {"id": question_id}, to=[event_room(event_id), staff_room(event_id)]
    )


def publish_comment(event_id: int, comment: dict[str, Any], *, public: bool = True) -> None:
    """A comment was added (or restored); hidden ones go to staff only."""
    cache.bump(event_id)
    rooms = [event_room(event_id), staff_room(event_id)] if public else staff_room(event_id)
    socketio.emit("comment", comment, to=rooms)


def publish_comment_removed(event_id: int, comment_id: int, question_id: int) -> None:
    """A comment was deleted or hidden."""
    cache.bump(event_id)
    socketio.emit(
        "comment_removed",
        {"id": comment_id, "question_id": question_id},
        to=[event_room(event_id), staff_room(event_id)],
    )


def publish_event(event: Any) -> None:
    """The event changed (status, moderation mode, title, topics)."""
    cache.bump(event.id)
    cache.bump_events()
    from .queries import event_dict

    socketio.emit("event", event_dict(event), to=[event_room(event.id), staff_room(event.id)])


def publish_votes(event_id: int, counts: dict[int, int]) -> None:
    """New vote counts, coalesced over the tick."""
    coalescer.votes(event_id, counts)

"""Who may see and do what in an event: the one access policy of every path.

The roles, always relative to one event: anyone (no identity yet), a participant
(the cookie), the author of a post, a moderator of *this* event, and an organiser
(who moderates every event). A staff account that does not moderate an event is a
participant there: "is logged in" never answers "may see this event's pending
questions". Routes and socket events declare what they need with :func:`access`
(read by tests/test_policy.py, which runs every route and socket event against every
role on two events); reads, writes, pages, exports and broadcasts ask the functions
below.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from ..errors import Forbidden, NotFound, Unauthorized
from ..models import EventStatus, QuestionStatus, Role, User
from .enums import ErrorCode

F = TypeVar("F", bound=Callable[..., Any])

# What participants (and the board) may read of a question.
PUBLIC_STATUSES = frozenset({QuestionStatus.VISIBLE.value, QuestionStatus.ANSWERED.value})


class Need(enum.StrEnum):
    """What a route or socket event requires of whoever calls it."""

    ANYONE = "anyone"  # public reads; confidential parts only for the event's moderators
    PARTICIPANT = "participant"  # writes as a participant (the cookie is identity enough)
    AUTHOR_OR_MODERATOR = "author_or_moderator"  # a post's author, or the event's moderators
    MODERATOR = "moderator"  # staff who moderate this event (organisers moderate all)
    ORGANISER = "organiser"  # organisers only
    STAFF = "staff"  # any staff login: their own home, their own event list, logout


# Needs that a staff login must meet before anything else is looked at.
LOGIN_NEEDS = frozenset({Need.MODERATOR, Need.ORGANISER, Need.STAFF})


class HasId(Protocol):
    """An event, or a cached reference to one (read only)."""

    @property
    def id(self) -> int: ...

    @property
    def status(self) -> str: ...


class HasUser(Protocol):
    """Whoever acts: a participant token, a staff user, or both (read only)."""

    @property
    def token(self) -> str | None: ...

    @property
    def user(self) -> User | None: ...


def access(need: Need, *, files: bool = False) -> Callable[[F], F]:
    """Declare what a view needs. Views that need a staff login get it checked here:
    API callers without one get 401, a browser is sent to the login form. ``files``:
    a download that scripts fetch too, so only a caller preferring HTML is sent to
    the form."""

    def decorator(fn: F) -> F:
        if need not in LOGIN_NEEDS:
            fn.access = need  # type: ignore[attr-defined]  # a plain function attribute
            return fn

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from flask import jsonify, redirect, request, url_for
            from flask_login import current_user

            if not current_user.is_authenticated:
                refusal = Unauthorized(ErrorCode.LOGIN_REQUIRED, "Log in as staff to do this.")
                if request.path.startswith("/api/"):
                    raise refusal
                if _wants_json(files):
                    return jsonify({"error": refusal.to_dict()}), 401
                return redirect(url_for("auth.login", next=request.path))
            if need == Need.ORGANISER and current_user.role != Role.ORGANISER:
                raise Forbidden(ErrorCode.FORBIDDEN, "Only organisers can do this.")
            return fn(*args, **kwargs)

        wrapper.access = need  # type: ignore[attr-defined]  # a plain function attribute
        return cast(F, wrapper)  # functools.wraps: same call signature as fn

    return decorator


def _wants_json(files: bool = False) -> bool:
    """A page's caller that asks for JSON before HTML gets a JSON refusal; anything else
    (browsers, ``*/*``, no Accept header) is sent to the login form. For ``files``, only
    a caller that prefers HTML is."""
    from flask import request

    accept = request.accept_mimetypes
    if files:
        return not accept or accept.best_match(["application/json", "text/html"]) == (
            "application/json"
        )
    return accept.best_match(["text/html", "application/json"]) == "application/json"


def moderates(user: User | None, event: HasId) -> bool:
    """Organisers moderate every event; a moderator only the events they are appointed to."""
    if user is None:
        return False
    if user.role == Role.ORGANISER:
        return True
    return any(e.id == event.id for e in user.events)


def require_moderator(actor: HasUser, event: HasId) -> User:
    """The actor's staff user, if they may moderate this event."""
    if actor.user is None:
        raise Unauthorized(ErrorCode.LOGIN_REQUIRED, "Log in as staff to do this.")
    if not moderates(actor.user, event):
        raise Forbidden(ErrorCode.FORBIDDEN, "You do not moderate this event.")
    return actor.user


def require_organiser(actor: HasUser) -> User:
    """The actor's staff user, if they are an organiser."""
    if actor.user is None:
        raise Unauthorized(ErrorCode.LOGIN_REQUIRED, "Log in as staff to do this.")
    if actor.user.role != Role.ORGANISER:
        raise Forbidden(ErrorCode.FORBIDDEN, "Only organisers can do this.")
    return actor.user


def require_staff(actor: HasUser) -> User:
    """The actor's staff user: any logged-in staff account."""
    if actor.user is None:
        raise Unauthorized(ErrorCode.LOGIN_REQUIRED, "Log in as staff to do this.")
    return actor.user


def sees_event(user: User | None, event: HasId) -> bool:
    """Drafts are seen by the event's moderators only; every other event by anyone."""
    return event.status != EventStatus.DRAFT or moderates(user, event)


def require_event(user: User | None, event: HasId | None) -> None:
    """Refuse an event that does not exist or that this caller may not see (the same
    404, so a draft's code is not confirmed to outsiders)."""
    if event is None or not sees_event(user, event):
        raise NotFound(ErrorCode.EVENT_NOT_FOUND, "There is no event with this code.")


def question_public(status: str) -> bool:
    """Whether participants and the board may read a question in this status."""
    return status in PUBLIC_STATUSES


def sees_question(
    *, moderator: bool, status: str, author_id: int | None, participant_id: int | None
) -> bool:
    """Participants read public questions and their own pending ones; the event's
    moderators read everything of it."""
    if moderator or question_public(status):
        return True
    return (
        status == QuestionStatus.PENDING
        and participant_id is not None
        and author_id == participant_id
    )


def sees_comment(*, moderator: bool, hidden: bool) -> bool:
    """Hidden comments are read by the event's moderators only."""
    return moderator or not hidden

"""Context for the projector board and the moderator console."""

from __future__ import annotations

from typing import Any

from flask import request

from .identity import http_actor
from .models import Event
from .queries import event_dict, list_questions


def join_url(event: Event) -> str:
    """The address phones open to join: this server's URL for the event."""
    return request.host_url.rstrip("/") + "/e/" + event.code


def board_context(event: Event) -> dict[str, Any]:
    """What the board page renders before its socket takes over."""
    from .views import html_lang

    data = event_dict(event)
    questions = [q for q in list_questions(event, http_actor().__class__(token=None))]
    return {"event": data, "questions": questions, "join_url": join_url(event),
            "page_data": {"event": data, "questions": questions, "join_url": join_url(event),
                          "locale": html_lang()}}


def console_context(event: Event) -> dict[str, Any]:
    """What the moderator console renders before its socket takes over."""
    from .views import html_lang

    data = event_dict(event)
    questions = list_questions(event, http_actor())
    return {"event": data, "questions": questions, "join_url": join_url(event),
            "page_data": {"event": data, "questions": questions, "locale": html_lang()}}

"""Every write: check the rules, change, log, commit once, then publish.

The JSON API, the Socket.IO handlers and the CLI call these functions; they only
parse input and shape answers. Identity always comes from the server side (an
:class:`~discussion.identity.Actor`), never from a payload. Each verb runs as one
unit of work (:mod:`.uow`): its broadcasts go out after the one commit, never on
failure, and once however often a busy database made it start again.

One module per area: :mod:`.questions` (ask, delete), :mod:`.votes`,
:mod:`.comments`, :mod:`.moderation` (one verb per action), :mod:`.events` and
:mod:`.privacy` (forget me, purge).
"""

from __future__ import annotations

from .comments import comment, delete_comment
from .events import (
    EVENT_FIELDS_ORGANISER,
    create_event,
    delete_event,
    events_for,
    load_seed,
    update_event,
)
from .moderation import (
    COMMENT_ACTIONS,
    COMMENT_VERBS,
    NOTICES,
    QUESTION_ACTIONS,
    QUESTION_VERBS,
    moderate_comment,
    moderate_question,
)
from .privacy import forget_me, purge
from .questions import ask, delete_question
from .uow import UnitOfWork, unit_of_work
from .votes import vote

__all__ = [
    "COMMENT_ACTIONS",
    "COMMENT_VERBS",
    "EVENT_FIELDS_ORGANISER",
    "NOTICES",
    "QUESTION_ACTIONS",
    "QUESTION_VERBS",
    "UnitOfWork",
    "ask",
    "comment",
    "create_event",
    "delete_comment",
    "delete_event",
    "delete_question",
    "events_for",
    "forget_me",
    "load_seed",
    "moderate_comment",
    "moderate_question",
    "purge",
    "unit_of_work",
    "update_event",
    "vote",
]

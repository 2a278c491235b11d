"""The read side: who sees which questions, the one ranking rule, and the public shapes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, func, or_, select

from . import cache, ratelimit, similar
from .errors import NotFound, RateLimited
from .extensions import db
from .identity import Actor, legacy_key, participant_key, tombstone
from .models import (
    Comment,
    Event,
    ModerationEntry,
    Participant,
    Question,
    QuestionRemoval,
    QuestionStatus,
    Quote,
    Vote,
)
from .rules import access as policy
from .rules import shapes
from .rules.enums import PUBLIC_ACTIONS, ErrorCode

# The ranking rule, documented once: pinned questions first, then most votes, ties
# oldest first (then lowest id, so the order is total). "new" is newest first.
# static/js applies the same rule to live updates.
RANKINGS = {
    "top": (
        Question.pinned.desc(),
        Question.votes.desc(),
        Question.created_at.asc(),
        Question.id.asc(),
    ),
    "new": (Question.created_at.desc(), Question.id.desc()),
}


def rank_key(q: dict[str, Any]) -> tuple[Any, ...]:
    """The "top" rule on serialised questions, for lists built in Python."""
    return (not q["pinned"], -q["votes"], q["created_at"], q["id"])


def iso(moment: datetime | None) -> str | None:
    """UTC timestamps as ISO 8601 with a Z, millisecond precision."""
    return None if moment is None else moment.isoformat(timespec="milliseconds") + "Z"


def find_event(code: str, actor: Actor | None = None) -> Event:
    """The event with this join code (any case); drafts only for their moderators."""
    event = db.session.scalar(select(Event).where(Event.code == code.strip().lower()))
    policy.require_event(actor.user if actor else None, event)
    assert event is not None
    return event


@dataclass(frozen=True, slots=True)
class EventRef:
    """What a joining phone needs of an event before anything else: cached, no ORM."""

    id: int
    code: str
    status: str


def event_ref(code: str, actor: Actor | None = None) -> EventRef:
    """Like :func:`find_event`, from a short-lived cache: the hot path of joining."""
    code = code.strip().lower()

    def load() -> EventRef | None:
        row = db.session.execute(
            select(Event.id, Event.code, Event.status).where(Event.code == code)
        ).first()
        return None if row is None else EventRef(row.id, row.code, row.status)

    ref = cache.by_code(code, load)
    policy.require_event(actor.user if actor else None, ref)
    assert ref is not None
    return ref


def load_event(ref: EventRef) -> Event:
    """The ORM event behind a reference."""
    event = db.session.get(Event, ref.id)
    if event is None:  # deleted since it was cached
        raise NotFound(ErrorCode.EVENT_NOT_FOUND, "There is no event with this code.")
    return event


def find_participant(event_id: int, token: str | None) -> Participant | None:
    """The participant this token is in this event, if they ever wrote anything.

    A key stored by the first release (an unkeyed digest) is found too, and rewritten
    as the keyed one on the way (see the migration that marked them ``legacy:``).
    """
    if token is None:
        return None
    key = participant_key(token, event_id)
    found = db.session.scalar(
        select(Participant).where(Participant.event_id == event_id, Participant.key == key)
    )
    if found is None and cache.legacy_keys():
        found = db.session.scalar(
            select(Participant).where(
                Participant.event_id == event_id,
                Participant.key == legacy_key(token, event_id),
            )
        )
        if found is not None:
            found.key = key  # committed with the caller's write, or rewritten next time
    return found


def topic_slugs(event: Event) -> dict[int, str]:
    """Topic id to slug for one event (a handful of rows, loaded with the event)."""
    return {t.id: t.slug for t in event.topics}


@dataclass(frozen=True, slots=True)
class EventContent:
    """An event's own texts in one language: each the translation when there is one,
    else the text as the organisers wrote it."""

    locale: str | None
    title: str
    description: str
    place: str
    policy: str
    topics: dict[str, str]  # slug: name, in display order


def reader_locale() -> str | None:
    """The language of the current request, as Flask-Babel chose it (the ``lang``
    cookie, else Accept-Language); None outside a request."""
    from flask import has_request_context
    from flask_babel import get_locale

    if not has_request_context():
        return None
    locale = get_locale()
    return None if locale is None else str(locale)


def _variant(translations: dict[str, Any] | None, locale: str | None) -> Any:
    """The translation for a locale: exactly (``pt_BR``), else by language (``es_MX``
    finds ``es``, ``pt`` finds ``pt_BR``)."""
    if not translations or not locale:
        return None
    locale = locale.replace("-", "_")
    if locale in translations:
        return translations[locale]
    language = locale.split("_")[0].lower()
    return next(
        (value for key, value in translations.items() if key.split("_")[0].lower() == language),
        None,
    )


def localised_event(event: Event, locale: str | None) -> EventContent:
    """The event's title, description, place, policy and topic names in ``locale``
    (``None``: as written). Each text falls back to the written one on its own, so a
    translation may give only the title. Pages, the API, sockets and reports use this."""
    texts = _variant(event.translations, locale) or {}
    return EventContent(
        locale=locale,
        title=texts.get("title") or event.title,
        description=texts.get("description") or event.description or "",
        place=texts.get("place") or event.place or "",
        policy=texts.get("policy") or event.policy or "",
        topics={t.slug: _variant(t.translations, locale) or t.name for t in event.topics},
    )


def event_dict(
    event: Event, locale: str | None = None, *, all_languages: bool = True
) -> dict[str, Any]:
    """The public shape of an event (rules.shapes.Event), its own texts in ``locale``
    (by default the reader's: see :func:`reader_locale`), with the texts as written
    (``original``) and every translation, for clients that show or edit several
    languages.

    ``all_languages=False`` leaves those two out (and the topics' ``translations``):
    what a phone or a board needs (rules.shapes.EventSummary), at less than half the
    size, for the shared page, the join ack and the room's ``event`` messages.
    """
    content = localised_event(event, locale or reader_locale())
    fields = _event_fields(event, content)
    if not all_languages:
        return shapes.EventSummary.model_validate(
            {
                **fields,
                "topics": [{"slug": t.slug, "name": content.topics[t.slug]} for t in event.topics],
            }
        ).model_dump(mode="json")
    return shapes.Event.model_validate(
        {
            **fields,
            "topics": [
                {
                    "slug": t.slug,
                    "name": content.topics[t.slug],
                    "translations": t.translations or {},
                }
                for t in event.topics
            ],
            "original": {
                "title": event.title,
                "description": event.description or "",
                "place": event.place or "",
                "policy": event.policy or "",
                "topics": [{"slug": t.slug, "name": t.name} for t in event.topics],
            },
            "translations": event.translations or {},
        }
    ).model_dump(mode="json")


def _event_fields(event: Event, content: EventContent) -> dict[str, Any]:
    return {
        "code": event.code,
        "title": content.title,
        "description": content.description,
        "date": event.date,
        "place": content.place,
        "policy": content.policy,
        "moderator": event.moderator,
        "speakers": list(event.speakers or []),
        "organisers": list(event.organisers or []),
        "status": event.status,
        "moderation": event.moderation,
        "licence": event.licence,
    }


def _question_fields(
    q: Question, slugs: dict[int, str], *, mine: bool = False, voted: bool = False
) -> dict[str, Any]:
    return {
        "id": q.id,
        "body": q.body,
        "topic": slugs.get(q.topic_id) if q.topic_id else None,
        "votes": q.votes,
        "comments": q.comments,
        "status": q.status,
        "seeded": q.seeded,
        "author": q.author,
        "created_at": iso(q.created_at),
        "highlighted": q.highlighted,
        "pinned": q.pinned,
        "edited": q.edited,
        "mine": mine,
        "voted": voted,
    }


def question_dict(
    q: Question, slugs: dict[int, str], *, mine: bool = False, voted: bool = False
) -> dict[str, Any]:
    """A question as participants see it (rules.shapes.Question)."""
    return shapes.Question(**_question_fields(q, slugs, mine=mine, voted=voted)).model_dump(
        mode="json"
    )


def staff_question_dict(
    q: Question, slugs: dict[int, str], *, author_muted: bool | None = None
) -> dict[str, Any]:
    """A question as the event's moderators see it (rules.shapes.StaffQuestion): the
    original of an edit, merges, mutes, a possible duplicate."""
    if author_muted is None:
        author = db.session.get(Participant, q.participant_id) if q.participant_id else None
        author_muted = bool(author and author.muted)
    return shapes.StaffQuestion(
        **_question_fields(q, slugs),
        original_body=q.original_body,
        merged_into=q.merged_into_id,
        quote=Quote(q.quote),
        author_muted=author_muted,
        duplicate_of=similar.duplicate_of(q.event_id, q.id, q.body, q.status),
    ).model_dump(mode="json")


def comment_dict(c: Comment, *, mine: bool = False, staff: bool = False) -> dict[str, Any]:
    """A comment as participants see it, or with ``hidden`` for the event's moderators
    (rules.shapes.Comment, StaffComment)."""
    fields: dict[str, Any] = {
        "id": c.id,
        "question_id": c.question_id,
        "body": c.body,
        "author": c.author,
        "created_at": iso(c.created_at) or "",
        "mine": mine,
    }
    if staff:
        return shapes.StaffComment(**fields, hidden=c.hidden).model_dump(mode="json")
    return shapes.Comment(**fields).model_dump(mode="json")


def visible_to(stmt: Select[Any], moderator: bool, participant: Participant | None) -> Select[Any]:
    """Participants see visible and answered questions, and their own pending ones; the
    event's moderators see everything (the SQL form of :func:`policy.sees_question`)."""
    if moderator:
        return stmt
    shown: ColumnElement[bool] = Question.status.in_(sorted(policy.PUBLIC_STATUSES))
    if participant is not None:
        shown = or_(
            shown,
            (Question.status == QuestionStatus.PENDING.value)
            & (Question.participant_id == participant.id),
        )
    return stmt.where(shown)


def list_questions(
    event: Event, actor: Actor, *, sort: str = "top", topic: str | None = None
) -> list[dict[str, Any]]:
    """The questions this actor may see, ranked by the one rule, with mine and voted."""
    slugs = topic_slugs(event)
    moderator = policy.moderates(actor.user, event)
    participant = find_participant(event.id, actor.token)
    stmt = select(Question).where(Question.event_id == event.id)
    if topic is not None:
        topic_id = next((i for i, s in slugs.items() if s == topic), None)
        if topic_id is None:
            raise NotFound(ErrorCode.UNKNOWN_TOPIC, "This event has no such topic.")
        stmt = stmt.where(Question.topic_id == topic_id)
    stmt = visible_to(stmt, moderator, participant).order_by(*RANKINGS[sort])
    return _shaped(event, actor, db.session.scalars(stmt).all(), moderator, participant)


def _shaped(
    event: Event,
    actor: Actor,
    questions: Sequence[Question],
    moderator: bool,
    participant: Participant | None,
) -> list[dict[str, Any]]:
    """Questions in the shape this actor reads (staff or public), with mine and voted."""
    slugs = topic_slugs(event)
    voted = voted_ids(event.id, actor.token)
    pid = participant.id if participant else None
    muted: set[int] = set()
    if moderator:
        muted = set(
            db.session.scalars(
                select(Participant.id).where(
                    Participant.event_id == event.id, Participant.muted.is_(True)
                )
            )
        )
    out = []
    for q in questions:
        if moderator:
            data = staff_question_dict(q, slugs, author_muted=q.participant_id in muted)
        else:
            data = question_dict(q, slugs)
        data["mine"] = pid is not None and q.participant_id == pid
        data["voted"] = q.id in voted
        out.append(data)
    return out


def event_version(event_id: int) -> int:
    """The event's version now (see ``Event.version``)."""
    return int(db.session.scalar(select(Event.version).where(Event.id == event_id)) or 0)


def changes_since(event: Event, actor: Actor, since: int) -> tuple[list[dict[str, Any]], list[int]]:
    """What changed for this actor after version ``since``: the questions they may read
    that changed (ranked, in their shape, with mine and voted), and the ids they must
    drop. A participant is told only of ids they could read: public questions that
    were deleted, merged or hidden, and their own pending ones that were rejected or
    deleted; the event's moderators, who keep hidden questions, of deleted ones only.
    """
    moderator = policy.moderates(actor.user, event)
    participant = find_participant(event.id, actor.token)
    changed = visible_to(
        select(Question).where(Question.event_id == event.id, Question.version > since),
        moderator,
        participant,
    ).order_by(*RANKINGS["top"])
    questions = _shaped(event, actor, db.session.scalars(changed).all(), moderator, participant)
    gone = select(QuestionRemoval.question_id).where(
        QuestionRemoval.event_id == event.id, QuestionRemoval.version > since
    )
    if moderator:
        gone = gone.where(QuestionRemoval.deleted.is_(True))
    else:
        readers: ColumnElement[bool] = QuestionRemoval.public.is_(True)
        if participant is not None:
            readers = or_(readers, QuestionRemoval.participant_id == participant.id)
        gone = gone.where(readers)
    present = {q["id"] for q in questions}
    removed = sorted(set(db.session.scalars(gone)) - present)
    return questions, removed


def voted_ids(event_id: int, token: str | None) -> set[int]:
    """The questions of this event this token's holder voted for, the votes that
    "forget me" kept under its tombstone included (one person, one vote)."""
    if token is None:
        return set()
    key = participant_key(token, event_id)
    keys = [key, tombstone(key)]
    return set(
        db.session.scalars(
            select(Vote.question_id)
            .join(Participant, Participant.id == Vote.participant_id)
            .where(Participant.event_id == event_id, Participant.key.in_(keys))
        )
    )


def similar_questions(event: Event, actor: Actor, text: str) -> list[dict[str, Any]]:
    """The visible or answered questions of the event that say the same as ``text``,
    best first, at most three, in the public shape with the caller's mine and voted.

    Limited per participant (``RATELIMIT_SIMILAR``): a phone looks up as its owner types.
    """
    who = participant_key(actor.token, event.id) if actor.token else "anonymous"
    if not ratelimit.hit(current_app.config["RATELIMIT_SIMILAR"], "similar", str(event.id), who):
        raise RateLimited(ErrorCode.RATE_LIMITED, "You are sending too fast. Please wait a moment.")
    ids = similar.lookup(event.id, text)
    if not ids:
        return []
    found = {
        q.id: q
        for q in db.session.scalars(
            select(Question).where(
                Question.id.in_(ids),
                Question.event_id == event.id,
                Question.status.in_(similar.SEARCHABLE),
            )
        )
    }
    participant = find_participant(event.id, actor.token)
    voted = voted_ids(event.id, actor.token) & set(found)
    slugs = topic_slugs(event)
    pid = participant.id if participant else None
    return [
        question_dict(
            found[i],
            slugs,
            mine=pid is not None and found[i].participant_id == pid,
            voted=i in voted,
        )
        for i in ids
        if i in found
    ]


def get_question(question_id: int, actor: Actor) -> tuple[Question, Event, Participant | None]:
    """A question the actor may see, with its event and the actor's participant there.

    Anything the actor may not read is "no such question", so ids of pending and
    hidden questions and of draft events are not confirmed to outsiders.
    """
    q = db.session.get(Question, question_id)
    if q is None:
        raise NotFound(ErrorCode.QUESTION_NOT_FOUND, "There is no such question.")
    event = db.session.get(Event, q.event_id)
    assert event is not None
    moderator = policy.moderates(actor.user, event)
    participant = find_participant(event.id, actor.token)
    if not policy.sees_event(actor.user, event) or not policy.sees_question(
        moderator=moderator,
        status=q.status,
        author_id=q.participant_id,
        participant_id=participant.id if participant else None,
    ):
        raise NotFound(ErrorCode.QUESTION_NOT_FOUND, "There is no such question.")
    return q, event, participant


def list_comments(question_id: int, actor: Actor) -> list[dict[str, Any]]:
    """A question's thread, oldest first; hidden comments only for the event's moderators."""
    q, event, participant = get_question(question_id, actor)
    moderator = policy.moderates(actor.user, event)
    stmt = select(Comment).where(Comment.question_id == q.id)
    if not moderator:
        stmt = stmt.where(Comment.hidden.is_(False))
    pid = participant.id if participant else None
    out = []
    for c in db.session.scalars(stmt.order_by(Comment.created_at, Comment.id)):
        out.append(
            comment_dict(c, mine=pid is not None and c.participant_id == pid, staff=moderator)
        )
    return out


def public_moderation(event: Event) -> dict[str, Any]:
    """The public side of moderation: the policy, how much is hidden, and why.

    Never the hidden text, never who moderated, never which participant.
    """
    hidden_questions = db.session.scalar(
        select(func.count())
        .select_from(Question)
        .where(Question.event_id == event.id, Question.status == QuestionStatus.HIDDEN.value)
    )
    hidden_comments = db.session.scalar(
        select(func.count())
        .select_from(Comment)
        .join(Question)
        .where(Question.event_id == event.id, Comment.hidden.is_(True))
    )
    entries = db.session.scalars(
        select(ModerationEntry)
        .where(ModerationEntry.event_id == event.id, ModerationEntry.action.in_(PUBLIC_ACTIONS))
        .order_by(ModerationEntry.at.desc(), ModerationEntry.id.desc())
    )
    return shapes.PublicModeration.model_validate(
        {
            "policy": localised_event(event, reader_locale()).policy,
            "hidden": {"questions": hidden_questions, "comments": hidden_comments},
            "entries": [
                {
                    "action": e.action,
                    "reason": e.reason,
                    "reason_code": e.reason_code,
                    "at": iso(e.at),
                }
                for e in entries
            ],
        }
    ).model_dump(mode="json")

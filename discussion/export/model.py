"""The thread model: everything an export says about one event, read from one snapshot.

The header, figures and moderation log are small and loaded at once; the threads are
streamed from ``yield_per`` queries each time a renderer asks for them, so a large
event is written with flat memory: the archive and the CSV in id order, the reports in
their ranked order (topics in their order, then "No topic"; most votes first, ties
oldest first).

Anonymised here, once, for every format (docs/export.md): no participant key, id or
pseudonym leaves the database, and a name only with ``quote: named`` on a post that is
not hidden.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import case, func, literal, select, union

from ..extensions import db
from ..models import Comment, Event, ModerationEntry, Question, QuestionStatus, Quote, Vote
from ..queries import iso
from ..rules.enums import QuestionAction
from ..rules.timezone import zone

BATCH = 1000  # rows per fetch from the database, and per bulk insert on import
PUBLISHED = (QuestionStatus.VISIBLE.value, QuestionStatus.ANSWERED.value)
# Log actions whose target is a comment; the other post actions target a question.
COMMENT_TARGETS = frozenset({"hide_comment", "restore_comment", "delete_comment"})
# (mute and unmute target a participant, whom no export names).
QUESTION_TARGETS = frozenset(
    {a.value for a in QuestionAction if a not in (QuestionAction.MUTE, QuestionAction.UNMUTE)}
    | {"delete"}
)


def public_name(author: str | None, quote: str, hidden: bool = False) -> str | None:
    """The name an export may print: one its author gave and agreed to be quoted with,
    on a post that is not hidden (a hidden post may be hidden for naming someone)."""
    return author if quote == Quote.NAMED and author and not hidden else None


@dataclass(slots=True)
class Thread:
    """A question (archive shape, without ``thread``) and its comments, oldest first."""

    question: dict[str, Any]
    comments: list[dict[str, Any]]


@dataclass(slots=True)
class Section:
    """A topic of a report (``slug`` None: "No topic") with its figures and ranked threads."""

    slug: str | None
    name: str
    figures: dict[str, int]
    threads: Iterator[Thread]


@dataclass(slots=True)
class ActionFigure:
    """One logged action: how many times, and on how many distinct posts (None: not a
    post action, such as closing the event)."""

    action: str
    times: int
    posts: int | None


@dataclass
class ThreadModel:
    """Everything an export says about one event, read from one snapshot."""

    event_id: int
    code: str
    event: dict[str, Any]
    licence: str
    topics: list[dict[str, Any]]
    figures: dict[str, int]
    topic_figures: dict[str | None, dict[str, int]]
    moderation_log: list[dict[str, Any]]
    moderation_actions: list[ActionFigure]
    exported_at: datetime
    _slugs: dict[int, str] = field(default_factory=dict, repr=False)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The event's time zone, in which the reports show times."""
        return zone(self.event.get("timezone"))

    def threads(self, *, report: bool = False) -> Iterator[Thread]:
        """Every thread in id order (archive, CSV), or the published ones in report order."""
        q_stmt = select(*_QUESTION_COLUMNS).where(Question.event_id == self.event_id)
        c_stmt = (
            select(*_COMMENT_COLUMNS)
            .join(Question, Question.id == Comment.question_id)
            .where(Question.event_id == self.event_id)
        )
        if report:
            q_stmt = q_stmt.where(Question.status.in_(PUBLISHED))
            c_stmt = c_stmt.where(Question.status.in_(PUBLISHED), Comment.hidden.is_(False))
            order = self._report_order()
        else:
            order = (Question.id,)
        # Both streams follow the same question order, so one pass joins them; the
        # snapshot (begin_snapshot) guarantees they agree.
        questions = db.session.execute(q_stmt.order_by(*order).execution_options(yield_per=BATCH))
        comments = iter(
            db.session.execute(
                c_stmt.order_by(*order, Comment.created_at, Comment.id).execution_options(
                    yield_per=BATCH
                )
            )
        )
        waiting = next(comments, None)
        for row in questions:
            thread = []
            while waiting is not None and waiting.question_id == row.id:
                thread.append(_comment_dict(waiting))
                waiting = next(comments, None)
            yield Thread(_question_dict(row, self._slugs), thread)

    def _report_order(self) -> tuple[Any, ...]:
        positions = {t["id"]: i for i, t in enumerate(self.topics)}
        topic_rank = (
            case(positions, value=Question.topic_id, else_=len(positions))
            if positions
            else literal(0)
        )
        return (topic_rank, Question.votes.desc(), Question.created_at.asc(), Question.id.asc())

    def sections(self) -> Iterator[Section]:
        """The report's sections: each topic in order, then "No topic" if it has threads."""
        stream = self.threads(report=True)
        head = next(stream, None)
        done: set[str | None] = set()
        parts = [(t["slug"], t["name"]) for t in self.topics] + [(None, _("No topic"))]

        def take(slug: str | None) -> Iterator[Thread]:
            nonlocal head
            while head is not None and head.question["topic"] == slug:
                current, head = head, next(stream, None)
                yield current

        for slug, name in parts:
            # A section the renderer did not read to the end is skipped here.
            while head is not None and head.question["topic"] in done:
                head = next(stream, None)
            figures = self.topic_figures.get(slug, empty_figures())
            if slug is None and not figures["questions"]:
                break
            yield Section(slug, name, figures, take(slug))
            done.add(slug)


_QUESTION_COLUMNS = (
    Question.id,
    Question.topic_id,
    Question.body,
    Question.original_body,
    Question.author,
    Question.quote,
    Question.seeded,
    Question.status,
    Question.highlighted,
    Question.pinned,
    Question.edited,
    Question.merged_into_id,
    Question.votes,
    Question.comments,
    Question.created_at,
    Question.answered_at,
)
_COMMENT_COLUMNS = (
    Comment.id,
    Comment.question_id,
    Comment.body,
    Comment.author,
    Comment.quote,
    Comment.hidden,
    Comment.created_at,
)


def _question_dict(row: Any, slugs: dict[int, str]) -> dict[str, Any]:
    """A question as the archive stores it: no participant, a name only if quotable."""
    return {
        "id": row.id,
        "topic": slugs.get(row.topic_id) if row.topic_id else None,
        "body": row.body,
        "original_body": row.original_body,
        "author": public_name(row.author, row.quote, row.status == QuestionStatus.HIDDEN),
        "quote": row.quote,
        "seeded": bool(row.seeded),
        "status": row.status,
        "highlighted": bool(row.highlighted),
        "pinned": bool(row.pinned),
        "edited": bool(row.edited),
        "merged_into": row.merged_into_id,
        "votes": row.votes,
        "comments": row.comments,
        "created_at": iso(row.created_at),
        "answered_at": iso(row.answered_at),
    }


def _comment_dict(row: Any) -> dict[str, Any]:
    """A comment as the archive stores it."""
    return {
        "id": row.id,
        "body": row.body,
        "author": public_name(row.author, row.quote, bool(row.hidden)),
        "quote": row.quote,
        "hidden": bool(row.hidden),
        "created_at": iso(row.created_at),
    }


def empty_figures() -> dict[str, int]:
    """A topic's figures before anything is counted."""
    return {"questions": 0, "votes": 0, "comments": 0, "answered": 0}


def begin_snapshot() -> None:
    """Start a fresh read transaction that sees one state of the database throughout.

    SQLite (WAL) keeps one snapshot per read transaction; PostgreSQL needs REPEATABLE
    READ for the same. Counts, threads and the log of an export then agree even while
    the room keeps voting.
    """
    db.session.rollback()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def find_event_any(code: str) -> Event | None:
    """The event with this code, drafts included (staff and the CLI export drafts too)."""
    return db.session.scalar(select(Event).where(Event.code == code.strip().lower()))


def event_record(event: Event) -> dict[str, Any]:
    """The event's facts as the archive stores them."""
    return {
        "code": event.code,
        "title": event.title,
        "description": event.description,
        "date": event.date.isoformat() if event.date else None,
        "timezone": event.timezone or "UTC",
        "place": event.place,
        "moderator": event.moderator,
        "speakers": list(event.speakers or []),
        "organisers": list(event.organisers or []),
        "status": event.status,
        "moderation": event.moderation,
        "policy": event.policy,
        "retention_days": event.retention_days,
        "created_at": iso(event.created_at),
    }


def build(code: str, *, now: datetime | None = None) -> ThreadModel:
    """Read the thread model of the event with this code (call :func:`begin_snapshot` first)."""
    event = find_event_any(code)
    if event is None:
        raise LookupError(code)
    topics = [{"id": t.id, "slug": t.slug, "name": t.name} for t in event.topics]
    slugs = {t.id: t.slug for t in event.topics}
    figures, per_topic = _figures(event, slugs)
    log = [
        {
            "action": e.action,
            "question_id": e.question_id,
            "comment_id": e.comment_id,
            "reason": e.reason,
            "reason_code": e.reason_code,
            "at": iso(e.at),
        }
        for e in db.session.execute(
            select(
                ModerationEntry.action,
                ModerationEntry.question_id,
                ModerationEntry.comment_id,
                ModerationEntry.reason,
                ModerationEntry.reason_code,
                ModerationEntry.at,
            )
            .where(ModerationEntry.event_id == event.id)
            .order_by(ModerationEntry.at, ModerationEntry.id)
        )
    ]
    return ThreadModel(
        event_id=event.id,
        code=event.code,
        event=event_record(event),
        licence=event.licence,
        topics=topics,
        figures=figures,
        topic_figures=per_topic,
        moderation_log=log,
        moderation_actions=action_figures(log),
        exported_at=(now or datetime.now(UTC)).replace(tzinfo=None),
        _slugs=slugs,
    )


def action_figures(log: list[dict[str, Any]]) -> list[ActionFigure]:
    """Each logged action, counted twice: times it was done, and distinct posts it
    touched (a question hidden, restored and hidden again is two hides of one question)."""
    times: dict[str, int] = {}
    posts: dict[str, set[Any]] = {}
    for n, entry in enumerate(log):
        action = entry["action"]
        times[action] = times.get(action, 0) + 1
        if action in COMMENT_TARGETS:
            target = entry["comment_id"]
        elif action in QUESTION_TARGETS:
            target = entry["question_id"]
        else:
            continue
        # A post deleted since has lost its id: each such entry is a post of its own.
        posts.setdefault(action, set()).add(target if target is not None else ("gone", n))
    return [ActionFigure(a, times[a], len(posts[a]) if a in posts else None) for a in sorted(times)]


def _figures(
    event: Event, slugs: dict[int, str]
) -> tuple[dict[str, int], dict[str | None, dict[str, int]]]:
    """Summary figures, for the event and per topic, computed in SQL.

    Questions, votes, comments and answered count published questions (visible or
    answered) and their visible comments, ``quote: none`` posts included. Participants
    are everyone who asked, commented or voted: the event's running total, which the
    retention purge and a restore keep, or the distinct participants still linked to
    posts and votes if that is more (rows written around the running total).
    """
    in_event = Question.event_id == event.id
    published = Question.status.in_(PUBLISHED)
    per_topic: dict[str | None, dict[str, int]] = {}
    for topic_id, n, votes, answered in db.session.execute(
        select(
            Question.topic_id,
            func.count(),
            func.coalesce(func.sum(Question.votes), 0),
            func.coalesce(
                func.sum(case((Question.status == QuestionStatus.ANSWERED.value, 1), else_=0)), 0
            ),
        )
        .where(in_event, published)
        .group_by(Question.topic_id)
    ):
        per_topic[slugs.get(topic_id) if topic_id else None] = {
            "questions": n,
            "votes": int(votes),
            "comments": 0,
            "answered": int(answered),
        }
    for topic_id, n in db.session.execute(
        select(Question.topic_id, func.count())
        .select_from(Comment)
        .join(Question, Question.id == Comment.question_id)
        .where(in_event, published, Comment.hidden.is_(False))
        .group_by(Question.topic_id)
    ):
        per_topic.setdefault(slugs.get(topic_id) if topic_id else None, empty_figures())[
            "comments"
        ] = n

    def count(stmt: Any) -> int:
        return int(db.session.scalar(stmt) or 0)

    people = union(
        select(Question.participant_id).where(in_event, Question.participant_id.is_not(None)),
        select(Comment.participant_id)
        .join(Question, Question.id == Comment.question_id)
        .where(in_event, Comment.participant_id.is_not(None)),
        select(Vote.participant_id).join(Question, Question.id == Vote.question_id).where(in_event),
    ).subquery()
    hidden = Question.status == QuestionStatus.HIDDEN.value
    figures = {
        "participants": max(
            event.participants_total or 0, count(select(func.count()).select_from(people))
        ),
        **{key: sum(t[key] for t in per_topic.values()) for key in empty_figures()},
        "pending": count(
            select(func.count())
            .select_from(Question)
            .where(in_event, Question.status == QuestionStatus.PENDING.value)
        ),
        "hidden_questions": count(
            select(func.count()).select_from(Question).where(in_event, hidden)
        ),
        "merged_questions": count(
            select(func.count())
            .select_from(Question)
            .where(in_event, hidden, Question.merged_into_id.is_not(None))
        ),
        "hidden_comments": count(
            select(func.count())
            .select_from(Comment)
            .join(Question, Question.id == Comment.question_id)
            .where(in_event, Comment.hidden.is_(True))
        ),
    }
    return figures, per_topic

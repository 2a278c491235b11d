"""Seed files (TOML, docs/seed-format.md): an event with its topics and open questions.

Loading is idempotent: the event is found by its code, topics by slug and questions
by their text, so running ``flask seed`` twice changes nothing the second time.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from . import validation
from .errors import ValidationError
from .extensions import db
from .models import EVENT_SCALARS, Event, Question, QuestionStatus, Topic

BUNDLED = Path(__file__).parent / "seeds" / "smartcities-2016.toml"
SEED_FORMAT = 1


class SeedError(ValueError):
    """The seed file is unreadable or breaks the format."""


def read_seed(path: Path) -> dict[str, Any]:
    """Parse and check a seed file; raises :class:`SeedError` with a readable message."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise SeedError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"{path} is not valid TOML: {exc}") from None
    return check_seed(data)


def parse_seed_text(text: str) -> dict[str, Any]:
    """Parse and check a seed document given as text (an upload from the console)."""
    if len(text) > 1_000_000:
        raise SeedError("the seed file is larger than 1 MB")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"not valid TOML: {exc}") from None
    return check_seed(data)


def check_seed(data: dict[str, Any]) -> dict[str, Any]:
    """Validate the parsed seed document and return the normalised event, topics, questions."""
    if data.get("format", SEED_FORMAT) != SEED_FORMAT:
        raise SeedError(f"unknown seed format {data.get('format')!r} (this version reads 1)")
    if not isinstance(data.get("topics", []), list):
        raise SeedError("'topics' must be an array of tables ([[topics]])")
    raw_event = data.get("event")
    if not isinstance(raw_event, dict):
        raise SeedError("the [event] table is missing")
    try:
        fields = dict(raw_event)
        if isinstance(fields.get("date"), date):
            fields["date"] = fields["date"].isoformat()
        event = validation.event_fields(
            {**fields, "topics": data.get("topics", [])}, creating=True
        )
        questions = []
        slugs = {slug for slug, _ in event["topics"] or []}
        raw_questions = data.get("questions", [])
        if not isinstance(raw_questions, list):
            raise SeedError("'questions' must be an array of tables ([[questions]])")
        for i, item in enumerate(raw_questions, 1):
            if not isinstance(item, dict):
                raise SeedError(f"question {i} is not a table")
            body = validation.text(item, "body", validation.QUESTION_MAX)
            topic = item.get("topic")
            if topic is not None and (not isinstance(topic, str) or topic not in slugs):
                raise SeedError(f"question {i} names unknown topic {topic!r}")
            pinned = item.get("pinned", False)
            if not isinstance(pinned, bool):
                raise SeedError(f"question {i}: 'pinned' must be true or false")
            questions.append({"body": body, "topic": topic, "pinned": pinned})
    except ValidationError as exc:
        raise SeedError(exc.message) from None
    return {"event": event, "questions": questions}


def load_seed(seed: dict[str, Any]) -> tuple[Event, int]:
    """Create or update the event of a checked seed (the caller commits); returns it and the
    number of questions added."""
    fields = seed["event"]
    event = db.session.scalar(select(Event).where(Event.code == fields["code"]))
    if event is None:
        event = Event(code=fields["code"], title=fields["title"])
        db.session.add(event)
    for name in (*EVENT_SCALARS, "status", "moderation"):
        if fields.get(name) is not None:
            setattr(event, name, fields[name])
    by_slug = {t.slug: t for t in event.topics}
    for position, (slug, name) in enumerate(fields["topics"] or []):
        topic = by_slug.get(slug)
        if topic is None:
            topic = by_slug[slug] = Topic(slug=slug, name=name, position=position)
            event.topics.append(topic)
        else:
            topic.name, topic.position = name, position
    db.session.flush()
    existing = set(
        db.session.scalars(
            select(Question.body).where(Question.event_id == event.id, Question.seeded.is_(True))
        )
    )
    added = 0
    for item in seed["questions"]:
        if item["body"] in existing:
            continue
        db.session.add(Question(
            event_id=event.id,
            topic_id=by_slug[item["topic"]].id if item["topic"] else None,
            body=item["body"],
            seeded=True,
            pinned=item["pinned"],
            status=QuestionStatus.VISIBLE.value,
        ))
        existing.add(item["body"])
        added += 1
    db.session.flush()
    return event, added

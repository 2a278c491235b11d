"""Seed files (TOML, docs/seed-format.md): an event with its topics and open questions.

A file is parsed into the pydantic models below, which refuse unknown keys and apply
the same rules (and error codes) as the API. A broken file is refused as a whole with
:class:`SeedError` (code ``invalid_seed``), whose message names the place of each
problem ("question 3: 'body' is longer than 500 characters.") in the reader's language.

Loading is idempotent: the event is found by its code, topics by slug and questions
by their text, so loading a file twice changes nothing the second time. A reload
never changes the event's status (the file's ``status`` is only the status of a new
event); :func:`discussion.operations.load_seed` changes it when told to, and logs it.
Use that function to load: it logs every load, from the command line and the console.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError
from sqlalchemy import select

from .errors import DomainError, PlacedError, ValidationError
from .extensions import db
from .models import EVENT_SCALARS, Event, Question, QuestionStatus, Topic
from .rules.enums import ErrorCode
from .rules.event_rules import LIST_MAX, first_repeat, given_twice, language, merge_translations
from .rules.events import (
    EventCode,
    EventFields,
    Slug,
    Title,
    TopicInput,
    TopicName,
    Translations,
)
from .rules.problems import problem, rule
from .rules.text import QUESTION_MAX, TOPIC_MAX, Text

BUNDLED = Path(__file__).parent / "seeds" / "smartcities-2016.toml"
SEED_FORMAT = 1
MAX_BYTES = 1_000_000
MAX_PROBLEMS = 5  # problems named in one message; the rest are counted


class SeedError(PlacedError):
    """The seed file is unreadable or breaks the format: ``invalid_seed``, with the
    place and the problem, each in the reader's language."""

    def __init__(self, place: str, error: DomainError, **place_params: Any) -> None:
        super().__init__(ErrorCode.INVALID_SEED, place, error, **place_params)
        self.more: list[SeedError] = []

    @property
    def message(self) -> str:
        from flask import has_request_context
        from flask_babel import ngettext

        first = super().message
        shown = [first, *(e.message for e in self.more[: MAX_PROBLEMS - 1])]
        left = len(self.more) - (MAX_PROBLEMS - 1)
        if left > 0:
            if has_request_context():
                shown.append(
                    ngettext(
                        "(and %(num)s more problem)", "(and %(num)s more problems)", left, num=left
                    )
                )
            else:
                shown.append(f"(and {left} more problem{'s' if left > 1 else ''})")
        return " ".join(shown)

    def __str__(self) -> str:
        return self.message


def N_(message: str) -> str:
    """Mark a place or problem for the catalogues; it is translated when read."""
    return message


# -- the file's models: the event's fields as the API declares them, unknown keys refused


def at_most(count: int) -> Any:
    """A pydantic validator: a list of at most ``count`` items (the file's topics)."""

    def run(value: list[Any]) -> list[Any]:
        if len(value) > count:
            raise PydanticCustomError(
                ErrorCode.TOO_MANY, "more than %(count)s items.", {"count": count}
            )
        return value

    return AfterValidator(run)


def _gather_languages(data: Any) -> Any:
    """Move the keys that name a language (``es``, ``pt_BR``, ``pt-BR``) of a table into
    its ``translations``, stored under the language's own spelling."""
    if not isinstance(data, dict):
        return data
    if "translations" in data:  # only through language keys, which are checked
        raise PydanticCustomError(
            ErrorCode.UNKNOWN_KEY, "unknown key '%(key)s'.", {"key": "translations"}
        )
    data = dict(data)
    found = {}
    for key in list(data):
        lang = language(key)
        if lang is not None:
            found[lang] = data.pop(key)
    if found:
        data["translations"] = found
    return data


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SeedEvent(EventFields, EventCode):
    """``[event]``: the fields of POST /events but the topics and moderators, with
    ``[event.es]``-style tables for its texts in other languages."""

    model_config = ConfigDict(extra="forbid", strict=True)

    title: Title
    translations: Translations = Field(default_factory=dict)

    _languages = model_validator(mode="before")(_gather_languages)


class SeedTopic(_Table):
    """``[[topics]]``: a name, an optional slug, and ``es = "..."``-style names."""

    slug: Slug | None = None
    name: TopicName
    translations: dict[str, TopicName] = Field(default_factory=dict)

    _languages = model_validator(mode="before")(_gather_languages)


class SeedQuestion(_Table):
    """``[[questions]]``: an open question of the organisers."""

    body: Text(QUESTION_MAX)  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
    topic: Text(TOPIC_MAX, multiline=False, required=False) = None  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
    pinned: bool = False


def _format(value: Any) -> int:
    if value != SEED_FORMAT or isinstance(value, bool):
        raise ValidationError(
            ErrorCode.UNKNOWN_FORMAT,
            "unknown seed format %(format)s (this version reads 1).",
            format=repr(value)[:20],
        )
    return SEED_FORMAT


class SeedFile(_Table):
    """The whole file."""

    format: Annotated[int, rule(_format)] = SEED_FORMAT
    event: SeedEvent
    topics: Annotated[list[SeedTopic], at_most(LIST_MAX)] = Field(default_factory=list)
    questions: list[SeedQuestion] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Seed:
    """A checked seed file: the event's fields (as ``EventInput.changes`` of
    :mod:`discussion.rules.events` gives them) and its questions, each with its topic's
    slug."""

    event: dict[str, Any]
    questions: list[dict[str, Any]]


# -- places and problems


def _place(loc: tuple[int | str, ...]) -> tuple[str, dict[str, Any], tuple[int | str, ...]]:
    """Where in the file a pydantic error is: the place's words and the rest of the path."""
    head = loc[0] if loc else None
    if head == "event" and len(loc) >= 3 and loc[1] == "translations":
        return N_("[event.%(lang)s]"), {"lang": loc[2]}, loc[3:] or loc[2:3]
    if head == "event":
        return N_("[event]"), {}, loc[1:] or loc
    if head in ("topics", "questions") and len(loc) >= 2 and isinstance(loc[1], int):
        place = N_("topic %(num)s") if head == "topics" else N_("question %(num)s")
        rest = loc[2:]
        if rest[:1] == ("translations",):
            rest = rest[1:]
        return place, {"num": loc[1] + 1}, rest or loc[:2]
    return N_("the file"), {}, loc


def _from_pydantic(exc: PydanticError) -> SeedError:
    errors: list[SeedError] = []
    for detail in exc.errors():
        loc = tuple(detail["loc"])
        if loc == ("event",) and detail["type"] == "missing":
            errors.append(
                SeedError(
                    N_("the file"),
                    ValidationError(ErrorCode.EMPTY, "the [event] table is missing."),
                )
            )
            continue
        place, params, rest = _place(loc)
        detail = {**detail, "loc": rest}
        errors.append(SeedError(place, problem(detail), **params))
    first = errors[0]
    first.more = errors[1:]
    return first


def _topic_slug(questions: list[SeedQuestion], topics: list[TopicInput]) -> list[str | None]:
    """Each question's topic, named by slug or by any of its names (case-insensitive)."""
    slugs = {t.slug for t in topics}
    names: dict[str, set[str]] = {}
    for t in topics:
        for name in (t.name, *(t.translations or {}).values()):
            names.setdefault(name.casefold(), set()).add(t.slug)
    problems: list[SeedError] = []
    out: list[str | None] = []
    for i, q in enumerate(questions, 1):
        wanted = q.topic
        if wanted is None or wanted in slugs:
            out.append(wanted)
            continue
        found = names.get(wanted.casefold(), set())
        if len(found) == 1:
            out.append(next(iter(found)))
            continue
        out.append(None)
        if found:
            error = ValidationError(
                ErrorCode.AMBIGUOUS_TOPIC,
                "the topic '%(topic)s' could be %(slugs)s: give its slug.",
                topic=wanted,
                slugs=", ".join(sorted(found)),
            )
        elif slugs:
            error = ValidationError(
                ErrorCode.UNKNOWN_TOPIC,
                "unknown topic '%(topic)s' (the topics are %(slugs)s).",
                topic=wanted,
                slugs=", ".join(t.slug for t in topics),
            )
        else:
            error = ValidationError(
                ErrorCode.UNKNOWN_TOPIC,
                "unknown topic '%(topic)s' (the file has no [[topics]]).",
                topic=wanted,
            )
        problems.append(SeedError(N_("question %(num)s"), error, num=i))
    if problems:
        problems[0].more = problems[1:]
        raise problems[0]
    return out


def check_seed(data: dict[str, Any]) -> Seed:
    """Validate a parsed seed document; the event as the API would give it."""
    try:
        parsed = SeedFile.model_validate(data)
    except PydanticError as exc:
        raise _from_pydantic(exc) from None
    topics = [
        TopicInput(name=t.name, slug=t.slug or "", translations=dict(t.translations))
        for t in parsed.topics
    ]
    repeat = first_repeat([t.slug for t in topics])
    if repeat is not None:
        raise SeedError(N_("topic %(num)s"), given_twice(topics[repeat].slug), num=repeat + 1)
    slugs = _topic_slug(parsed.questions, topics)
    e = parsed.event
    event: dict[str, Any] = {
        name: getattr(e, name)
        for name in (*EVENT_SCALARS, "status", "moderation")
        if getattr(e, name) is not None
    }
    event["code"] = e.code
    event["topics"] = topics
    event["translations"] = e.translations
    questions = [
        {"body": q.body, "topic": slug, "pinned": q.pinned}
        for q, slug in zip(parsed.questions, slugs, strict=True)
    ]
    return Seed(event, questions)


# -- reading: TOML syntax errors in the reader's language

# What tomllib says (in English only), as problems we can put in the reader's language.
_TOML_PROBLEMS: tuple[tuple[re.Pattern[str], ValidationError], ...] = (
    (
        re.compile(r"Cannot (declare|overwrite|mutate|redefine)|Duplicate inline table key"),
        ValidationError(ErrorCode.INVALID_TOML, "a key or table is defined twice."),
    ),
    (
        re.compile(r"Expected '=' after a key"),
        ValidationError(ErrorCode.INVALID_TOML, "'=' is missing after a key."),
    ),
    (
        re.compile(r"Expected '\]\]' at the end"),
        ValidationError(
            ErrorCode.INVALID_TOML, "']]' is missing at the end of a [[table]] header."
        ),
    ),
    (
        re.compile(r"Expected '\]' at the end"),
        ValidationError(ErrorCode.INVALID_TOML, "']' is missing at the end of a [table] header."),
    ),
    (
        re.compile(r"Unterminated string"),
        ValidationError(ErrorCode.INVALID_TOML, "a string is not closed (a quote is missing)."),
    ),
    (
        re.compile(r"Unclosed (array|inline table)"),
        ValidationError(ErrorCode.INVALID_TOML, "an array or inline table is not closed."),
    ),
    (
        re.compile(r"Invalid value"),
        ValidationError(
            ErrorCode.INVALID_TOML,
            "the value is not valid (text needs quotes, dates are YYYY-MM-DD).",
        ),
    ),
    (
        re.compile(r"Invalid date or datetime"),
        ValidationError(ErrorCode.INVALID_TOML, "the date or time is not valid."),
    ),
    (
        re.compile(r"[Ee]scape|Invalid hex value"),
        ValidationError(
            ErrorCode.INVALID_TOML,
            "a backslash starts an unknown escape (write two for one backslash).",
        ),
    ),
    (
        re.compile(r"character|Invalid statement|Expected"),
        ValidationError(ErrorCode.INVALID_TOML, "a character is out of place here."),
    ),
)
_TOML_OTHER = ValidationError(ErrorCode.INVALID_TOML, "the syntax is not valid here.")


def _toml_error(exc: tomllib.TOMLDecodeError) -> SeedError:
    """A TOML syntax error, with its line and column, in words we can translate."""
    text = str(exc)
    error = next((e for pattern, e in _TOML_PROBLEMS if pattern.search(text)), _TOML_OTHER)
    where = re.search(r"\(at line (\d+), column (\d+)\)", text)
    if where:
        return SeedError(
            N_("not valid TOML at line %(line)s, column %(column)s"),
            error,
            line=int(where.group(1)),
            column=int(where.group(2)),
        )
    return SeedError(N_("not valid TOML at the end of the file"), error)


def parse_seed_text(text: str) -> Seed:
    """Parse and check a seed document given as text (a file or an upload)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise SeedError(
            N_("the file"),
            ValidationError(ErrorCode.TOO_LARGE, "the seed file is larger than 1 MB."),
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc) from None
    return check_seed(data)


def read_seed(path: Path) -> Seed:
    """Read, parse and check a seed file; raises :class:`SeedError`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        unreadable = ValidationError(
            ErrorCode.UNREADABLE,
            "cannot read the file: %(reason)s.",
            reason=exc.strerror or str(exc),
        )
        raise SeedError("%(path)s", unreadable, path=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SeedError(
            "%(path)s",
            ValidationError(ErrorCode.ENCODING, "the file is not UTF-8 text."),
            path=str(path),
        ) from None
    return parse_seed_text(text)


# -- loading


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load did: the event, the questions it added, and whether it created it."""

    event: Event
    added: int
    created: bool


def load_seed(seed: Seed, *, status: str | None = None) -> Loaded:
    """Create or update the event of a checked seed (the caller logs and commits).

    The file's ``status`` is the status of a new event only; ``status`` (an explicit
    choice) sets it either way. Topics are added or renamed, never removed; texts in a
    language the file gives replace that language's, the others are kept.
    """
    fields = seed.event
    event = db.session.scalar(select(Event).where(Event.code == fields["code"]))
    created = event is None
    if event is None:
        event = Event(code=fields["code"], title=fields["title"], translations={})
        db.session.add(event)
        if fields.get("status"):
            event.status = fields["status"]
    if status is not None:
        event.status = status
    for name in (*EVENT_SCALARS, "moderation"):
        if fields.get(name) is not None:
            setattr(event, name, fields[name])
    if fields.get("translations"):
        event.translations = merge_translations(event.translations, fields["translations"])
    by_slug = {t.slug: t for t in event.topics}
    for position, topic_in in enumerate(fields["topics"] or []):
        topic = by_slug.get(topic_in.slug)
        if topic is None:
            topic = by_slug[topic_in.slug] = Topic(slug=topic_in.slug, translations={})
            event.topics.append(topic)
        topic.name, topic.position = topic_in.name, position
        if topic_in.translations:
            topic.translations = {**(topic.translations or {}), **topic_in.translations}
    db.session.flush()
    existing = set(
        db.session.scalars(
            select(Question.body).where(Question.event_id == event.id, Question.seeded.is_(True))
        )
    )
    added = 0
    for item in seed.questions:
        if item["body"] in existing:
            continue
        db.session.add(
            Question(
                event_id=event.id,
                topic_id=by_slug[item["topic"]].id if item["topic"] else None,
                body=item["body"],
                seeded=True,
                pinned=item["pinned"],
                status=QuestionStatus.VISIBLE.value,
            )
        )
        existing.add(item["body"])
        added += 1
    db.session.flush()
    return Loaded(event, added, created)

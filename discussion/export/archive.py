"""The JSON archive: written with its digest in one pass, read back and verified, and
restored as a new event (``flask import``).

The format is declared once in :mod:`discussion.rules.archive`; reading checks the
schema name, the version and the digest, then parses the whole document through those
models, so bad content is refused with a message naming its place
("questions[3].thread[0].body: contains control characters") before anything is
written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError as ModelError
from sqlalchemy import insert, update

from ..database import write
from ..extensions import db
from ..models import Comment, Event, ModerationEntry, Question, QuestionStatus, Topic
from ..queries import iso
from ..rules.archive import SCHEMA, SCHEMA_VERSION, SUPPORTED_VERSIONS, Archive
from .model import BATCH, ThreadModel, find_event_any, public_name

CHUNK = 64 * 1024  # characters gathered before a piece of output is handed on
PROBLEMS_SHOWN = 10  # problems listed when an archive does not fit its schema


class ArchiveError(ValueError):
    """The archive cannot be restored; the message says why."""


def gather(pieces: Iterator[str], size: int = CHUNK) -> Iterator[str]:
    """Join small pieces into chunks of about ``size`` characters."""
    buf: list[str] = []
    n = 0
    for piece in pieces:
        buf.append(piece)
        n += len(piece)
        if n >= size:
            yield "".join(buf)
            buf, n = [], 0
    if buf:
        yield "".join(buf)


# -- writing ---------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """The canonical JSON text the digest is computed over (docs/export.md)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def archive_digest(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical form of an archive without its ``digest`` member."""
    body = {k: v for k, v in document.items() if k != "digest"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def generator() -> str:
    """The software that wrote the archive, e.g. 'discussion 0.1.0'."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"discussion {version('discussion')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "discussion"


def render_json(model: ThreadModel) -> Iterator[bytes]:
    """The JSON archive, streamed.

    The file is the canonical form of the archive without ``digest`` (keys sorted, no
    whitespace), whose closing brace is replaced by ``,"digest":{...}}``: the digest is
    computed in the same pass, and anyone can verify it by parsing the file, dropping
    ``digest`` and hashing the canonical form again.
    """
    questions = object()  # where the streamed array goes, in sorted key order
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "exported_at": iso(model.exported_at),
        "generator": generator(),
        "licence": model.licence,
        "event": model.event,
        "topics": [{"slug": t["slug"], "name": t["name"]} for t in model.topics],
        "figures": model.figures,
        "moderation_log": model.moderation_log,
        "questions": questions,
    }
    sha = hashlib.sha256()

    def pieces() -> Iterator[str]:
        yield "{"
        for i, key in enumerate(sorted(document)):
            yield ("," if i else "") + canonical(key) + ":"
            if document[key] is questions:
                yield "["
                for j, thread in enumerate(model.threads()):
                    yield ("," if j else "") + canonical(
                        {**thread.question, "thread": thread.comments}
                    )
                yield "]"
            else:
                yield canonical(document[key])

    for chunk in gather(pieces()):
        data = chunk.encode("utf-8")
        sha.update(data)
        yield data
    sha.update(b"}")
    digest = {"algorithm": "sha256", "value": sha.hexdigest()}
    yield ("," + canonical("digest") + ":" + canonical(digest) + "}\n").encode("utf-8")


# -- reading and verifying ---------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the member {key[:64]!r} is given twice in one object")
            seen.add(key)
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_archive(raw: bytes) -> dict[str, Any]:
    """Parse an archive and check its schema name, version and digest (in that order).

    The content is checked by :func:`parse_archive` (which :func:`restore` calls).
    """
    try:
        document = json.loads(
            raw.decode("utf-8-sig"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constant,
        )
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"not a JSON archive (not UTF-8: {exc.reason})") from None
    except RecursionError:
        raise ArchiveError("not a JSON archive (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError, a number too long, a duplicate member
        raise ArchiveError(f"not a JSON archive ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ArchiveError(f"unknown schema: this is not a '{SCHEMA}' file")
    version = document.get("schema_version")
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        known = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        raise ArchiveError(
            f"unknown schema version {repr(version)[:40]} (this version of the tool reads {known})"
        )
    digest = document.get("digest")
    if (
        not isinstance(digest, dict)
        or digest.get("algorithm") != "sha256"
        or not isinstance(digest.get("value"), str)
    ):
        raise ArchiveError("the archive has no sha256 digest")
    try:
        computed = archive_digest(document)
    except (RecursionError, ValueError):
        raise ArchiveError("not a JSON archive (it cannot be written canonically)") from None
    if computed != digest["value"].lower():
        shown_value = digest["value"][:80]
        raise ArchiveError(
            "digest mismatch: the archive was altered after export "
            f"(it says {shown_value}, its content hashes to {computed})"
        )
    return document


def place(loc: tuple[Any, ...]) -> str:
    """('questions', 3, 'thread', 0, 'body') -> 'questions[3].thread[0].body'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "archive"


_PLAIN = {
    "missing": "is missing",
    "extra_forbidden": "is not part of the archive format",
}


def problem(error: Any) -> str:
    """One schema problem as a line: where, what, and the rule's error code."""
    ctx = error.get("ctx") or {}
    code = error["type"]
    if "where" in ctx and "message" in ctx:
        return f"{ctx['where']}: {ctx['message']} [{code}]"
    where = place(error["loc"])
    text = _PLAIN.get(code) or str(error["msg"])
    if "%(" in text:  # one of our rules' messages: "'%(field)s' contains ..."
        text = text.removeprefix("'%(field)s' ")
        try:
            field = next((p for p in reversed(error["loc"]) if isinstance(p, str)), "value")
            text = text % {**ctx, "field": field}
        except (KeyError, TypeError, ValueError):
            pass
    text = text[:1].lower() + text[1:]
    return f"{where}: {text.rstrip('.')} [{code}]"


def parse_archive(document: dict[str, Any]) -> Archive:
    """The archive as typed, checked values; :class:`ArchiveError` lists what is wrong."""
    try:
        return Archive.model_validate(document)
    except ModelError as exc:
        errors = exc.errors(include_url=False)
        lines = [problem(e) for e in errors[:PROBLEMS_SHOWN]]
        more = len(errors) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        head = "the archive does not fit its schema"
        if len(lines) == 1:
            raise ArchiveError(f"{head}: {lines[0]}") from None
        raise ArchiveError(head + ":\n  " + "\n  ".join(lines)) from None


# -- restoring ---------------------------------------------------------------------------


@write
def restore(archive: Archive | dict[str, Any]) -> tuple[Event, dict[str, int]]:
    """Restore a checked archive as a new event; refuses a code that already exists.

    Posts come back without a participant (the archive has none) and votes as counts;
    the participants figure comes back as the event's running total. Ids are new,
    references (merges, the log) are mapped to them.
    """
    if not isinstance(archive, Archive):
        archive = parse_archive(archive)
    fields = archive.event
    if find_event_any(fields.code) is not None:
        raise ArchiveError(f"an event with code '{fields.code}' already exists")
    event = Event(
        code=fields.code,
        title=fields.title,
        description=fields.description or "",
        date=fields.date,
        timezone=fields.timezone,
        place=fields.place or "",
        moderator=fields.moderator or "",
        speakers=list(fields.speakers),
        organisers=list(fields.organisers),
        status=fields.status,
        moderation=fields.moderation,
        policy=fields.policy or "",
        licence=archive.licence,
        retention_days=fields.retention_days,
        participants_total=archive.figures.participants,
    )
    if fields.created_at is not None:
        event.created_at = fields.created_at
    event.topics = [
        Topic(slug=t.slug, name=t.name, position=i) for i, t in enumerate(archive.topics)
    ]
    db.session.add(event)
    db.session.flush()
    topic_ids = {t.slug: t.id for t in event.topics}

    question_ids: dict[int, int] = {}
    comment_ids: dict[int, int] = {}
    questions = archive.questions
    for start in range(0, len(questions), BATCH):
        batch = questions[start : start + BATCH]
        rows = [
            {
                "event_id": event.id,
                "topic_id": topic_ids[q.topic] if q.topic else None,
                "participant_id": None,
                "client_id": None,
                "body": q.body,
                "original_body": q.original_body,
                "author": public_name(q.author, q.quote, q.status == QuestionStatus.HIDDEN),
                "quote": q.quote,
                "seeded": q.seeded,
                "status": q.status.value,
                "highlighted": q.highlighted,
                "pinned": q.pinned,
                "edited": q.edited,
                "merged_into_id": None,
                "votes": q.votes,
                "comments": q.comments,
                "created_at": q.created_at,
                "answered_at": q.answered_at,
            }
            for q in batch
        ]
        new_ids = db.session.scalars(
            insert(Question).returning(Question.id, sort_by_parameter_order=True), rows
        ).all()
        question_ids.update(zip((q.id for q in batch), new_ids, strict=True))
    comments = [(question_ids[q.id], c) for q in questions for c in q.thread]
    for start in range(0, len(comments), BATCH):
        batch_c = comments[start : start + BATCH]
        rows = [
            {
                "question_id": qid,
                "participant_id": None,
                "client_id": None,
                "body": c.body,
                "author": public_name(c.author, c.quote, c.hidden),
                "quote": c.quote,
                "hidden": c.hidden,
                "created_at": c.created_at,
            }
            for qid, c in batch_c
        ]
        new_ids = db.session.scalars(
            insert(Comment).returning(Comment.id, sort_by_parameter_order=True), rows
        ).all()
        comment_ids.update(zip((c.id for _, c in batch_c), new_ids, strict=True))
    for q in questions:
        if q.merged_into is not None:
            db.session.execute(
                update(Question)
                .where(Question.id == question_ids[q.id])
                .values(merged_into_id=question_ids[q.merged_into])
            )
    log = [
        {
            "event_id": event.id,
            "action": e.action,
            "question_id": question_ids[e.question_id] if e.question_id else None,
            "comment_id": comment_ids[e.comment_id] if e.comment_id else None,
            "participant_id": None,
            "user_id": None,
            "reason": e.reason or "",
            "reason_code": e.reason_code,
            "at": e.at,
        }
        for e in archive.moderation_log
    ]
    if log:
        db.session.execute(insert(ModerationEntry), log)
    db.session.commit()
    return event, {
        "questions": len(question_ids),
        "comments": len(comment_ids),
        "votes": sum(q.votes for q in questions),
        "log": len(log),
    }

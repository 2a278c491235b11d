"""An event as staff give it, declared once: the models that POST /events, PATCH
/events/<code>, seed files and archives parse it with.

Each rule is a plain function in ``rules.event_rules``; the types below run it in a
model and carry its JSON Schema, from which the OpenAPI document's ``NewEvent`` and
``EventChanges`` are generated. In a PATCH a field left out is unchanged, and what an
explicit ``null`` means is said by the field's own rule (docs/api.md): a text is
cleared, the day removed, the time zone back to UTC, a list left as it is, and a status,
a moderation mode, a retention period, a title or ``translations`` refused.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Self, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema, model_validator
from pydantic import ValidationError as PydanticError
from pydantic_core import ErrorDetails

from .. import LANGUAGES
from ..errors import ValidationError
from .enums import ErrorCode, EventStatus, Moderation
from .event_rules import (
    EMAIL_MAX,
    LIST_MAX,
    RETENTION_MAX,
    RETENTION_MIN,
    _given_slug,
    _stored,
    _topic_item,
    _unique,
    an_object,
    emails,
    event_code,
    event_date,
    event_status,
    language,
    language_key,
    moderation_mode,
    people,
    retention_days,
    slugify,
    topic_list,
    topic_names,
    topic_slug,
)
from .problems import after, as_pydantic, missing, placed, problem, rule
from .text import (
    LICENCE_MAX,
    LONG_MAX,
    PLACE_MAX,
    REASON_MAX,
    SLUG_RE,
    TITLE_MAX,
    TOPIC_MAX,
    Text,
)
from .timezone import TimeZoneName, check_timezone

# -- the types: a rule and its JSON Schema ----------------------------------------------


def _bare(schema: Any) -> Any:
    """A JSON Schema to inline in another: without pydantic's titles and defaults (the
    field that holds it says what leaving it out means), descriptions on one line."""
    if isinstance(schema, list):
        return [_bare(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: _bare(s) for name, s in value.items()}
        elif key == "description" and isinstance(value, str):
            out[key] = " ".join(value.split())
        elif key not in ("title", "default"):
            out[key] = _bare(value)
    return out


def _schema(kind: Any) -> dict[str, Any]:
    """The JSON Schema of a type or model, to inline in another."""
    schema: dict[str, Any] = _bare(TypeAdapter(kind).json_schema())
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null, with its description said of both."""
    inner = {k: v for k, v in schema.items() if k not in ("description", "default")}
    out: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if "description" in schema:
        out["description"] = schema["description"]
    return out


if TYPE_CHECKING:
    # Text() builds each field's Annotated type at run time; to a type checker a field
    # is the value it holds.
    Title: TypeAlias = str
    OptionalTitle: TypeAlias = str | None
    LongText: TypeAlias = str | None
    Place: TypeAlias = str | None
    Person: TypeAlias = str
    TopicName: TypeAlias = str
else:
    Title = Text(TITLE_MAX, multiline=False)
    OptionalTitle = Text(TITLE_MAX, multiline=False, required=False)
    LongText = Text(LONG_MAX, required=False)
    Place = Text(PLACE_MAX, multiline=False, required=False)
    Person = Text(PLACE_MAX, multiline=False)
    TopicName = Text(TOPIC_MAX, multiline=False)

Code = Annotated[
    str,
    rule(event_code),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{1,31}$",
            "description": "An event's join code, in any case (stored lower-case).",
        }
    ),
]
Slug = Annotated[
    str,
    rule(topic_slug),
    WithJsonSchema({"type": "string", "pattern": SLUG_RE.pattern, "maxLength": 64}),
]
Status = Annotated[
    str,
    rule(event_status),
    WithJsonSchema({"type": "string", "enum": [s.value for s in EventStatus]}),
]
ModerationMode = Annotated[
    str,
    rule(moderation_mode),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [m.value for m in Moderation],
            "description": "`post`: moderated after they show; `pre`: approved before.",
        }
    ),
]
Retention = Annotated[
    int,
    rule(retention_days),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": RETENTION_MIN,
            "maximum": RETENTION_MAX,
            "description": "Days before `flask purge` removes the links between posts and people.",
        }
    ),
]
Day = Annotated[
    date | None,
    rule(event_date),
    WithJsonSchema(
        _nullable(
            {
                "type": "string",
                "format": "date",
                "pattern": r"^\d{4}-\d{2}-\d{2}$",
                "description": "The day of the event, YYYY-MM-DD; null: none.",
            }
        )
    ),
]
People = Annotated[
    list[str],
    rule(people),
    WithJsonSchema({"type": "array", "items": _schema(Person), "maxItems": LIST_MAX}),
]
# The time zone as the API takes it: null (or empty) sets UTC again.
Zone = Annotated[str, rule(check_timezone), WithJsonSchema(_nullable(_schema(TimeZoneName)))]


class EventTexts(BaseModel):
    """One language's version of an event's own texts; a text left out falls back to the
    event's own (the API: `translations.es`; seed files: `[event.es]`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    title: OptionalTitle = None
    description: LongText = None
    place: Place = None
    policy: LongText = None


Language = Annotated[str, rule(language_key)]
if TYPE_CHECKING:
    # What the field holds once checked: each language's texts, or None to remove it.
    Translations: TypeAlias = dict[str, dict[str, str] | None]
else:
    Translations = Annotated[
        dict[Language, EventTexts | None],
        rule(an_object),
        after(_stored),
        WithJsonSchema(
            {
                "type": "object",
                "properties": {lang: _nullable(_schema(EventTexts)) for lang in LANGUAGES},
                "additionalProperties": False,
                "description": "The event's own texts per language. A language given replaces that "
                "language's texts; `null` or `{}` removes it; the others are kept. Unknown keys "
                "are refused.",
            }
        ),
    ]
TopicNames = Annotated[
    dict[str, str],
    rule(topic_names),
    WithJsonSchema(
        {
            "type": "object",
            "properties": {
                lang: _schema(Text(TOPIC_MAX, multiline=False, required=False))
                for lang in LANGUAGES
            },
            "additionalProperties": False,
            "description": "The name in other languages; left out, the topic keeps the names "
            "it has.",
        }
    ),
]
GivenSlug = Annotated[
    str,
    rule(_given_slug),
    WithJsonSchema(
        _nullable(
            {
                "type": "string",
                "maxLength": 64,
                "pattern": "^([a-z0-9][a-z0-9-]{0,63})?$",
                "description": "Made from the name when empty.",
            }
        )
    ),
]


class TopicInput(BaseModel):
    """A topic as given: its name, its slug (made from the name when left out) and its
    name in other languages (left out: the topic keeps the names it has)."""

    name: TopicName
    slug: GivenSlug = ""
    translations: TopicNames | None = None

    @model_validator(mode="before")
    @classmethod
    def _a_name_alone(cls, data: Any) -> Any:
        try:
            return _topic_item(data)
        except ValidationError as exc:
            raise as_pydantic(exc) from None

    @model_validator(mode="after")
    def _slug_from_name(self) -> Self:
        if not self.slug:
            self.slug = slugify(self.name)
        return self


Topics = Annotated[
    list[TopicInput],
    rule(topic_list),
    after(_unique),
    WithJsonSchema(
        {
            "type": "array",
            "items": {
                "anyOf": [
                    _schema(
                        Text(
                            TOPIC_MAX,
                            multiline=False,
                            description="A topic name; its slug is made from it.",
                        )
                    ),
                    _schema(TopicInput),
                ]
            },
            "maxItems": LIST_MAX,
            "description": "Replaces the topics, in display order; slugs are unique.",
        }
    ),
]
Emails = Annotated[
    list[str],
    rule(emails),
    WithJsonSchema(
        {
            "type": "array",
            "items": _schema(
                Text(
                    EMAIL_MAX,
                    multiline=False,
                    description="The email of an existing staff account.",
                )
            ),
            "maxItems": LIST_MAX,
            "description": "Replaces the event's moderators.",
        }
    ),
]


# -- the models --------------------------------------------------------------------------


def left_out() -> Any:
    """The default of a field that may be left out (then it is unchanged); a ``null``
    given is still judged by the field's rule."""
    return Field(default=None)


class EventFields(BaseModel):
    """The event's own fields, in the order their rules are checked (the API answers the
    first one broken; a seed file lists them all)."""

    model_config = ConfigDict(frozen=True)  # unknown fields are ignored: the API grows

    title: Title = left_out()
    description: LongText = None
    place: Place = None
    moderator: Text(  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
        PLACE_MAX,
        multiline=False,
        required=False,
        description="The moderator, as shown.",
    ) = None
    policy: Text(  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
        LONG_MAX,
        required=False,
        description="The moderation policy participants see.",
    ) = None
    licence: Text(  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
        LICENCE_MAX,
        multiline=False,
        required=False,
        description="The contribution licence.",
    ) = None
    status: Status = left_out()
    moderation: ModerationMode = left_out()
    retention_days: Retention = left_out()
    date: Day = None
    timezone: Zone = left_out()
    speakers: People | None = None
    organisers: People | None = None


class EventCode(BaseModel):
    """An event named by its join code (a base listed last, so the code is checked first)."""

    code: Code


# Texts a request clears by giving them empty or null.
_CLEARED = frozenset({"description", "place", "moderator", "policy", "licence", "reason"})


class EventInput(EventFields):
    """What POST and PATCH /events both take."""

    topics: Topics | None = None
    translations: Translations = left_out()
    moderators: Emails | None = None

    def changes(self) -> dict[str, Any]:
        """The fields given, as the operations take them: a text given empty or null is
        cleared (""); any other null is what its rule made of it (no day, UTC, a list
        left unchanged)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            if name in self.model_fields_set:
                value = getattr(self, name)
                out[name] = "" if value is None and name in _CLEARED else value
        return out


class NewEvent(EventInput, EventCode):
    """POST /events: a new event, `live` and moderated after posting unless told
    otherwise."""

    title: Title


class EventChanges(EventInput):
    """PATCH /events/<code>: the fields given change, the others stay. Moderators may
    change `status` and `moderation`; organisers anything."""

    reason: Text(  # type: ignore[valid-type]  # Text() builds the Annotated type at run time
        REASON_MAX,
        multiline=False,
        required=False,
        description="Why the status or moderation mode changes; logged.",
    ) = None


def parse_event(model: type[EventInput], payload: dict[str, Any]) -> dict[str, Any]:
    """The fields of a POST or PATCH /events body, checked, as the operations take them;
    the first broken rule is raised as our error."""
    try:
        return model.model_validate(payload).changes()
    except PydanticError as exc:
        raise _refusal(model, exc.errors()[0]) from None


def _refusal(model: type[BaseModel], error: ErrorDetails) -> ValidationError:
    loc = tuple(error["loc"])
    if loc[:1] == ("translations",) and len(loc) >= 2 and loc[2:3] != ("[key]",):
        where = f"translations.{language(loc[1]) or loc[1]}"
        if len(loc) == 2:  # a language's texts are not an object
            return ValidationError(
                ErrorCode.INVALID_TYPE, "'%(field)s' must be an object.", field=where
            )
        return placed(where, problem({**error, "loc": loc[2:]}))
    if error["type"] == "missing":
        return missing(model, str(loc[-1]))
    return problem(error)

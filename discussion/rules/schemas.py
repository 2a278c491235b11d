"""The shapes of what clients send: one pydantic model per body and socket payload.

Both transports parse through :func:`parse`, so a field, its limit and its error code
are declared here once; the OpenAPI document takes its request schemas from the same
models (``discussion.openapi``). A broken rule is raised as the project's
:class:`~discussion.errors.ValidationError` with the code and the translatable
message clients have always seen (``empty``, ``invalid_type``, ``too_long``,
``invalid_quote``, ...).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema, model_validator
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError

from ..errors import ValidationError
from .enums import CommentAction, ErrorCode, QuestionAction, Quote, ReasonCode
from .events import Code
from .problems import missing
from .text import (
    AUTHOR_MAX,
    COMMENT_MAX,
    QUESTION_MAX,
    REASON_MAX,
    SLUG_RE,  # noqa: F401  (one place for every pattern a body may name)
    Text,
    clean,
)

ID_MAX = 2**31 - 1  # ids are 32-bit database keys
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

M = TypeVar("M", bound=BaseModel)


def _fail(code: ErrorCode, template: str, **params: Any) -> PydanticCustomError:
    return PydanticCustomError(code, template, params)


def _id(value: Any, info: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(
            ErrorCode.INVALID_TYPE, "'%(field)s' must be an integer.", field=info.field_name
        )
    if not 0 < value <= ID_MAX:
        raise _fail(ErrorCode.INVALID_ID, "'%(field)s' is out of range.", field=info.field_name)
    return value


def _boolean(value: Any, info: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(
            ErrorCode.INVALID_TYPE, "'%(field)s' must be true or false.", field=info.field_name
        )
    return value


def _quote(value: Any) -> Quote:
    if value is None:
        return Quote.ANONYMOUS
    try:
        return Quote(value)
    except (ValueError, TypeError):
        raise _fail(
            ErrorCode.INVALID_QUOTE, "'quote' must be 'named', 'anonymous' or 'none'."
        ) from None


def _client_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_ID_RE.fullmatch(value):
        raise _fail(
            ErrorCode.INVALID_CLIENT_ID, "'client_id' must be 1 to 64 letters, digits or '_.:-'."
        )
    return value


def _short(value: Any, info: Any) -> str | None:
    """An optional identifier-like string (a topic slug): short, or not given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise _fail(
            ErrorCode.INVALID_TYPE, "'%(field)s' must be a short string.", field=info.field_name
        )
    return value


def _choice(enum_type: Any, field: str) -> Any:
    values = ", ".join(v.value for v in enum_type)

    def check(value: Any) -> Any:
        if value is None:
            raise _fail(ErrorCode.INVALID_ACTION, "'action' is one of %(actions)s.", actions=values)
        if not isinstance(value, str):
            raise _fail(ErrorCode.INVALID_TYPE, "'%(field)s' must be a string.", field=field)
        try:
            return enum_type(value)
        except (ValueError, TypeError):
            if field == "reason_code":
                raise _fail(
                    ErrorCode.INVALID_REASON_CODE,
                    "'reason_code' is one of %(codes)s.",
                    codes=values,
                ) from None
            raise _fail(
                ErrorCode.INVALID_ACTION, "'action' is one of %(actions)s.", actions=values
            ) from None

    return check


def _reason_code(value: Any) -> ReasonCode | None:
    return None if value in (None, "") else _choice(ReasonCode, "reason_code")(value)


Id = Annotated[
    int, BeforeValidator(_id), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": ID_MAX})
]
Boolean = Annotated[bool, BeforeValidator(_boolean), WithJsonSchema({"type": "boolean"})]
QuoteField = Annotated[
    Quote,
    BeforeValidator(_quote),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "enum": [q.value for q in Quote]}, {"type": "null"}],
            "default": Quote.ANONYMOUS.value,
            "description": "How the post may be quoted in reports: `named` (needs `author`), "
            "`anonymous` (the default) or `none` (counted, never quoted).",
        }
    ),
]
ClientId = Annotated[
    str | None,
    BeforeValidator(_client_id),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": CLIENT_ID_RE.pattern}, {"type": "null"}],
            "description": "The client's idempotency key: a post repeated with it is stored once.",
        }
    ),
]
TopicSlug = Annotated[
    str | None,
    BeforeValidator(_short),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "maxLength": 64}, {"type": "null"}],
            "description": "A topic slug of the event.",
        }
    ),
]
ReasonCodeField = Annotated[
    ReasonCode | None,
    BeforeValidator(_reason_code),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "enum": [r.value for r in ReasonCode]}, {"type": "null"}],
            "description": "A common reason picked with one click, stored as this code and shown "
            "translated; the free-text `reason` may add to it.",
        }
    ),
]
if TYPE_CHECKING:
    # Text() builds the field's Annotated type at run time; to a type checker it is
    # the value the field holds.
    Reason = str | None
else:
    Reason = Text(
        REASON_MAX,
        multiline=False,
        required=False,
        description="Why; logged, and shown in the public record for public actions.",
    )


def _author(value: Any) -> str | None:
    """The optional name a post is signed with; its limit said as a person would say it."""
    try:
        return clean(value, field="author", max_len=AUTHOR_MAX, multiline=False, required=False)
    except ValidationError as exc:
        if exc.code != ErrorCode.TOO_LONG:
            raise PydanticCustomError(exc.code, exc.template, exc.params) from None
        raise _fail(
            ErrorCode.TOO_LONG,
            "Your name is too long: please keep it to %(max_len)s characters.",
            max_len=AUTHOR_MAX,
        ) from None


Author = Annotated[
    str | None,
    BeforeValidator(_author),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "maxLength": AUTHOR_MAX}, {"type": "null"}],
            "description": f"A name to show: one line, at most {AUTHOR_MAX} characters.",
        }
    ),
]


class Body(BaseModel):
    """A request body or socket payload: unknown fields are ignored (the API grows by
    adding fields), known ones are checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Post(Body):
    """What a participant sends with a question or a comment."""

    body: Text(QUESTION_MAX)  # type: ignore[valid-type]  # a run-time Annotated str
    author: Author = None
    quote: QuoteField = Quote.ANONYMOUS
    client_id: ClientId = None

    @model_validator(mode="after")
    def _named_needs_a_name(self) -> Self:
        if self.quote == Quote.NAMED and not self.author:
            raise _fail(ErrorCode.NAME_REQUIRED, "Give a name to be quoted with it.")
        return self


class NewQuestion(Post):
    """POST /events/<code>/questions, socket ``ask``."""

    topic: TopicSlug = None


class NewComment(Post):
    """POST /questions/<id>/comments."""

    body: Text(COMMENT_MAX)  # type: ignore[valid-type]  # a run-time Annotated str


class SocketComment(NewComment):
    """Socket ``comment``: the question is named in the payload."""

    question_id: Id


class SocketVote(Body):
    """Socket ``vote``."""

    question_id: Id
    up: Boolean


class QuestionModeration(Body):
    """POST /questions/<id>/moderate, socket ``moderate`` with ``question_id``."""

    action: Annotated[
        QuestionAction,
        BeforeValidator(_choice(QuestionAction, "action")),
        WithJsonSchema({"type": "string", "enum": [a.value for a in QuestionAction]}),
    ]
    reason: Reason = None
    reason_code: ReasonCodeField = None
    body: Text(  # type: ignore[valid-type]  # a run-time Annotated str
        QUESTION_MAX,
        required=False,
        description="The corrected text (`edit` only).",
    ) = None
    into: Annotated[
        int | None,
        BeforeValidator(lambda v, i: None if v is None else _id(v, i)),
        WithJsonSchema(
            {
                "type": "integer",
                "minimum": 1,
                "maximum": ID_MAX,
                "description": "The question to merge into (`merge` only).",
            }
        ),
    ] = None

    @model_validator(mode="after")
    def _what_the_action_needs(self) -> Self:
        if self.action == QuestionAction.EDIT and self.body is None:
            raise _fail(ErrorCode.EMPTY, "'body' is required to edit.")
        if self.action == QuestionAction.MERGE and self.into is None:
            raise _fail(ErrorCode.INVALID_TYPE, "'into' must name the question to merge into.")
        return self


class SocketQuestionModeration(QuestionModeration):
    question_id: Id


class CommentModeration(Body):
    """POST /comments/<id>/moderate, socket ``moderate`` with ``comment_id``."""

    action: Annotated[
        CommentAction,
        BeforeValidator(_choice(CommentAction, "action")),
        WithJsonSchema({"type": "string", "enum": [a.value for a in CommentAction]}),
    ]
    reason: Reason = None
    reason_code: ReasonCodeField = None


class SocketCommentModeration(CommentModeration):
    comment_id: Id


class Similar(Body):
    """GET /events/<code>/similar?q=, socket ``similar``."""

    event: Code | None = None
    body: Text(QUESTION_MAX)  # type: ignore[valid-type]  # a run-time Annotated str


def moderation(given: QuestionModeration | CommentModeration) -> dict[str, Any]:
    """The keyword arguments of the moderation operations, from a parsed body."""
    out: dict[str, Any] = {
        "action": given.action.value,
        "reason": given.reason,
        "reason_code": given.reason_code.value if given.reason_code else None,
    }
    if isinstance(given, QuestionModeration):
        out["body"] = given.body if given.action == QuestionAction.EDIT else None
        out["into"] = given.into if given.action == QuestionAction.MERGE else None
    return out


def require_object(payload: Any) -> dict[str, Any]:
    """A request body or socket payload must be a JSON object."""
    if not isinstance(payload, dict):
        raise ValidationError(ErrorCode.INVALID_JSON, "The request body must be a JSON object.")
    return payload


def parse(model: type[M], payload: Any) -> M:
    """``payload`` as a ``model``, or the project's ValidationError for the first broken
    rule (the fields are checked in the order they are declared)."""
    try:
        return model.model_validate(require_object(payload))
    except PydanticError as exc:
        raise _domain_error(model, exc) from None


def _domain_error(model: type[BaseModel], exc: PydanticError) -> ValidationError:
    error = exc.errors(include_url=False)[0]
    field = str(error["loc"][-1]) if error["loc"] else "body"
    kind = error["type"]
    if kind == "missing":
        return missing(model, field)
    context = dict(error.get("ctx") or {})
    if kind in _OUR_CODES:
        return ValidationError(ErrorCode(kind), str(error["msg"]), **context)
    return ValidationError(ErrorCode.INVALID_TYPE, "'%(field)s' has the wrong type.", field=field)


# The codes the validators above and rules.text raise (everything else is a type error).
_OUR_CODES = frozenset(
    {
        ErrorCode.EMPTY,
        ErrorCode.INVALID_TYPE,
        ErrorCode.CONTROL_CHARACTERS,
        ErrorCode.TOO_LONG,
        ErrorCode.INVALID_QUOTE,
        ErrorCode.INVALID_CLIENT_ID,
        ErrorCode.NAME_REQUIRED,
        ErrorCode.INVALID_ID,
        ErrorCode.INVALID_ACTION,
        ErrorCode.INVALID_REASON_CODE,
        ErrorCode.INVALID_CODE,
    }
)

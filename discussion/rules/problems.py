"""Errors of pydantic models, in the project's codes and catalogue messages.

A rule is a plain function that raises :class:`~discussion.errors.ValidationError` (so
its code and its English template are written once, where the catalogues find them);
:func:`rule` runs it inside a model, where the error travels as a pydantic error with the
same code, template and parameters, and :func:`problem` turns it back at the edge,
giving pydantic's own kinds (a missing or unknown key, a wrong type) codes of ours.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from pydantic import AfterValidator, BaseModel, BeforeValidator
from pydantic_core import ErrorDetails, PydanticCustomError

from ..errors import DomainError, PlacedError, ValidationError
from .enums import ErrorCode


def as_pydantic(error: ValidationError) -> PydanticCustomError:
    """One of our errors, carried through pydantic unchanged."""
    return PydanticCustomError(error.code, error.template, error.params)


def _runner(check: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    takes_field = "field" in inspect.signature(check).parameters

    def run(value: Any, info: Any) -> Any:
        try:
            if takes_field:
                return check(value, field=info.field_name or "value")
            return check(value)
        except ValidationError as exc:
            raise as_pydantic(exc) from None

    return run


def rule(check: Callable[..., Any]) -> Any:
    """A pydantic validator (run on the value as given) made from a rule: same code,
    same message. A rule with a ``field`` parameter is told the field's name."""
    return BeforeValidator(_runner(check))


def after(check: Callable[..., Any]) -> Any:
    """A pydantic validator run on the value once its type is checked (a whole list of
    topics, each already a topic)."""
    return AfterValidator(_runner(check))


def placed(where: str, error: DomainError) -> PlacedError:
    """An error of the API's input at a key path (``translations.es``), with its code."""
    return PlacedError(error.code, "%(where)s", error, where=where)


def _field_of(loc: tuple[int | str, ...]) -> str:
    return next((str(p) for p in reversed(loc) if isinstance(p, str)), "value")


def problem(error: ErrorDetails) -> ValidationError:
    """One pydantic error as our error: the rules' own codes and messages kept,
    pydantic's own kinds given ours."""
    kind, loc = error["type"], tuple(error["loc"])
    ctx = dict(error.get("ctx") or {})
    field = _field_of(loc)
    if kind == "extra_forbidden":
        return ValidationError(ErrorCode.UNKNOWN_KEY, "unknown key '%(key)s'.", key=str(loc[-1]))
    if kind == "missing":
        return ValidationError(ErrorCode.EMPTY, "'%(field)s' is required.", field=field)
    if kind in ("bool_type", "bool_parsing"):
        return ValidationError(
            ErrorCode.INVALID_TYPE, "'%(field)s' must be true or false.", field=field
        )
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return ValidationError(
            ErrorCode.INVALID_TYPE, "'%(field)s' must be an integer.", field=field
        )
    if kind == "string_type":
        return ValidationError(ErrorCode.INVALID_TYPE, "'%(field)s' must be a string.", field=field)
    if kind == "list_type":
        return ValidationError(ErrorCode.INVALID_TYPE, "'%(field)s' must be a list.", field=field)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if loc and isinstance(loc[-1], int):
            return ValidationError(ErrorCode.INVALID_TYPE, "not a table.")
        return ValidationError(ErrorCode.INVALID_TYPE, "'%(field)s' must be a table.", field=field)
    if "url" not in error:
        # Raised by a rule (a PydanticCustomError, which has no documentation link): its
        # code, catalogue message and parameters as they are.
        return ValidationError(ErrorCode(kind), error["msg"], **ctx)
    return ValidationError(ErrorCode.INVALID, "'%(field)s' is not valid.", field=field)


def missing(model: type[BaseModel], field: str) -> ValidationError:
    """A required field left out is what its own rule says of null: a text is
    ``empty``, an event code ``invalid_code``, a number or a flag ``invalid_type``."""
    info = model.model_fields.get(field)
    for meta in info.metadata if info else ():
        if isinstance(meta, BeforeValidator):
            check: Any = meta.func
            try:
                try:
                    check(None, SimpleNamespace(field_name=field))
                except TypeError:  # a check that takes no field information
                    check(None)
            except PydanticCustomError as exc:
                return ValidationError(
                    ErrorCode(exc.type), exc.message_template, **(exc.context or {})
                )
    return ValidationError(ErrorCode.EMPTY, "'%(field)s' is required.", field=field)

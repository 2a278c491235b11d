"""Domain errors: a code and a message, raised once, answered as 4xx JSON or ``ok: false``."""

from __future__ import annotations

from typing import Any

from .rules.enums import ErrorCode


class DomainError(Exception):
    """A rule was broken; ``status`` is the HTTP status the JSON API answers with.

    ``code`` is one of :class:`~discussion.rules.enums.ErrorCode`, never a bare string:
    a new code is declared there (and documented) before anything can raise it.
    """

    status = 400

    def __init__(
        self, code: ErrorCode, message: str, status: int | None = None, **params: Any
    ) -> None:
        super().__init__(message)
        self.code = code
        self.template = message  # the English source, looked up in the catalogues
        self.params = params
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        """The message in the reader's language (English outside a request)."""
        from flask import has_request_context
        from flask_babel import gettext

        if has_request_context():
            return str(gettext(self.template, **self.params))
        return self.template % self.params if self.params else self.template

    def to_dict(self) -> dict[str, Any]:
        """The public error shape, shared by both transports (rules.shapes.ErrorDetail)."""
        from .rules.shapes import ErrorDetail  # shapes imports rules.text, which imports us

        return ErrorDetail(code=self.code, message=self.message).model_dump(mode="json")


class ValidationError(DomainError):
    """The input is malformed or breaks a limit."""

    status = 400


class NotFound(DomainError):
    """The thing asked for does not exist, or is not visible to the asker."""

    status = 404


class Unauthorized(DomainError):
    """A staff login is needed."""

    status = 401


class Forbidden(DomainError):
    """Logged in or identified, but without the right to do this."""

    status = 403


class Conflict(DomainError):
    """The request is valid but the current state forbids it (event closed, ...)."""

    status = 409


class RateLimited(DomainError):
    """Too many posts in a short time from one participant."""

    status = 429


class PlacedError(ValidationError):
    """An error with the place it was found at ("question 3", "translations.es"), both
    put in the reader's language when the message is read."""

    def __init__(
        self, code: ErrorCode, place: str, problem: DomainError, **place_params: Any
    ) -> None:
        super().__init__(code, "%(place)s: %(problem)s")
        self.place, self.place_params, self.problem = place, place_params, problem

    @property
    def message(self) -> str:
        from flask import has_request_context
        from flask_babel import gettext

        if has_request_context():
            place = (
                gettext(self.place, **self.place_params)
                if self.place_params
                else gettext(self.place)
            )
            return str(gettext("%(place)s: %(problem)s", place=place, problem=self.problem.message))
        place = self.place % self.place_params if self.place_params else self.place
        return f"{place}: {self.problem.message}"

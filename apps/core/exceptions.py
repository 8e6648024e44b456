"""Domain errors raised by services; the dashboard, the admin and the API turn them into replies."""

from typing import Any


class ApplicationError(Exception):
    """A request that the domain refuses, with a message meant for the person who made it."""

    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, extra: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}


class NotPermitted(ApplicationError):
    """The actor's role does not allow this action."""

    default_code = "not_permitted"


class Conflict(ApplicationError):
    """The objects' current state does not allow this (the API's 409); ``extra`` says what is in
    the way, and becomes members of the problem document."""

    default_code = "conflict"

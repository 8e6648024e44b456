"""Domain errors raised by services; the dashboard, the admin and the API turn them into replies."""

from typing import Any


class ApplicationError(Exception):
    """A request that the domain refuses, with a message meant for the person who made it."""

    default_code = "invalid"
    # The API's HTTP status for this kind of refusal: the exception handler reads it, so core
    # maps every app's errors without importing them.
    status = 400

    def __init__(self, message: str, *, code: str | None = None, extra: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra or {}

    @property
    def problem_detail(self) -> str:
        """The problem document's ``detail``."""
        return self.message

    def problem_errors(self) -> list[dict[str, str]]:
        """The problem document's ``errors`` (field problems); none by default."""
        return []

    def problem_members(self) -> dict[str, Any]:
        """Extra members of the problem document; none by default (``extra`` may hold objects
        that are not JSON)."""
        return {}


class NotPermitted(ApplicationError):
    """The actor's role does not allow this action."""

    default_code = "not_permitted"
    status = 403


class Conflict(ApplicationError):
    """The objects' current state does not allow this (the API's 409); ``extra`` says what is in
    the way, and becomes members of the problem document."""

    default_code = "conflict"
    status = 409

    def problem_members(self) -> dict[str, Any]:
        return dict(self.extra)

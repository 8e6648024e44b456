"""The neutral errors of a network (issue 14): what went wrong, said as what to do about it.

A network package translates its API's own errors (Meta's ``GraphError`` classes, say) into
these; the publishing engine, engagement sync and token jobs catch only these. ``str(exc)`` is
the text for people; ``detail`` is one technical line for logs and the admin (never a token).
"""

from typing import Any


class NetworkError(Exception):
    """A call to a network failed. ``code`` / ``subcode`` are the network's own numbers (kept
    for the history and support), ``call`` the endpoint template that failed."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        call: str = "",
        answer: str = "",
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.call = call
        self.answer = answer
        self.detail = detail or message

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (Celery) with its keyword arguments
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[NetworkError], message: str, state: dict[str, Any]) -> NetworkError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.__dict__.update(state)
    return exc


class NeedsReconnection(NetworkError):
    """The account's access is gone (a revoked or expired token, a missing permission): a
    person must reconnect it. ``token_missing``: there is no stored token at all (disconnected,
    deauthorized), which the account's status already says — nothing new to record."""

    def __init__(self, message: str, *, token_missing: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.token_missing = token_missing


class RetryLater(NetworkError):
    """A temporary failure or a rate limit: the same request may work in ``seconds``."""

    def __init__(self, message: str, *, seconds: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.seconds = seconds


class OutcomeUnknown(NetworkError):
    """The network cannot say (an error, an unreadable answer, a listing that did not end):
    whether something happened stays open, and is asked again later."""


class Permanent(NetworkError):
    """The network refuses this for good (an invalid request): retrying the same cannot help."""


__all__ = ["NeedsReconnection", "NetworkError", "OutcomeUnknown", "Permanent", "RetryLater"]

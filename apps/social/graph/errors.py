"""Graph API failures as exception classes, and the rules that classify Meta's error objects.

Meta answers a failed call with `{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id", "error_user_title", "error_user_msg", "is_transient"}}`. Callers should not read
codes: each class says what to do (see docs/graph-client.md):

- GraphTokenError            the account needs reconnection (mark it needs_reauth)
- GraphRateLimitError        back off for `retry_after` seconds; do not retry now
- GraphTransientError        retry later with backoff (the client already retried safe calls);
  GraphTimeoutError            ...if `outcome_unknown`, the call may have taken effect: reconcile
- GraphPermissionError       a permission or Page role is missing: reconnect / fix roles, fail
  GraphNotEnoughViewersError   ...insights only: too few viewers for Meta to show numbers
- GraphDuplicateError        Meta refused a duplicate post: fail (change the content)
- GraphInvalidRequestError   Meta refused the request: fail with the message
- GraphMalformedResponseError  an answer we could not read: fail (reconcile if outcome_unknown)
  GraphListingIncomplete       ...a listing that must be complete stopped early (a loop, too long)

`str(exc)` is the text for people (owners, staff); the technical detail (Meta's own message,
codes, fbtrace_id) is on attributes and in the exception's note, so tracebacks show it. No text
here ever contains a token: the client scrubs the secrets of each call from Meta's text.
"""

from typing import Any, ClassVar, cast

from .usage import GraphUsage

# Subcodes of 190 (and of other codes) that mean the user's session is gone.
TOKEN_ERROR_CODES = frozenset({102, 190})
TOKEN_ERROR_SUBCODES = frozenset({458, 459, 460, 463, 464, 467, 492})
RATE_LIMIT_CODES = frozenset({4, 9, 17, 32, 341, 613, *range(80001, 80010)})
# Instagram: "You reached maximum number of posts that is allowed to be published".
IG_PUBLISHING_LIMIT_SUBCODE = 2207042
TRANSIENT_CODES = frozenset({1, 2, -1, -2})
# Instagram: "Media ID is not available" / "The media is not ready for publishing".
IG_MEDIA_NOT_READY = (9007, 2207027)
# Subcodes under a transient code that a retry of the same request cannot fix: the container
# expired (create a new one) or a video thumbnail offset is out of bounds.
NOT_TRANSIENT_SUBCODES = frozenset({2207020, 2207057})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
DUPLICATE_CODE = 506
# Insights: "(#10) Not enough viewers for the media to show insights" (a permission code).
NOT_ENOUGH_VIEWERS_CODE = 10

_TOKEN_REASONS = {
    458: "the app was removed from the Facebook account",
    459: "Facebook wants the account owner to log in to facebook.com and pass a security check",
    460: "the Facebook password was changed",
    463: "the access has expired",
    464: "the Facebook account is not confirmed yet",
    467: "the access has expired",
    492: "the person who connected it no longer has a role on the Page",
}


class GraphError(Exception):
    """A failed Graph API call. `str()` is for people; attributes carry the technical detail."""

    default_user_message: ClassVar[str] = (
        "Facebook could not complete this request. Try again later; if it keeps failing, "
        "contact support."
    )
    # What callers should do, without reading codes.
    retryable: ClassVar[bool] = False
    needs_reconnect: ClassVar[bool] = False

    def __init__(
        self,
        detail: str,
        *,
        user_message: str | None = None,
        http_status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        fbtrace_id: str | None = None,
        meta_message: str | None = None,
        meta_user_title: str | None = None,
        meta_user_message: str | None = None,
        retry_after: int | None = None,
        outcome_unknown: bool = False,
        usage: GraphUsage | None = None,
        method: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.user_message = user_message or self.default_user_message
        super().__init__(self.user_message)
        self.detail = detail
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.type = error_type  # Meta's `type`, e.g. "OAuthException"
        self.fbtrace_id = fbtrace_id
        self.meta_message = meta_message
        self.meta_user_title = meta_user_title
        self.meta_user_message = meta_user_message
        self.retry_after = retry_after
        # True when the request may have taken effect although we saw no success (a timeout or a
        # dropped connection after a non-idempotent POST was sent): reconcile before any retry.
        self.outcome_unknown = outcome_unknown
        self.usage = usage
        self.method = method
        self.endpoint = endpoint
        self.add_note(f"Graph: {self.technical_summary}")

    @property
    def technical_summary(self) -> str:
        """One line for logs and the admin: where, which code, Meta's message, fbtrace_id."""
        parts = []
        if self.method and self.endpoint:
            parts.append(f"{self.method} {self.endpoint}")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.code is not None:
            code = f"code {self.code}"
            if self.subcode is not None:
                code += f"/{self.subcode}"
            parts.append(code)
        if self.type:
            parts.append(self.type)
        parts.append(self.detail)
        if self.fbtrace_id:
            parts.append(f"fbtrace_id={self.fbtrace_id}")
        if self.outcome_unknown:
            parts.append("outcome unknown")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, subcode={self.subcode!r}, "
            f"http_status={self.http_status!r}, endpoint={self.endpoint!r}, "
            f"fbtrace_id={self.fbtrace_id!r}, outcome_unknown={self.outcome_unknown!r}, "
            f"detail={self.detail!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Celery pickles exceptions; keyword-only constructors do not survive the default.
        return (_rebuild_error, (type(self), dict(self.__dict__)))


def _rebuild_error(cls: type[GraphError], state: dict[str, Any]) -> GraphError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("user_message", cls.default_user_message))
    error.__dict__.update(state)
    return error


class GraphTokenError(GraphError):
    """The token is invalid, expired or revoked: the account needs reconnection."""

    needs_reconnect = True
    default_user_message = (
        "Facebook no longer accepts this connection (the password changed or access was "
        "removed). Reconnect the account."
    )


class GraphRateLimitError(GraphError):
    """Meta is throttling us: back off for `retry_after` seconds, do not retry now."""

    default_user_message = (
        "Facebook is limiting how often we may call it. We will try again in a few minutes."
    )

    @property
    def is_publishing_limit(self) -> bool:
        """Instagram's rolling 24-hour content publishing limit (not a call-rate limit)."""
        return self.subcode == IG_PUBLISHING_LIMIT_SUBCODE


class GraphTransientError(GraphError):
    """A temporary failure (Meta's side or the network): retry later with backoff."""

    retryable = True
    default_user_message = "Facebook is temporarily unavailable. We will try again automatically."


class GraphTimeoutError(GraphTransientError):
    """No answer in time. With `outcome_unknown`, the call may still have taken effect."""

    default_user_message = "Facebook did not answer in time. We will try again automatically."


class GraphPermissionError(GraphError):
    """A permission or a role on the Page / Instagram account is missing."""

    needs_reconnect = True
    default_user_message = (
        "Facebook refused this action: the connection is missing a permission, or your role on "
        "the Page or Instagram account does not allow it. Reconnect the account and grant every "
        "permission asked for."
    )


class GraphNotEnoughViewersError(GraphPermissionError):
    """Meta's #10 "Not enough viewers for the media to show insights": too few people saw it
    for Meta to report numbers (not a missing permission: nothing to reconnect). Raised by the
    insights functions only; a subclass, so `except GraphPermissionError` still catches it."""

    needs_reconnect = False
    default_user_message = "Too few people have seen this yet for Meta to show its insights."

    @classmethod
    def matches(cls, error: GraphError) -> bool:
        said = f"{error.meta_message or ''} {error.meta_user_title or ''}".lower()
        return error.code == NOT_ENOUGH_VIEWERS_CODE and "not enough viewers" in said

    @classmethod
    def from_error(cls, error: GraphError) -> "GraphNotEnoughViewersError":
        """The same failure, with every technical detail of `error`, as this class."""
        state = dict(error.__dict__)
        state["user_message"] = cls.default_user_message
        return cast("GraphNotEnoughViewersError", _rebuild_error(cls, state))


class GraphDuplicateError(GraphError):
    """Meta refused the post as a duplicate of a recent one."""

    default_user_message = (
        "Facebook refused this post as a duplicate of a recent one. Change the text and try again."
    )


class GraphInvalidRequestError(GraphError):
    """Meta refused the request (invalid parameter, unknown object, ...): fail with its message."""

    default_user_message = "Facebook refused the request."


class GraphMalformedResponseError(GraphError):
    """Meta (or the emulator) answered something we could not read."""

    default_user_message = (
        "Facebook sent an answer we could not understand. Try again later; if it keeps "
        "happening, contact support."
    )


class GraphListingIncomplete(GraphMalformedResponseError):
    """A listing that had to be read to its end stopped early (its `paging.next` links looped,
    or there were more pages than the client follows): what it returned is not everything."""

    default_user_message = (
        "Facebook's list of recent posts could not be read to its end. We will check again."
    )


def classify_graph_error(
    *,
    http_status: int | None,
    code: int | None,
    subcode: int | None = None,
    is_transient: bool = False,
) -> type[GraphError]:
    """The exception class for a Graph error object (or for a bare HTTP status without one)."""
    if code is None:
        if http_status == 429:
            return GraphRateLimitError
        if http_status is not None and http_status >= 500:
            return GraphTransientError
        if http_status in (401,):
            return GraphTokenError
        if http_status in (403,):
            return GraphPermissionError
        return GraphInvalidRequestError
    if code in TOKEN_ERROR_CODES or subcode in TOKEN_ERROR_SUBCODES:
        return GraphTokenError
    if code == DUPLICATE_CODE:
        return GraphDuplicateError
    if code in RATE_LIMIT_CODES or subcode == IG_PUBLISHING_LIMIT_SUBCODE:
        return GraphRateLimitError
    if subcode in NOT_TRANSIENT_SUBCODES:
        return GraphInvalidRequestError
    if code in TRANSIENT_CODES or (code, subcode) == IG_MEDIA_NOT_READY:
        return GraphTransientError
    if code in PERMISSION_CODES:
        return GraphPermissionError
    if is_transient:
        return GraphTransientError
    return GraphInvalidRequestError


def user_message_for(
    cls: type[GraphError],
    *,
    subcode: int | None,
    meta_user_message: str | None,
    meta_message: str | None,
    retry_after: int | None,
    outcome_unknown: bool,
) -> str:
    """Clear, actionable text for owners and staff, for an error of class `cls`."""
    if issubclass(cls, GraphTokenError):
        reason = _TOKEN_REASONS.get(subcode or 0)
        if reason:
            return f"Facebook no longer accepts this connection ({reason}). Reconnect the account."
        return cls.default_user_message
    if issubclass(cls, GraphRateLimitError):
        wait = _describe_wait(retry_after)
        if subcode == IG_PUBLISHING_LIMIT_SUBCODE:
            return (
                "This Instagram account reached its publishing limit for the last 24 hours. "
                f"The post will go out when the limit frees up{wait}."
            )
        return f"Facebook is limiting how often we may call it. We will try again{wait}."
    if issubclass(cls, GraphTransientError):
        if outcome_unknown:
            return (
                "Facebook did not confirm the result in time. We will check whether it went "
                "through before trying again."
            )
        if subcode == IG_MEDIA_NOT_READY[1]:
            return "Instagram is still processing the media. We will try again shortly."
        return cls.default_user_message
    if issubclass(cls, GraphPermissionError | GraphDuplicateError):
        if meta_user_message:
            return f"{cls.default_user_message} Facebook says: {meta_user_message}"
        return cls.default_user_message
    if issubclass(cls, GraphInvalidRequestError):
        said = meta_user_message or meta_message
        if said:
            return f"Facebook refused the request: {said}"
        return cls.default_user_message
    return cls.default_user_message


def _describe_wait(seconds: int | None) -> str:
    if not seconds:
        return " later"
    minutes = max(1, round(seconds / 60))
    if minutes >= 120:
        return f" in about {round(minutes / 60)} hours"
    return f" in about {minutes} minute{'s' if minutes != 1 else ''}"

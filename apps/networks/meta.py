"""What the Meta networks (Facebook Pages, Instagram business accounts, later Threads) share:
the Graph API client (``apps.social.graph``) and the translation of its errors into outcomes
and neutral errors, Meta's tokens (checked with ``debug_token``, renewed with
``fb_exchange_token``), the connecting person's tasks on the Page an account publishes through,
and where a person sees an account's posts. Nothing outside ``apps.networks`` sees a
``GraphError``."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings

from apps.networks.base import (
    Fail,
    NeedsReauth,
    Outcome,
    Retry,
    TokenCheck,
    TokenRefresh,
    Unknown,
    Wait,
)
from apps.networks.errors import (
    NeedsReconnection,
    NetworkError,
    OutcomeUnknown,
    Permanent,
    RetryLater,
)
from apps.networks.steps import backoff
from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount, Platform
from apps.social.selectors import REFRESH_WHEN_EXPIRING_WITHIN

DUPLICATE_REFUSAL = (
    "Facebook refuses this text as a duplicate of a recent post on the Page. Change the text, "
    "then retry."
)
LOGIN_REFUSED = (
    "Facebook no longer accepts this Facebook login. Publishing goes on with the Page tokens; "
    "reconnect Facebook to keep discovering Pages and renewing access."
)


def graph_call(exc: graph.GraphError) -> str:
    """The call an error came from, as its endpoint template ("POST /{id}/feed")."""
    return f"{exc.method} {exc.endpoint}" if exc.method and exc.endpoint else ""


def outcome_for(exc: graph.GraphError, *, attempt: int, sent_publish_call: bool) -> Outcome:
    """Map a Graph API error to what the engine should do (SPEC 5.2's error classes)."""
    seen = {"call": graph_call(exc), "answer": type(exc).__name__}
    if sent_publish_call and exc.outcome_unknown:
        return Unknown(exc.user_message, **seen)
    if isinstance(exc, graph.GraphRateLimitError):
        return Wait(exc.retry_after or 300, exc.user_message, **seen)
    if exc.needs_reconnect:
        return NeedsReauth(exc.user_message, exc.code, exc.subcode, **seen)
    if isinstance(exc, graph.GraphDuplicateError):
        # Meta refuses the same text twice in a row: maybe our earlier attempt went through.
        # The engine reconciles; if the post is not there, the refusal stands (a Fail).
        return Unknown(exc.user_message, refusal_if_absent=DUPLICATE_REFUSAL, **seen)
    if exc.retryable:
        return Retry(backoff(attempt), exc.user_message, exc.code, exc.subcode, **seen)
    return Fail(exc.user_message, exc.code, exc.subcode, **seen)


def neutral(exc: graph.GraphError, *, reading: bool = False) -> NetworkError:
    """The neutral error for a Graph API error. ``reading``: the call only read something (a
    listing, a status), so anything but lost access means "cannot say now"."""
    message = exc.user_message
    code, subcode, call = exc.code, exc.subcode, graph_call(exc)
    answer, detail = type(exc).__name__, exc.technical_summary
    if exc.needs_reconnect:
        return NeedsReconnection(
            message, code=code, subcode=subcode, call=call, answer=answer, detail=detail
        )
    if isinstance(exc, graph.GraphRateLimitError) and not reading:
        return RetryLater(
            message,
            seconds=exc.retry_after or 300,
            code=code,
            subcode=subcode,
            call=call,
            answer=answer,
            detail=detail,
        )
    if reading or exc.outcome_unknown:
        return OutcomeUnknown(
            message, code=code, subcode=subcode, call=call, answer=answer, detail=detail
        )
    if exc.retryable:
        return RetryLater(
            message,
            seconds=settings.PUBLISHING_RETRY_BASE_SECONDS,
            code=code,
            subcode=subcode,
            call=call,
            answer=answer,
            detail=detail,
        )
    return Permanent(message, code=code, subcode=subcode, call=call, answer=answer, detail=detail)


def profile_url(account: ConnectedAccount, public: str) -> str:
    """Where a person sees the account's recent posts: ``public`` at Meta, the sandbox's own
    page in the sandbox."""
    if settings.FACEBOOK_SANDBOX:
        return f"{settings.FACEBOOK_GRAPH_URL}/_sandbox/view/{account.platform_id}"
    return public


# --- Tokens (the same for every Meta network) --------------------------------------------------


def _refused_reason(info: graph.TokenDebugInfo, *, user_token: bool) -> str:
    said = f": {info.error_message}" if info.error_message else "."
    if user_token:
        return (
            f"Facebook no longer accepts this Facebook login{said} Publishing goes on with the "
            "Page tokens; reconnect Facebook to keep discovering Pages and renewing access."
        )
    return f"Facebook no longer accepts this connection{said} Reconnect the account."


class MetaTokens:
    """Token hooks of a Meta network: Page tokens (and the connecting person's long-lived user
    token) are checked with ``debug_token``; the user token is renewed before it expires."""

    token_kinds: frozenset[str] = frozenset({AccessToken.Kind.PAGE})

    def token_check(self, token: AccessToken) -> TokenCheck:
        try:
            info = graph.debug_token(input_token=token.token)
        except graph.GraphError as exc:
            # Facebook could not answer (rate limit, outage): not a verdict on the token.
            return TokenCheck(
                state="unknown",
                reason=exc.user_message,
                detail=exc.technical_summary,
                code=exc.code,
                subcode=exc.subcode,
            )
        if not info.is_valid:
            user_token = token.kind == AccessToken.Kind.USER_LONG_LIVED
            return TokenCheck(
                state="refused",
                reason=_refused_reason(info, user_token=user_token),
                code=info.error_code,
                subcode=info.error_subcode,
            )
        return TokenCheck(state="valid", scopes=tuple(info.scopes), expires_at=info.expires_at)

    def token_refresh(self, token: AccessToken) -> TokenRefresh:
        try:
            fresh = graph.exchange_long_lived(user_token=token.token)
        except graph.GraphError as exc:
            return TokenRefresh(
                refused=LOGIN_REFUSED if isinstance(exc, graph.GraphTokenError) else "",
                reason=exc.user_message,
                detail=exc.technical_summary,
                code=exc.code,
                subcode=exc.subcode,
            )
        return TokenRefresh(token=fresh.access_token, expires_at=fresh.expires_at)

    def refresh_due(self, token: AccessToken, now: datetime) -> bool:
        # Only the long-lived user token expires and can be renewed; Page tokens derived from it
        # do not expire. One Facebook already refused cannot be renewed (only a reconnect).
        return (
            token.kind == AccessToken.Kind.USER_LONG_LIVED
            and token.expires_at is not None
            and token.expires_at <= now + REFRESH_WHEN_EXPIRING_WITHIN
            and token.invalid_since is None
        )

    def permissions_check(self, account: ConnectedAccount, token: AccessToken) -> None:
        # The connecting person's tasks on the Page (docs/facebook.md, "Token health"): read
        # here, recorded by apps.social (the recorder it sets in ready(); no write here).
        found = page_tasks_read(account, token)
        if found is not None:
            _page_tasks_recorder()(account=account, token=token, found=found)


# --- Page tasks (both Meta networks publish through a Page) -------------------------------------
#
# What the person who connected an account may do on the Page it publishes through (Meta's
# tasks): posting to a Page, and to the Instagram account linked to it, needs "Create content".
# Read and decided here; apps.social records them on the accounts (``page_tasks_recorder_set``).

# What someone may do on a Page, in the words of "You can only ... this Page".
TASK_VERBS = {
    "MANAGE": "manage",
    "CREATE_CONTENT": "create content on",
    "MODERATE": "moderate",
    "MESSAGING": "send messages as",
    "ADVERTISE": "advertise on",
    "ANALYZE": "analyze",
}


def can_publish(tasks: Iterable[str]) -> bool:
    """Whether these tasks let their holder publish to the Page (and its Instagram account)."""
    return graph.can_publish(tasks)


def tasks_phrase(tasks: Iterable[str]) -> str:
    """ "analyze" / "moderate and analyze" / "..." for the tasks someone has on a Page."""
    verbs = [TASK_VERBS[t] for t in TASK_VERBS if t in set(tasks)]
    if not verbs:
        return "see"
    return verbs[0] if len(verbs) == 1 else ", ".join(verbs[:-1]) + " and " + verbs[-1]


def missing_permission(*, code: int | None, subcode: int | None) -> bool:
    """Whether a Graph error code says a permission is missing (10, 200-299): the Page's tasks
    may explain it (a lost "Create content"), which a reconnect would not fix."""
    return code is not None and issubclass(
        graph.classify_graph_error(http_status=None, code=code, subcode=subcode),
        graph.GraphPermissionError,
    )


@dataclass(frozen=True, kw_only=True)
class PageTasks:
    """What Meta says, asked with an account's Page token, about the connecting person's tasks on
    the Page the account publishes through."""

    page_id: str
    tasks: tuple[str, ...] | None = None  # None: Meta did not say (which changes nothing)
    error: NetworkError | None = None  # the tasks could not be read

    @property
    def publishable(self) -> bool | None:
        return None if self.tasks is None else can_publish(self.tasks)


def page_tasks_read(account: ConnectedAccount, token: AccessToken) -> PageTasks | None:
    """The account's Page tasks (``GET /{page-id}?fields=tasks`` with ``token``); None when the
    account publishes through no Page. A failed read is said in ``error``. No database writes."""
    if not account.page_id:
        return None
    try:
        tasks = graph.get_page_tasks(page_id=account.page_id, page_token=token.token)
    except graph.GraphError as exc:
        return PageTasks(page_id=account.page_id, error=neutral(exc, reading=True))
    return PageTasks(page_id=account.page_id, tasks=tasks)


def _who_connected(account: ConnectedAccount) -> str:
    user = account.connected_by
    signed_in = f" (signed in here as {user.email})" if user else ""
    return f"the Facebook user who connected it{signed_in}"


def task_lost_reason(account: ConnectedAccount, tasks: tuple[str, ...]) -> str:
    """Why an account cannot be published to once the connecting person's tasks on its Page
    no longer include "Create content", and what fixes it (the account's status reason)."""
    fix = (
        "Ask a Page admin to give the “Create content” task on the Page back to that person, "
        "then press “Check again” on the Accounts page. Reconnecting does not help."
    )
    if account.platform == Platform.INSTAGRAM_BUSINESS:
        page = account.metadata.get("page_name") or (account.parent.name if account.parent else "")
        return (
            f"It is published through the Page “{page}”, on which {_who_connected(account)} can "
            f"now only {tasks_phrase(tasks)}, so nothing can be posted. {fix}"
        )
    who = _who_connected(account)
    return (
        f"{who[0].upper()}{who[1:]} can now only {tasks_phrase(tasks)} this Page, so nothing "
        f"can be posted. {fix}"
    )


class PageTasksRecorder(Protocol):
    """Records what ``permissions_check`` read on the accounts (``apps.social.services``
    ``page_tasks_record``: the tasks, the accounts' status, the events and e-mails)."""

    def __call__(
        self, *, account: ConnectedAccount, token: AccessToken, found: PageTasks
    ) -> object: ...


_recorders: list[PageTasksRecorder] = []


def page_tasks_recorder_set(recorder: PageTasksRecorder) -> None:
    """Where the daily check's Page tasks go: apps.social sets it in ``AppConfig.ready`` (the
    package reads and decides, apps.social writes; it is not imported from here)."""
    _recorders[:] = [recorder]


def _page_tasks_recorder() -> PageTasksRecorder:
    if not _recorders:
        raise RuntimeError("No recorder for Page tasks: apps.social sets it in ready().")
    return _recorders[0]

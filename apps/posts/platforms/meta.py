"""What Facebook Pages and Instagram accounts have in common: Meta's Graph API errors, the Page
token, caption analysis."""

import random
import re
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db.models import OuterRef, Subquery

from apps.posts.platforms.base import Fail, NeedsReauth, Outcome, Retry, Unknown, Wait, Window
from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount, Platform

HASHTAG = re.compile(r"(?<![\w&])#(\w+)", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.]+)")
T = TypeVar("T")


def hashtags(text: str) -> list[str]:
    return HASHTAG.findall(text)


def mentions(text: str) -> list[str]:
    return MENTION.findall(text)


class TokenMissing(Exception):
    """The account has no token (it was disconnected, or deauthorized at Facebook)."""


# A caller that loaded the account's token with its own query (see page_token_subquery) leaves
# it on the account under this name: page_token then needs no query of its own.
LOADED_TOKEN = "loaded_page_token"  # noqa: S105 - the name of an attribute, not a secret


def page_token_subquery() -> Subquery:
    """The token of the row's ``account_id``, decrypted on read like the field itself."""
    return Subquery(
        AccessToken.objects.filter(account=OuterRef("account_id")).values("token")[:1],
        output_field=AccessToken._meta.get_field("token"),
    )


def page_token(account: ConnectedAccount) -> str:
    """The token an account publishes with (for Instagram: the linked Page's token)."""
    loaded = getattr(account, LOADED_TOKEN, None)
    if loaded:
        return str(loaded)
    token = AccessToken.objects.filter(account=account).only("token").first()
    if token is None:
        raise TokenMissing
    return token.token


def profile_url(account: ConnectedAccount) -> str:
    """Where a person sees the account's recent posts (the sandbox's own page in the sandbox)."""
    if settings.FACEBOOK_SANDBOX:
        return f"{settings.FACEBOOK_GRAPH_URL}/_sandbox/view/{account.platform_id}"
    if account.platform == Platform.INSTAGRAM_BUSINESS and account.username:
        return f"https://www.instagram.com/{account.username}/"
    return f"https://www.facebook.com/{account.platform_id}"


def backoff(attempt: int, *, cap: int = 3600) -> int:
    """Exponential backoff with full jitter, in seconds (PUBLISHING_RETRY_BASE_SECONDS)."""
    ceiling = min(cap, settings.PUBLISHING_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return max(1, round(random.uniform(0, ceiling)))  # noqa: S311


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
        return Unknown(exc.user_message, **seen)
    if exc.retryable:
        return Retry(backoff(attempt), exc.user_message, exc.code, exc.subcode, **seen)
    return Fail(exc.user_message, exc.code, exc.subcode, **seen)


def unclaimed(candidates: list[T], ids: Callable[[T], str], window: Window) -> T | None:
    """The oldest candidate whose id no other publication of the account recorded. Candidates
    come newest first (Graph's order); the oldest is the one an earlier attempt made first."""
    for candidate in reversed(candidates):
        if ids(candidate) not in window.taken:
            return candidate
    return None

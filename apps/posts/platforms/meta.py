"""What Facebook Pages and Instagram accounts have in common: Meta's Graph API errors, the Page
token, caption analysis."""

import random
import re

from django.conf import settings

from apps.posts.platforms.base import Fail, NeedsReauth, Outcome, Retry, Unknown, Wait
from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount

HASHTAG = re.compile(r"(?<![\w&])#(\w+)", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.]+)")


def hashtags(text: str) -> list[str]:
    return HASHTAG.findall(text)


def mentions(text: str) -> list[str]:
    return MENTION.findall(text)


class TokenMissing(Exception):
    """The account has no token (it was disconnected, or deauthorized at Facebook)."""


def page_token(account: ConnectedAccount) -> str:
    """The token an account publishes with (for Instagram: the linked Page's token)."""
    token = AccessToken.objects.filter(account=account).only("token").first()
    if token is None:
        raise TokenMissing
    return token.token


def backoff(attempt: int, *, cap: int = 3600) -> int:
    """Exponential backoff with full jitter, in seconds (PUBLISHING_RETRY_BASE_SECONDS)."""
    ceiling = min(cap, settings.PUBLISHING_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return max(1, round(random.uniform(0, ceiling)))  # noqa: S311


def outcome_for(exc: graph.GraphError, *, attempt: int, sent_publish_call: bool) -> Outcome:
    """Map a Graph API error to what the engine should do (SPEC 5.2's error classes)."""
    if sent_publish_call and exc.outcome_unknown:
        return Unknown(exc.user_message)
    if isinstance(exc, graph.GraphRateLimitError):
        return Wait(exc.retry_after or 300, exc.user_message)
    if exc.needs_reconnect:
        return NeedsReauth(exc.user_message, exc.code, exc.subcode)
    if isinstance(exc, graph.GraphDuplicateError):
        # Meta refuses the same content twice in a row: maybe our earlier attempt went through.
        return Unknown(exc.user_message)
    if exc.retryable:
        return Retry(backoff(attempt), exc.user_message, exc.code, exc.subcode)
    return Fail(exc.user_message, exc.code, exc.subcode)

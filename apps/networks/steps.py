"""What a network's publishing step and reconciliation share, whatever the network."""

import random
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from apps.networks.base import Wait, Window

T = TypeVar("T")


def backoff(attempt: int, *, cap: int = 3600) -> int:
    """Exponential backoff with full jitter, in seconds (PUBLISHING_RETRY_BASE_SECONDS)."""
    ceiling = min(cap, settings.PUBLISHING_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return max(1, round(random.uniform(0, ceiling)))  # noqa: S311


def unclaimed(candidates: list[T], ids: Callable[[T], str], window: Window) -> T | None:
    """The oldest candidate whose id no other publication of the account recorded. Candidates
    come newest first (the networks' order); the oldest is the one an earlier attempt made
    first."""
    for candidate in reversed(candidates):
        if ids(candidate) not in window.taken:
            return candidate
    return None


def quota_full(*, network: str, used_up: bool, total: int, duration: int, call: str) -> Wait | None:
    """A rolling publishing quota (Instagram's, Threads'): a Wait until a slot frees up when it
    is used up, else None. Checked right before the call that publishes."""
    if not used_up:
        return None
    hours = max(1, duration // 3600)
    return Wait(
        settings.PUBLISHING_QUOTA_RETRY_SECONDS,
        f"{network} limit of {total} posts in {hours} hours is reached; "
        "the post goes out when a slot frees up.",
        call=call,
        answer="ok",
    )

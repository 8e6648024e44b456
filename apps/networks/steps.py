"""What a network's publishing step and reconciliation share, whatever the network."""

import random
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from apps.networks.base import Window

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

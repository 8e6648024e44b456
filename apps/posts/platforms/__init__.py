"""Platform adapters: one per network, behind one interface (see ``base``)."""

from apps.posts.platforms.base import (
    CannotTell,
    Engagement,
    Fail,
    Journal,
    NeedsReauth,
    Outcome,
    PlatformAdapter,
    PostContent,
    Preview,
    Problem,
    Published,
    Retry,
    Unknown,
    Wait,
    Window,
)
from apps.posts.platforms.facebook import FacebookPageAdapter
from apps.posts.platforms.instagram import InstagramAdapter

ADAPTERS: dict[str, PlatformAdapter] = {
    adapter.platform: adapter for adapter in (FacebookPageAdapter(), InstagramAdapter())
}


def adapter_for(platform: str) -> PlatformAdapter:
    try:
        return ADAPTERS[platform]
    except KeyError:
        raise LookupError(f"No publishing adapter for platform {platform!r}") from None


__all__ = [
    "ADAPTERS",
    "CannotTell",
    "Engagement",
    "Fail",
    "Journal",
    "NeedsReauth",
    "Outcome",
    "PlatformAdapter",
    "PostContent",
    "Preview",
    "Problem",
    "Published",
    "Retry",
    "Unknown",
    "Wait",
    "Window",
    "adapter_for",
]

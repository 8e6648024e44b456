"""Insights, for every mount that answers them: Meta's current metric names, the retired ones,
the errors a request for them gets, and the values — synthetic, growing with the sandbox clock
from publication like the engagement of `nodes.engagement` (same seed, so `likes` here is a
media's `like_count`), the same for the same object and moment.

Retired (every version): Facebook's `page_impressions*`, `post_impressions*` and `page_fans*`
(15 November 2025, replaced by `*_media_view`, `*_total_media_view_unique` and `page_follows`);
Instagram's `impressions`, `plays`, `video_views` and their kin (April 2025, replaced by
`views`). Asking for one fails the whole request, as on Meta.

Days end at midnight UTC here (Meta ends them at midnight Pacific time)."""

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import GraphError
from .nodes import engagement
from .timeparams import parse_time_param

DAY = 86_400
IG_MAX_WINDOW = 30 * DAY
FB_MAX_WINDOW = 93 * DAY

# --- the names ----------------------------------------------------------------------------------

FB_RETIRED_PREFIXES = (
    "page_impressions",
    "post_impressions",
    "page_posts_impressions",
    "page_fans",
    "page_fan_",
)
FB_RETIRED = frozenset(
    {"page_engaged_users", "post_engaged_users", "page_consumptions", "post_consumptions"}
)
FB_POST_METRICS: dict[str, tuple[str, str]] = {
    "post_media_view": ("Media views", "The number of times the post was on screen."),
    "post_total_media_view_unique": (
        "Media viewers",
        "The number of people who saw the post at least once.",
    ),
    "post_clicks": ("Post clicks", "The number of clicks anywhere in the post."),
    "post_reactions_by_type_total": (
        "Total post reactions by type",
        "The number of reactions to the post, by type.",
    ),
}
FB_PAGE_METRICS: dict[str, tuple[str, str]] = {
    "page_media_view": (
        "Media views",
        "The number of times the Page's content was on screen.",
    ),
    "page_total_media_view_unique": (
        "Media viewers",
        "The number of people who saw any of the Page's content at least once.",
    ),
    "page_follows": ("Follows", "The number of people who follow the Page."),
    "page_post_engagements": (
        "Post engagements",
        "The number of reactions, comments and shares of the Page's posts.",
    ),
}

# Threads (`networks/threads.py`): a media's lifetime metrics.
THREADS_MEDIA_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")

IG_RETIRED = frozenset(
    {
        "impressions",
        "plays",
        "video_views",
        "engagement",
        "clips_replays_count",
        "ig_reels_aggregated_all_plays_count",
        "carousel_album_impressions",
        "carousel_album_video_views",
        "taps_forward",
        "taps_back",
        "exits",
    }
)
IG_MEDIA_METRICS: dict[str, tuple[str, str]] = {
    "views": ("Views", "The number of times the media was played or displayed."),
    "reach": ("Accounts reached", "The number of unique accounts that saw the media."),
    "saved": ("Saved", "The number of saves of the media."),
    "shares": ("Shares", "The number of shares of the media."),
    "likes": ("Likes", "The number of likes of the media."),
    "comments": ("Comments", "The number of comments on the media."),
    "total_interactions": (
        "Interactions",
        "Likes, saves, comments and shares of the media, minus the ones undone.",
    ),
    "replies": ("Replies", "The number of replies to the story."),
    "navigation": ("Navigation", "Taps forward, back, to the next story and exits."),
    "follows": ("Follows", "The number of accounts that followed after seeing the media."),
    "profile_visits": ("Profile visits", "The number of times the profile was visited."),
    "profile_activity": ("Profile activity", "Actions taken on the profile after the media."),
    "ig_reels_avg_watch_time": ("Average watch time", "The average time the reel was played."),
    "ig_reels_video_view_total_time": (
        "Watch time",
        "The total time the reel was played, replays included (milliseconds).",
    ),
}
_FEED = ("views", "reach", "saved", "shares", "likes", "comments", "total_interactions")
IG_BY_PRODUCT: dict[str, tuple[str, ...]] = {
    "FEED": (*_FEED, "follows", "profile_visits", "profile_activity"),
    "REELS": (*_FEED, "ig_reels_avg_watch_time", "ig_reels_video_view_total_time"),
    "STORY": (
        "views",
        "reach",
        "shares",
        "total_interactions",
        "replies",
        "navigation",
        "follows",
        "profile_visits",
        "profile_activity",
    ),
}
IG_ACCOUNT_METRICS: dict[str, tuple[str, str]] = {
    "views": ("Views", "The number of times the account's content was played or displayed."),
    "reach": ("Accounts reached", "The number of unique accounts that saw the content."),
    "accounts_engaged": ("Accounts engaged", "The number of accounts that interacted."),
    "total_interactions": ("Content interactions", "Likes, saves, comments, shares, replies."),
    "likes": ("Likes", "The number of likes of the account's content."),
    "comments": ("Comments", "The number of comments on the account's content."),
    "shares": ("Shares", "The number of shares of the account's content."),
    "saves": ("Saves", "The number of saves of the account's content."),
    "replies": ("Replies", "The number of replies to the account's stories."),
    "profile_links_taps": ("Profile links taps", "Taps on the profile's contact links."),
    "follower_count": ("Follower count", "The number of new followers each day."),
}
# Metrics of /{ig-user-id}/insights answered as a daily series (`values`); `reach` is both.
IG_TIME_SERIES = frozenset({"follower_count", "reach"})
IG_TOTAL_VALUE = frozenset(IG_ACCOUNT_METRICS) - {"follower_count"}


def fb_retired(name: str) -> bool:
    return name in FB_RETIRED or name.startswith(FB_RETIRED_PREFIXES)


def metric_names(text: str | None) -> list[str]:
    return [m.strip() for m in (text or "").split(",") if m.strip()]


# --- the errors (the words reported by developers who met them; see docs/sandbox.md) ------------


def fb_invalid_metric() -> GraphError:
    return GraphError("(#100) The value must be a valid insights metric", code=100)


def ig_retired(metric: str, queried: str) -> GraphError:
    doc = "ig-user" if queried == "user" else "instagram-media"
    return GraphError(
        f"(#100) Starting from version 22 and above, the {metric} metric is no longer supported "
        f"for the queried {queried}. Please refer to the documentation at "
        f"https://developers.facebook.com/docs/instagram-platform/reference/{doc}/insights "
        "for a list of supported metrics.",
        code=100,
    )


def ig_not_one_of(index: int, allowed: Iterable[str]) -> GraphError:
    return GraphError(
        f"(#100) metric[{index}] must be one of the following values: {', '.join(allowed)}",
        code=100,
    )


def ig_unsupported_for_media(metric: str) -> GraphError:
    return GraphError(f"(#100) The metric {metric} is not supported for this media type", code=100)


def ig_carousel_child() -> GraphError:
    # The sandbox's words: Meta documents that album children have no insights, not the text.
    return GraphError("(#10) Insights are not available for carousel album children", code=10)


def ig_needs_total_value(metrics: list[str]) -> GraphError:
    return GraphError(
        f"(#100) The following metrics ({', '.join(metrics)}) should be specified with "
        "parameter metric_type=total_value",
        code=100,
    )


def window_too_long(max_seconds: int) -> GraphError:
    days = max_seconds // DAY
    return GraphError(
        f"(#100) There cannot be more than {days} days ({max_seconds} s) between since and until",
        code=100,
    )


def since_after_until() -> GraphError:
    return GraphError("(#100) The since parameter must be earlier than until", code=100)


def not_enough_viewers() -> GraphError:
    """What Meta answers for a media too few accounts saw (a fault's `message` gives it)."""
    return GraphError("(#10) Not enough viewers for the media to show insights", code=10)


def window(
    since_text: str | None, until_text: str | None, now: float, *, default: int, longest: int
) -> tuple[float, float]:
    """`since` / `until` of an insights request: by default the `default` seconds up to now;
    `since` before `until`, at most `longest` seconds apart (Meta's limit), or its error."""
    until = parse_time_param(until_text, "until", now)
    since = parse_time_param(since_text, "since", now)
    end = float(until) if until is not None else now
    start = float(since) if since is not None else end - default
    if start >= end:
        raise since_after_until()
    if end - start > longest:
        raise window_too_long(longest)
    return start, end


# --- the values ---------------------------------------------------------------------------------


def counts(object_id: str, created: float, now: float) -> dict[str, int]:
    """Every metric of one post or media at `now`: zero at publication, never falling,
    views ≥ reach ≥ 0; `likes`, `comments`, `shares` are `nodes.engagement`'s."""
    e = engagement(object_id, created, now)
    likes, comments, shares = e["likes"], e["comments"], e["shares"]
    digest = hashlib.sha256(f"insights:{object_id}".encode()).digest()
    minutes = max(0.0, (now - created) / 60.0)
    reach = likes * (6 + digest[0] % 5) + comments * 3 + shares * 5 + int(minutes / 30)
    views = reach + reach * (20 + digest[1] % 40) // 100 + likes
    saved = likes // (4 + digest[2] % 4)
    profile_visits = reach // 20
    avg_watch_ms = (2500 + digest[3] * 30) if views else 0
    return {
        "views": views,
        "reach": reach,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "saved": saved,
        "total_interactions": likes + comments + shares + saved,
        "replies": comments,
        "navigation": views // 3,
        "follows": reach // 150,
        "profile_visits": profile_visits,
        "profile_activity": profile_visits // 3,
        "ig_reels_avg_watch_time": avg_watch_ms,
        "ig_reels_video_view_total_time": avg_watch_ms * views,
        "clicks": reach // 12 + comments,
        "reactions": e["reactions"],
    }


@dataclass(frozen=True, slots=True)
class Published:
    """One post or media counted in an account's or Page's insights."""

    id: str
    created: float


def total(items: Iterable[Published], metric: str, since: float, until: float) -> int:
    """What `metric` of these items grew by between `since` and `until`."""
    return sum(
        counts(i.id, i.created, until)[metric]
        - counts(i.id, i.created, max(since, i.created))[metric]
        for i in items
        if i.created < until
    )


def baseline(owner_id: str, metric: str, since: float, until: float, per_day: int) -> int:
    """An account's or Page's own activity between `since` and `until`, posts aside: about
    `per_day` a day, seeded by the owner and the day, prorated over a day in progress."""
    value = 0.0
    day = math.floor(since / DAY)
    while day * DAY < until:
        start, end = max(since, day * DAY), min(until, (day + 1) * DAY)
        seed = hashlib.sha256(f"{owner_id}:{metric}:{day}".encode()).digest()[0]
        value += (per_day * (50 + seed % 100) / 100) * (end - start) / DAY
        day += 1
    return int(value)


def days(since: float, until: float) -> list[tuple[float, float]]:
    """The days (start, end) from the one holding `since` to the one holding `until`."""
    first = math.floor(since / DAY)
    out: list[tuple[float, float]] = []
    day = first
    while day * DAY < until or day == first:
        out.append((day * DAY, (day + 1) * DAY))
        day += 1
    return out


def daily(
    value: Callable[[float, float], int], since: float, until: float, now: float
) -> list[tuple[int, float]]:
    """(value, end_time) a day between `since` and `until`, each day counted up to `now`."""
    return [(value(start, min(end, now)), end) for start, end in days(since, until)]

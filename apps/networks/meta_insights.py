"""The one table of Meta insights metric names: which metrics to ask for, per subject (an
Instagram media type, an Instagram account, a Facebook post, a Facebook Page) and Graph version.

No other module names a metric. Asking Meta for a retired metric fails the whole request (code
100, "invalid metric"), so `metrics_for` never produces a name of `RETIRED`, for any version
(tests/networks/test_insights_metrics.py checks every version of `apps.social.graph.versions`).

Sources (read December 2026, developers.facebook.com):
- "Instagram Media Insights": `impressions`, `plays`, `clips_replays_count`,
  `ig_reels_aggregated_all_plays_count` deprecated for v22.0 and for every version on
  21 April 2025; `video_views` deprecated; `views` for FEED, STORY and REELS; no insights for
  the media inside an album; error #10 "Not enough viewers for the media to show insights".
- "Instagram Account Insights": `impressions` deprecated likewise; `views` with
  `metric_type=total_value`.
- "Page Insights": a set of metrics deprecated for every version on 15 November 2025 (the
  `page_impressions*`, `post_impressions*` and `page_fans*` families, replaced by
  `page_media_view`, `post_media_view`, `post_total_media_view_unique`, `page_follows`), and a
  later round for every version ("Deprecated Facebook Page Insights Metrics", updated March
  2026: `page_impressions_unique` -> `page_total_media_view_unique`, `page_posts_impressions*`,
  `post_impressions_unique` -> `post_total_media_view_unique`); "only 90 days of insights can be
  viewed at one time" with since/until.
What each set below holds beyond those confirmed names is marked "assumed" where it is.
"""

from dataclasses import dataclass
from enum import StrEnum


class InsightsSubject(StrEnum):
    """What the metrics are read on (the node of `GET /{id}/insights`)."""

    IG_IMAGE = "ig_image"  # a feed image (media_type IMAGE)
    IG_CAROUSEL = "ig_carousel"  # the album itself (media_type CAROUSEL_ALBUM)
    IG_CAROUSEL_CHILD = "ig_carousel_child"  # an item inside an album: Meta has no insights
    IG_REEL = "ig_reel"  # a Reel (media_type VIDEO, media_product_type REELS)
    IG_STORY = "ig_story"  # a Story (media_product_type STORY), readable for 24 hours
    IG_ACCOUNT_TOTALS = "ig_account_totals"  # account metrics, metric_type=total_value
    IG_ACCOUNT_SERIES = "ig_account_series"  # account metrics by day (time series)
    FB_POST = "fb_post"  # a Page post
    FB_PAGE = "fb_page"  # a Page, by day


@dataclass(frozen=True, slots=True)
class MetricSet:
    """The metrics to ask for on one subject from one Graph version on (until a later row)."""

    subject: InsightsSubject
    since_version: str
    metrics: tuple[str, ...]


# The oldest version the product speaks (apps.social.graph.versions): the retirements below
# apply to every version, so each subject has one row from there. A later change Meta makes per
# version is a new row with its first version.
OLDEST = "v4.0"

_IG_FEED = ("reach", "views", "likes", "comments", "shares", "saved", "total_interactions")

TABLE: tuple[MetricSet, ...] = (
    MetricSet(InsightsSubject.IG_IMAGE, OLDEST, _IG_FEED),
    MetricSet(InsightsSubject.IG_CAROUSEL, OLDEST, _IG_FEED),
    # Confirmed: "Insights data is not available for any media within an album".
    MetricSet(InsightsSubject.IG_CAROUSEL_CHILD, OLDEST, ()),
    MetricSet(
        InsightsSubject.IG_REEL,
        OLDEST,
        (*_IG_FEED, "ig_reels_avg_watch_time", "ig_reels_video_view_total_time"),
    ),
    MetricSet(
        InsightsSubject.IG_STORY,
        OLDEST,
        ("reach", "views", "replies", "navigation", "shares", "total_interactions"),
    ),
    MetricSet(
        InsightsSubject.IG_ACCOUNT_TOTALS,
        OLDEST,
        ("views", "reach", "accounts_engaged", "total_interactions"),
    ),
    # follower_count: daily, time series only, not for accounts under 100 followers (assumed).
    MetricSet(InsightsSubject.IG_ACCOUNT_SERIES, OLDEST, ("follower_count", "reach")),
    MetricSet(
        InsightsSubject.FB_POST,
        OLDEST,
        (
            "post_media_view",
            "post_total_media_view_unique",
            "post_clicks",
            "post_reactions_by_type_total",
        ),
    ),
    MetricSet(
        InsightsSubject.FB_PAGE,
        OLDEST,
        (
            "page_media_view",
            "page_total_media_view_unique",
            "page_follows",
            "page_post_engagements",
        ),
    ),
)

# Metrics Meta retired for every version: never ask for one.
RETIRED: frozenset[str] = frozenset(
    {
        # Instagram, April 2025 (confirmed)
        "impressions",
        "plays",
        "video_views",
        "clips_replays_count",
        "ig_reels_aggregated_all_plays_count",
        # Instagram, December 2023 (v18.0): replaced by total_interactions and navigation
        "engagement",
        "taps_forward",
        "taps_back",
        "exits",
        "carousel_album_impressions",
        "carousel_album_reach",
        "carousel_album_engagement",
        "carousel_album_saved",
        "carousel_album_video_views",
        # Facebook, 15 November 2025 (the families below, by prefix as well)
        "page_impressions",
        "page_impressions_unique",
        "page_impressions_paid",
        "page_impressions_organic_v2",
        "page_impressions_viral",
        "page_impressions_nonviral",
        "page_fans",
        "page_fan_adds",
        "page_fan_removes",
        "post_impressions",
        "post_impressions_unique",
        "post_impressions_paid",
        "post_impressions_organic",
        "post_impressions_fan",
        "post_impressions_viral",
        # Facebook, 14 March 2024 (from Meta's "Deprecated Page Insights Metrics" list)
        "page_engaged_users",
        "page_consumptions",
        "page_content_activity",
    }
)
# The families: Meta's lists of 15 November 2025 and of its later round (page_posts_impressions*,
# the *_unique impressions; "Deprecated Facebook Page Insights Metrics", updated March 2026).
RETIRED_PREFIXES = (
    "page_impressions",
    "page_posts_impressions",
    "page_posts_served_impressions",
    "post_impressions",
    "page_fans",
    "page_fan_",
)


def is_retired(metric: str) -> bool:
    return metric in RETIRED or metric.startswith(RETIRED_PREFIXES)


def version_key(version: str) -> tuple[int, int]:
    """ "v25.0" -> (25, 0); anything else is a ValueError (a typo must not pick a row)."""
    major, dot, minor = version.removeprefix("v").partition(".")
    if not version.startswith("v") or not dot or not major.isdigit() or not minor.isdigit():
        raise ValueError(f"Not a Graph API version: {version!r}")
    return int(major), int(minor)


def metrics_for(subject: InsightsSubject, *, version: str) -> tuple[str, ...]:
    """The metrics to ask for on `subject` with Graph `version` (empty: the subject has none,
    ask nothing)."""
    key = version_key(version)
    rows = [
        row for row in TABLE if row.subject == subject and version_key(row.since_version) <= key
    ]
    if not rows:
        raise ValueError(f"No insights metrics for {subject} on {version}.")
    row = max(rows, key=lambda r: version_key(r.since_version))
    retired = [m for m in row.metrics if is_retired(m)]
    if retired:  # a wrong row must fail here, not as a refused request at Meta
        raise ValueError(f"Retired metrics in the table for {subject}: {retired}")
    return row.metrics


def ig_media_subject(
    media_type: str, media_product_type: str | None, *, in_album: bool = False
) -> InsightsSubject:
    """The subject of an Instagram media item from its `media_type` / `media_product_type`
    (`in_album`: an item inside a carousel, which has no insights)."""
    if in_album:
        return InsightsSubject.IG_CAROUSEL_CHILD
    product = (media_product_type or "").upper()
    kind = media_type.upper()
    if product in ("STORY", "STORIES"):
        return InsightsSubject.IG_STORY
    if kind == "CAROUSEL_ALBUM":
        return InsightsSubject.IG_CAROUSEL
    if kind == "VIDEO" or product == "REELS":
        return InsightsSubject.IG_REEL
    if kind == "IMAGE":
        return InsightsSubject.IG_IMAGE
    raise ValueError(f"No insights metrics for Instagram media of type {media_type!r}.")

"""Instagram insights, the same through the Facebook Page (graph.facebook.com) and with
Instagram Login (graph.instagram.com): a media's lifetime metrics by its kind (image, carousel,
Reel, Story), and the account's days. The error rules are the Meta networks' own
(``apps.networks.meta_facebook.insights``)."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import structlog

from apps.networks.base import REEL, STORY, AccountDay, InsightsGap, PostMetrics
from apps.networks.meta_facebook.insights import (
    Ask,
    account_failure,
    count,
    daily,
    day_bounds,
    story_expired,
)
from apps.networks.meta_insights import InsightsSubject, ig_media_subject, metrics_for
from apps.social import graph

if TYPE_CHECKING:
    from apps.posts.models import Publication

logger = structlog.get_logger(__name__)


def media_subject(publication: "Publication") -> InsightsSubject:
    """The subject of a published post from what was published (its format and its media),
    without asking Instagram: a Story, a Reel (a Reel, or a feed post of one video, which goes
    out as a Reel), a carousel (several media), an image. Reads ``post.post_assets`` (prefetch
    ``post__post_assets__asset`` for a list)."""
    post = publication.post
    assets = [link.asset for link in post.post_assets.all()]
    if post.format == STORY:
        video = bool(assets) and assets[0].is_video
        return ig_media_subject("VIDEO" if video else "IMAGE", "STORY")
    if post.format == REEL or (len(assets) == 1 and assets[0].is_video):
        return ig_media_subject("VIDEO", "REELS")
    if len(assets) > 1 or len(publication.child_ids) > 1:
        return ig_media_subject("CAROUSEL_ALBUM", "FEED")
    return ig_media_subject("IMAGE", "FEED")


def ig_asks(
    publications: Sequence["Publication"], *, version: str, at: datetime
) -> tuple[list[Ask], dict[int, PostMetrics]]:
    """The media to ask about, and the gaps known without a call (a Story past its 24 hours;
    a subject without metrics)."""
    asks: list[Ask] = []
    known: dict[int, PostMetrics] = {}
    for publication in publications:
        if not publication.platform_post_id:
            continue  # published, its media not listed yet: nothing to ask
        if story_expired(publication, at):
            known[publication.pk] = PostMetrics(gap=InsightsGap.EXPIRED)
            continue
        metrics = metrics_for(media_subject(publication), version=version)
        if not metrics:
            known[publication.pk] = PostMetrics(gap=InsightsGap.NOT_REPORTED)
            continue
        asks.append(Ask(publication.pk, publication.platform_post_id, metrics))
    return asks, known


def media_metrics(answer: graph.Insights) -> PostMetrics:
    """A media's figures (a Story has no likes, comments or saves: those stay None)."""
    return PostMetrics(
        views=count(answer, "views"),
        reach=count(answer, "reach"),
        interactions=count(answer, "total_interactions"),
        likes=count(answer, "likes"),
        comments=count(answer, "comments"),
        shares=count(answer, "shares"),
        saves=count(answer, "saved"),
        follows=count(answer, "follows"),
        watch_time_ms=count(answer, "ig_reels_video_view_total_time"),
        avg_watch_time_ms=count(answer, "ig_reels_avg_watch_time"),
    )


def account_days(
    *,
    client: graph.GraphClient,
    ig_user_id: str,
    token: str,
    since: date,
    until: date,
    at: datetime,
) -> list[AccountDay]:
    """The account's days. ``views`` and ``total_interactions`` exist only as totals
    (``metric_type=total_value``) over a window, and totals of unique counts cannot be split, so
    each day is one totals call (``views``, ``reach``, ``total_interactions``); the daily series
    call (30 days a call) adds ``follower_count``, the new followers of each day. Today counts
    up to ``at``; days after it are not asked."""
    version = client.config.version
    totals = metrics_for(InsightsSubject.IG_ACCOUNT_TOTALS, version=version)
    series_metrics = metrics_for(InsightsSubject.IG_ACCOUNT_SERIES, version=version)
    last = min(until, at.astimezone(UTC).date())
    if last < since:
        return []
    start, end = day_bounds(since, last)
    if min(end, at) <= start:
        return []
    try:
        series = graph.get_ig_account_insights(
            client=client,
            ig_user_id=ig_user_id,
            token=token,
            metrics=series_metrics,
            since=start,
            until=min(end, at),
            metric_type=None,
        )
        follows = daily(series, "follower_count")
        days: list[AccountDay] = []
        day = since
        while day <= last:
            day_start = datetime.combine(day, time.min, tzinfo=UTC)
            day_end = min(day_start + timedelta(days=1), at)
            if day_end <= day_start:
                break
            answer = graph.get_ig_account_insights(
                client=client,
                ig_user_id=ig_user_id,
                token=token,
                metrics=totals,
                since=day_start,
                until=day_end,
            )
            found = AccountDay(
                day=day,
                views=count(answer, "views"),
                reach=count(answer, "reach"),
                interactions=count(answer, "total_interactions"),
                follows=follows.get(day),
            )
            if any(v is not None for v in (found.views, found.reach, found.interactions)):
                days.append(found)
            day += timedelta(days=1)
    except graph.GraphError as exc:
        raise account_failure(exc) from exc
    return days

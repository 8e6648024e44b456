"""Reading insights from Meta's Graph API for both Meta networks (Facebook Pages here, Instagram
in ``apps.networks.instagram.insights``, which imports this): which publications are asked
about, how an answer or a Graph error becomes a ``PostMetrics`` (or a gap), and the Page's days.

What a Graph error means for insights (docs/insights.md, "Reading insights from the networks"):
- #10 "Not enough viewers": that post's gap ``NOT_ENOUGH_VIEWERS``;
- code 100 subcode 33 ("Object ... does not exist"): the post is gone, gap ``DELETED``;
- any other permission error (10, 200-299): the connection lacks the insights permission, gap
  ``NO_PERMISSION`` for every publication asked about (never ``NeedsReconnection``: a missing
  insights scope must not stop publishing);
- a token error (190...) raises ``NeedsReconnection``; a rate limit or a transient failure
  raises ``RetryLater`` (the whole account's read is tried again later);
- anything else (a refused parameter, an answer we cannot read): that post is left out (the
  sync asks again next time) and logged.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import structlog

from apps.networks.base import STORY, AccountDay, InsightsGap, PostMetrics
from apps.networks.errors import NetworkError, Permanent, RetryLater
from apps.networks.meta import neutral
from apps.networks.meta_insights import InsightsSubject, metrics_for
from apps.social import graph

if TYPE_CHECKING:
    from apps.posts.models import Publication

logger = structlog.get_logger(__name__)

# "Object with ID '…' does not exist, cannot be loaded due to missing permissions, or does not
# support this operation": what Meta answers for a post deleted on the network.
DOES_NOT_EXIST = (100, 33)
# Instagram (and Facebook) Stories are readable for 24 hours after they went up.
STORY_LIFETIME = timedelta(hours=24)
# Errors about the whole account's access or Meta's state, not about one post.
ACCOUNT_WIDE = (graph.GraphTokenError, graph.GraphRateLimitError, graph.GraphTransientError)
NO_PERMISSION_DETAIL = (
    "The connection does not include the permission to read insights: reconnect the account "
    "and allow insights."
)


@dataclass(frozen=True, slots=True)
class Ask:
    """One post to read: the publication it is, the Graph object, the metrics of its subject."""

    publication_id: int
    object_id: str
    metrics: tuple[str, ...]


# A reader of one object's insights (the graph function of its kind, bound to the token).
ReadOne = Callable[[str, tuple[str, ...]], graph.Insights]
ToMetrics = Callable[[graph.Insights], PostMetrics]


def published_at(publication: "Publication") -> datetime | None:
    return publication.published_at or publication.post.published_at


def story_expired(publication: "Publication", now: datetime) -> bool:
    """A Story whose 24 hours are over: Meta no longer answers for it (no call is made)."""
    when = published_at(publication)
    return publication.post.format == STORY and when is not None and now - when >= STORY_LIFETIME


def gap_of(exc: graph.GraphError) -> PostMetrics | None:
    """The gap a per-post Graph error means, None when the post is only left out this time.
    Raises the neutral error of one that concerns the whole account (token, rate limit,
    transient). A missing permission is ``NO_PERMISSION`` (the caller applies it to all)."""
    said = (exc.meta_message or "")[:300]
    if isinstance(exc, graph.GraphNotEnoughViewersError):  # the graph layer names #10
        return PostMetrics(gap=InsightsGap.NOT_ENOUGH_VIEWERS, detail=said)
    if (exc.code, exc.subcode) == DOES_NOT_EXIST:
        return PostMetrics(gap=InsightsGap.DELETED, detail=said)
    if isinstance(exc, graph.GraphPermissionError):
        return PostMetrics(gap=InsightsGap.NO_PERMISSION, detail=said or NO_PERMISSION_DETAIL)
    if isinstance(exc, ACCOUNT_WIDE):
        raise _account_error(exc) from exc
    logger.warning("insights_post_unreadable", error=exc.technical_summary)
    return None


def _account_error(exc: graph.GraphError) -> NetworkError:
    if isinstance(exc, graph.GraphTransientError):
        return RetryLater(
            exc.user_message,
            seconds=exc.retry_after or 300,
            code=exc.code,
            subcode=exc.subcode,
            answer=type(exc).__name__,
            detail=exc.technical_summary,
        )
    return neutral(exc)


def read_posts(
    asks: Sequence[Ask], *, read_one: ReadOne, to_metrics: ToMetrics
) -> dict[int, PostMetrics]:
    """Each ask's figures (one Graph call each), a gap where Meta answers one. The first
    missing-permission answer stops the reading: every publication asked about gets
    ``NO_PERMISSION`` (the others would be refused the same way)."""
    out: dict[int, PostMetrics] = {}
    for ask in asks:
        try:
            answer = read_one(ask.object_id, ask.metrics)
        except graph.GraphError as exc:
            found = gap_of(exc)
            if found is None:
                continue
            if found.gap == InsightsGap.NO_PERMISSION:
                return {a.publication_id: found for a in asks}
            out[ask.publication_id] = found
            continue
        out[ask.publication_id] = to_metrics(answer)
    return out


def count(answer: graph.Insights, name: str) -> int | None:
    """A metric's number (None: not in the answer, or not a number)."""
    value = answer.value(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def summed(answer: graph.Insights, name: str) -> int | None:
    """A metric whose value is an object of counts (reactions by type), added up."""
    value = answer.value(name)
    if isinstance(value, dict):
        return int(sum(value.values()))
    return count(answer, name)


def day_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """[midnight UTC of since, midnight UTC after until): the window of those whole days."""
    if until < since:
        raise ValueError("until is on or after since.")
    start = datetime.combine(since, time.min, tzinfo=UTC)
    return start, datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)


def day_of(point: graph.InsightPoint) -> date | None:
    """The day a daily value is for: Meta stamps it with the end of that day."""
    if point.end_time is None:
        return None
    return (point.end_time.astimezone(UTC) - timedelta(days=1)).date()


def daily(answer: graph.Insights, name: str) -> dict[date, int]:
    """A daily series of one metric, by day (values that are not numbers left out)."""
    metric = answer.get(name)
    out: dict[date, int] = {}
    for point in metric.values if metric else ():
        day = day_of(point)
        value = point.value
        if day is not None and isinstance(value, int | float) and not isinstance(value, bool):
            out[day] = int(value)
    return out


def no_permission_error(exc: graph.GraphError) -> Permanent:
    """An account's insights refused for a missing permission: ``Permanent`` with Meta's code
    (not ``NeedsReconnection``: publishing goes on; the sync says "reconnect to allow
    insights")."""
    return Permanent(
        NO_PERMISSION_DETAIL,
        code=exc.code,
        subcode=exc.subcode,
        answer=type(exc).__name__,
        detail=exc.technical_summary,
    )


def account_failure(exc: graph.GraphError) -> NetworkError:
    """The neutral error of a failed account read (insights_account)."""
    if isinstance(exc, graph.GraphPermissionError) and not isinstance(
        exc, graph.GraphNotEnoughViewersError
    ):
        return no_permission_error(exc)
    if isinstance(exc, ACCOUNT_WIDE):
        return _account_error(exc)
    return neutral(exc, reading=True)


# --- Facebook Pages -----------------------------------------------------------------------------


def fb_post_metrics(answer: graph.Insights) -> PostMetrics:
    """A Page post's lifetime figures: views, reach, and its reactions (all types) as likes.
    Comments and shares are not insights metrics (the engagement sync reads them)."""
    return PostMetrics(
        views=count(answer, "post_media_view"),
        reach=count(answer, "post_total_media_view_unique"),
        likes=summed(answer, "post_reactions_by_type_total"),
    )


def fb_asks(
    publications: Sequence["Publication"], *, version: str, at: datetime
) -> tuple[list[Ask], dict[int, PostMetrics]]:
    """The Page posts to ask about, and the gaps known without a call: a Story past its 24
    hours (expired), a Story, Reel or video (no post insights: not reported)."""
    metrics = metrics_for(InsightsSubject.FB_POST, version=version)
    asks: list[Ask] = []
    known: dict[int, PostMetrics] = {}
    for publication in publications:
        post_id = publication.platform_post_id
        if not post_id:
            continue
        if story_expired(publication, at):
            known[publication.pk] = PostMetrics(gap=InsightsGap.EXPIRED)
        elif publication.post.format == STORY or "_" not in post_id:
            # A Story, or a Reel / Page video (its id is the video's): Meta's figures for those
            # are video insights, not in the table of metrics (docs/insights.md).
            known[publication.pk] = PostMetrics(gap=InsightsGap.NOT_REPORTED)
        else:
            asks.append(Ask(publication.pk, post_id, metrics))
    return asks, known


def fb_account_days(*, page_id: str, token: str, since: date, until: date) -> list[AccountDay]:
    """A Page's days: ``page_media_view`` (views), ``page_total_media_view_unique`` (reach),
    ``page_post_engagements`` (interactions), ``page_follows`` (followers at the day's end),
    read as daily series, 90 days a call."""
    client = graph.get_client()
    metrics = metrics_for(InsightsSubject.FB_PAGE, version=client.config.version)
    start, end = day_bounds(since, until)
    try:
        answer = graph.get_page_insights(
            page_id=page_id, token=token, metrics=metrics, since=start, until=end
        )
    except graph.GraphError as exc:
        raise account_failure(exc) from exc
    views = daily(answer, "page_media_view")
    reach = daily(answer, "page_total_media_view_unique")
    interactions = daily(answer, "page_post_engagements")
    followers = daily(answer, "page_follows")
    days = sorted(d for d in {*views, *reach, *interactions, *followers} if since <= d <= until)
    return [
        AccountDay(
            day=d,
            views=views.get(d),
            reach=reach.get(d),
            interactions=interactions.get(d),
            followers=followers.get(d),
        )
        for d in days
    ]

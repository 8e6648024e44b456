"""The posts app's database gauges for ``/metrics`` (registered in ``PostsConfig.ready``)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from apps.core.hooks import MetricsHook, Snapshot
from apps.core.metrics.database import counts, zeros
from apps.posts.models import Post, Publication
from apps.social.models import Platform

P = Publication.Status
OPEN_STATUSES = (P.PENDING, P.WAITING, P.PUBLISHING)

GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sa_publications_open": (
        "Unfinished publications by status and platform.",
        ("status", "platform"),
    ),
    "sa_publications_due": (
        "Publications that are due and not claimed by a worker (including stale claims).",
        (),
    ),
    "sa_publication_due_lag_seconds": (
        "Age of the oldest due, unclaimed publication (0 when none is waiting): how far the "
        "dispatcher is behind.",
        (),
    ),
    "sa_publications_stale_claims": (
        "Publications claimed longer ago than PUBLISHING_CLAIM_LEASE_SECONDS (a worker died).",
        (),
    ),
    "sa_publications_finished_last_day": (
        "Publications that were published or failed in the last 24 hours, by platform.",
        ("status", "platform"),
    ),
    "sa_posts_created_last_day": ("Posts created in the last 24 hours.", ()),
}


def snapshot() -> Snapshot:
    now = timezone.now()
    day_ago = now - timedelta(days=1)
    lease = timedelta(seconds=settings.PUBLISHING_CLAIM_LEASE_SECONDS)
    platforms = Platform.values
    out: Snapshot = {}
    out["sa_publications_open"] = zeros(OPEN_STATUSES, platforms) | counts(
        Publication.objects.filter(status__in=OPEN_STATUSES)
        .values("status", "account__platform")
        .annotate(n=Count("id")),
        "status",
        "account__platform",
    )
    due = Publication.objects.filter(
        status__in=[P.PENDING, P.WAITING], next_attempt_at__lte=now
    ).aggregate(n=Count("id"), oldest=Min("next_attempt_at"))
    stale = Publication.objects.filter(status=P.PUBLISHING, claimed_at__lt=now - lease).aggregate(
        n=Count("id"), oldest=Min("claimed_at")
    )
    # A stale claim became due again when its lease ran out.
    due_since = [t for t in (due["oldest"], stale["oldest"] and stale["oldest"] + lease) if t]
    out["sa_publications_due"] = {(): float(due["n"] + stale["n"])}
    out["sa_publication_due_lag_seconds"] = {
        (): max(0.0, (now - min(due_since)).total_seconds()) if due_since else 0.0
    }
    out["sa_publications_stale_claims"] = {(): float(stale["n"])}
    finished = zeros((P.PUBLISHED, P.FAILED), platforms)
    finished |= counts(
        Publication.objects.filter(status=P.PUBLISHED, published_at__gte=day_ago)
        .values("status", "account__platform")
        .annotate(n=Count("id")),
        "status",
        "account__platform",
    )
    finished |= counts(
        Publication.objects.filter(status=P.FAILED, updated_at__gte=day_ago)
        .values("status", "account__platform")
        .annotate(n=Count("id")),
        "status",
        "account__platform",
    )
    out["sa_publications_finished_last_day"] = finished
    out["sa_posts_created_last_day"] = {
        (): float(Post.objects.filter(created_at__gte=day_ago).count())
    }
    return out


METRICS = MetricsHook(gauges=GAUGES, snapshot=snapshot)

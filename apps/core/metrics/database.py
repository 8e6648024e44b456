"""Gauges read from the database when Prometheus scrapes: true whatever process did the work.

Publications by status, the due-publication lag, accounts and tokens by health, token job
outcomes and the business counts (tenants, connections, posts per day) are facts about rows, so
they are computed here rather than counted in memory by whichever process happened to change a
row. Only the web's ``/metrics`` serves them (a worker's exporter does not), and the snapshot is
kept in the cache for ``METRICS_DATABASE_CACHE_SECONDS`` so several scrapers (or several web
processes) cost one set of queries. Every web instance reports the same values: aggregate them
with ``max``, not ``sum``.
"""

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Case, Count, Min, Q, Value, When
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from apps.accounts.models import Tenant
from apps.posts.models import Post, Publication
from apps.social.models import AccessToken, ConnectedAccount, Platform, TokenEvent
from apps.social.services import REFRESH_WHEN_EXPIRING_WITHIN

logger = structlog.get_logger(__name__)

CACHE_KEY = "metrics:database:v1"
P = Publication.Status
OPEN_STATUSES = (P.PENDING, P.WAITING, P.PUBLISHING)
TOKEN_HEALTH = ("ok", "expiring", "expired", "failing")

# name -> (help, label names). The order of label values in a snapshot follows these names.
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
    "sa_connected_accounts": (
        "Connected accounts by platform and status (active, needs_reauth, disconnected).",
        ("platform", "status"),
    ),
    "sa_access_tokens": (
        "Stored access tokens by kind and health: expired, failing (last check or refresh "
        "failed), expiring (within 7 days) or ok.",
        ("kind", "health"),
    ),
    "sa_token_events_last_day": (
        "Token events of the last 24 hours by kind (refreshed, refresh_failed, checked, ...).",
        ("kind",),
    ),
    "sa_tenants": ("Tenants (businesses) by plan.", ("plan",)),
    "sa_tenants_created_last_day": ("Tenants created in the last 24 hours.", ()),
    "sa_accounts_connected_last_day": (
        "Accounts connected in the last 24 hours, by platform.",
        ("platform",),
    ),
    "sa_posts_created_last_day": ("Posts created in the last 24 hours.", ()),
}

Snapshot = dict[str, dict[tuple[str, ...], float]]


def _counts(rows: Any, *keys: str) -> dict[tuple[str, ...], float]:
    return {tuple(str(row[k]) for k in keys): float(row["n"]) for row in rows}


def _zeros(*dimensions: Any) -> dict[tuple[str, ...], float]:
    combos: list[tuple[str, ...]] = [()]
    for values in dimensions:
        combos = [(*c, str(v)) for c in combos for v in values]
    return dict.fromkeys(combos, 0.0)


def database_snapshot() -> Snapshot:
    """Run the queries (about a dozen small ones, mostly on indexed columns)."""
    now = timezone.now()
    day_ago = now - timedelta(days=1)
    lease = timedelta(seconds=settings.PUBLISHING_CLAIM_LEASE_SECONDS)
    platforms = Platform.values
    snapshot: Snapshot = {}

    snapshot["sa_publications_open"] = _zeros(OPEN_STATUSES, platforms) | _counts(
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
    snapshot["sa_publications_due"] = {(): float(due["n"] + stale["n"])}
    snapshot["sa_publication_due_lag_seconds"] = {
        (): max(0.0, (now - min(due_since)).total_seconds()) if due_since else 0.0
    }
    snapshot["sa_publications_stale_claims"] = {(): float(stale["n"])}
    finished = _zeros((P.PUBLISHED, P.FAILED), platforms)
    finished |= _counts(
        Publication.objects.filter(status=P.PUBLISHED, published_at__gte=day_ago)
        .values("status", "account__platform")
        .annotate(n=Count("id")),
        "status",
        "account__platform",
    )
    finished |= _counts(
        Publication.objects.filter(status=P.FAILED, updated_at__gte=day_ago)
        .values("status", "account__platform")
        .annotate(n=Count("id")),
        "status",
        "account__platform",
    )
    snapshot["sa_publications_finished_last_day"] = finished

    snapshot["sa_connected_accounts"] = _zeros(platforms, ConnectedAccount.Status.values) | _counts(
        ConnectedAccount.objects.values("platform", "status").annotate(n=Count("id")),
        "platform",
        "status",
    )
    health = Case(
        When(expires_at__lt=now, then=Value("expired")),
        When(~Q(last_error=""), then=Value("failing")),
        When(expires_at__lt=now + REFRESH_WHEN_EXPIRING_WITHIN, then=Value("expiring")),
        default=Value("ok"),
    )
    snapshot["sa_access_tokens"] = _zeros(AccessToken.Kind.values, TOKEN_HEALTH) | _counts(
        AccessToken.objects.annotate(health=health)
        .values("kind", "health")
        .annotate(n=Count("id")),
        "kind",
        "health",
    )
    snapshot["sa_token_events_last_day"] = _zeros(TokenEvent.Kind.values) | _counts(
        TokenEvent.objects.filter(created_at__gte=day_ago).values("kind").annotate(n=Count("id")),
        "kind",
    )
    snapshot["sa_tenants"] = _zeros(Tenant.Plan.values) | _counts(
        Tenant.objects.values("plan").annotate(n=Count("id")), "plan"
    )
    snapshot["sa_tenants_created_last_day"] = {
        (): float(Tenant.objects.filter(created_at__gte=day_ago).count())
    }
    snapshot["sa_accounts_connected_last_day"] = _zeros(platforms) | _counts(
        ConnectedAccount.objects.filter(connected_at__gte=day_ago)
        .values("platform")
        .annotate(n=Count("id")),
        "platform",
    )
    snapshot["sa_posts_created_last_day"] = {
        (): float(Post.objects.filter(created_at__gte=day_ago).count())
    }
    return snapshot


class DatabaseCollector(Collector):
    """A prometheus_client collector over ``database_snapshot`` (cached briefly)."""

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        ttl = settings.METRICS_DATABASE_CACHE_SECONDS
        snapshot: Snapshot | None = cache.get(CACHE_KEY) if ttl > 0 else None
        up = 1.0
        if snapshot is None:
            try:
                snapshot = database_snapshot()
            except DatabaseError as exc:
                logger.warning("metrics_database_failed", error=type(exc).__name__)
                snapshot, up = {}, 0.0
            else:
                if ttl > 0:
                    cache.set(CACHE_KEY, snapshot, timeout=ttl)
        for name, (documentation, labels) in GAUGES.items():
            family = GaugeMetricFamily(name, documentation, labels=labels)
            for values, value in sorted(snapshot.get(name, {}).items()):
                family.add_metric(list(values), value)
            yield family
        yield GaugeMetricFamily(
            "sa_metrics_database_up",
            "1 when the database gauges could be read at this scrape, 0 when the queries failed.",
            value=up,
        )
        yield GaugeMetricFamily(
            "sa_metrics_database_seconds",
            "Time spent reading the database gauges for this scrape (0-ish when cached).",
            value=time.perf_counter() - started,
        )

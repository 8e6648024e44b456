"""The social app's database gauges for ``/metrics`` (registered in ``SocialConfig.ready``)."""

from datetime import timedelta

from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone

from apps.core.hooks import MetricsHook, Snapshot
from apps.core.metrics.database import counts, zeros
from apps.social.models import AccessToken, ConnectedAccount, Platform, TokenEvent
from apps.social.services import REFRESH_WHEN_EXPIRING_WITHIN

TOKEN_HEALTH = ("ok", "expiring", "expired", "failing")

GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
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
    "sa_accounts_connected_last_day": (
        "Accounts connected in the last 24 hours, by platform.",
        ("platform",),
    ),
}


def snapshot() -> Snapshot:
    now = timezone.now()
    day_ago = now - timedelta(days=1)
    platforms = Platform.values
    health = Case(
        When(expires_at__lt=now, then=Value("expired")),
        When(~Q(last_error=""), then=Value("failing")),
        When(expires_at__lt=now + REFRESH_WHEN_EXPIRING_WITHIN, then=Value("expiring")),
        default=Value("ok"),
    )
    return {
        "sa_connected_accounts": zeros(platforms, ConnectedAccount.Status.values)
        | counts(
            ConnectedAccount.objects.values("platform", "status").annotate(n=Count("id")),
            "platform",
            "status",
        ),
        "sa_access_tokens": zeros(AccessToken.Kind.values, TOKEN_HEALTH)
        | counts(
            AccessToken.objects.annotate(health=health)
            .values("kind", "health")
            .annotate(n=Count("id")),
            "kind",
            "health",
        ),
        "sa_token_events_last_day": zeros(TokenEvent.Kind.values)
        | counts(
            TokenEvent.objects.filter(created_at__gte=day_ago)
            .values("kind")
            .annotate(n=Count("id")),
            "kind",
        ),
        "sa_accounts_connected_last_day": zeros(platforms)
        | counts(
            ConnectedAccount.objects.filter(connected_at__gte=day_ago)
            .values("platform")
            .annotate(n=Count("id")),
            "platform",
        ),
    }


METRICS = MetricsHook(gauges=GAUGES, snapshot=snapshot)

"""The accounts app's database gauges for ``/metrics`` (registered in ``AccountsConfig.ready``)."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.core.hooks import MetricsHook, Snapshot
from apps.core.metrics.database import counts, zeros

GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sa_tenants": ("Tenants (businesses) by plan.", ("plan",)),
    "sa_tenants_created_last_day": ("Tenants created in the last 24 hours.", ()),
}


def snapshot() -> Snapshot:
    day_ago = timezone.now() - timedelta(days=1)
    return {
        "sa_tenants": zeros(Tenant.Plan.values)
        | counts(Tenant.objects.values("plan").annotate(n=Count("id")), "plan"),
        "sa_tenants_created_last_day": {
            (): float(Tenant.objects.filter(created_at__gte=day_ago).count())
        },
    }


METRICS = MetricsHook(gauges=GAUGES, snapshot=snapshot)

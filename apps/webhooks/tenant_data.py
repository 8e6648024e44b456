"""The webhooks app's part of a tenant's export (``apps.core.hooks``; collected by
``apps.accounts.tenant_data``). Its rows go with the tenant (a cascade)."""

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Max

from apps.core.hooks import TenantDataHook, TenantExportContext, export_rows
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint


def export_sections(context: TenantExportContext) -> Iterator[tuple[str, Any]]:
    """Endpoints without their secrets, and a summary of the deliveries."""
    tenant = context.tenant
    yield (
        "webhook_endpoints",
        export_rows(
            WebhookEndpoint.objects.for_tenant(tenant),
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "created_at",
            "secret_rotated_at",
        ),
    )
    yield (
        "webhook_deliveries_summary",
        iter(
            WebhookDelivery.objects.for_tenant(tenant)
            .values("endpoint_id", "event", "status")
            .annotate(count=Count("id"), last_created_at=Max("created_at"))
            .order_by("endpoint_id", "event", "status")
        ),
    )


TENANT_DATA = TenantDataHook(export_sections=export_sections)

"""The social app's part of a tenant's export and deletion (``apps.core.hooks``; collected by
``apps.accounts.tenant_data``)."""

from collections.abc import Iterator
from typing import Any

import structlog

from apps.accounts.models import Membership, Tenant
from apps.core.hooks import TenantDataHook, TenantExportContext, TenantReleaseReport, export_rows
from apps.social import services
from apps.social.models import AccessToken, ConnectedAccount, TokenEvent

logger = structlog.get_logger(__name__)


def export_sections(context: TenantExportContext) -> Iterator[tuple[str, Any]]:
    """Connections and their token history; never a token."""
    tenant = context.tenant
    yield (
        "connected_accounts",
        export_rows(
            ConnectedAccount.objects.for_tenant(tenant),
            "id",
            "platform",
            "platform_id",
            "name",
            "username",
            "picture_url",
            "parent_id",
            "facebook_user_id",
            "status",
            "status_reason",
            "metadata",
            "connected_at",
            "updated_at",
            "disconnected_at",
            connected_by_email="connected_by__email",
        ),
    )
    yield (
        "token_events",
        export_rows(
            TokenEvent.objects.for_tenant(tenant),
            "id",
            "account_id",
            "token_kind",
            "kind",
            "detail",
            "graph_code",
            "graph_subcode",
            "created_at",
        ),
    )


def holdings(tenant: Tenant) -> dict[str, int]:
    return {
        "connected accounts": ConnectedAccount.objects.for_tenant(tenant)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
        .count()
    }


def release(membership: Membership, report: TenantReleaseReport) -> None:
    """Disconnect every account through the social app's own service (tokens deleted, grants no
    one else uses revoked at Facebook), then release user tokens no account used any more.
    Graph errors never stop the deletion: the tokens are deleted with the tenant either way."""
    tenant = membership.tenant
    accounts = (
        ConnectedAccount.objects.for_tenant(tenant)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
        .order_by("pk")
    )
    disconnected = 0
    for account in accounts:
        try:
            services.account_disconnect(actor=membership, account=account)
        except Exception as exc:
            logger.warning(
                "tenant_delete_disconnect_failed", account_id=account.pk, error=type(exc).__name__
            )
            report.problems.append(f"{account}: could not be disconnected ({type(exc).__name__})")
        else:
            disconnected += 1
    report.counts["accounts_disconnected"] = disconnected
    leftovers = set(
        AccessToken.objects.for_tenant(tenant)
        .filter(kind=AccessToken.Kind.USER_LONG_LIVED)
        .values_list("facebook_user_id", flat=True)
    )
    for facebook_user_id in sorted(leftovers):
        try:
            services.facebook_grant_release(tenant=tenant, facebook_user_id=facebook_user_id)
        except Exception as exc:
            logger.warning("tenant_delete_revoke_failed", error=type(exc).__name__)
            report.problems.append(f"A Facebook grant could not be revoked ({type(exc).__name__})")


TENANT_DATA = TenantDataHook(export_sections=export_sections, holdings=holdings, release=release)

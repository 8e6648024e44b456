"""Reads for connected accounts."""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.accounts.models import Tenant, User
from apps.social.models import AccessToken, ConnectedAccount, PendingConnection


def account_list(
    *, tenant: Tenant, include_disconnected: bool = True
) -> QuerySet[ConnectedAccount]:
    accounts = ConnectedAccount.objects.for_tenant(tenant).select_related("parent")
    if not include_disconnected:
        accounts = accounts.exclude(status=ConnectedAccount.Status.DISCONNECTED)
    return accounts.prefetch_related(
        Prefetch(
            "tokens",
            queryset=AccessToken.objects.only(
                "id", "account_id", "kind", "expires_at", "last_checked_at", "last_error"
            ),
        )
    ).order_by("status", "platform", "name")


def pending_connection_get(
    *, tenant: Tenant, user: User, pk: int | None
) -> PendingConnection | None:
    """The user's own, unexpired grant in this tenant (None for anyone else's id)."""
    if pk is None:
        return None
    return (
        PendingConnection.objects.for_tenant(tenant)
        .filter(pk=pk, user=user, expires_at__gt=timezone.now())
        .first()
    )


def platform_ids_held_elsewhere(*, tenant: Tenant, platform_ids: list[str]) -> set[tuple[str, str]]:
    """(platform, platform id) of those accounts that another tenant holds right now."""
    return set(
        ConnectedAccount.objects.exclude(tenant=tenant)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
        .filter(platform_id__in=platform_ids)
        .values_list("platform", "platform_id")
    )

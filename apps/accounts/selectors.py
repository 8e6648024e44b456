"""Reads for tenants and memberships."""

from django.db.models import QuerySet

from apps.accounts.models import Invitation, Membership, Tenant, User


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")


def membership_get_for_user(*, user: User, tenant_id: int) -> Membership | None:
    return (
        Membership.objects.select_related("tenant", "user")
        .filter(user=user, tenant_id=tenant_id)
        .first()
    )


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.for_tenant(tenant).select_related("user").order_by("user__email")


def invitation_list_open(*, tenant: Tenant) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_tenant(tenant)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
    )


def invitation_list_for_email(*, email: str) -> QuerySet[Invitation]:
    """Open invitations addressed to ``email`` (shown to the person once they have logged in)."""
    return Invitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("tenant")

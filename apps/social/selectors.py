"""Reads for connected accounts."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

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
                "id",
                "account_id",
                "kind",
                "expires_at",
                "last_checked_at",
                "last_error",
                "invalid_since",
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


# The refresh job tries from 7 days before expiry; a login still this close to its expiry was not
# renewed by two daily attempts: the owners are asked to reconnect Facebook.
WARN_WHEN_LOGIN_EXPIRES_WITHIN = timedelta(days=5)
# A long-lived user token is renewed this long before it expires (the daily job).
REFRESH_WHEN_EXPIRING_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class FacebookLogin:
    """The health of one Facebook login (long-lived user token) of a tenant, without the token.

    Only finding Pages and renewing access need it; accounts publish with their own Page tokens,
    except `dependent` ones, whose Page token was derived from a short-lived login and expires.
    """

    token_id: int
    connected_by: str
    expires_at: datetime | None
    invalid_since: datetime | None
    last_checked_at: datetime | None
    last_error: str
    accounts: list[ConnectedAccount]
    dependent: list[ConnectedAccount]

    @property
    def expired(self) -> bool:
        return self.invalid_since is not None or (
            self.expires_at is not None and self.expires_at <= timezone.now()
        )

    @property
    def days_left(self) -> int | None:
        if self.expires_at is None or self.expired:
            return None
        return max((self.expires_at - timezone.now()).days, 0)

    @property
    def needs_reconnect(self) -> bool:
        """Expired or refused, or expiring soon without having been renewed: ask to reconnect."""
        soon = timezone.now() + WARN_WHEN_LOGIN_EXPIRES_WITHIN
        return self.expired or (self.expires_at is not None and self.expires_at <= soon)


def facebook_login_list(
    *, tenant: Tenant, accounts: Sequence[ConnectedAccount]
) -> list[FacebookLogin]:
    """The tenant's Facebook logins with the accounts connected through each. `accounts` come
    from `account_list` (tokens prefetched), so this adds one query."""
    logins = []
    for token in (
        AccessToken.objects.for_tenant(tenant)
        .filter(kind=AccessToken.Kind.USER_LONG_LIVED)
        .select_related("user")
        .only(
            "id",
            "facebook_user_id",
            "expires_at",
            "invalid_since",
            "last_checked_at",
            "last_error",
            "user__email",
        )
        .order_by("pk")
    ):
        mine = [
            a
            for a in accounts
            if a.facebook_user_id == token.facebook_user_id
            and a.status != ConnectedAccount.Status.DISCONNECTED
        ]
        logins.append(
            FacebookLogin(
                token_id=token.pk,
                connected_by=token.user.email if token.user else "",
                expires_at=token.expires_at,
                invalid_since=token.invalid_since,
                last_checked_at=token.last_checked_at,
                last_error=token.last_error,
                accounts=mine,
                dependent=[
                    a for a in mine if any(t.expires_at is not None for t in a.tokens.all())
                ],
            )
        )
    return logins

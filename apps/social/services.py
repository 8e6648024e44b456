"""Connecting, checking, refreshing and disconnecting Facebook Pages and Instagram accounts.

Graph API calls never run inside a database transaction: each service calls Facebook first (or
last) and writes its rows in a short transaction of its own.
"""

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Membership, Tenant, User
from apps.accounts.services import owners_notify
from apps.core.exceptions import ApplicationError, NotPermitted
from apps.core.metrics import token_check_record, token_refresh_record
from apps.social import graph
from apps.social.fields import TokenDecryptionError
from apps.social.models import (
    AccessToken,
    ConnectedAccount,
    DataDeletionRequest,
    PendingConnection,
    Platform,
    TokenEvent,
)
from apps.webhooks.services import account_event_data, webhook_event_emit

logger = structlog.get_logger(__name__)

PENDING_CONNECTION_TTL = timedelta(minutes=30)
REFRESH_WHEN_EXPIRING_WITHIN = timedelta(days=7)


def _require_manager(membership: Membership) -> None:
    if not membership.can_manage:
        raise NotPermitted("Only owners and managers can connect or disconnect accounts.")


# --- Connecting: callback → discovery → choice -----------------------------------------------


def connection_start(
    *,
    membership: Membership,
    facebook_user_id: str,
    token: str,
    expires_at: datetime | None,
) -> PendingConnection:
    """Keep (encrypted) the user token that Facebook Login just returned, until the owner picks
    which Pages to connect. No Graph call here: this runs inside allauth's callback."""
    _require_manager(membership)
    return PendingConnection.objects.create(
        tenant=membership.tenant,
        user=membership.user,
        facebook_user_id=facebook_user_id,
        token=token,
        token_expires_at=expires_at,
        expires_at=timezone.now() + PENDING_CONNECTION_TTL,
    )


@dataclass(frozen=True)
class DiscoveredInstagram:
    id: str
    username: str
    picture_url: str


@dataclass(frozen=True)
class DiscoveredPage:
    id: str
    name: str
    category: str
    picture_url: str
    instagram: DiscoveredInstagram | None


def _page_record(page: graph.FacebookPage) -> dict[str, Any]:
    return {
        "id": page.id,
        "name": page.name,
        "access_token": page.access_token,
        "category": page.category or "",
        "picture_url": page.picture_url or "",
        "tasks": list(page.tasks),
        "instagram": (
            {
                "id": page.instagram.id,
                "username": page.instagram.username or "",
                "picture_url": page.instagram.profile_picture_url or "",
            }
            if page.instagram
            else None
        ),
    }


def _records(pending: PendingConnection) -> list[dict[str, Any]]:
    return json.loads(pending.discovered) if pending.discovered else []


def connection_discover(*, pending: PendingConnection) -> list[DiscoveredPage]:
    """Trade the short-lived token for a long-lived one and list every Page (with its Instagram
    account) the person can connect. Idempotent: a second call returns what the first found."""
    if pending.discovered:
        return pending_pages(pending=pending)
    try:
        long_lived = graph.exchange_long_lived(user_token=pending.token)
        info = graph.debug_token(input_token=long_lived.access_token)
        pages = graph.discover_pages(user_token=long_lived.access_token)
    except graph.GraphError as exc:
        logger.warning("connection_discovery_failed", error=exc.technical_summary)
        PendingConnection.objects.filter(pk=pending.pk).update(discovery_error=exc.user_message)
        raise ApplicationError(exc.user_message, code="graph_error") from exc
    pending.token = long_lived.access_token
    pending.token_expires_at = long_lived.expires_at or info.expires_at
    pending.scopes = list(info.scopes)
    pending.discovered = json.dumps([_page_record(p) for p in pages])
    pending.discovery_error = ""
    pending.save(
        update_fields=["token", "token_expires_at", "scopes", "discovered", "discovery_error"]
    )
    return pending_pages(pending=pending)


def pending_pages(*, pending: PendingConnection) -> list[DiscoveredPage]:
    """The discovered Pages without their tokens, for the page that lets the owner choose."""
    return [
        DiscoveredPage(
            id=r["id"],
            name=r["name"],
            category=r["category"],
            picture_url=r["picture_url"],
            instagram=DiscoveredInstagram(**r["instagram"]) if r["instagram"] else None,
        )
        for r in _records(pending)
    ]


def _held_elsewhere(tenant: Tenant, keys: Iterable[tuple[str, str]]) -> list[ConnectedAccount]:
    query = Q()
    for platform, platform_id in keys:
        query |= Q(platform=platform, platform_id=platform_id)
    if not query:
        return []
    return list(
        ConnectedAccount.objects.filter(query)
        .exclude(tenant=tenant)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
    )


def _upsert_account(
    *,
    tenant: Tenant,
    user: User,
    facebook_user_id: str,
    platform: str,
    platform_id: str,
    name: str,
    username: str,
    picture_url: str,
    parent: ConnectedAccount | None,
    metadata: dict[str, Any],
    token: str,
    scopes: list[str],
) -> ConnectedAccount:
    account = ConnectedAccount.objects.filter(
        tenant=tenant, platform=platform, platform_id=platform_id
    ).first()
    event = TokenEvent.Kind.RECONNECTED if account else TokenEvent.Kind.CONNECTED
    if account is None:
        account = ConnectedAccount(tenant=tenant, platform=platform, platform_id=platform_id)
    account.name = name
    account.username = username
    account.picture_url = picture_url
    account.parent = parent
    account.metadata = metadata
    account.facebook_user_id = facebook_user_id
    account.status = ConnectedAccount.Status.ACTIVE
    account.status_reason = ""
    account.connected_by = user
    account.disconnected_at = None
    account.save()
    AccessToken.objects.update_or_create(
        account=account,
        defaults={
            "tenant": tenant,
            "kind": AccessToken.Kind.PAGE,
            "facebook_user_id": facebook_user_id,
            "user": user,
            "token": token,
            # Page tokens obtained with a long-lived user token do not expire.
            "expires_at": None,
            "scopes": scopes,
            "last_error": "",
            "last_error_code": None,
        },
    )
    TokenEvent.objects.create(
        tenant=tenant, account=account, token_kind=AccessToken.Kind.PAGE, kind=event
    )
    return account


def connection_complete(
    *,
    membership: Membership,
    pending: PendingConnection,
    page_ids: Iterable[str],
    instagram_ids: Iterable[str],
) -> list[ConnectedAccount]:
    """Connect the chosen Pages and Instagram accounts to the tenant, all or nothing.

    An account that another tenant holds is refused (nothing is connected then), so that no
    post goes out twice through two businesses.
    """
    _require_manager(membership)
    tenant = membership.tenant
    chosen_pages, chosen_instagram = set(page_ids), set(instagram_ids)
    if not chosen_pages and not chosen_instagram:
        raise ApplicationError("Choose at least one Page or Instagram account.", code="none_chosen")
    records = {r["id"]: r for r in _records(pending)}
    by_instagram = {r["instagram"]["id"]: r for r in records.values() if r["instagram"]}
    unknown = (chosen_pages - records.keys()) | (chosen_instagram - by_instagram.keys())
    if unknown:
        raise ApplicationError(
            "Some of the chosen accounts were not in what Facebook returned; connect again.",
            code="unknown_account",
        )
    keys = [(Platform.FACEBOOK_PAGE, pid) for pid in chosen_pages] + [
        (Platform.INSTAGRAM_BUSINESS, iid) for iid in chosen_instagram
    ]
    try:
        with transaction.atomic():
            taken = _held_elsewhere(tenant, keys)
            if taken:
                names = ", ".join(str(a) for a in taken)
                raise ApplicationError(
                    f"Already connected to another business: {names}. An account can belong to "
                    "one business at a time; disconnect it there first.",
                    code="held_by_another_tenant",
                )
            connected: list[ConnectedAccount] = []
            pages: dict[str, ConnectedAccount] = {}
            for page_id in sorted(chosen_pages):
                r = records[page_id]
                pages[page_id] = _upsert_account(
                    tenant=tenant,
                    user=membership.user,
                    facebook_user_id=pending.facebook_user_id,
                    platform=Platform.FACEBOOK_PAGE,
                    platform_id=page_id,
                    name=r["name"],
                    username="",
                    picture_url=r["picture_url"],
                    parent=None,
                    metadata={"category": r["category"], "tasks": r["tasks"]},
                    token=r["access_token"],
                    scopes=pending.scopes,
                )
                connected.append(pages[page_id])
            for ig_id in sorted(chosen_instagram):
                r = by_instagram[ig_id]
                ig = r["instagram"]
                parent = (
                    pages.get(r["id"])
                    or ConnectedAccount.objects.filter(
                        tenant=tenant, platform=Platform.FACEBOOK_PAGE, platform_id=r["id"]
                    ).first()
                )
                connected.append(
                    _upsert_account(
                        tenant=tenant,
                        user=membership.user,
                        facebook_user_id=pending.facebook_user_id,
                        platform=Platform.INSTAGRAM_BUSINESS,
                        platform_id=ig_id,
                        name=ig["username"] or r["name"],
                        username=ig["username"],
                        picture_url=ig["picture_url"],
                        parent=parent,
                        # Instagram publishing uses the token of the linked Page.
                        metadata={"page_id": r["id"], "page_name": r["name"]},
                        token=r["access_token"],
                        scopes=pending.scopes,
                    )
                )
            AccessToken.objects.update_or_create(
                tenant=tenant,
                facebook_user_id=pending.facebook_user_id,
                kind=AccessToken.Kind.USER_LONG_LIVED,
                defaults={
                    "user": membership.user,
                    "token": pending.token,
                    "expires_at": pending.token_expires_at,
                    "scopes": pending.scopes,
                    "last_error": "",
                    "last_error_code": None,
                },
            )
            pending.delete()
    except IntegrityError as exc:  # another tenant won a race for the same account
        raise ApplicationError(
            "One of these accounts was just connected to another business.",
            code="held_by_another_tenant",
        ) from exc
    logger.info("accounts_connected", count=len(connected))
    return connected


# --- Health: needs reconnection, checks, refreshes ----------------------------------------------


def _notify_owners(tenant: Tenant, accounts: list[ConnectedAccount], reason: str) -> None:
    owners_notify(
        tenant_id=tenant.pk,
        template="social/email/needs_reauth",
        context={"tenant": tenant, "accounts": accounts, "reason": reason},
    )


def accounts_mark_needs_reauth(
    *,
    accounts: Iterable[ConnectedAccount],
    reason: str,
    graph_code: int | None = None,
    graph_subcode: int | None = None,
    event: str = TokenEvent.Kind.NEEDS_REAUTH,
) -> list[ConnectedAccount]:
    """Mark active accounts as needing reconnection, record why, and e-mail the owners once."""
    changed: list[ConnectedAccount] = []
    with transaction.atomic():
        ids = [a.pk for a in accounts]
        for account in (
            ConnectedAccount.objects.select_for_update()
            .filter(pk__in=ids, status=ConnectedAccount.Status.ACTIVE)
            .order_by("pk")
        ):
            account.status = ConnectedAccount.Status.NEEDS_REAUTH
            account.status_reason = reason
            account.save(update_fields=["status", "status_reason", "updated_at"])
            TokenEvent.objects.create(
                tenant_id=account.tenant_id,
                account=account,
                kind=event,
                detail=reason,
                graph_code=graph_code,
                graph_subcode=graph_subcode,
            )
            changed.append(account)
            webhook_event_emit(
                tenant=account.tenant,
                event="account.needs_reauth",
                data=account_event_data(account, reason=reason),
            )
        by_tenant: dict[int, list[ConnectedAccount]] = {}
        for account in changed:
            by_tenant.setdefault(account.tenant_id, []).append(account)
        for tenant_accounts in by_tenant.values():
            tenant = tenant_accounts[0].tenant
            transaction.on_commit(
                lambda t=tenant, a=tenant_accounts: _notify_owners(t, a, reason)  # type: ignore[misc]
            )
    if changed:
        logger.warning("accounts_need_reauth", count=len(changed), graph_code=graph_code)
    return changed


def _accounts_of_token(token: AccessToken) -> list[ConnectedAccount]:
    if token.account_id is not None:
        return [token.account] if token.account else []
    return list(
        ConnectedAccount.objects.filter(
            tenant_id=token.tenant_id, facebook_user_id=token.facebook_user_id
        ).exclude(status=ConnectedAccount.Status.DISCONNECTED)
    )


def token_check(*, token: AccessToken) -> bool:
    """Ask Facebook (`debug_token`) whether a stored token still works; record the answer.

    Returns True when it is valid. An invalid token marks its account(s) as needing reconnection.
    """
    now = timezone.now()
    try:
        info = graph.debug_token(input_token=token.token)
    except graph.GraphError as exc:
        # Facebook could not answer (rate limit, outage): not a verdict on the token.
        AccessToken.objects.filter(pk=token.pk).update(
            last_checked_at=now, last_error=exc.user_message
        )
        TokenEvent.objects.create(
            tenant_id=token.tenant_id,
            account_id=token.account_id,
            token_kind=token.kind,
            kind=TokenEvent.Kind.CHECK_FAILED,
            detail=exc.technical_summary,
            graph_code=exc.code,
            graph_subcode=exc.subcode,
        )
        token_check_record(outcome="error")
        return False
    if info.is_valid:
        AccessToken.objects.filter(pk=token.pk).update(
            last_checked_at=now,
            last_error="",
            last_error_code=None,
            scopes=list(info.scopes),
            expires_at=info.expires_at if token.kind == AccessToken.Kind.USER_LONG_LIVED else None,
        )
        TokenEvent.objects.create(
            tenant_id=token.tenant_id,
            account_id=token.account_id,
            token_kind=token.kind,
            kind=TokenEvent.Kind.CHECKED,
        )
        token_check_record(outcome="valid")
        return True
    reason = (
        "Facebook no longer accepts this connection"
        + (f": {info.error_message}" if info.error_message else ".")
        + " Reconnect the account."
    )
    AccessToken.objects.filter(pk=token.pk).update(
        last_checked_at=now, last_error=reason, last_error_code=info.error_code
    )
    accounts_mark_needs_reauth(
        accounts=_accounts_of_token(token),
        reason=reason,
        graph_code=info.error_code,
        graph_subcode=info.error_subcode,
    )
    token_check_record(outcome="invalid")
    return False


def token_check_all() -> dict[str, int]:
    """Check every stored token (daily job). Returns counts of valid and invalid tokens."""
    counts = {"valid": 0, "invalid": 0}
    for token in AccessToken.objects.select_related("account").iterator():
        counts["valid" if token_check(token=token) else "invalid"] += 1
    return counts


def token_refresh(*, token: AccessToken) -> bool:
    """Re-exchange a long-lived user token before it expires. True when it was refreshed."""
    try:
        fresh = graph.exchange_long_lived(user_token=token.token)
    except graph.GraphError as exc:
        AccessToken.objects.filter(pk=token.pk).update(
            last_error=exc.user_message, last_error_code=exc.code
        )
        TokenEvent.objects.create(
            tenant_id=token.tenant_id,
            token_kind=token.kind,
            kind=TokenEvent.Kind.REFRESH_FAILED,
            detail=exc.technical_summary,
            graph_code=exc.code,
            graph_subcode=exc.subcode,
        )
        if exc.needs_reconnect:
            accounts_mark_needs_reauth(
                accounts=_accounts_of_token(token),
                reason=exc.user_message,
                graph_code=exc.code,
                graph_subcode=exc.subcode,
            )
        token_refresh_record(refreshed=False)
        return False
    token.token = fresh.access_token
    token.expires_at = fresh.expires_at
    token.last_error = ""
    token.last_error_code = None
    token.save(update_fields=["token", "expires_at", "last_error", "last_error_code", "updated_at"])
    TokenEvent.objects.create(
        tenant_id=token.tenant_id, token_kind=token.kind, kind=TokenEvent.Kind.REFRESHED
    )
    token_refresh_record(refreshed=True)
    return True


def token_refresh_due(*, now: datetime | None = None) -> int:
    """Refresh every long-lived user token that expires within 7 days (daily job)."""
    cutoff = (now or timezone.now()) + REFRESH_WHEN_EXPIRING_WITHIN
    due = AccessToken.objects.filter(
        kind=AccessToken.Kind.USER_LONG_LIVED, expires_at__isnull=False, expires_at__lte=cutoff
    )
    return sum(token_refresh(token=token) for token in due.iterator())


# --- Disconnecting -------------------------------------------------------------------------------


def account_disconnect(*, membership: Membership, account: ConnectedAccount) -> ConnectedAccount:
    """Disconnect an account: its token is deleted (and the app's access revoked at Facebook when
    nothing else depends on that grant); the account row and its post history stay."""
    _require_manager(membership)
    if account.tenant_id != membership.tenant_id:
        raise NotPermitted("That account belongs to another business.")
    with transaction.atomic():
        account = ConnectedAccount.objects.select_for_update().get(pk=account.pk)
        if account.status == ConnectedAccount.Status.DISCONNECTED:
            return account
        account.tokens.all().delete()
        account.status = ConnectedAccount.Status.DISCONNECTED
        account.status_reason = ""
        account.disconnected_at = timezone.now()
        account.save(update_fields=["status", "status_reason", "disconnected_at", "updated_at"])
        TokenEvent.objects.create(
            tenant=membership.tenant,
            account=account,
            kind=TokenEvent.Kind.DISCONNECTED,
            detail=f"by {membership.user.email}",
        )
        user_token = _release_user_token(
            tenant=membership.tenant, facebook_user_id=account.facebook_user_id
        )
    if user_token is not None:
        _revoke(membership.tenant, user_token)
    return account


def facebook_grant_release(*, tenant: Tenant, facebook_user_id: str) -> None:
    """What disconnecting the last account of a grant does, for a grant no account uses any
    more (deleting a tenant): delete the tenant's user token and, when no tenant uses the grant,
    revoke it at Facebook (after the commit, outside any transaction)."""
    with transaction.atomic():
        user_token = _release_user_token(tenant=tenant, facebook_user_id=facebook_user_id)
    if user_token is not None:
        _revoke(tenant, user_token)


def _release_user_token(*, tenant: Tenant, facebook_user_id: str) -> str | None:
    """Delete the tenant's user token for a Facebook user once no active account of the tenant
    uses their grant; returns the token to revoke when no tenant uses that grant any more."""
    still_used_here = (
        ConnectedAccount.objects.filter(tenant=tenant, facebook_user_id=facebook_user_id)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
        .exists()
    )
    if still_used_here:
        return None
    token = AccessToken.objects.filter(
        tenant=tenant, facebook_user_id=facebook_user_id, kind=AccessToken.Kind.USER_LONG_LIVED
    ).first()
    if token is None:
        return None
    value = token.token
    token.delete()
    used_elsewhere = (
        ConnectedAccount.objects.filter(facebook_user_id=facebook_user_id)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
        .exists()
    )
    return None if used_elsewhere else value


def _revoke(tenant: Tenant, user_token: str) -> None:
    try:
        graph.revoke_permissions(user_token=user_token)
    except graph.GraphError as exc:
        # The token is deleted either way; a token Facebook already revoked cannot be revoked.
        logger.info("revoke_failed", error=exc.technical_summary)
        return
    TokenEvent.objects.create(tenant=tenant, kind=TokenEvent.Kind.REVOKED)


# --- Meta's callbacks ----------------------------------------------------------------------------


def facebook_user_deauthorized(*, facebook_user_id: str) -> int:
    """The person removed the app on Facebook: their tokens are dead. Delete them and mark the
    accounts that relied on them as needing reconnection. Returns the number of accounts."""
    accounts = list(
        ConnectedAccount.objects.filter(facebook_user_id=facebook_user_id).exclude(
            status=ConnectedAccount.Status.DISCONNECTED
        )
    )
    AccessToken.objects.filter(facebook_user_id=facebook_user_id).delete()
    PendingConnection.objects.filter(facebook_user_id=facebook_user_id).delete()
    accounts_mark_needs_reauth(
        accounts=accounts,
        reason="The app was removed from the Facebook account that connected it. Reconnect.",
        event=TokenEvent.Kind.DEAUTHORIZED,
    )
    return len(accounts)


def data_deletion_request(*, facebook_user_id: str) -> DataDeletionRequest:
    """Record Meta's data-deletion request; the deletion itself runs as a Celery job."""
    from apps.social.tasks import data_deletion_run

    request = DataDeletionRequest.objects.create(
        facebook_user_id=facebook_user_id, confirmation_code=secrets.token_hex(8)
    )
    transaction.on_commit(lambda: data_deletion_run.delay(request.pk))
    return request


def data_deletion_run(*, request_id: int) -> DataDeletionRequest:
    """Delete what we hold about a Facebook user: tokens, pending grants and their login link.
    Connected accounts stay (they are the businesses' Pages) but need reconnection. Idempotent."""
    from allauth.socialaccount.models import SocialAccount

    request = DataDeletionRequest.objects.get(pk=request_id)
    if request.status == DataDeletionRequest.Status.COMPLETED:
        return request
    accounts = facebook_user_deauthorized(facebook_user_id=request.facebook_user_id)
    logins, _ = SocialAccount.objects.filter(
        provider="facebook", uid=request.facebook_user_id
    ).delete()
    request.status = DataDeletionRequest.Status.COMPLETED
    request.completed_at = timezone.now()
    request.detail = (
        f"Deleted the access tokens and the Facebook login link ({logins} record(s)); "
        f"{accounts} connected account(s) now need reconnection."
    )
    request.save(update_fields=["status", "completed_at", "detail"])
    return request


# --- Housekeeping --------------------------------------------------------------------------------


def pending_connection_cleanup(*, now: datetime | None = None) -> int:
    """Delete grants that were never completed (hourly job; idempotent)."""
    deleted, _ = PendingConnection.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


def token_encryption_check() -> str | None:
    """Readiness: the configured keys decrypt the newest stored token (a wrong key would make
    every Facebook call fail). None when fine or when no token is stored yet."""
    newest = AccessToken.objects.order_by("-pk").values_list("pk", flat=True).first()
    if newest is None:
        return None
    try:
        AccessToken.objects.get(pk=newest)
    except TokenDecryptionError as exc:
        return str(exc)
    return None


def tokens_reencrypt() -> int:
    """Re-save every encrypted row so that it is encrypted under the first (newest) key."""
    count = 0
    for model in (AccessToken, PendingConnection):
        for row in model.objects.all().iterator():
            row.save(
                update_fields=["token", *(["discovered"] if model is PendingConnection else [])]
            )
            count += 1
    return count

"""Connecting, checking, refreshing and disconnecting Facebook Pages and Instagram accounts.

The writes only: what the networks say comes from their packages (``apps.networks``; Facebook
Login's discovery, the Page tasks and revoking from ``meta_facebook.connect`` and ``meta``) as
neutral results and errors. Network calls never run inside a database transaction: each service
calls the network first (or last) and writes its rows in a short transaction of its own.
"""

import json
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
from apps.core.queueing import task_queue_on_commit
from apps.networks import meta, registry
from apps.networks.base import ConnectedProfile, Network
from apps.networks.errors import NetworkError
from apps.networks.meta_facebook.connect import (  # noqa: F401 - Discovered…: answered from here
    DiscoveredInstagram,
    DiscoveredPage,
    PageGrant,
    grant_revoke,
    pages_discover,
)
from apps.social.fields import TokenDecryptionError
from apps.social.models import (
    AccessToken,
    ConnectedAccount,
    DataDeletionRequest,
    PendingConnection,
    Platform,
    TokenEvent,
)
from apps.social.selectors import (  # noqa: F401 - REFRESH_…: read by the metrics from here
    REFRESH_WHEN_EXPIRING_WITHIN,
    WARN_WHEN_LOGIN_EXPIRES_WITHIN,
)
from apps.webhooks.services import account_event_data, webhook_event_emit

logger = structlog.get_logger(__name__)

PENDING_CONNECTION_TTL = timedelta(minutes=30)


def _require_manager(membership: Membership) -> None:
    if not membership.can_manage:
        raise NotPermitted("Only owners and managers can connect or disconnect accounts.")


# --- Connecting: callback → discovery → choice -----------------------------------------------


def connection_start(
    *,
    actor: Membership,
    facebook_user_id: str,
    token: str,
    expires_at: datetime | None,
) -> PendingConnection:
    """Keep (encrypted) the user token that Facebook Login just returned, until the owner picks
    which Pages to connect. No Graph call here: this runs inside allauth's callback."""
    _require_manager(actor)
    return PendingConnection.objects.create(
        tenant=actor.tenant,
        user=actor.user,
        facebook_user_id=facebook_user_id,
        token=token,
        token_expires_at=expires_at,
        expires_at=timezone.now() + PENDING_CONNECTION_TTL,
    )


def _grants(pending: PendingConnection) -> list[PageGrant]:
    records = json.loads(pending.discovered) if pending.discovered else []
    return [PageGrant.from_record(record) for record in records]


def connection_discover(*, pending: PendingConnection) -> list[DiscoveredPage]:
    """Trade the short-lived token for a long-lived one and list every Page (with its Instagram
    account) the person can connect. Idempotent: a second call returns what the first found."""
    if pending.discovered:
        return pending_pages(pending=pending)
    try:
        found = pages_discover(user_token=pending.token)
    except NetworkError as exc:
        logger.warning("connection_discovery_failed", error=exc.detail)
        PendingConnection.objects.filter(pk=pending.pk).update(discovery_error=exc.message)
        raise ApplicationError(exc.message, code="graph_error") from exc
    pending.token = found.token
    pending.token_expires_at = found.expires_at
    pending.scopes = list(found.scopes)
    pending.discovered = json.dumps([page.record() for page in found.pages])
    pending.discovery_error = ""
    pending.save(
        update_fields=["token", "token_expires_at", "scopes", "discovered", "discovery_error"]
    )
    return pending_pages(pending=pending)


def pending_pages(*, pending: PendingConnection) -> list[DiscoveredPage]:
    """The discovered Pages without their tokens, for the page that lets the owner choose; each
    says whether it can be connected (the person must be able to create content on the Page)."""
    return [page.offered() for page in _grants(pending)]


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
    token_kind: str = AccessToken.Kind.PAGE,
    token_expires_at: datetime | None = None,
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
            "kind": token_kind,
            "facebook_user_id": facebook_user_id,
            "user": user,
            "token": token,
            # Page tokens obtained with a long-lived user token do not expire (None).
            "expires_at": token_expires_at,
            "scopes": scopes,
            "last_error": "",
            "last_error_code": None,
            "invalid_since": None,
        },
    )
    TokenEvent.objects.create(tenant=tenant, account=account, token_kind=token_kind, kind=event)
    return account


def oauth_connection_complete(
    *, actor: Membership, platform: str, profile: ConnectedProfile
) -> ConnectedAccount:
    """Store what a network's own login returned (``Network.connect_complete``): the account
    and its encrypted token, for the tenant — a reconnect replaces the token and makes the
    account active again. An account another business holds is refused. No network call here:
    the view exchanged the code before."""
    _require_manager(actor)
    tenant = actor.tenant
    try:
        with transaction.atomic():
            taken = _held_elsewhere(tenant, [(platform, profile.platform_id)])
            if taken:
                raise ApplicationError(
                    f"{taken[0]} is already connected to another business. An account can "
                    "belong to one business at a time; disconnect it there first.",
                    code="held_by_another_tenant",
                )
            account = _upsert_account(
                tenant=tenant,
                user=actor.user,
                facebook_user_id=profile.user_id,
                platform=platform,
                platform_id=profile.platform_id,
                name=profile.name,
                username=profile.username,
                picture_url=profile.picture_url,
                parent=None,
                metadata={},
                token=profile.token,
                scopes=list(profile.scopes),
                token_kind=profile.token_kind,
                token_expires_at=profile.expires_at,
            )
    except IntegrityError as exc:  # another tenant won a race for the same account
        raise ApplicationError(
            "This account was just connected to another business.",
            code="held_by_another_tenant",
        ) from exc
    logger.info("account_connected", platform=platform, account_id=account.pk)
    return account


def connection_complete(
    *,
    actor: Membership,
    pending: PendingConnection,
    page_ids: Iterable[str],
    instagram_ids: Iterable[str],
) -> list[ConnectedAccount]:
    """Connect the chosen Pages and Instagram accounts to the tenant, all or nothing.

    An account that another tenant holds is refused (nothing is connected then), so that no
    post goes out twice through two businesses; so is a Page (or the Instagram account of a Page)
    on which the person cannot create content, which could never be published to.
    """
    _require_manager(actor)
    tenant = actor.tenant
    chosen_pages, chosen_instagram = set(page_ids), set(instagram_ids)
    if not chosen_pages and not chosen_instagram:
        raise ApplicationError("Choose at least one Page or Instagram account.", code="none_chosen")
    grants = {page.id: page for page in _grants(pending)}
    # Each Instagram account with the Page it is published with.
    by_instagram = {
        page.instagram.id: (page, page.instagram) for page in grants.values() if page.instagram
    }
    unknown = (chosen_pages - grants.keys()) | (chosen_instagram - by_instagram.keys())
    if unknown:
        raise ApplicationError(
            "Some of the chosen accounts were not in what Facebook returned; connect again.",
            code="unknown_account",
        )
    chosen = [(grants[pid].name, grants[pid]) for pid in sorted(chosen_pages)] + [
        (f"@{by_instagram[iid][1].username or iid}", by_instagram[iid][0])
        for iid in sorted(chosen_instagram)
    ]
    not_allowed = [name for name, page in chosen if not page.connectable]
    if not_allowed:
        raise ApplicationError(
            f"You cannot publish to {', '.join(not_allowed)}: your role on the Page does not "
            "include the “Create content” task. Ask a Page admin to give it to you, then "
            "reconnect.",
            code="missing_task",
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
                grant = grants[page_id]
                pages[page_id] = _upsert_account(
                    tenant=tenant,
                    user=actor.user,
                    facebook_user_id=pending.facebook_user_id,
                    platform=Platform.FACEBOOK_PAGE,
                    platform_id=page_id,
                    name=grant.name,
                    username="",
                    picture_url=grant.picture_url,
                    parent=None,
                    metadata={"category": grant.category, "tasks": list(grant.tasks or [])},
                    token=grant.access_token,
                    scopes=pending.scopes,
                )
                connected.append(pages[page_id])
            for ig_id in sorted(chosen_instagram):
                grant, ig = by_instagram[ig_id]
                parent = (
                    pages.get(grant.id)
                    or ConnectedAccount.objects.filter(
                        tenant=tenant, platform=Platform.FACEBOOK_PAGE, platform_id=grant.id
                    ).first()
                )
                connected.append(
                    _upsert_account(
                        tenant=tenant,
                        user=actor.user,
                        facebook_user_id=pending.facebook_user_id,
                        platform=Platform.INSTAGRAM_BUSINESS,
                        platform_id=ig_id,
                        name=ig.username or grant.name,
                        username=ig.username,
                        picture_url=ig.picture_url,
                        parent=parent,
                        # Instagram publishing uses the token of the linked Page.
                        metadata={
                            "page_id": grant.id,
                            "page_name": grant.name,
                            "tasks": list(grant.tasks or []),
                        },
                        token=grant.access_token,
                        scopes=pending.scopes,
                    )
                )
            AccessToken.objects.update_or_create(
                tenant=tenant,
                facebook_user_id=pending.facebook_user_id,
                kind=AccessToken.Kind.USER_LONG_LIVED,
                defaults={
                    "user": actor.user,
                    "token": pending.token,
                    "expires_at": pending.token_expires_at,
                    "scopes": pending.scopes,
                    "last_error": "",
                    "last_error_code": None,
                    "invalid_since": None,
                    "owners_warned_at": None,
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


# --- Health: needs reconnection, Page tasks, checks, refreshes ---------------------------------
#
# The rule (docs/facebook.md, "Token health"): an account publishes with its own Page token, so
# only what happens to *that* token (checked on its own with debug_token) or to the person's
# tasks on *that* Page changes the account's status. The long-lived user token is needed only to
# discover Pages and to renew access; when it expires or is refused, the owners are asked to
# reconnect Facebook, and no account changes. Removing the app (190/458 on the Page tokens, or
# Meta's deauthorize callback) kills the Page tokens too, and marks their accounts.


@dataclass
class _OwnerNotice:
    """An e-mail to a tenant's owners about some of its accounts (needs_reauth, no_permission)."""

    tenant: Tenant
    template: str
    accounts: list[ConnectedAccount]
    reason: str = ""

    def send(self) -> None:
        owners_notify(
            tenant_id=self.tenant.pk,
            template=self.template,
            context={"tenant": self.tenant, "accounts": self.accounts, "reason": self.reason},
        )


# While the daily check runs, notices wait here so that each tenant gets one e-mail per kind
# for the whole run (each Page token is checked, and marks its account, on its own).
_batched_notices: ContextVar[list[_OwnerNotice] | None] = ContextVar(
    "batched_owner_notices", default=None
)


def _owners_tell(notice: _OwnerNotice) -> None:
    """E-mail the owners once the current transaction commits (nothing if it rolls back), or at
    the end of a batch."""
    batch = _batched_notices.get()
    if batch is None:
        transaction.on_commit(notice.send)
    else:
        transaction.on_commit(lambda: batch.append(notice))


@contextmanager
def _owner_notices_batched() -> Iterator[None]:
    batch: list[_OwnerNotice] = []
    reset = _batched_notices.set(batch)

    def send_merged() -> None:
        merged: dict[tuple[int, str], _OwnerNotice] = {}
        for notice in batch:
            known = merged.setdefault(
                (notice.tenant.pk, notice.template),
                _OwnerNotice(notice.tenant, notice.template, [], notice.reason),
            )
            seen = {a.pk for a in known.accounts}
            known.accounts.extend(a for a in notice.accounts if a.pk not in seen)
        for notice in merged.values():
            notice.send()

    try:
        yield
    finally:
        _batched_notices.reset(reset)
        # After the appends: on-commit callbacks run in the order they were registered.
        transaction.on_commit(send_merged)


def _accounts_change_status(
    *,
    ids: Iterable[int],
    to: str,
    allowed_from: Iterable[str],
    reason: Callable[[ConnectedAccount], str],
    event: str,
    graph_code: int | None = None,
    graph_subcode: int | None = None,
    webhook_event: str | None = None,
) -> list[ConnectedAccount]:
    """Move the accounts that are in one of `allowed_from` to `to` (rows locked in primary-key
    order), with an event row and webhook each. Returns those that changed."""
    changed: list[ConnectedAccount] = []
    for account in (
        ConnectedAccount.objects.select_for_update(of=("self",))
        .select_related("tenant", "parent", "connected_by")
        .filter(pk__in=list(ids), status__in=list(allowed_from))
        .order_by("pk")
    ):
        why = reason(account)
        account.status = to
        account.status_reason = why
        account.save(update_fields=["status", "status_reason", "updated_at"])
        TokenEvent.objects.create(
            tenant_id=account.tenant_id,
            account=account,
            kind=event,
            detail=why,
            graph_code=graph_code,
            graph_subcode=graph_subcode,
        )
        if webhook_event:
            webhook_event_emit(
                tenant=account.tenant,
                event=webhook_event,
                data=account_event_data(account, reason=why),
            )
        changed.append(account)
    return changed


def _by_tenant(accounts: list[ConnectedAccount]) -> list[list[ConnectedAccount]]:
    groups: dict[int, list[ConnectedAccount]] = {}
    for account in accounts:
        groups.setdefault(account.tenant_id, []).append(account)
    return list(groups.values())


def _needs_reauth(
    *,
    accounts: Iterable[ConnectedAccount],
    reason: str,
    graph_code: int | None,
    graph_subcode: int | None,
    event: str,
    allowed_from: tuple[str, ...],
) -> list[ConnectedAccount]:
    with transaction.atomic():
        changed = _accounts_change_status(
            ids=[a.pk for a in accounts],
            to=ConnectedAccount.Status.NEEDS_REAUTH,
            allowed_from=allowed_from,
            reason=lambda account: reason,
            event=event,
            graph_code=graph_code,
            graph_subcode=graph_subcode,
            webhook_event="account.needs_reauth",
        )
        for group in _by_tenant(changed):
            _owners_tell(_OwnerNotice(group[0].tenant, "social/email/needs_reauth", group, reason))
    if changed:
        logger.warning("accounts_need_reauth", count=len(changed), graph_code=graph_code)
    return changed


def accounts_mark_needs_reauth(
    *,
    accounts: Iterable[ConnectedAccount],
    reason: str,
    graph_code: int | None = None,
    graph_subcode: int | None = None,
    event: str = TokenEvent.Kind.NEEDS_REAUTH,
) -> list[ConnectedAccount]:
    """Mark active accounts as needing reconnection, record why, and e-mail the owners once.

    A permission error (10, 200-299) is first checked against the person's tasks on the Page
    (a Graph call: never call this inside a transaction): an account whose Page lost the
    "Create content" task is marked "No permission to post" instead, since reconnecting cannot
    fix that. Returns the accounts marked as needing reconnection.
    """
    accounts = list(accounts)
    if meta.missing_permission(code=graph_code, subcode=graph_subcode):
        accounts = [a for a in accounts if account_tasks_check(account=a) is not False]
    return _needs_reauth(
        accounts=accounts,
        reason=reason,
        graph_code=graph_code,
        graph_subcode=graph_subcode,
        event=event,
        allowed_from=(ConnectedAccount.Status.ACTIVE,),
    )


def page_tasks_apply(
    *, tenant_id: int, facebook_user_id: str, page_id: str, tasks: tuple[str, ...]
) -> list[ConnectedAccount]:
    """Record what the person may do on a Page for every account of the tenant that publishes
    through it with their grant (the Page and its Instagram account): without "Create content"
    an active account becomes "No permission to post" (owners e-mailed once); with it, such an
    account is active again. Returns the accounts whose status changed."""
    publishable = meta.can_publish(tasks)
    with transaction.atomic():
        group = [
            a
            for a in ConnectedAccount.objects.select_related("parent")
            .filter(tenant_id=tenant_id, facebook_user_id=facebook_user_id)
            .exclude(status=ConnectedAccount.Status.DISCONNECTED)
            if a.page_id == page_id
        ]
        for account in group:
            if account.metadata.get("tasks") != list(tasks):
                account.metadata = {**account.metadata, "tasks": list(tasks)}
                account.save(update_fields=["metadata", "updated_at"])
        ids = [a.pk for a in group]
        if publishable:
            changed = _accounts_change_status(
                ids=ids,
                to=ConnectedAccount.Status.ACTIVE,
                allowed_from=(ConnectedAccount.Status.NO_PERMISSION,),
                reason=lambda account: "",
                event=TokenEvent.Kind.TASK_RESTORED,
            )
        else:
            changed = _accounts_change_status(
                ids=ids,
                to=ConnectedAccount.Status.NO_PERMISSION,
                allowed_from=(ConnectedAccount.Status.ACTIVE,),
                reason=lambda account: meta.task_lost_reason(account, tasks),
                event=TokenEvent.Kind.TASK_MISSING,
                webhook_event="account.no_permission",
            )
            for group_changed in _by_tenant(changed):
                _owners_tell(
                    _OwnerNotice(
                        group_changed[0].tenant, "social/email/no_permission", group_changed
                    )
                )
    if changed:
        logger.info("page_tasks_changed", page_id=page_id, publishable=publishable)
    return changed


def account_tasks_check(
    *, account: ConnectedAccount, token: AccessToken | None = None
) -> bool | None:
    """Read the person's tasks on the account's Page with its Page token (``meta``'s
    ``page_tasks_read``) and record them (``page_tasks_record``). True / False: whether they
    allow publishing; None when Facebook did not say (no token, an error, or no ``tasks`` in
    the answer), which changes nothing."""
    token = token or AccessToken.objects.filter(account=account).first()
    if token is None:
        return None
    found = meta.page_tasks_read(account, token)
    if found is None:  # the account publishes through no Page
        return None
    return page_tasks_record(account=account, token=token, found=found)


def page_tasks_record(
    *, account: ConnectedAccount, token: AccessToken, found: meta.PageTasks
) -> bool | None:
    """Record what Facebook said about the tasks on an account's Page: a failed read is a
    ``check_failed`` event; tasks are applied (``page_tasks_apply``). The Meta networks'
    ``permissions_check`` hands its reads here (set in ``SocialConfig.ready``). Returns what
    ``account_tasks_check`` returns."""
    if found.error is not None:
        TokenEvent.objects.create(
            tenant_id=account.tenant_id,
            account=account,
            token_kind=token.kind,
            kind=TokenEvent.Kind.CHECK_FAILED,
            detail=f"Reading the Page's tasks: {found.error.detail}",
            graph_code=found.error.code,
            graph_subcode=found.error.subcode,
        )
        return None
    if found.tasks is None:
        return None
    page_tasks_apply(
        tenant_id=account.tenant_id,
        facebook_user_id=account.facebook_user_id,
        page_id=found.page_id,
        tasks=found.tasks,
    )
    return found.publishable


def _user_token_warn(token: AccessToken, *, reason: str) -> bool:
    """E-mail the owners, once per user token, that the Facebook login needs renewing. Not when
    every account of the grant already needs reconnecting: that e-mail said it all."""
    now = timezone.now()
    with transaction.atomic():
        accounts = list(
            ConnectedAccount.objects.filter(
                tenant_id=token.tenant_id, facebook_user_id=token.facebook_user_id
            )
            .exclude(status=ConnectedAccount.Status.DISCONNECTED)
            .prefetch_related("tokens")
        )
        if all(a.status == ConnectedAccount.Status.NEEDS_REAUTH for a in accounts):
            return False
        if not AccessToken.objects.filter(pk=token.pk, owners_warned_at__isnull=True).update(
            owners_warned_at=now
        ):
            return False
        fresh = AccessToken.objects.select_related("tenant", "user").get(pk=token.pk)
        dependent = [a for a in accounts if any(t.expires_at is not None for t in a.tokens.all())]
        context = {
            "tenant": fresh.tenant,
            "login": fresh,
            "reason": reason,
            "expired": fresh.invalid_since is not None,
            "accounts": accounts,
            "dependent": dependent,
        }
        transaction.on_commit(
            lambda: owners_notify(
                tenant_id=fresh.tenant_id, template="social/email/facebook_login", context=context
            )
        )
    logger.info("facebook_login_warned", token_id=token.pk)
    return True


def _user_token_refused(
    token: AccessToken, *, reason: str, code: int | None, subcode: int | None
) -> None:
    """Facebook refuses a user token: record it (the first time with an event) and warn the
    owners. No account changes: each publishes with its own Page token."""
    now = timezone.now()
    first_time = AccessToken.objects.filter(pk=token.pk, invalid_since__isnull=True).update(
        invalid_since=now
    )
    AccessToken.objects.filter(pk=token.pk).update(
        last_checked_at=now, last_error=reason, last_error_code=code
    )
    warned = _user_token_warn(token, reason=reason)
    if first_time:
        TokenEvent.objects.create(
            tenant_id=token.tenant_id,
            token_kind=token.kind,
            kind=TokenEvent.Kind.USER_TOKEN_INVALID,
            detail=reason + (" The owners were e-mailed." if warned else ""),
            graph_code=code,
            graph_subcode=subcode,
        )


def _token_network(token: AccessToken) -> Network | None:
    """The network that checks and refreshes ``token``: its account's, or for a token of no
    account (a login) the one that declares its kind. None: no network takes it, and it is
    sent nowhere."""
    network: Network | None
    if token.account is not None:
        network = registry.network_for(token.account.platform)
    else:
        network = registry.network_for_token_kind(token.kind)
    if network is None or token.kind not in network.token_kinds:
        return None
    return network


def token_check(*, token: AccessToken) -> bool:
    """Ask the token's network (through the registry: Meta's `debug_token` for Meta tokens)
    whether a stored token still works; record the answer.

    Returns True when it is valid. An account token the network refuses marks its own account
    as needing reconnection; a valid one also has the account's permissions checked (a Page's
    tasks). A refused or nearly expired user token warns the owners and changes no account.
    A token no network takes is sent nowhere.
    """
    now = timezone.now()
    network = _token_network(token)
    if network is None:
        logger.warning("token_check_no_network", token_id=token.pk, kind=token.kind)
        return False
    checked = network.token_check(token)
    if checked.state == "unknown":
        # The network could not answer (rate limit, outage): not a verdict on the token.
        AccessToken.objects.filter(pk=token.pk).update(
            last_checked_at=now, last_error=checked.reason
        )
        TokenEvent.objects.create(
            tenant_id=token.tenant_id,
            account_id=token.account_id,
            token_kind=token.kind,
            kind=TokenEvent.Kind.CHECK_FAILED,
            detail=checked.detail,
            graph_code=checked.code,
            graph_subcode=checked.subcode,
        )
        token_check_record(outcome="error")
        return False
    user_token = token.kind == AccessToken.Kind.USER_LONG_LIVED
    if checked.state == "refused":
        token_check_record(outcome="invalid")
        reason = checked.reason
        if user_token:
            _user_token_refused(token, reason=reason, code=checked.code, subcode=checked.subcode)
            return False
        AccessToken.objects.filter(pk=token.pk, invalid_since__isnull=True).update(
            invalid_since=now
        )
        AccessToken.objects.filter(pk=token.pk).update(
            last_checked_at=now, last_error=reason, last_error_code=checked.code
        )
        if token.account_id is not None:
            _needs_reauth(
                accounts=[ConnectedAccount(pk=token.account_id)],
                reason=reason,
                graph_code=checked.code,
                graph_subcode=checked.subcode,
                event=TokenEvent.Kind.NEEDS_REAUTH,
                # A dead token needs a reconnect whatever else was wrong.
                allowed_from=(
                    ConnectedAccount.Status.ACTIVE,
                    ConnectedAccount.Status.NO_PERMISSION,
                ),
            )
        return False
    AccessToken.objects.filter(pk=token.pk).update(
        last_checked_at=now,
        last_error="",
        last_error_code=None,
        invalid_since=None,
        scopes=list(checked.scopes),
        # A Page token obtained with a long-lived user token does not expire (None); one from a
        # short-lived user token expires with it.
        expires_at=checked.expires_at,
    )
    TokenEvent.objects.create(
        tenant_id=token.tenant_id,
        account_id=token.account_id,
        token_kind=token.kind,
        kind=TokenEvent.Kind.CHECKED,
    )
    token_check_record(outcome="valid")
    if user_token:
        expires_at = checked.expires_at
        if expires_at is not None and expires_at - now <= WARN_WHEN_LOGIN_EXPIRES_WITHIN:
            reason = (
                f"The Facebook login expires on {expires_at:%d %b %Y} and could not be renewed "
                "automatically."
            )
            if _user_token_warn(token, reason=reason):
                TokenEvent.objects.create(
                    tenant_id=token.tenant_id,
                    token_kind=token.kind,
                    kind=TokenEvent.Kind.USER_TOKEN_EXPIRING,
                    detail=f"{reason} The owners were e-mailed.",
                )
    elif token.account is not None:
        network.permissions_check(token.account, token)
    return True


def token_check_all() -> dict[str, int]:
    """Check every stored token (daily job). Returns counts of valid and invalid tokens.

    Page tokens first ("page" < "user_long_lived"), so that a login refused because the app was
    removed finds its accounts already marked, and its owners are not e-mailed twice."""
    counts = {"valid": 0, "invalid": 0}  # a token no network takes counts as invalid
    tokens = AccessToken.objects.select_related("account", "account__parent").order_by("kind", "pk")
    with _owner_notices_batched():
        for token in tokens.iterator():
            counts["valid" if token_check(token=token) else "invalid"] += 1
    return counts


def account_check(*, actor: Membership, account: ConnectedAccount) -> ConnectedAccount:
    """ "Check again": ask Facebook now about an account's own token and its Page tasks (after a
    Page admin gave the task back, say) and return the account as it stands afterwards."""
    _require_manager(actor)
    if account.tenant_id != actor.tenant_id:
        raise NotPermitted("That account belongs to another business.")
    token = AccessToken.objects.filter(account=account).select_related("account").first()
    if token is None:
        raise ApplicationError(
            f"{account} has no access to check: connect it again with “Connect or reconnect "
            "Facebook”.",
            code="no_token",
        )
    token_check(token=token)
    account.refresh_from_db()
    return account


def token_refresh(*, token: AccessToken) -> bool:
    """Renew a token before it expires, as its network does it (Meta: re-exchange the long-lived
    user token). True when it was refreshed.

    A token the network refuses warns the owners to reconnect; no account changes."""
    network = _token_network(token)
    if network is None:
        logger.warning("token_refresh_no_network", token_id=token.pk, kind=token.kind)
        return False
    fresh = network.token_refresh(token)
    if not fresh.refreshed:
        AccessToken.objects.filter(pk=token.pk).update(
            last_error=fresh.reason, last_error_code=fresh.code
        )
        TokenEvent.objects.create(
            tenant_id=token.tenant_id,
            token_kind=token.kind,
            kind=TokenEvent.Kind.REFRESH_FAILED,
            detail=fresh.detail,
            graph_code=fresh.code,
            graph_subcode=fresh.subcode,
        )
        if fresh.refused and token.account_id is not None:
            # A token an account publishes with (a Threads token): that account needs a
            # reconnect. A Facebook login refused changes no account (it only warns).
            _needs_reauth(
                accounts=[ConnectedAccount(pk=token.account_id)],
                reason=fresh.refused,
                graph_code=fresh.code,
                graph_subcode=fresh.subcode,
                event=TokenEvent.Kind.NEEDS_REAUTH,
                allowed_from=(
                    ConnectedAccount.Status.ACTIVE,
                    ConnectedAccount.Status.NO_PERMISSION,
                ),
            )
        elif fresh.refused:
            _user_token_refused(token, reason=fresh.refused, code=fresh.code, subcode=fresh.subcode)
        token_refresh_record(refreshed=False)
        return False
    token.token = fresh.token
    token.expires_at = fresh.expires_at
    token.last_error = ""
    token.last_error_code = None
    token.invalid_since = None
    token.owners_warned_at = None
    token.save(
        update_fields=[
            "token",
            "expires_at",
            "last_error",
            "last_error_code",
            "invalid_since",
            "owners_warned_at",
            "updated_at",
        ]
    )
    TokenEvent.objects.create(
        tenant_id=token.tenant_id,
        account_id=token.account_id,
        token_kind=token.kind,
        kind=TokenEvent.Kind.REFRESHED,
    )
    token_refresh_record(refreshed=True)
    return True


def token_refresh_due(*, now: datetime | None = None) -> int:
    """Refresh every token its network says is due (daily job; Meta: a long-lived user token
    that expires within 7 days and was not refused — only a reconnect replaces that one)."""
    now = now or timezone.now()
    expiring = AccessToken.objects.filter(
        expires_at__isnull=False, invalid_since__isnull=True
    ).select_related("account")
    refreshed = 0
    for token in expiring.iterator():
        network = _token_network(token)
        if network is not None and network.refresh_due(token, now):
            refreshed += token_refresh(token=token)
    return refreshed


# --- Disconnecting -------------------------------------------------------------------------------


def account_disconnect(*, actor: Membership, account: ConnectedAccount) -> ConnectedAccount:
    """Disconnect an account: its token is deleted (and the app's access revoked at Facebook when
    nothing else depends on that grant); the account row and its post history stay."""
    _require_manager(actor)
    if account.tenant_id != actor.tenant_id:
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
            tenant=actor.tenant,
            account=account,
            kind=TokenEvent.Kind.DISCONNECTED,
            detail=f"by {actor.user.email}",
        )
        user_token = _release_user_token(
            tenant=actor.tenant, facebook_user_id=account.facebook_user_id
        )
    if user_token is not None:
        _revoke(actor.tenant, user_token)
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
        grant_revoke(user_token=user_token)
    except NetworkError as exc:
        # The token is deleted either way; a token Facebook already revoked cannot be revoked.
        logger.info("revoke_failed", error=exc.detail)
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
    _needs_reauth(
        accounts=accounts,
        reason="The app was removed from the Facebook account that connected it. Reconnect.",
        graph_code=None,
        graph_subcode=None,
        event=TokenEvent.Kind.DEAUTHORIZED,
        allowed_from=(ConnectedAccount.Status.ACTIVE, ConnectedAccount.Status.NO_PERMISSION),
    )
    return len(accounts)


def data_deletion_request(*, facebook_user_id: str) -> DataDeletionRequest:
    """Record Meta's data-deletion request; the deletion itself runs as a Celery job."""
    request = DataDeletionRequest.objects.create(
        facebook_user_id=facebook_user_id, confirmation_code=secrets.token_hex(8)
    )
    task_queue_on_commit("social.data_deletion_run", request.pk)
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

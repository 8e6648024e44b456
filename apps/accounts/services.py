"""Writes for tenants, memberships and invitations. Views, admin and tasks call these only."""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import (
    ROLE_RANK,
    ApiKey,
    Invitation,
    Membership,
    Role,
    Tenant,
    User,
)
from apps.core.exceptions import ApplicationError, NotPermitted

logger = structlog.get_logger(__name__)

RESERVED_SLUGS = frozenset({"admin", "api", "accounts", "static", "media", "new", "sandbox"})


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- Tenants ---------------------------------------------------------------------------------


def tenant_create(*, user: User, name: str, slug: str = "", timezone_name: str = "UTC") -> Tenant:
    """Create a tenant with ``user`` as its first owner."""
    name = name.strip()
    if not name:
        raise ApplicationError("Give your business a name.", code="name_required")
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ApplicationError(
            "The short name must contain letters or digits.", code="slug_invalid"
        )
    if slug in RESERVED_SLUGS:
        raise ApplicationError(
            f"“{slug}” is reserved; choose another short name.", code="slug_taken"
        )
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(name=name, slug=slug, timezone=timezone_name)
            Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    except IntegrityError as exc:
        raise ApplicationError(
            f"The short name “{slug}” is taken; choose another.", code="slug_taken"
        ) from exc
    logger.info("tenant_created", tenant_id=tenant.pk, user_id=user.pk)
    return tenant


def tenant_update(
    *, actor: Membership, name: str, timezone_name: str, requires_approval: bool | None = None
) -> Tenant:
    """Change a tenant's name and timezone (owners and managers)."""
    if not actor.can_manage:
        raise NotPermitted("Only owners and managers can change the business settings.")
    name = name.strip()
    if not name:
        raise ApplicationError("Give your business a name.", code="name_required")
    tenant = actor.tenant
    tenant.name = name
    tenant.timezone = timezone_name
    tenant.save(update_fields=["name", "timezone"])
    return tenant


# --- Brand profile ---------------------------------------------------------------------------

MAX_DEFAULT_HASHTAGS = 30  # Instagram refuses a caption with more
BRAND_LIMITS = {"description": 2000, "category": 120, "tone_of_voice": 200, "default_hashtags": 500}
_HASHTAG_BODY = re.compile(r"\w+")


def hashtags_normalise(text: str) -> list[str]:
    """``"pizza, #Napoli  #pizza"`` → ``["#pizza", "#Napoli"]``: tags are separated by spaces,
    commas or new lines, each gets one leading ``#``, repeats (in any case) are dropped. A tag
    with anything but letters, digits and underscores, or with digits only, is refused, as is a
    list of more than :data:`MAX_DEFAULT_HASHTAGS`."""
    tags: list[str] = []
    seen: set[str] = set()
    for word in re.split(r"[\s,;]+", text):
        body = word.strip().lstrip("#")
        if not body:
            continue
        if not _HASHTAG_BODY.fullmatch(body):
            raise ApplicationError(
                f"“{word}” is not a hashtag: use letters, digits and underscores only (no "
                "spaces, dashes or punctuation).",
                code="hashtag_invalid",
            )
        if body.isdigit():
            raise ApplicationError(
                f"“#{body}” would not be a link on Instagram: a hashtag needs a letter.",
                code="hashtag_invalid",
            )
        if body.lower() not in seen:
            seen.add(body.lower())
            tags.append(f"#{body}")
    if len(tags) > MAX_DEFAULT_HASHTAGS:
        raise ApplicationError(
            f"{len(tags)} hashtags is too many: Instagram allows {MAX_DEFAULT_HASHTAGS} in a "
            "post, and captions add their own.",
            code="hashtags_too_many",
        )
    return tags


def tenant_brand_update(
    *,
    actor: Membership,
    description: str,
    category: str,
    tone_of_voice: str,
    default_hashtags: str,
) -> Tenant:
    """Change the tenant's brand profile (owners and managers), which AI captions are written
    from. Text is trimmed, hashtags normalised (:func:`hashtags_normalise`); only the fields that
    changed are written."""
    if not actor.can_manage:
        raise NotPermitted("Only owners and managers can change the brand profile.")
    values = {
        "description": description.strip(),
        "category": " ".join(category.split()),
        "tone_of_voice": " ".join(tone_of_voice.split()),
        "default_hashtags": " ".join(hashtags_normalise(default_hashtags)),
    }
    for name, value in values.items():
        if len(value) > BRAND_LIMITS[name]:
            raise ApplicationError(
                f"Keep it to {BRAND_LIMITS[name]} characters (it has {len(value)}).",
                code=f"{name}_too_long",
            )
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=actor.tenant_id)
        changed = [name for name, value in values.items() if getattr(tenant, name) != value]
        for name in changed:
            setattr(tenant, name, values[name])
        if changed:
            tenant.save(update_fields=changed)
    if changed:
        logger.info("tenant_brand_updated", tenant_id=tenant.pk, fields=changed)
    return tenant


# --- Memberships -----------------------------------------------------------------------------


def tenant_lock(tenant: Tenant) -> None:
    """Serialise membership changes of one tenant, so two owners cannot both leave at once."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()


def _owner_count(tenant: Tenant) -> int:
    return Membership.objects.filter(tenant=tenant, role=Role.OWNER).count()


def _check_may_manage(actor: Membership, target_role: str) -> None:
    if not actor.can_manage:
        raise NotPermitted("Only owners and managers can manage the team.")
    if target_role == Role.OWNER and actor.role != Role.OWNER:
        raise NotPermitted("Only an owner can manage owners.")


@dataclass(frozen=True)
class MembershipChange:
    """What a change of membership did to the API keys the member had created."""

    membership: Membership
    api_keys_revoked: int = 0
    api_keys_narrowed: int = 0  # write keys made read-only


def api_keys_restrict(
    *, tenant_id: int, user_id: int, role: str | None, reason: str
) -> tuple[int, int]:
    """Make the live keys ``user_id`` created in the tenant do no more than ``role`` allows:
    ``None`` (no longer a member) revokes them all, viewer turns write keys into read-only
    ones; other roles leave them. Runs in the caller's transaction; the keys' cache entries go
    when it commits. Returns (revoked, narrowed)."""
    live = ApiKey.objects.select_for_update().filter(
        tenant_id=tenant_id, created_by_id=user_id, revoked_at__isnull=True
    )
    now = timezone.now()
    reason = reason[:300]
    if role is None:
        affected = list(live.values_list("prefix", flat=True))
        live.update(revoked_at=now, revoked_reason=reason)
        revoked, narrowed = len(affected), 0
    elif ROLE_RANK[Role(role)] < ROLE_RANK[Role.EDITOR]:
        writing = live.filter(scopes__contains=[ApiKey.Scope.WRITE])
        affected = list(writing.values_list("prefix", flat=True))
        writing.update(scopes=[ApiKey.Scope.READ], narrowed_at=now, narrowed_reason=reason)
        revoked, narrowed = 0, len(affected)
    else:
        return 0, 0
    if affected:
        transaction.on_commit(lambda: cache.delete_many([api_key_cache_key(p) for p in affected]))
        logger.info(
            "api_keys_restricted",
            tenant_id=tenant_id,
            user_id=user_id,
            revoked=revoked,
            narrowed=narrowed,
        )
    return revoked, narrowed


def membership_change_role(
    *, actor: Membership, membership: Membership, role: str
) -> MembershipChange:
    """Give ``membership`` another role. Only owners touch owners; the last owner stays owner.
    Made a viewer, the member's write keys become read-only (:func:`api_keys_restrict`)."""
    if role not in Role.values:
        raise ApplicationError("Choose a valid role.", code="role_invalid")
    if actor.tenant_id != membership.tenant_id:
        raise NotPermitted("That member belongs to another business.")
    _check_may_manage(actor, membership.role)
    _check_may_manage(actor, role)
    with transaction.atomic():
        tenant_lock(membership.tenant)
        membership.refresh_from_db(fields=["role"])
        if membership.role == role:
            return MembershipChange(membership=membership)
        if membership.role == Role.OWNER and _owner_count(membership.tenant) == 1:
            raise ApplicationError(
                "The business needs at least one owner: make someone else owner first.",
                code="last_owner",
            )
        membership.role = role
        membership.save(update_fields=["role"])
        _, narrowed = api_keys_restrict(
            tenant_id=membership.tenant_id,
            user_id=membership.user_id,
            role=role,
            reason=f"Its creator's role became {Role(role).label.lower()}.",
        )
    logger.info("membership_role_changed", membership_id=membership.pk, role=role)
    return MembershipChange(membership=membership, api_keys_narrowed=narrowed)


def membership_remove(*, actor: Membership, membership: Membership) -> MembershipChange:
    """Remove another member from the tenant; the API keys they created are revoked with it."""
    if actor.pk == membership.pk:
        raise ApplicationError("To leave the business yourself, use “Leave”.", code="self_remove")
    if actor.tenant_id != membership.tenant_id:
        raise NotPermitted("That member belongs to another business.")
    _check_may_manage(actor, membership.role)
    with transaction.atomic():
        tenant_lock(membership.tenant)
        membership.refresh_from_db(fields=["role"])
        _check_may_manage(actor, membership.role)
        if membership.role == Role.OWNER and _owner_count(membership.tenant) == 1:
            raise ApplicationError("The last owner cannot be removed.", code="last_owner")
        revoked, _ = api_keys_restrict(
            tenant_id=membership.tenant_id,
            user_id=membership.user_id,
            role=None,
            reason="Its creator was removed from the business.",
        )
        membership.delete()
    logger.info("membership_removed", tenant_id=actor.tenant_id, by_user_id=actor.user_id)
    return MembershipChange(membership=membership, api_keys_revoked=revoked)


def membership_leave(*, membership: Membership) -> MembershipChange:
    """The member leaves the tenant (the last owner cannot); their API keys are revoked."""
    with transaction.atomic():
        tenant_lock(membership.tenant)
        membership.refresh_from_db(fields=["role"])
        if membership.role == Role.OWNER and _owner_count(membership.tenant) == 1:
            raise ApplicationError(
                "You are the last owner: make someone else owner before you leave.",
                code="last_owner",
            )
        revoked, _ = api_keys_restrict(
            tenant_id=membership.tenant_id,
            user_id=membership.user_id,
            role=None,
            reason="Its creator left the business.",
        )
        membership.delete()
    logger.info("membership_left", tenant_id=membership.tenant_id, user_id=membership.user_id)
    return MembershipChange(membership=membership, api_keys_revoked=revoked)


# --- Invitations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once, in the e-mail; only its hash is stored


def _send_invitation_email(invitation: Invitation, token: str, accept_url: str) -> None:
    context = {"invitation": invitation, "accept_url": accept_url}
    send_mail(
        subject=render_to_string("accounts/email/invitation_subject.txt", context).strip(),
        message=render_to_string("accounts/email/invitation_message.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_create(
    *, actor: Membership, email: str, role: str, accept_url_for: Callable[[str], str]
) -> IssuedInvitation:
    """Invite ``email`` to the actor's tenant with ``role`` and e-mail them a single-use link.

    ``accept_url_for`` turns the token into the absolute link (the web layer knows the host).
    An expired open invitation for the same address is replaced; a live one is refused.
    """
    email = email.strip().lower()
    if role not in Role.values:
        raise ApplicationError("Choose a valid role.", code="role_invalid")
    _check_may_manage(actor, role)
    tenant = actor.tenant
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise ApplicationError(f"{email} is already a member of {tenant}.", code="already_member")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        open_invites = Invitation.objects.select_for_update().filter(
            tenant=tenant, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        )
        for existing in open_invites:
            if not existing.is_expired:
                raise ApplicationError(
                    f"{email} has already been invited; revoke that invitation to send a new one.",
                    code="already_invited",
                )
            existing.revoked_at = now
            existing.save(update_fields=["revoked_at"])
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=email,
            role=role,
            token_hash=_hash_token(token),
            invited_by=actor.user,
            expires_at=now + timedelta(days=settings.INVITATION_TTL_DAYS),
        )
        accept_url = accept_url_for(token)
        transaction.on_commit(lambda: _send_invitation_email(invitation, token, accept_url))
    logger.info("invitation_created", invitation_id=invitation.pk, role=role)
    return IssuedInvitation(invitation=invitation, token=token)


def invitation_revoke(*, actor: Membership, invitation: Invitation) -> Invitation:
    if actor.tenant_id != invitation.tenant_id:
        raise NotPermitted("That invitation belongs to another business.")
    _check_may_manage(actor, invitation.role)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ApplicationError("That invitation has already been accepted.", code="accepted")
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_get_by_token(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("tenant", "invited_by")
        .filter(token_hash=_hash_token(token))
        .first()
    )


def invitation_accept(*, token: str, user: User) -> Membership:
    """Join the invitation's tenant as ``user``; the link works once, for the invited address."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("tenant")
            .filter(token_hash=_hash_token(token))
            .first()
        )
        if invitation is None:
            raise ApplicationError("This invitation link is not valid.", code="invitation_unknown")
        if invitation.accepted_at is not None:
            raise ApplicationError("This invitation has already been used.", code="invitation_used")
        if invitation.revoked_at is not None:
            raise ApplicationError("This invitation was withdrawn.", code="invitation_revoked")
        if invitation.is_expired:
            raise ApplicationError(
                "This invitation has expired; ask for a new one.", code="invitation_expired"
            )
        if invitation.email.lower() != user.email.lower():
            raise ApplicationError(
                f"This invitation was sent to {invitation.email}; log in with that address to "
                "accept it.",
                code="invitation_wrong_user",
            )
        if Membership.objects.filter(tenant=invitation.tenant, user=user).exists():
            raise ApplicationError(
                f"You are already a member of {invitation.tenant}.", code="already_member"
            )
        membership = Membership.objects.create(
            tenant=invitation.tenant, user=user, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    logger.info("invitation_accepted", invitation_id=invitation.pk, tenant_id=invitation.tenant_id)
    return membership


def invitation_cleanup(*, now: datetime | None = None) -> int:
    """Delete invitations that expired (or were revoked) longer ago than the retention period.

    Idempotent: running it twice deletes nothing the second time.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INVITATION_RETENTION_DAYS)
    deleted, _ = (
        Invitation.objects.filter(accepted_at__isnull=True)
        .filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff))
        .delete()
    )
    if deleted:
        logger.info("invitations_cleaned_up", count=deleted)
    return deleted


# --- API keys --------------------------------------------------------------------------------

API_KEY_CACHE_SECONDS = 300
API_KEY_TOUCH_SECONDS = 60  # last_used_at is written at most once a minute per key


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    key: str  # shown once; only its hash is stored


def api_key_cache_key(prefix: str) -> str:
    return f"api-key:{prefix}"


def api_key_create(*, actor: Membership, name: str, scopes: list[str]) -> IssuedApiKey:
    """A new key for the actor's tenant (owners and managers). The key is returned once."""
    if not actor.can_manage:
        raise NotPermitted("Only owners and managers can create API keys.")
    name = name.strip()
    if not name:
        raise ApplicationError(
            "Give the key a name, e.g. the system that will use it.", code="name_required"
        )
    scopes = sorted(set(scopes))
    if not scopes or any(s not in ApiKey.Scope.values for s in scopes):
        raise ApplicationError("Choose read, or read and write.", code="scopes_invalid")
    if ApiKey.Scope.WRITE in scopes:
        scopes = sorted({*scopes, ApiKey.Scope.READ})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = f"sa_{prefix}_{secret}"
    api_key = ApiKey.objects.create(
        tenant=actor.tenant,
        name=name[:100],
        prefix=prefix,
        secret_hash=_hash_token(key),
        scopes=scopes,
        created_by=actor.user,
    )
    logger.info("api_key_created", api_key_id=api_key.pk, scopes=scopes)
    return IssuedApiKey(api_key=api_key, key=key)


def api_key_revoke(*, actor: Membership, api_key: ApiKey) -> ApiKey:
    if not actor.can_manage:
        raise NotPermitted("Only owners and managers can revoke API keys.")
    if api_key.tenant_id != actor.tenant_id:
        raise NotPermitted("That key belongs to another business.")
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.revoked_reason = f"Revoked by {actor.user.email}."[:300]
        api_key.save(update_fields=["revoked_at", "revoked_reason"])
    cache.delete(api_key_cache_key(api_key.prefix))
    logger.info("api_key_revoked", api_key_id=api_key.pk)
    return api_key


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The active key matching ``key``, or None. Looked up by prefix (cached), compared by hash
    in constant time; revocation clears the cache at once."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "sa" or not parts[1] or not parts[2]:
        return None
    prefix = parts[1]
    cache_key = api_key_cache_key(prefix)
    api_key = cache.get(cache_key)
    if api_key is None:
        api_key = (
            ApiKey.objects.select_related("tenant", "created_by").filter(prefix=prefix).first()
        )
        if api_key is None:
            return None
        cache.set(cache_key, api_key, API_KEY_CACHE_SECONDS)
    if api_key.revoked_at is not None:
        return None
    if not hmac.compare_digest(api_key.secret_hash, _hash_token(key)):
        return None
    now = timezone.now()
    if (
        api_key.last_used_at is None
        or (now - api_key.last_used_at).total_seconds() > API_KEY_TOUCH_SECONDS
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
        cache.set(cache_key, api_key, API_KEY_CACHE_SECONDS)
    return api_key


def owners_notify(*, tenant_id: int, template: str, context: dict[str, Any]) -> int:
    """E-mail a tenant's owners, rendering ``<template>_subject.txt`` and ``_message.txt`` with
    ``context``. Returns how many were addressed (0 when the tenant has no owner)."""
    owners = list(
        Membership.objects.filter(tenant_id=tenant_id, role=Role.OWNER).values_list(
            "user__email", flat=True
        )
    )
    if owners:
        send_mail(
            subject=render_to_string(f"{template}_subject.txt", context).strip(),
            message=render_to_string(f"{template}_message.txt", context),
            from_email=None,
            recipient_list=owners,
        )
    return len(owners)

"""Writes for tenants, memberships and invitations. Views, admin and tasks call these only."""

import hashlib
import hmac
import json
import re
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import (
    ApiKey,
    Invitation,
    Membership,
    Role,
    Tenant,
    TenantExport,
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


def _lock_tenant(tenant: Tenant) -> None:
    """Serialise membership changes of one tenant, so two owners cannot both leave at once."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()


def _owner_count(tenant: Tenant) -> int:
    return Membership.objects.filter(tenant=tenant, role=Role.OWNER).count()


def _check_may_manage(actor: Membership, target_role: str) -> None:
    if not actor.can_manage:
        raise NotPermitted("Only owners and managers can manage the team.")
    if target_role == Role.OWNER and actor.role != Role.OWNER:
        raise NotPermitted("Only an owner can manage owners.")


def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    """Give ``membership`` another role. Only owners touch owners; the last owner stays owner."""
    if role not in Role.values:
        raise ApplicationError("Choose a valid role.", code="role_invalid")
    if actor.tenant_id != membership.tenant_id:
        raise NotPermitted("That member belongs to another business.")
    _check_may_manage(actor, membership.role)
    _check_may_manage(actor, role)
    with transaction.atomic():
        _lock_tenant(membership.tenant)
        membership.refresh_from_db(fields=["role"])
        if membership.role == role:
            return membership
        if membership.role == Role.OWNER and _owner_count(membership.tenant) == 1:
            raise ApplicationError(
                "The business needs at least one owner: make someone else owner first.",
                code="last_owner",
            )
        membership.role = role
        membership.save(update_fields=["role"])
    logger.info("membership_role_changed", membership_id=membership.pk, role=role)
    return membership


def membership_remove(*, actor: Membership, membership: Membership) -> None:
    """Remove another member from the tenant."""
    if actor.pk == membership.pk:
        raise ApplicationError("To leave the business yourself, use “Leave”.", code="self_remove")
    if actor.tenant_id != membership.tenant_id:
        raise NotPermitted("That member belongs to another business.")
    _check_may_manage(actor, membership.role)
    with transaction.atomic():
        _lock_tenant(membership.tenant)
        membership.refresh_from_db(fields=["role"])
        _check_may_manage(actor, membership.role)
        if membership.role == Role.OWNER and _owner_count(membership.tenant) == 1:
            raise ApplicationError("The last owner cannot be removed.", code="last_owner")
        membership.delete()
    logger.info("membership_removed", tenant_id=actor.tenant_id, by_user_id=actor.user_id)


def membership_leave(*, membership: Membership) -> None:
    """The member leaves the tenant; the last owner cannot."""
    with transaction.atomic():
        _lock_tenant(membership.tenant)
        membership.refresh_from_db(fields=["role"])
        if membership.role == Role.OWNER and _owner_count(membership.tenant) == 1:
            raise ApplicationError(
                "You are the last owner: make someone else owner before you leave.",
                code="last_owner",
            )
        membership.delete()
    logger.info("membership_left", tenant_id=membership.tenant_id, user_id=membership.user_id)


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


def _api_key_cache_key(prefix: str) -> str:
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
        api_key.save(update_fields=["revoked_at"])
    cache.delete(_api_key_cache_key(api_key.prefix))
    logger.info("api_key_revoked", api_key_id=api_key.pk)
    return api_key


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The active key matching ``key``, or None. Looked up by prefix (cached), compared by hash
    in constant time; revocation clears the cache at once."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "sa" or not parts[1] or not parts[2]:
        return None
    prefix = parts[1]
    cache_key = _api_key_cache_key(prefix)
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


# --- Data export -------------------------------------------------------------------------------

EXPORT_FORMAT = "social-automation.tenant-export"
EXPORT_FORMAT_VERSION = 1
# An export still waiting or running after this long was lost (its job never ran, or its worker
# died): a new request, or a redelivered job, takes it over.
EXPORT_STALE_AFTER = timedelta(hours=1)
EXPORT_FILES_DIR = "exports"
_COPY_CHUNK = 1024 * 1024
BRAND_PROFILE_FIELDS = ("description", "category", "tone_of_voice", "default_hashtags")


def _require_owner(membership: Membership, what: str) -> None:
    if membership.role != Role.OWNER:
        raise NotPermitted(f"Only owners can {what}.")


def _export_mark_failed(export: TenantExport, message: str) -> None:
    export.status = TenantExport.Status.FAILED
    export.error = message[:1000]
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "error", "finished_at"])


def tenant_export_request(*, membership: Membership) -> TenantExport:
    """Queue an export of everything the membership's tenant owns (owners only). One export is
    prepared at a time per tenant; the Celery job starts once this commits."""
    from apps.accounts.tasks import tenant_export_build as build_job

    _require_owner(membership, "export the business's data")
    tenant = membership.tenant
    now = timezone.now()
    with transaction.atomic():
        _lock_tenant(tenant)
        for existing in TenantExport.objects.select_for_update().filter(
            tenant=tenant, status__in=TenantExport.OPEN
        ):
            if (existing.started_at or existing.created_at) > now - EXPORT_STALE_AFTER:
                raise ApplicationError(
                    "An export is already being prepared; you will get an e-mail when it is ready.",
                    code="export_in_progress",
                )
            _export_mark_failed(existing, "The export did not finish in time. Request a new one.")
        export = TenantExport.objects.create(tenant=tenant, requested_by=membership.user)
        transaction.on_commit(lambda: build_job.delay(export.pk))
    logger.info("tenant_export_requested", export_id=export.pk)
    return export


def tenant_export_download_url(export: TenantExport) -> str:
    path = reverse("tenants:export_download", kwargs={"tenant_export_id": export.pk})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _export_ready_notify(export: TenantExport) -> None:
    owners_notify(
        tenant_id=export.tenant_id,
        template="accounts/email/export_ready",
        context={
            "tenant": export.tenant,
            "export": export,
            "download_url": tenant_export_download_url(export),
        },
    )


def tenant_export_build(*, export_id: int) -> TenantExport | None:
    """Write the export's ZIP (``data.json`` + the assets' files) to storage, mark it ready and
    e-mail the owners a link. Idempotent: a finished export is left alone, a run while another
    is building does nothing, and only one file is ever kept per export. A failure marks the
    export failed with a message for the owner. None when the export no longer exists."""
    now = timezone.now()
    with transaction.atomic():
        export = (
            TenantExport.objects.select_for_update()
            .select_related("tenant")
            .filter(pk=export_id)
            .first()
        )
        if export is None:  # the tenant was deleted meanwhile
            return None
        if export.status in (TenantExport.Status.READY, TenantExport.Status.FAILED):
            return export
        if (
            export.status == TenantExport.Status.RUNNING
            and export.started_at is not None
            and export.started_at > now - EXPORT_STALE_AFTER
        ):
            return export  # another run is building it
        export.status = TenantExport.Status.RUNNING
        export.started_at = now
        export.save(update_fields=["status", "started_at"])
    run_started = export.started_at
    name = (
        f"{EXPORT_FILES_DIR}/t{export.tenant_id}/"
        f"export-{export.pk}-{secrets.token_hex(8)}.zip"  # unguessable even in a shared bucket
    )
    stored = ""
    size = 0
    error: Exception | None = None
    try:
        with tempfile.TemporaryFile() as archive_file:
            _export_write_zip(export, archive_file)
            size = archive_file.seek(0, 2)
            archive_file.seek(0)
            stored = default_storage.save(name, File(archive_file, name=name))
    except Exception as exc:
        logger.exception("tenant_export_failed", export_id=export.pk)
        error = exc
    with transaction.atomic():
        current = TenantExport.objects.select_for_update().filter(pk=export.pk).first()
        ours = (
            current is not None
            and current.status == TenantExport.Status.RUNNING
            and current.started_at == run_started
        )
        if current is None or not ours or error is not None:
            if stored:  # taken over by another run (or the tenant is gone): keep theirs only
                transaction.on_commit(lambda: default_storage.delete(stored))
            if ours and current is not None and error is not None:
                _export_mark_failed(
                    current,
                    f"The export could not be prepared ({type(error).__name__}). Request a new "
                    "one; if it fails again, contact support.",
                )
            return current
        finished = timezone.now()
        current.status = TenantExport.Status.READY
        current.file.name = stored
        current.size = size
        current.error = ""
        current.finished_at = finished
        current.expires_at = finished + timedelta(days=settings.TENANT_EXPORT_DAYS)
        current.save(update_fields=["status", "file", "size", "error", "finished_at", "expires_at"])
        ready = current
        transaction.on_commit(lambda: _export_ready_notify(ready))
    logger.info("tenant_export_ready", export_id=current.pk, size=size)
    return current


def tenant_export_cleanup(*, now: datetime | None = None) -> int:
    """Delete exports past their expiry, and failed ones older than ``TENANT_EXPORT_DAYS``;
    their files go when the deletion commits. Idempotent. Returns the number deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TENANT_EXPORT_DAYS)
    with transaction.atomic():
        _, per_model = TenantExport.objects.filter(
            Q(expires_at__lte=now) | Q(status=TenantExport.Status.FAILED, created_at__lt=cutoff)
        ).delete()
    deleted = per_model.get(TenantExport._meta.label, 0)
    if deleted:
        logger.info("tenant_exports_cleaned_up", count=deleted)
    return deleted


def _export_write_zip(export: TenantExport, target: IO[bytes]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        files = _export_asset_files(export.tenant, archive)
        with archive.open("data.json", "w", force_zip64=True) as stream:
            _write_json(stream, _export_sections(export, files))


def _export_asset_files(tenant: Tenant, archive: zipfile.ZipFile) -> dict[int, str | None]:
    """Copy each asset's stored file into ``files/assets/``, chunk by chunk. Returns the path
    in the archive per asset id (None when the file is missing from storage)."""
    from apps.assets.models import BrandAsset

    paths: dict[int, str | None] = {}
    rows = BrandAsset.objects.for_tenant(tenant).order_by("pk").values_list("pk", "file")
    for asset_id, name in rows.iterator(chunk_size=500):
        extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
        path = f"files/assets/{asset_id}.{extension}"
        try:
            source = default_storage.open(name, "rb")
        except OSError:
            logger.warning("tenant_export_file_missing", asset_id=asset_id)
            paths[asset_id] = None
            continue
        info = zipfile.ZipInfo(path, date_time=timezone.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED  # images are compressed already
        with source, archive.open(info, "w", force_zip64=True) as target:
            shutil.copyfileobj(source, target, _COPY_CHUNK)
        paths[asset_id] = path
    return paths


def _write_json(stream: IO[bytes], sections: Iterable[tuple[str, Any]]) -> None:
    """One JSON object written section by section; a section given as an iterator is written
    item by item, so no table is ever held in memory whole."""
    encoder = DjangoJSONEncoder(ensure_ascii=False)

    def put(text: str) -> None:
        stream.write(text.encode())

    put("{")
    for index, (key, value) in enumerate(sections):
        put(("," if index else "") + "\n" + json.dumps(key) + ": ")
        if isinstance(value, Iterator):
            put("[")
            for position, item in enumerate(value):
                put(("," if position else "") + "\n  " + encoder.encode(item))
            put("\n]")
        else:
            put(encoder.encode(value))
    put("\n}\n")


def _rows(
    queryset: "models.QuerySet[Any]", *fields: str, **related: str
) -> Iterator[dict[str, Any]]:
    """The listed columns (and ``name=path__to__column`` of related rows) of each row, in id
    order. Columns are named one by one: nothing secret is exported by accident."""
    from django.db.models import F

    values = queryset.order_by("pk").values(*fields, **{k: F(v) for k, v in related.items()})
    return iter(values.iterator(chunk_size=500))


def _tenant_data(tenant: Tenant) -> dict[str, Any]:
    data = {
        f.name: getattr(tenant, f.attname)
        for f in Tenant._meta.concrete_fields
        if not f.is_relation
    }
    data["brand_profile"] = {k: data.pop(k) for k in BRAND_PROFILE_FIELDS if k in data}
    return data


def _export_sections(
    export: TenantExport, files: dict[int, str | None]
) -> Iterator[tuple[str, Any]]:
    """Everything the tenant owns, by table. Tokens, token hashes, webhook secrets and API key
    hashes are never among the columns."""
    from apps.assets.models import BrandAsset, BrandFolder, Tag
    from apps.posts.models import CaptionUsage, Post, PostAsset, Publication, ReviewEvent
    from apps.social.models import ConnectedAccount, TokenEvent
    from apps.webhooks.models import WebhookDelivery, WebhookEndpoint

    tenant = export.tenant
    yield "format", EXPORT_FORMAT
    yield "format_version", EXPORT_FORMAT_VERSION
    yield "exported_at", timezone.now()
    yield "export_id", export.pk
    yield "tenant", _tenant_data(tenant)
    yield (
        "members",
        _rows(
            Membership.objects.for_tenant(tenant),
            "role",
            "created_at",
            email="user__email",
            name="user__name",
        ),
    )
    yield (
        "invitations",
        _rows(
            Invitation.objects.for_tenant(tenant),
            "id",
            "email",
            "role",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
            invited_by_email="invited_by__email",
        ),
    )
    yield (
        "api_keys",
        _rows(
            ApiKey.objects.for_tenant(tenant),
            "id",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "last_used_at",
            "revoked_at",
            created_by_email="created_by__email",
        ),
    )
    yield (
        "connected_accounts",
        _rows(
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
        _rows(
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
    yield (
        "folders",
        _rows(
            BrandFolder.objects.for_tenant(tenant),
            "id",
            "name",
            "parent_id",
            "created_at",
            created_by_email="created_by__email",
        ),
    )
    yield "tags", _rows(Tag.objects.for_tenant(tenant), "id", "name")
    assets = _rows(
        BrandAsset.objects.for_tenant(tenant),
        "id",
        "folder_id",
        "original_filename",
        "content_type",
        "size",
        "width",
        "height",
        "sha256",
        "alt_text",
        "metadata",
        "uploaded_at",
        uploaded_by_email="uploaded_by__email",
    )
    yield "assets", ({**row, "file": files.get(row["id"])} for row in assets)
    yield (
        "asset_tags",
        _rows(
            BrandAsset.tags.through.objects.filter(brandasset__tenant=tenant),
            "tag_id",
            asset_id="brandasset_id",
        ),
    )
    yield (
        "posts",
        _rows(
            Post.objects.for_tenant(tenant),
            "id",
            "caption",
            "caption_overrides",
            "link",
            "status",
            "scheduled_for",
            "created_at",
            "updated_at",
            "submitted_at",
            "reviewed_at",
            "review_note",
            "published_at",
            created_by_email="created_by__email",
            reviewed_by_email="reviewed_by__email",
        ),
    )
    yield (
        "post_targets",
        _rows(
            Post.targets.through.objects.filter(post__tenant=tenant),
            "post_id",
            account_id="connectedaccount_id",
        ),
    )
    yield (
        "post_assets",
        _rows(PostAsset.objects.filter(post__tenant=tenant), "post_id", "asset_id", "position"),
    )
    yield (
        "publications",
        _rows(
            Publication.objects.for_tenant(tenant),
            "id",
            "post_id",
            "account_id",
            "status",
            "attempts",
            "last_error",
            "error_code",
            "error_subcode",
            "container_id",
            "child_ids",
            "platform_post_id",
            "permalink",
            "published_at",
            "likes",
            "comments",
            "shares",
            "reactions",
            "engagement_synced_at",
            "created_at",
            "updated_at",
        ),
    )
    yield (
        "review_events",
        _rows(
            ReviewEvent.objects.for_tenant(tenant),
            "id",
            "post_id",
            "kind",
            "note",
            "from_status",
            "to_status",
            "created_at",
            actor_email="actor__email",
        ),
    )
    yield (
        "caption_usage",
        _rows(
            CaptionUsage.objects.for_tenant(tenant),
            "id",
            "provider",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "created_at",
        ),
    )
    yield (
        "webhook_endpoints",
        _rows(
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


# --- Deleting a tenant ---------------------------------------------------------------------------


@dataclass
class TenantDeletion:
    tenant_name: str
    accounts_disconnected: int = 0
    publications_cancelled: int = 0
    rows_deleted: int = 0
    problems: list[str] = field(default_factory=list)  # for the log and the owner, no secrets


def tenant_holdings(*, tenant: Tenant) -> dict[str, int]:
    """What deleting the tenant would delete, in the words of the confirmation page."""
    from apps.assets.models import BrandAsset
    from apps.posts.models import Post
    from apps.social.models import ConnectedAccount

    return {
        "members": Membership.objects.for_tenant(tenant).count(),
        "connected accounts": ConnectedAccount.objects.for_tenant(tenant)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
        .count(),
        "images": BrandAsset.objects.for_tenant(tenant).count(),
        "posts": Post.objects.for_tenant(tenant).count(),
    }


def _tenant_publishing_stop(tenant: Tenant) -> int:
    """Cancel the tenant's unfinished publications, so the dispatcher claims none of them again
    and a run in progress loses its claim before its next step."""
    from apps.posts.models import Publication

    p = Publication.Status
    with transaction.atomic():
        return (
            Publication.objects.for_tenant(tenant)
            .filter(status__in=[p.PENDING, p.WAITING, p.PUBLISHING])
            .update(
                status=p.CANCELLED,
                next_attempt_at=None,
                claim_token="",
                claimed_at=None,
                wait_reason="The business was deleted.",
            )
        )


def _tenant_tokens_release(membership: Membership, result: TenantDeletion) -> None:
    """Disconnect every account through the social app's own service (tokens deleted, grants no
    one else uses revoked at Facebook), then release user tokens no account used any more.
    Graph errors never stop the deletion: the tokens are deleted here either way."""
    from apps.social import services as social
    from apps.social.models import AccessToken, ConnectedAccount

    tenant = membership.tenant
    accounts = (
        ConnectedAccount.objects.for_tenant(tenant)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
        .order_by("pk")
    )
    for account in accounts:
        try:
            social.account_disconnect(membership=membership, account=account)
        except Exception as exc:
            logger.warning(
                "tenant_delete_disconnect_failed", account_id=account.pk, error=type(exc).__name__
            )
            result.problems.append(f"{account}: could not be disconnected ({type(exc).__name__})")
        else:
            result.accounts_disconnected += 1
    leftovers = set(
        AccessToken.objects.for_tenant(tenant)
        .filter(kind=AccessToken.Kind.USER_LONG_LIVED)
        .values_list("facebook_user_id", flat=True)
    )
    for facebook_user_id in sorted(leftovers):
        try:
            with transaction.atomic():
                token = social._release_user_token(tenant=tenant, facebook_user_id=facebook_user_id)
            if token is not None:
                social._revoke(tenant, token)
        except Exception as exc:
            logger.warning("tenant_delete_revoke_failed", error=type(exc).__name__)
            result.problems.append(f"A Facebook grant could not be revoked ({type(exc).__name__})")


def _tenant_rows_delete(tenant: Tenant) -> int:
    """Delete the tenant and every row it owns. PROTECT edges inside the tenant (publication →
    account, post image → asset, asset → folder, folder → parent) would refuse a plain cascade,
    so the content goes from the leaves up first. Files follow on commit (``post_delete`` hooks of
    assets and exports)."""
    from apps.assets.models import BrandAsset, BrandFolder
    from apps.posts.models import Post

    deleted = Post.objects.for_tenant(tenant).delete()[0]
    deleted += BrandAsset.objects.for_tenant(tenant).delete()[0]
    BrandFolder.objects.for_tenant(tenant).update(parent=None)
    deleted += BrandFolder.objects.for_tenant(tenant).delete()[0]
    deleted += tenant.delete()[0]
    return deleted


def tenant_delete(*, membership: Membership, confirm_name: str) -> TenantDeletion:
    """Delete the membership's tenant and everything it owns (owners only; ``confirm_name`` must
    be the business's name). People keep their user accounts. Run it outside a transaction:
    publishing is stopped and tokens are revoked at Facebook first, then the rows go in one
    transaction and their files when it commits."""
    _require_owner(membership, "delete the business")
    tenant = membership.tenant
    if " ".join(confirm_name.split()) != " ".join(tenant.name.split()):
        raise ApplicationError(
            f"Type the business's name, “{tenant.name}”, exactly to confirm.",
            code="confirmation_mismatch",
        )
    result = TenantDeletion(tenant_name=tenant.name)
    log = logger.bind(tenant_id=tenant.pk, user_id=membership.user_id)
    log.info("tenant_deletion_started")
    result.publications_cancelled = _tenant_publishing_stop(tenant)
    _tenant_tokens_release(membership, result)
    with transaction.atomic():
        _lock_tenant(tenant)
        if not Membership.objects.filter(pk=membership.pk, role=Role.OWNER).exists():
            raise NotPermitted("Only owners can delete the business.")
        prefixes = list(ApiKey.objects.for_tenant(tenant).values_list("prefix", flat=True))
        result.rows_deleted = _tenant_rows_delete(tenant)
        # Revoked keys must stop working at once, not when their cache entry expires.
        transaction.on_commit(lambda: cache.delete_many([_api_key_cache_key(p) for p in prefixes]))
    log.info(
        "tenant_deleted",
        rows=result.rows_deleted,
        accounts_disconnected=result.accounts_disconnected,
        publications_cancelled=result.publications_cancelled,
        problems=result.problems,
    )
    return result

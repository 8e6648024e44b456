"""A tenant's data as a whole: the export (a Celery job writing a ZIP of data.json and the
original files) and deleting a tenant with everything it owns (docs/operations.md).

Each app contributes its own part (``apps/<app>/tenant_data.py``, registered with
``apps.core.hooks``); this module writes the accounts app's part and runs the others' in
dependency order (teardown in reverse), so it imports none of them."""

import json
import secrets
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import (
    ApiKey,
    Invitation,
    Membership,
    Role,
    Tenant,
    TenantExport,
)
from apps.accounts.services import api_key_cache_key, owners_notify, tenant_lock
from apps.core import hooks
from apps.core.exceptions import ApplicationError, NotPermitted
from apps.core.hooks import TenantDataHook, TenantExportContext, TenantReleaseReport, export_rows
from apps.core.queueing import task_queue_on_commit

logger = structlog.get_logger(__name__)


# --- Data export -------------------------------------------------------------------------------

EXPORT_FORMAT = "social-automation.tenant-export"
EXPORT_FORMAT_VERSION = 1
# An export still waiting or running after this long was lost (its job never ran, or its worker
# died): a new request, or a redelivered job, takes it over.
EXPORT_STALE_AFTER = timedelta(hours=1)
EXPORT_FILES_DIR = "exports"
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
    _require_owner(membership, "export the business's data")
    tenant = membership.tenant
    now = timezone.now()
    with transaction.atomic():
        tenant_lock(tenant)
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
        task_queue_on_commit("accounts.tenant_export_build", export.pk)
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
        context = TenantExportContext(tenant=export.tenant, export_id=export.pk, archive=archive)
        parts = hooks.tenant_data_hooks()
        for part in parts:  # the files first: data.json is written last, streamed
            if part.export_files is not None:
                part.export_files(context)
        with archive.open("data.json", "w", force_zip64=True) as stream:
            _write_json(stream, _export_sections(context, parts))


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


def _tenant_data(tenant: Tenant) -> dict[str, Any]:
    data = {
        f.name: getattr(tenant, f.attname)
        for f in Tenant._meta.concrete_fields
        if not f.is_relation
    }
    data["brand_profile"] = {k: data.pop(k) for k in BRAND_PROFILE_FIELDS if k in data}
    return data


def _export_sections(
    context: TenantExportContext, parts: Iterable[TenantDataHook]
) -> Iterator[tuple[str, Any]]:
    """Everything the tenant owns, by table: the header, then each app's sections. Tokens,
    token hashes, webhook secrets and API key hashes are never among the columns."""
    yield "format", EXPORT_FORMAT
    yield "format_version", EXPORT_FORMAT_VERSION
    yield "exported_at", timezone.now()
    yield "export_id", context.export_id
    yield "tenant", _tenant_data(context.tenant)
    for part in parts:
        if part.export_sections is not None:
            yield from part.export_sections(context)


def export_sections(context: TenantExportContext) -> Iterator[tuple[str, Any]]:
    """The accounts app's part: members, invitations and API keys (never a key's hash)."""
    tenant = context.tenant
    yield (
        "members",
        export_rows(
            Membership.objects.for_tenant(tenant),
            "role",
            "created_at",
            email="user__email",
            name="user__name",
        ),
    )
    yield (
        "invitations",
        export_rows(
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
        export_rows(
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


# --- Deleting a tenant ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class TenantDeletion(TenantReleaseReport):
    tenant_name: str
    rows_deleted: int = 0

    @property
    def accounts_disconnected(self) -> int:
        return self.counts.get("accounts_disconnected", 0)

    @property
    def publications_cancelled(self) -> int:
        return self.counts.get("publications_cancelled", 0)


def tenant_holdings(*, tenant: Tenant) -> dict[str, int]:
    """What deleting the tenant would delete, in the words of the confirmation page."""
    out: dict[str, int] = {}
    for part in hooks.tenant_data_hooks():
        if part.holdings is not None:
            out.update(part.holdings(tenant))
    return out


def holdings(tenant: Tenant) -> dict[str, int]:
    return {"members": Membership.objects.for_tenant(tenant).count()}


def _tenant_rows_delete(tenant: Tenant) -> int:
    """Delete the tenant and every row it owns. PROTECT edges inside the tenant (publication →
    account, post image → asset, asset → folder, folder → parent) would refuse a plain cascade,
    so each app deletes its content first, dependents first. Files follow on commit
    (``post_delete`` hooks of assets and exports)."""
    deleted = 0
    for part in reversed(hooks.tenant_data_hooks()):
        if part.rows_delete is not None:
            deleted += part.rows_delete(tenant)
    return deleted + tenant.delete()[0]


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
    # Stop work and revoke access at third parties first (publishing before tokens): no
    # transaction, and a failure is a problem to report, not a reason to keep the data.
    for part in reversed(hooks.tenant_data_hooks()):
        if part.release is not None:
            part.release(membership, result)
    with transaction.atomic():
        tenant_lock(tenant)
        if not Membership.objects.filter(pk=membership.pk, role=Role.OWNER).exists():
            raise NotPermitted("Only owners can delete the business.")
        prefixes = list(ApiKey.objects.for_tenant(tenant).values_list("prefix", flat=True))
        result.rows_deleted = _tenant_rows_delete(tenant)
        # Revoked keys must stop working at once, not when their cache entry expires.
        transaction.on_commit(lambda: cache.delete_many([api_key_cache_key(p) for p in prefixes]))
    log.info(
        "tenant_deleted",
        rows=result.rows_deleted,
        accounts_disconnected=result.accounts_disconnected,
        publications_cancelled=result.publications_cancelled,
        problems=result.problems,
    )
    return result


TENANT_DATA = TenantDataHook(export_sections=export_sections, holdings=holdings)

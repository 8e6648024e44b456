"""A tenant's data as a whole: the export (a Celery job writing a ZIP of data.json and the
original files) and deleting a tenant with everything it owns (docs/operations.md)."""

import json
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Count, Max, Q
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
from apps.core.exceptions import ApplicationError, NotPermitted

logger = structlog.get_logger(__name__)


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
        "removed_at",
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
    from apps.posts.models import Publication, PublicationEvent
    from apps.posts.publication_states import Step, publications_move

    p = Publication.Status
    with transaction.atomic():
        rows = list(
            Publication.objects.for_tenant(tenant)
            .select_for_update()
            .filter(status__in=[p.PENDING, p.WAITING, p.PUBLISHING])
            .only("pk", "tenant_id", "status")
        )
        reason = "The business was deleted."
        return publications_move(
            rows,
            p.CANCELLED,
            kind=PublicationEvent.Kind.CANCELLED,
            fields={
                "next_attempt_at": None,
                "claim_token": "",
                "claimed_at": None,
                "wait_reason": reason,
            },
            step=Step(note=reason),
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
            social.facebook_grant_release(tenant=tenant, facebook_user_id=facebook_user_id)
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

"""The assets app's part of a tenant's export and deletion (``apps.core.hooks``; collected by
``apps.accounts.tenant_data``)."""

import shutil
import zipfile
from collections.abc import Iterator
from typing import Any

import structlog
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.assets import uploads
from apps.assets.models import BrandAsset, BrandFolder, Tag
from apps.core.hooks import TenantDataHook, TenantExportContext, export_rows

logger = structlog.get_logger(__name__)

_COPY_CHUNK = 1024 * 1024


def export_files(context: TenantExportContext) -> None:
    """Copy each asset's stored file into ``files/assets/``, chunk by chunk; the path in the
    archive per asset id (None when the file is missing from storage) is kept for the sections."""
    paths: dict[int, str | None] = {}
    rows = BrandAsset.objects.for_tenant(context.tenant).order_by("pk").values_list("pk", "file")
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
        with source, context.archive.open(info, "w", force_zip64=True) as target:
            shutil.copyfileobj(source, target, _COPY_CHUNK)
        paths[asset_id] = path
    context.state["assets"] = paths


def export_sections(context: TenantExportContext) -> Iterator[tuple[str, Any]]:
    tenant = context.tenant
    files: dict[int, str | None] = context.state.get("assets", {})
    yield (
        "folders",
        export_rows(
            BrandFolder.objects.for_tenant(tenant),
            "id",
            "name",
            "parent_id",
            "created_at",
            created_by_email="created_by__email",
        ),
    )
    yield "tags", export_rows(Tag.objects.for_tenant(tenant), "id", "name")
    assets = export_rows(
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
        export_rows(
            BrandAsset.tags.through.objects.filter(brandasset__tenant=tenant),
            "tag_id",
            asset_id="brandasset_id",
        ),
    )


def holdings(tenant: Tenant) -> dict[str, int]:
    return {"images": BrandAsset.objects.for_tenant(tenant).count()}


def rows_delete(tenant: Tenant) -> int:
    """Assets, then folders (a folder PROTECTs its parent and its assets); the files follow on
    commit (the assets' ``post_delete`` hook); resumable upload sessions first (they point at
    both), their partial files on commit too."""
    deleted = uploads.tenant_uploads_delete(tenant=tenant)
    deleted += BrandAsset.objects.for_tenant(tenant).delete()[0]
    BrandFolder.objects.for_tenant(tenant).update(parent=None)
    deleted += BrandFolder.objects.for_tenant(tenant).delete()[0]
    return deleted


TENANT_DATA = TenantDataHook(
    export_files=export_files,
    export_sections=export_sections,
    holdings=holdings,
    rows_delete=rows_delete,
)

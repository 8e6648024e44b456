"""Reads for the asset library."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from apps.accounts.models import Tenant
from apps.assets.models import AssetUpload, BrandAsset, BrandFolder, Tag


@dataclass(frozen=True)
class FolderNode:
    folder: BrandFolder
    depth: int
    asset_count: int


def folder_tree(*, tenant: Tenant) -> list[FolderNode]:
    """Every folder of the tenant in display order (depth-first, by name), in one query."""
    folders = list(
        BrandFolder.objects.for_tenant(tenant)
        .annotate(asset_count=Count("assets", filter=Q(assets__removed_at__isnull=True)))
        .order_by("name")
    )
    children: dict[int | None, list[BrandFolder]] = {}
    for folder in folders:
        children.setdefault(folder.parent_id, []).append(folder)
    ordered: list[FolderNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for folder in children.get(parent_id, []):
            ordered.append(FolderNode(folder, depth, folder.asset_count))  # type: ignore[attr-defined]
            walk(folder.pk, depth + 1)

    walk(None, 0)
    return ordered


def asset_list(
    *,
    tenant: Tenant,
    folder: BrandFolder | None = None,
    top_level_only: bool = False,
    query: str = "",
    tag: str = "",
) -> QuerySet[BrandAsset]:
    """Assets of the tenant's library (removed ones left out), newest first, filtered by
    folder, a search text (name, alt text or tag) and a tag."""
    assets = BrandAsset.objects.for_tenant(tenant).in_library().select_related("folder")
    if folder is not None:
        assets = assets.filter(folder=folder)
    elif top_level_only:
        assets = assets.filter(folder__isnull=True)
    if query:
        assets = assets.filter(
            Q(original_filename__icontains=query)
            | Q(alt_text__icontains=query)
            | Q(tags__name__iexact=query.lstrip("#"))
        ).distinct()
    if tag:
        assets = assets.filter(tags__name__iexact=tag)
    return assets.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


def tag_list(*, tenant: Tenant) -> QuerySet[Tag]:
    in_library = Q(assets__removed_at__isnull=True)
    return (
        Tag.objects.for_tenant(tenant)
        .annotate(uses=Count("assets", filter=in_library))
        .filter(uses__gt=0)
    )


def asset_upload_get(*, tenant: Tenant, id: int) -> AssetUpload:
    """The tenant's resumable upload session; another tenant's id (or none) is a 404."""
    upload = AssetUpload.objects.for_tenant(tenant).filter(pk=id).first()
    if upload is None:
        raise Http404
    return upload

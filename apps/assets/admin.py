from django.contrib import admin
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from apps.assets.models import BrandAsset, BrandFolder, Tag
from apps.assets.views import serve_file, thumbnail_content_type


@admin.register(BrandFolder)
class BrandFolderAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "parent", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["name", "tenant__name"]
    list_select_related = ["tenant", "parent"]
    readonly_fields = ["tenant", "parent", "created_by", "created_at"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant"]
    list_filter = ["tenant"]
    search_fields = ["name"]


@admin.register(BrandAsset)
class BrandAssetAdmin(admin.ModelAdmin):
    """Staff browse every tenant's images; files change only through the dashboard's upload."""

    list_display = [
        "preview",
        "original_filename",
        "tenant",
        "folder",
        "dimensions",
        "size",
        "uploaded_at",
    ]
    list_filter = ["tenant", "content_type"]
    search_fields = ["original_filename", "alt_text", "sha256", "tenant__name"]
    list_select_related = ["tenant", "folder"]
    date_hierarchy = "uploaded_at"
    readonly_fields = [
        "large_preview",
        "tenant",
        "folder",
        "original_filename",
        "content_type",
        "size",
        "width",
        "height",
        "sha256",
        "metadata",
        "uploaded_by",
        "uploaded_at",
    ]
    fields = [*readonly_fields[:1], "alt_text", *readonly_fields[1:]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        thumbnail = path(
            "<int:pk>/thumbnail/",
            self.admin_site.admin_view(self.thumbnail_view),
            name="assets_brandasset_thumbnail",
        )
        return [thumbnail, *super().get_urls()]

    def thumbnail_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        asset = get_object_or_404(BrandAsset, pk=pk)
        return serve_file(asset.thumbnail.name, thumbnail_content_type(asset))

    @admin.display(description="")
    def preview(self, asset: BrandAsset) -> str:
        url = reverse("admin:assets_brandasset_thumbnail", args=[asset.pk])
        return format_html('<img src="{}" alt="" class="admin-asset-thumb">', url)

    @admin.display(description="Preview")
    def large_preview(self, asset: BrandAsset) -> str:
        url = reverse("admin:assets_brandasset_thumbnail", args=[asset.pk])
        return format_html('<img src="{}" alt="" class="admin-asset-preview">', url)

    @admin.display(description="Size (px)")
    def dimensions(self, asset: BrandAsset) -> str:
        return f"{asset.width} x {asset.height}"

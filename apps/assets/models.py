from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from apps.core.models import TenantOwnedModel, TenantQuerySet


class BrandFolder(TenantOwnedModel):
    """A folder of the asset library; folders form a tree per tenant."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Names are unique among siblings, ignoring case; top-level folders are siblings too.
            models.UniqueConstraint(
                "tenant",
                "parent",
                Lower("name"),
                condition=Q(parent__isnull=False),
                name="folder_unique_name_in_parent",
            ),
            models.UniqueConstraint(
                "tenant",
                Lower("name"),
                condition=Q(parent__isnull=True),
                name="folder_unique_name_at_top",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tag(TenantOwnedModel):
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="tag_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class BrandAssetQuerySet(TenantQuerySet["BrandAsset"]):
    def in_library(self) -> Self:
        """Assets the library shows: not removed (see ``removed_at``)."""
        return self.filter(removed_at__isnull=True)


class BrandAsset(TenantOwnedModel):
    """An image of the brand library. The stored file is re-encoded from decoded pixels: no
    metadata (GPS!) and nothing appended survives; ``sha256`` is of the uploaded bytes.

    An asset deleted while finished posts still use it is *removed* instead (``removed_at``
    set): it leaves the library (lists, search, pickers, counts) but its row and files stay so
    those posts' history still shows it (docs/assets.md)."""

    folder = models.ForeignKey(
        BrandFolder, on_delete=models.PROTECT, null=True, blank=True, related_name="assets"
    )
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    instagram_rendition = models.FileField(max_length=255, blank=True)
    original_filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    tags = models.ManyToManyField(Tag, blank=True, related_name="assets")
    alt_text = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True, db_index=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = BrandAssetQuerySet.as_manager()  # type: ignore[misc]  # a narrower queryset

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            # The same bytes are stored once per tenant.
            models.UniqueConstraint(fields=["tenant", "sha256"], name="asset_unique_bytes"),
        ]

    def __str__(self) -> str:
        return self.original_filename

    @property
    def aspect_ratio(self) -> float:
        return self.width / self.height if self.height else 0.0

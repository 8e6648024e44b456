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
    """An image or a video of the brand library.

    An image is checked and stored in the upload request and is ``ready`` at once. A video is
    stored as uploaded and ``processing`` until a Celery job has probed it (duration, size,
    codecs) and made its poster frame (the thumbnail): then ``ready``, or ``failed`` with a
    ``failure_reason`` (docs/assets.md, "Videos").

    A probed video that breaks a network's rule re-encoding fixes (codec, container, frame
    rate, bytes) is converted by a second job into an H.264/AAC MP4, ``video_rendition``:
    ``transcode_status`` converting (``transcode_progress`` 0-100) then done, or failed with
    ``transcode_failure_reason``; the video stays ``ready`` either way, the original usable.

    An image's stored file is re-encoded from decoded pixels: no
    metadata (GPS!) and nothing appended survives; ``sha256`` is of the uploaded bytes.

    An asset deleted while finished posts still use it is *removed* instead (``removed_at``
    set): it leaves the library (lists, search, pickers, counts) but its row and files stay so
    those posts' history still shows it (docs/assets.md)."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Transcode(models.TextChoices):
        NOT_NEEDED = "", "Not needed"
        CONVERTING = "converting", "Converting"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    folder = models.ForeignKey(
        BrandFolder, on_delete=models.PROTECT, null=True, blank=True, related_name="assets"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.IMAGE)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.READY)
    failure_reason = models.CharField(max_length=500, blank=True)
    file = models.FileField(max_length=255)
    # An image's thumbnail, or a video's poster frame (empty until the video is probed).
    thumbnail = models.FileField(max_length=255, blank=True)
    instagram_rendition = models.FileField(max_length=255, blank=True)
    original_filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(default=0)  # a video's: 0 until probed
    height = models.PositiveIntegerField(default=0)
    # A video's probed facts (null / empty for an image, and until probed).
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    frame_rate = models.FloatField(null=True, blank=True, help_text="Frames per second.")
    video_codec = models.CharField(max_length=30, blank=True)
    audio_codec = models.CharField(max_length=30, blank=True)
    bitrate = models.PositiveBigIntegerField(null=True, blank=True, help_text="Bits per second.")
    # The H.264/AAC MP4 a network is sent instead of the original (docs/assets.md, "Videos").
    video_rendition = models.FileField(max_length=255, blank=True)
    transcode_status = models.CharField(
        max_length=12, choices=Transcode.choices, default=Transcode.NOT_NEEDED, blank=True
    )
    transcode_progress = models.PositiveSmallIntegerField(default=0, help_text="0-100.")
    transcode_attempts = models.PositiveSmallIntegerField(default=0)
    transcode_failure_reason = models.CharField(max_length=500, blank=True)
    # The rendition's probed facts (duration, width, height, frame_rate, codecs, size, bitrate).
    rendition_facts = models.JSONField(default=dict, blank=True)
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
    def is_video(self) -> bool:
        return self.kind == self.Kind.VIDEO

    @property
    def duration_badge(self) -> str:
        """A video's length as the grid's badge shows it ("0:12"); "" for an image."""
        from apps.assets.videos import badge_label  # the pipeline imports PyAV: only when shown

        return badge_label(self.duration) if self.is_video else ""

    @property
    def is_converting(self) -> bool:
        return self.transcode_status == self.Transcode.CONVERTING

    @property
    def converting_label(self) -> str:
        """ "Converting for Instagram and Facebook… 40 %" while the rendition is made."""
        if not self.is_converting:
            return ""
        from apps.assets.videos import transcode_networks  # imports PyAV: only when shown
        from apps.networks import registry

        networks = transcode_networks(
            registry.video_rules(),
            content_type=self.content_type,
            frame_rate=self.frame_rate,
            video_codec=self.video_codec,
            audio_codec=self.audio_codec,
            size=self.size,
        )
        return (
            f"Converting for {' and '.join(networks) or 'every network'}… "
            f"{self.transcode_progress} %"
        )

    @property
    def aspect_ratio(self) -> float:
        return self.width / self.height if self.height else 0.0


class AssetUpload(TenantOwnedModel):
    """A resumable upload of one large file (docs/assets.md, "Resumable uploads"): declared up
    front (name, size, type), received in chunks appended at the current offset into a
    temporary file, then completed into a :class:`BrandAsset` by the same service as a
    single-request upload. ``received`` is the offset the next chunk must start at."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"  # taking chunks
        COMPLETING = "completing", "Completing"  # all bytes in; the asset is being made
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(help_text="Declared total size in bytes.")
    sha256 = models.CharField(max_length=64, blank=True, help_text="Declared, checked if given.")
    received = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    failure_reason = models.CharField(max_length=500, blank=True)
    failure_code = models.CharField(max_length=50, blank=True)
    # Relative to the upload directory (uploads.upload_dir()); "" once deleted.
    temp_path = models.CharField(max_length=255, blank=True)
    # What the asset gets on completion, as a single upload takes them.
    folder = models.ForeignKey(
        BrandFolder, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    alt_text = models.CharField(max_length=500, blank=True)
    tags = models.JSONField(default=list, blank=True)
    asset = models.ForeignKey(
        BrandAsset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    duplicate = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename

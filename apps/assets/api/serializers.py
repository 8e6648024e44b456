import json
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.assets import services
from apps.assets.models import AssetUpload, BrandAsset, BrandFolder
from apps.core.api import fields
from apps.core.api.serializers import BodySerializer, ModelSerializer, QuerySerializer


class TenantPrimaryKeyRelatedField(fields.PrimaryKeyRelatedField):
    """An id of one of the request's tenant's rows: another tenant's id is "does not exist"."""

    def get_queryset(self) -> QuerySet[Any]:
        queryset: Any = super().get_queryset()
        return queryset.for_tenant(self.context["tenant"])


class FolderSerializer(ModelSerializer):
    parent = TenantPrimaryKeyRelatedField(  # type: ignore[assignment]  # stubs: Field.parent
        queryset=BrandFolder.objects.all(),
        allow_null=True,
        required=False,
        help_text="The folder it is in; null at the top level.",
    )

    class Meta:
        model = BrandFolder
        fields = ["id", "name", "parent", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"name": {"required": True, "help_text": "Unique among its siblings."}}


class FolderDeleteQuerySerializer(QuerySerializer):
    mode = serializers.ChoiceField(
        choices=["move_to_parent", "delete_contents"],
        required=False,
        help_text="What happens to a non-empty folder's contents; without it, only an empty "
        "folder is deleted (else 400 `not_empty`).",
    )


class AssetSerializer(ModelSerializer):
    name = serializers.CharField(source="original_filename", help_text="Display name.")
    folder = TenantPrimaryKeyRelatedField(
        queryset=BrandFolder.objects.all(), allow_null=True, help_text="null: the top level."
    )
    tags = serializers.SerializerMethodField()
    instagram_problems = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    poster_url = serializers.SerializerMethodField()
    network_warnings = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = BrandAsset
        fields = [
            "id",
            "name",
            "kind",
            "status",
            "failure_reason",
            "folder",
            "tags",
            "alt_text",
            "content_type",
            "width",
            "height",
            "size",
            "duration",
            "frame_rate",
            "video_codec",
            "audio_codec",
            "bitrate",
            "transcode_status",
            "transcode_progress",
            "transcode_failure_reason",
            "sha256",
            "instagram_problems",
            "network_warnings",
            "thumbnail_url",
            "poster_url",
            "file_url",
            "uploaded_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, asset: BrandAsset) -> list[str]:
        return sorted((t.name for t in asset.tags.all()), key=str.lower)

    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(),
            help_text="Why the image cannot go to the Instagram feed; empty when it can.",
        )
    )
    def get_instagram_problems(self, asset: BrandAsset) -> list[str]:
        return services.asset_rendition_problems(asset=asset)

    def _url(self, name: str, asset: BrandAsset) -> str:
        path = reverse(name, kwargs={"brand_asset_id": asset.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(),
            help_text="A ready video: what each network's Reels and Stories would refuse "
            "(“Too long for an Instagram Reel (16 min; at most 15 min)”); empty for an image.",
        )
    )
    def get_network_warnings(self, asset: BrandAsset) -> list[str]:
        return services.asset_video_warnings(asset=asset)

    @extend_schema_field(
        serializers.URLField(
            allow_null=True,
            help_text="Dashboard URL (a signed-in member's session); null for a video still "
            "processing or failed (no poster frame).",
        )
    )
    def get_thumbnail_url(self, asset: BrandAsset) -> str | None:
        return self._url("assets:thumbnail", asset) if asset.thumbnail.name else None

    @extend_schema_field(
        serializers.URLField(
            allow_null=True,
            help_text="A video's poster frame (JPEG, about 1 s in), once probed; null otherwise.",
        )
    )
    def get_poster_url(self, asset: BrandAsset) -> str | None:
        if not asset.is_video or not asset.thumbnail.name:
            return None
        return self._url("assets:thumbnail", asset)

    @extend_schema_field(
        serializers.URLField(help_text="Dashboard URL (a signed-in member's session).")
    )
    def get_file_url(self, asset: BrandAsset) -> str:
        return self._url("assets:file", asset)


class AssetUploadResultSerializer(AssetSerializer):
    duplicate = serializers.BooleanField(
        help_text="True when the same bytes were already in the library: that asset is returned "
        "and nothing new is stored (status 200)."
    )

    class Meta(AssetSerializer.Meta):
        fields = [*AssetSerializer.Meta.fields, "duplicate"]
        read_only_fields = fields


class FormTextField(fields.CharField):
    """Text of a multipart form. A value that is a whole JSON object or array means the client
    encoded a structure where the schema says text (every multipart value arrives as a
    string, so nothing else could tell): refused rather than stored as "{}"."""

    default_error_messages = {"structure": "Text, not a JSON object or array."}

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if text.strip()[:1] in ("{", "["):
            try:
                decoded = json.loads(text)
            except ValueError:
                return text
            if isinstance(decoded, dict | list):
                self.fail("structure")
        return text


class AssetUploadSerializer(BodySerializer):
    representation = AssetUploadResultSerializer

    file = serializers.FileField(
        help_text="A photo (JPEG, PNG, WebP or still GIF) or a video (MP4 or MOV); the type "
        "is read from the bytes."
    )
    folder = TenantPrimaryKeyRelatedField(
        queryset=BrandFolder.objects.all(),
        required=False,
        help_text="A folder id; without it, the top level.",
    )
    tags = FormTextField(required=False, allow_blank=True, default="", help_text="Comma-separated.")
    alt_text = FormTextField(required=False, allow_blank=True, default="", max_length=500)


class AssetUpdateSerializer(BodySerializer):
    representation = AssetSerializer

    name = fields.CharField(required=False, max_length=200)
    alt_text = fields.CharField(required=False, allow_blank=True, max_length=500)
    tags = serializers.ListField(
        child=fields.CharField(max_length=50),
        required=False,
        help_text="Replaces the tags.",
    )
    folder = TenantPrimaryKeyRelatedField(
        queryset=BrandFolder.objects.all(), allow_null=True, required=False
    )


@extend_schema_field({"type": "string", "minLength": 1, "pattern": "^[^\\x00]*$"})
class QueryTextField(fields.CharField):
    """A text query parameter, taken as it is: any non-empty text without a NUL character (DRF
    refuses those in every CharField; the schema says so, for clients and schemathesis). Not
    trimmed, so that text of only whitespace is a (matchless) filter, not a blank one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)


class AssetQuerySerializer(QuerySerializer):
    folder = fields.IntegerField(
        required=False, help_text="Only this folder's assets (none for an unknown folder)."
    )
    tag = QueryTextField(required=False, help_text="Only assets with this tag.")
    q = QueryTextField(
        required=False,
        help_text="Search in names, alt texts and tags (a tag matches exactly).",
    )


class AssetUploadSessionSerializer(serializers.ModelSerializer):
    """A resumable upload session (docs/api.md, "Resumable uploads")."""

    offset = serializers.IntegerField(
        source="received",
        read_only=True,
        help_text="Bytes received so far: the next chunk's `Upload-Offset`.",
    )
    folder = serializers.IntegerField(source="folder_id", read_only=True, allow_null=True)
    asset = serializers.IntegerField(
        source="asset_id",
        read_only=True,
        allow_null=True,
        help_text="The asset made on completion.",
    )
    max_chunk_bytes = serializers.SerializerMethodField()

    class Meta:
        model = AssetUpload
        fields = [
            "id",
            "filename",
            "content_type",
            "size",
            "sha256",
            "offset",
            "status",
            "failure_reason",
            "failure_code",
            "folder",
            "tags",
            "alt_text",
            "asset",
            "max_chunk_bytes",
            "created_at",
            "expires_at",
            "completed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(help_text="The largest chunk taken, in bytes."))
    def get_max_chunk_bytes(self, upload: AssetUpload) -> int:
        return int(settings.ASSET_UPLOAD_CHUNK_MAX_BYTES)


class AssetUploadCreateSerializer(BodySerializer):
    representation = AssetUploadSessionSerializer

    filename = fields.CharField(max_length=200, help_text="The file's name, for display.")
    size = fields.IntegerField(
        min_value=1, help_text="The whole file's size in bytes (the upload's length)."
    )
    content_type = fields.CharField(
        max_length=100,
        help_text="`video/mp4`, `video/quicktime` or an `image/…` type; the asset's type is "
        "still read from the bytes on completion.",
    )
    sha256 = fields.CharField(
        required=False,
        allow_blank=True,
        default="",
        min_length=64,
        max_length=64,
        help_text="Optional: the file's SHA-256 (hex); a different file fails the completion.",
    )
    folder = TenantPrimaryKeyRelatedField(
        queryset=BrandFolder.objects.all(),
        required=False,
        allow_null=True,
        help_text="A folder id; without it, the top level.",
    )
    tags = serializers.ListField(child=fields.CharField(max_length=50), required=False)
    alt_text = fields.CharField(required=False, allow_blank=True, default="", max_length=500)

"""Posts and publications as the API shows them. Representations read only prefetched rows (the
list answers in a constant number of queries); writes go to ``apps.posts.services``."""

from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.assets.api.serializers import TenantPrimaryKeyRelatedField
from apps.assets.models import BrandAsset
from apps.core.api import fields
from apps.core.api.serializers import BodySerializer, ModelSerializer, QuerySerializer
from apps.networks.registry import networks
from apps.posts import services
from apps.posts.models import Post, Publication
from apps.posts.selectors import DATE_FILTER_MESSAGE, date_filter_ok
from apps.social.models import ConnectedAccount, Platform


class PublicationSerializer(ModelSerializer):
    platform = serializers.ChoiceField(
        choices=Platform.choices, source="account.platform", read_only=True
    )
    # Empty until published: a string, not a URI, in the schema.
    permalink = serializers.CharField(read_only=True, help_text="The post on the network.")

    class Meta:
        model = Publication
        fields = [
            "id",
            "post",
            "account",
            "platform",
            "status",
            "attempts",
            "wait_reason",
            "next_attempt_at",
            "last_error",
            "error_code",
            "platform_post_id",
            "permalink",
            "published_at",
            "likes",
            "comments",
            "shares",
            "reactions",
            "engagement_synced_at",
            "comment_status",
            "comment_id",
            "comment_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PostProblemSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class PostSerializer(ModelSerializer):
    """A post, flat: ids of its accounts and images (in order), and its publications."""

    targets = serializers.SerializerMethodField(help_text="Ids of the accounts it goes to.")
    assets = serializers.SerializerMethodField(help_text="Ids of its images, in order.")
    link = serializers.CharField(read_only=True, help_text="An http(s) URL, or empty.")
    collaborators = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Instagram usernames invited."
    )
    publications = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "id",
            "status",
            "caption",
            "caption_overrides",
            "link",
            "targets",
            "assets",
            "scheduled_for",
            "format",
            "first_comment",
            "cover",
            "cover_offset_ms",
            "share_to_feed",
            "audio_name",
            "collaborators",
            "location_id",
            "caption_ai_generated",
            "submitted_at",
            "reviewed_at",
            "review_note",
            "published_at",
            "created_at",
            "updated_at",
            "publications",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_targets(self, post: Post) -> list[int]:
        return [a.pk for a in post.targets.all()]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_assets(self, post: Post) -> list[int]:
        return [pa.asset_id for pa in sorted(post.post_assets.all(), key=lambda pa: pa.position)]

    @extend_schema_field(PublicationSerializer(many=True))
    def get_publications(self, post: Post) -> list[dict[str, Any]]:
        rows = sorted(post.publications.all(), key=lambda p: p.pk)
        return list(PublicationSerializer(rows, many=True).data)


class PostDetailSerializer(PostSerializer):
    problems = serializers.SerializerMethodField(
        help_text="Every network rule the post breaks, as submitting would check them."
    )

    class Meta(PostSerializer.Meta):
        fields = [*PostSerializer.Meta.fields, "problems"]
        read_only_fields = fields

    @extend_schema_field(PostProblemSerializer(many=True))
    def get_problems(self, post: Post) -> list[dict[str, str]]:
        return [
            {"field": p.field, "code": p.code, "message": p.message}
            for p in services.post_problems(post)
        ]


def _require_offset(value: datetime | None) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise serializers.ValidationError(
            "Give the time zone offset, e.g. 2026-05-01T09:30:00+02:00.", code="offset_required"
        )
    return value


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset (``Z`` or ``+02:00``); a naive time is refused, not guessed."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
            if parsed is not None:
                _require_offset(parsed)
        return super().to_internal_value(value)


class PostWriteSerializer(BodySerializer):
    representation = PostDetailSerializer

    caption = fields.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    caption_overrides = serializers.DictField(
        child=fields.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
        help_text="A caption per network replacing `caption` there, keyed by the accounts' "
        "`platform`: " + ", ".join(f"`{network.id}`" for network in networks()) + ".",
    )
    link = fields.CharField(required=False, allow_blank=True, default="", max_length=2000)
    targets = TenantPrimaryKeyRelatedField(
        queryset=ConnectedAccount.objects.all(),
        many=True,
        required=False,
        default=list,
        help_text="Ids of the business's connected accounts.",
    )
    assets = TenantPrimaryKeyRelatedField(
        queryset=BrandAsset.objects.in_library(),
        many=True,
        required=False,
        default=list,
        help_text="Ids of library images, in the order they are shown (at most 10).",
    )
    scheduled_for = AwareDateTimeField(
        required=False, allow_null=True, default=None, help_text="ISO 8601 with an offset; UTC."
    )
    format = serializers.ChoiceField(
        choices=Post.Format.choices,
        required=False,
        default=Post.Format.FEED_POST,
        help_text="`feed`: a post (text, link, photos, a video, a carousel); `reel`: one "
        "vertical video; `story`: one photo or video seen for 24 hours, without a caption.",
    )
    first_comment = fields.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.FIRST_COMMENT_CHARS,
        help_text="Posted under the post right after it goes out, once (Facebook, Instagram).",
    )
    cover = TenantPrimaryKeyRelatedField(
        queryset=BrandAsset.objects.in_library(),
        required=False,
        allow_null=True,
        default=None,
        help_text="A Reel's cover: the id of a library image.",
    )
    cover_offset_ms = fields.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=4 * 3600 * 1000,
        help_text="Or the frame at this offset into the video, in milliseconds.",
    )
    share_to_feed = fields.BooleanField(
        required=False, default=True, help_text="An Instagram Reel also shows in the feed grid."
    )
    audio_name = fields.CharField(
        required=False, allow_blank=True, default="", max_length=100, help_text="A Reel's audio."
    )
    collaborators = serializers.ListField(
        child=fields.CharField(max_length=31),
        required=False,
        default=list,
        max_length=services.MAX_COLLABORATORS,
        help_text="Instagram usernames invited as collaborators (at most 3; Instagram only).",
    )
    location_id = fields.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text="A place's Facebook Page id (Instagram only).",
    )
    caption_ai_generated = fields.BooleanField(
        required=False, default=False, help_text="The caption was drafted by the AI."
    )

    def to_input(self) -> services.PostInput:
        data = self.validated_data
        return services.PostInput(
            caption=data["caption"],
            caption_overrides=dict(data["caption_overrides"]),
            link=data["link"],
            target_ids=[a.pk for a in data["targets"]],
            asset_ids=[a.pk for a in data["assets"]],
            scheduled_for=data["scheduled_for"],
            format=data["format"],
            first_comment=data["first_comment"],
            cover_id=data["cover"].pk if data["cover"] else None,
            cover_offset_ms=data["cover_offset_ms"],
            share_to_feed=data["share_to_feed"],
            audio_name=data["audio_name"],
            collaborators=list(data["collaborators"]),
            location_id=data["location_id"],
            caption_ai_generated=data["caption_ai_generated"],
        )


def post_input_of(post: Post) -> services.PostInput:
    """A post's current content, to which a partial update applies its fields."""
    return services.PostInput(
        caption=post.caption,
        caption_overrides=dict(post.caption_overrides),
        link=post.link,
        target_ids=[a.pk for a in post.targets.all()],
        asset_ids=[pa.asset_id for pa in sorted(post.post_assets.all(), key=lambda p: p.position)],
        scheduled_for=post.scheduled_for,
        format=post.format,
        first_comment=post.first_comment,
        cover_id=post.cover_id,
        cover_offset_ms=post.cover_offset_ms,
        share_to_feed=post.share_to_feed,
        audio_name=post.audio_name,
        collaborators=list(post.collaborators),
        location_id=post.location_id,
        caption_ai_generated=post.caption_ai_generated,
    )


class PostScheduleSerializer(BodySerializer):
    scheduled_for = AwareDateTimeField(help_text="ISO 8601 with an offset.")


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        # The years 2000 to 2199 (DATE_FILTER_MIN…MAX), with an offset.
        "pattern": r"^2[01][0-9]{2}-[0-9]{2}-[0-9]{2}T.*(Z|[+-][0-9]{2}:?[0-9]{2})$",
    }
)
class DateFilterField(AwareDateTimeField):
    """A date-range filter: an aware time within the days date filters may name."""

    def to_internal_value(self, value: Any) -> datetime:
        parsed = super().to_internal_value(value)
        # The day as written (in its own offset), as the schema's pattern describes it.
        written = parse_datetime(value) if isinstance(value, str) else None
        if not date_filter_ok((written or parsed).date()):
            raise serializers.ValidationError(DATE_FILTER_MESSAGE, code="out_of_range")
        return parsed


class PostQuerySerializer(QuerySerializer):
    status = serializers.ChoiceField(choices=Post.Status.choices, required=False)
    account = fields.IntegerField(
        required=False, help_text="Posts going to (or sent to) this account id."
    )
    scheduled_after = DateFilterField(required=False, help_text="scheduled_for ≥ this.")
    scheduled_before = DateFilterField(required=False, help_text="scheduled_for < this.")
    created_after = DateFilterField(required=False, help_text="created_at ≥ this.")
    created_before = DateFilterField(required=False, help_text="created_at < this.")


class PublicationQuerySerializer(QuerySerializer):
    status = serializers.ChoiceField(choices=Publication.Status.choices, required=False)
    post = fields.IntegerField(required=False)
    account = fields.IntegerField(required=False)
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)

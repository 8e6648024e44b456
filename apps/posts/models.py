from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.assets.models import BrandAsset
from apps.core.models import TenantOwnedModel
from apps.networks.base import FEED, REEL, STORY, MediaOptions
from apps.social.models import ConnectedAccount


class Post(TenantOwnedModel):
    """What a business wants to say, to one or more accounts, at a time. Its status moves only
    through the services in ``apps.posts.services`` (SPEC 6)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING_REVIEW = "pending_review", "Waiting for approval"
        REJECTED = "rejected", "Rejected"
        APPROVED = "approved", "Approved"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHING = "publishing", "Publishing"
        PUBLISHED = "published", "Published"
        PARTIALLY_PUBLISHED = "partially_published", "Partially published"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # Nothing more will be sent or edited (a failed publication may still be retried, from the
    # same content): what uses an image only for its history.
    FINISHED = (Status.PUBLISHED, Status.PARTIALLY_PUBLISHED, Status.FAILED, Status.CANCELLED)

    class Format(models.TextChoices):
        FEED_POST = FEED, "Post"
        REEL_POST = REEL, "Reel"
        STORY_POST = STORY, "Story"

    format = models.CharField(max_length=8, choices=Format.choices, default=Format.FEED_POST)
    caption = models.TextField(blank=True)
    # The caption came from "Draft with AI" (the person may change it): shown with the post.
    caption_ai_generated = models.BooleanField(default=False)
    # Per-platform caption replacing `caption` there, e.g. {"instagram_business": "..."}.
    caption_overrides = models.JSONField(default=dict, blank=True)
    link = models.URLField(max_length=2000, blank=True)
    # Posted under the post right after it goes out, once (networks whose Limits say so).
    first_comment = models.TextField(blank=True)
    # A Reel's cover: an image of the library, or the frame at an offset into the video.
    cover = models.ForeignKey(
        BrandAsset, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cover_offset_ms = models.PositiveIntegerField(null=True, blank=True)
    share_to_feed = models.BooleanField(default=True)  # a Reel shows in the feed grid too
    audio_name = models.CharField(max_length=100, blank=True)
    collaborators = models.JSONField(default=list, blank=True)  # usernames, at most three
    location_id = models.CharField(max_length=32, blank=True)  # a place's Facebook Page id
    targets = models.ManyToManyField(ConnectedAccount, related_name="posts", blank=True)
    assets: "models.ManyToManyField[BrandAsset, PostAsset]" = models.ManyToManyField(
        BrandAsset, through="PostAsset", related_name="posts", blank=True
    )
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text="UTC.")
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"]),
            # The API's list and the dashboard's: newest first (bench/api: 8x with it).
            models.Index(fields=["tenant", "-created_at", "-id"], name="post_tenant_newest"),
        ]

    def __str__(self) -> str:
        text = " ".join(self.caption.split())
        return (text[:60] + "…") if len(text) > 60 else (text or f"Post #{self.pk}")

    def caption_for(self, platform: str) -> str:
        return self.caption_overrides.get(platform) or self.caption

    def media_options(self) -> MediaOptions:
        return MediaOptions(
            cover=self.cover,
            cover_offset_ms=self.cover_offset_ms,
            share_to_feed=self.share_to_feed,
            audio_name=self.audio_name,
            collaborators=tuple(self.collaborators),
            location_id=self.location_id,
            first_comment=self.first_comment,
            ai_generated=self.caption_ai_generated,
        )


class PostAsset(models.Model):
    """The ordered images of a post (several make a carousel / multi-photo post)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_assets")
    asset = models.ForeignKey(BrandAsset, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["post", "position"], name="post_asset_unique_position"),
            models.UniqueConstraint(fields=["post", "asset"], name="post_asset_once"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}#{self.position}"


class Publication(TenantOwnedModel):
    """A post going out to one account: the unit the publishing engine claims, retries and
    reconciles. Never published twice, never lost (SPEC 5.3)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Scheduled"
        PUBLISHING = "publishing", "Publishing"
        WAITING = "waiting", "Waiting"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINAL = (Status.PUBLISHED, Status.FAILED, Status.CANCELLED)

    class CommentStatus(models.TextChoices):
        NONE = "", "No first comment"
        PENDING = "pending", "First comment to post"
        SENDING = "sending", "Posting the first comment"
        POSTED = "posted", "First comment posted"
        FAILED = "failed", "First comment failed"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="publications")
    account = models.ForeignKey(
        ConnectedAccount, on_delete=models.PROTECT, related_name="publications"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The claim: who may run the next step, since when. A claim older than the lease is stale
    # (its worker died) and is taken over, reconciling first.
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set before any call that would create something visible; cleared once its outcome is
    # recorded. While set, the outcome is unknown: reconcile before trying again.
    outcome_unknown = models.BooleanField(default=False)
    # When the call whose outcome is unknown was sent: reconciliation reads the account's posts
    # from shortly before this moment on (a time window, however many posts land meanwhile).
    sent_at = models.DateTimeField(null=True, blank=True)
    wait_reason = models.CharField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_subcode = models.IntegerField(null=True, blank=True)
    # Platform state: Instagram containers (carousel children first), Facebook unpublished photos.
    container_id = models.CharField(max_length=64, blank=True)
    child_ids = models.JSONField(default=list, blank=True)
    platform_post_id = models.CharField(max_length=128, blank=True)
    permalink = models.URLField(max_length=2000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    likes = models.PositiveIntegerField(null=True, blank=True)
    comments = models.PositiveIntegerField(null=True, blank=True)
    shares = models.PositiveIntegerField(null=True, blank=True)
    reactions = models.PositiveIntegerField(null=True, blank=True)
    engagement_synced_at = models.DateTimeField(null=True, blank=True)
    # The post's first comment on this account (``apps.posts.first_comments``), exactly once:
    # "sending" is committed before the call; a stale "sending" is reconciled before a retry.
    comment_status = models.CharField(
        max_length=8, choices=CommentStatus.choices, default=CommentStatus.NONE, blank=True
    )
    comment_id = models.CharField(max_length=128, blank=True)
    comment_error = models.TextField(blank=True)
    comment_attempts = models.PositiveSmallIntegerField(default=0)
    comment_next_at = models.DateTimeField(null=True, blank=True)  # due, or when it was sent
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "account"], name="publication_once_per_account"
            ),
        ]
        indexes = [
            # The dispatcher's query: due, unfinished work.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "waiting", "publishing"]),
                name="publication_due",
            ),
            models.Index(
                fields=["comment_next_at"],
                condition=Q(comment_status__in=["pending", "sending"]),
                name="publication_comment_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} → {self.account_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class PublicationEvent(TenantOwnedModel):
    """One move of a publication's state machine (``apps.posts.publication_states``): when, from
    and to which status, and for a step, the attempt, the Graph call it made, its answer or error
    class, and the wait reason. The publication's whole history, in the dashboard and the admin."""

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CLAIMED = "claimed", "Picked up"
        TAKEN_OVER = "taken_over", "Taken over (the previous worker stopped)"
        PUBLISHED = "published", "Published"
        RECONCILED = "reconciled", "Found already published"
        WAITING = "waiting", "Waiting"
        RETRYING = "retrying", "Retrying after an error"
        CHECKING = "checking", "Checking whether it went out"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        RETRIED = "retried", "Retried"
        COMMENTED = "commented", "First comment posted"
        COMMENT_FAILED = "comment_failed", "First comment failed"

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    attempt = models.PositiveIntegerField(default=0)
    # "POST /{id}/feed": the endpoint template, never a URL with ids or tokens.
    graph_call = models.CharField(max_length=80, blank=True)
    # What came back: "ok", or the error class (GraphTimeoutError, GraphTransientError, …).
    answer = models.CharField(max_length=64, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_subcode = models.IntegerField(null=True, blank=True)
    note = models.TextField(blank=True)  # the error, the wait reason, who retried
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["publication", "created_at"], name="pubevent_history")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_status} → {self.to_status}"


class ReviewEvent(TenantOwnedModel):
    """Who did what to a post, when: the audit trail shown in the admin and the dashboard."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        SUBMITTED = "submitted", "Submitted for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SCHEDULED = "scheduled", "Scheduled"
        RESCHEDULED = "rescheduled", "Rescheduled"
        BACK_TO_DRAFT = "back_to_draft", "Back to draft"
        CANCELLED = "cancelled", "Cancelled"
        PUBLISHING = "publishing", "Publishing started"
        PUBLISHED = "published", "Published"
        PARTIALLY_PUBLISHED = "partially_published", "Partially published"
        FAILED = "failed", "Failed"
        RETRIED = "retried", "Retried"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class CaptionUsage(TenantOwnedModel):
    """One "Draft with AI" request: what it used and cost, for per-plan limits and billing."""

    tenant = models.ForeignKey(
        "accounts.Tenant", on_delete=models.CASCADE, related_name="caption_usages"
    )
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="caption_usage_tenant_month")]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.prompt_tokens}+{self.completion_tokens}"

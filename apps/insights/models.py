"""Daily snapshots of what the networks report (issue 16).

A publication's snapshot holds its lifetime figures as read on that day (cumulative: the
latest day is the post's figures now; the days before show how they grew). An account's
snapshot holds that day's figures (views that day, new follows that day, followers at its end).
One row per (publication, day) and (account, day): a later read on the same day replaces the
earlier one, so the sync can run as often as it likes. None is "not reported", never zero.
Rows older than ``INSIGHTS_RETENTION_DAYS`` are deleted by the cleanup job.
"""

from django.db import models
from django.utils import timezone

from apps.core.models import TenantOwnedModel
from apps.networks.base import InsightsGap


class Gap(models.TextChoices):
    """``apps.networks.base.InsightsGap``, stored with the words people read."""

    NONE = "", "Figures reported"
    NOT_ENOUGH_VIEWERS = InsightsGap.NOT_ENOUGH_VIEWERS, "Too few viewers for figures yet"
    DELETED = InsightsGap.DELETED, "Deleted on the network"
    EXPIRED = InsightsGap.EXPIRED, "Story ended: its figures are kept for 24 hours only"
    NOT_REPORTED = InsightsGap.NOT_REPORTED, "The network reports no figures for this kind of post"
    NO_PERMISSION = InsightsGap.NO_PERMISSION, "Reconnect the account to allow insights"


class PublicationInsight(TenantOwnedModel):
    """A publication's lifetime figures as read on ``day`` (UTC)."""

    publication = models.ForeignKey(
        "posts.Publication", on_delete=models.CASCADE, related_name="insights"
    )
    # Denormalised from the publication: the page filters and groups by account and day.
    account = models.ForeignKey(
        "social.ConnectedAccount", on_delete=models.CASCADE, related_name="publication_insights"
    )
    day = models.DateField()
    views = models.PositiveBigIntegerField(null=True, blank=True)
    reach = models.PositiveBigIntegerField(null=True, blank=True)
    interactions = models.PositiveBigIntegerField(null=True, blank=True)
    likes = models.PositiveBigIntegerField(null=True, blank=True)
    comments = models.PositiveBigIntegerField(null=True, blank=True)
    shares = models.PositiveBigIntegerField(null=True, blank=True)
    saves = models.PositiveBigIntegerField(null=True, blank=True)
    follows = models.PositiveBigIntegerField(null=True, blank=True)
    watch_time_ms = models.PositiveBigIntegerField(null=True, blank=True)
    avg_watch_time_ms = models.PositiveBigIntegerField(null=True, blank=True)
    gap = models.CharField(max_length=16, choices=Gap.choices, default=Gap.NONE, blank=True)
    gap_detail = models.CharField(max_length=300, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["publication", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "day"], name="publication_insight_once_a_day"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "day"], name="pubinsight_tenant_day"),
            models.Index(fields=["account", "day"], name="pubinsight_account_day"),
        ]

    def __str__(self) -> str:
        return f"publication {self.publication_id} on {self.day}"


class AccountInsight(TenantOwnedModel):
    """An account's figures for one UTC ``day``."""

    account = models.ForeignKey(
        "social.ConnectedAccount", on_delete=models.CASCADE, related_name="insights"
    )
    day = models.DateField()
    views = models.PositiveBigIntegerField(null=True, blank=True)
    reach = models.PositiveBigIntegerField(null=True, blank=True)
    interactions = models.PositiveBigIntegerField(null=True, blank=True)
    follows = models.PositiveBigIntegerField(null=True, blank=True)
    followers = models.PositiveBigIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["account", "day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="account_insight_once_a_day"),
        ]
        indexes = [models.Index(fields=["tenant", "day"], name="accinsight_tenant_day")]

    def __str__(self) -> str:
        return f"account {self.account_id} on {self.day}"


class AccountInsightsSync(TenantOwnedModel):
    """How the latest insights sync of an account went: when, and what stood in the way (an
    insights permission missing is shown on the insights page; it never marks the account as
    needing a reconnect for publishing)."""

    account = models.OneToOneField(
        "social.ConnectedAccount", on_delete=models.CASCADE, related_name="insights_sync"
    )
    synced_at = models.DateTimeField(null=True, blank=True)
    gap = models.CharField(max_length=16, choices=Gap.choices, default=Gap.NONE, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    graph_calls = models.PositiveIntegerField(default=0)  # in the latest run

    def __str__(self) -> str:
        return f"insights sync of account {self.account_id}"

import json
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TenantOwnedModel
from apps.social.fields import StrictEncryptedTextField


class Event(models.TextChoices):
    """What an endpoint can subscribe to. ``webhook.test`` is sent on demand, never subscribed."""

    POST_PUBLISHED = "post.published", "A post was published"
    POST_FAILED = "post.failed", "A post failed or was only partially published"
    POST_APPROVED = "post.approved", "A post was approved"
    POST_REJECTED = "post.rejected", "A post was rejected"
    ACCOUNT_NEEDS_REAUTH = "account.needs_reauth", "An account needs reconnecting"
    ACCOUNT_NO_PERMISSION = "account.no_permission", "An account can no longer be posted to"


TEST_EVENT = "webhook.test"


def webhook_secret_new() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class WebhookEndpoint(TenantOwnedModel):
    """A URL of the tenant's that receives signed event deliveries (SPEC 3)."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Event names subscribed to.")
    # Encrypted at rest; shown to the person once, at creation and on rotation.
    secret = StrictEncryptedTextField(default=webhook_secret_new)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return event in (self.events or [])


class WebhookDelivery(TenantOwnedModel):
    """One event sent (or to be sent) to one endpoint, with what the endpoint answered last."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True, help_text="The first 2 KB of the last answer.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The retry job's query: pending deliveries that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"

    @property
    def payload_pretty(self) -> str:
        return json.dumps(self.payload, indent=2, ensure_ascii=False)

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TenantOwnedModel
from apps.social.fields import StrictEncryptedTextField


class Platform(models.TextChoices):
    FACEBOOK_PAGE = "facebook_page", "Facebook Page"
    INSTAGRAM_BUSINESS = "instagram_business", "Instagram business account"
    THREADS = "threads", "Threads profile"
    INSTAGRAM_LOGIN = "instagram_login", "Instagram account (Instagram login)"


class ConnectedAccount(TenantOwnedModel):
    """A Facebook Page or Instagram business account that a tenant publishes to.

    Rows outlive their tokens: a disconnected account keeps its post history.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_REAUTH = "needs_reauth", "Needs reconnection"
        # The token works, but the person who connected the Page lost the "Create content" task
        # on it: a Page admin must give it back (reconnecting cannot), then "Check again".
        NO_PERMISSION = "no_permission", "No permission to post"
        DISCONNECTED = "disconnected", "Disconnected"

    platform = models.CharField(max_length=32, choices=Platform.choices)
    platform_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    username = models.CharField(max_length=255, blank=True)
    picture_url = models.URLField(max_length=2000, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text="For an Instagram account: the Facebook Page it is linked to.",
    )
    # The Facebook user whose grant the account's token derives from.
    facebook_user_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "platform", "platform_id"], name="account_unique_per_tenant"
            ),
            # A Page or Instagram account belongs to one tenant at a time, so nothing is posted
            # twice by two businesses.
            models.UniqueConstraint(
                fields=["platform", "platform_id"],
                condition=~Q(status="disconnected"),
                name="account_one_tenant_at_a_time",
            ),
        ]

    def __str__(self) -> str:
        handle = f"@{self.username}" if self.username else self.name
        return f"{handle} ({self.get_platform_display()})"

    @property
    def page_id(self) -> str:
        """The Facebook Page whose token and tasks this account publishes with (for an
        Instagram account: its linked Page)."""
        if self.platform == Platform.FACEBOOK_PAGE:
            return self.platform_id
        return str(self.metadata.get("page_id") or (self.parent.platform_id if self.parent else ""))

    @property
    def publishing_refusal(self) -> str | None:
        """Why nothing can be published to this account now, for people; None when it can."""
        if self.status == self.Status.ACTIVE:
            return None
        if self.status == self.Status.NEEDS_REAUTH:
            return f"{self} needs reconnecting: reconnect it, then retry."
        if self.status == self.Status.NO_PERMISSION:
            return f"{self} cannot be published to: {self.status_reason}"
        return f"{self} is disconnected: reconnect it, then retry."


class AccessToken(TenantOwnedModel):
    """A Graph API token, encrypted at rest. The plaintext never reaches logs, admin or the API."""

    class Kind(models.TextChoices):
        USER_LONG_LIVED = "user_long_lived", "Long-lived user token"
        PAGE = "page", "Page token"
        THREADS_LONG_LIVED = "threads_long_lived", "Long-lived Threads token"
        IG_LOGIN_LONG_LIVED = "ig_login_long_lived", "Long-lived Instagram token"

    account = models.ForeignKey(
        ConnectedAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="tokens"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    facebook_user_id = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token = StrictEncryptedTextField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: does not expire.")
    scopes = models.JSONField(default=list, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_code = models.IntegerField(null=True, blank=True)
    invalid_since = models.DateTimeField(
        null=True, blank=True, help_text="When Facebook first refused it; empty while it works."
    )
    # A user token: when the owners were e-mailed that the Facebook login needs renewing (once
    # per token; a reconnect or a refresh replaces the token and clears it).
    owners_warned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(account__isnull=False), name="token_one_per_account"
            ),
            models.UniqueConstraint(
                fields=["tenant", "facebook_user_id"],
                condition=Q(kind="user_long_lived"),
                name="token_one_user_token_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def __repr__(self) -> str:
        return f"<AccessToken {self.pk} {self.kind}>"


class TokenEvent(TenantOwnedModel):
    """Audit trail of an account's access: connects, refreshes, checks, failures."""

    class Kind(models.TextChoices):
        CONNECTED = "connected", "Connected"
        RECONNECTED = "reconnected", "Reconnected"
        REFRESHED = "refreshed", "Refreshed"
        REFRESH_FAILED = "refresh_failed", "Refresh failed"
        CHECKED = "checked", "Checked"
        CHECK_FAILED = "check_failed", "Check failed"
        NEEDS_REAUTH = "needs_reauth", "Needs reconnection"
        TASK_MISSING = "task_missing", "Create content task missing"
        TASK_RESTORED = "task_restored", "Create content task restored"
        USER_TOKEN_EXPIRING = "user_token_expiring", "Facebook login expires soon"
        USER_TOKEN_INVALID = "user_token_invalid", "Facebook login expired or revoked"
        DISCONNECTED = "disconnected", "Disconnected"
        REVOKED = "revoked", "Revoked at Facebook"
        DEAUTHORIZED = "deauthorized", "App removed on Facebook"

    account = models.ForeignKey(
        ConnectedAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    token_kind = models.CharField(max_length=20, choices=AccessToken.Kind.choices, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    detail = models.TextField(blank=True)
    graph_code = models.IntegerField(null=True, blank=True)
    graph_subcode = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M}"


class PendingConnection(TenantOwnedModel):
    """A Facebook grant between the OAuth callback and the owner's choice of Pages.

    Holds the user token and the discovered Pages (with their Page tokens) encrypted, for a short
    while; the hourly clean-up deletes what was never completed.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    facebook_user_id = models.CharField(max_length=64)
    token = StrictEncryptedTextField()
    token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    # JSON list of discovered Pages, including Page tokens: encrypted as a whole.
    discovered = StrictEncryptedTextField(blank=True)
    discovery_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Pending connection #{self.pk}"


class DataDeletionRequest(models.Model):
    """Meta's data-deletion callback: one per request, with a code the person can look up."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        COMPLETED = "completed", "Completed"

    facebook_user_id = models.CharField(max_length=64)
    confirmation_code = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Data deletion {self.confirmation_code} ({self.get_status_display()})"

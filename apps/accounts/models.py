import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.core.models import TenantOwnedModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. E-mail is the login; tenants are reached through memberships."""

    email = models.EmailField("e-mail address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Platform staff: may use the admin and approve posts."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


def validate_timezone(value: str) -> None:
    """An IANA timezone name known to this machine. (A validator, not field choices: the list
    changes with tzdata, and choices would put ~600 names into every migration.)"""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known timezone.", code="invalid_timezone")


class Tenant(models.Model):
    """A business: owns connected accounts, assets and posts; people reach it via memberships."""

    class Plan(models.TextChoices):
        BASIC = "basic", "Basic"
        PRO = "pro", "Pro"
        ENTERPRISE = "enterprise", "Enterprise"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True, validators=[validate_slug])
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.BASIC)
    timezone = models.CharField(max_length=64, validators=[validate_timezone], default="UTC")
    # Brand profile: feeds caption drafting and previews.
    description = models.TextField(blank=True)
    category = models.CharField(
        max_length=120, blank=True, help_text="Cuisine or business category."
    )
    tone_of_voice = models.CharField(max_length=200, blank=True)
    default_hashtags = models.CharField(max_length=500, blank=True)
    requires_approval = models.BooleanField(
        default=True, help_text="Posts wait for platform staff to approve them before publishing."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


# Higher may do more: what an API key acts as is the lower of its scope's role and its creator's.
ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.MANAGER: 2, Role.OWNER: 3}


# Roles that manage members, API keys and connected accounts.
MANAGING_ROLES = frozenset({Role.OWNER, Role.MANAGER})
# Roles that create and change content (posts, assets).
EDITING_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.EDITOR})


class Membership(TenantOwnedModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.tenant} ({self.get_role_display()})"

    @property
    def can_manage(self) -> bool:
        return self.role in MANAGING_ROLES

    @property
    def can_edit(self) -> bool:
        return self.role in EDITING_ROLES


class Invitation(TenantOwnedModel):
    """An e-mailed offer to join a tenant with a role. Only the token's hash is stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address and tenant; accepted or revoked ones are history.
            models.UniqueConstraint(
                "tenant",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.tenant} ({self.get_role_display()})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired


class ApiKey(TenantOwnedModel):
    """A key an integration uses (``Authorization: Api-Key <key>``). Only a hash of the secret is
    stored; the whole key is shown once, when it is created."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Why it was revoked, or narrowed to read-only, for the API keys page (docs/security.md).
    revoked_reason = models.CharField(max_length=300, blank=True)
    narrowed_at = models.DateTimeField(null=True, blank=True)
    narrowed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.Scope.WRITE in self.scopes


class TenantExport(TenantOwnedModel):
    """A ZIP of everything a tenant owns (``data.json`` + the original files), built by a Celery
    job and downloadable by the tenant's owners until ``expires_at``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    OPEN = (Status.PENDING, Status.RUNNING)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # In the default storage under exports/t<tenant>/, never served from a public path.
    file = models.FileField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One export in progress per tenant: a second request waits for the first.
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(status__in=["pending", "running"]),
                name="tenant_export_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"Export #{self.pk} of {self.tenant_id} ({self.get_status_display()})"

    @property
    def is_downloadable(self) -> bool:
        return (
            self.status == self.Status.READY
            and bool(self.file)
            and (self.expires_at is None or self.expires_at > timezone.now())
        )


def _export_file_delete_on_commit(sender: type, instance: TenantExport, **kwargs: Any) -> None:
    """An export's file goes when its row's deletion commits (whatever deleted it: the cleanup,
    a tenant's cascade, the admin) and stays if that rolls back."""
    from django.core.files.storage import default_storage
    from django.db import transaction

    name = instance.file.name if instance.file else ""
    if name:
        transaction.on_commit(lambda: default_storage.delete(name), using=kwargs.get("using"))


models.signals.post_delete.connect(
    _export_file_delete_on_commit,
    sender=TenantExport,
    weak=False,
    dispatch_uid="accounts.tenant_export_delete_file",
)

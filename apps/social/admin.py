"""Staff see every connected account and its token health; never a token.

An account's health has two parts, shown apart (docs/facebook.md, "Token health"): its own
**Page token**, which it publishes with, and the **Facebook login** (long-lived user token) it
was connected with, which only discovering Pages and renewing access need.
"""

from datetime import datetime

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from apps.social.models import (
    AccessToken,
    ConnectedAccount,
    DataDeletionRequest,
    TokenEvent,
)

TOKEN_HEALTH_FIELDS = (
    "kind",
    "expires_at",
    "last_checked_at",
    "invalid_since",
    "last_error",
    "last_error_code",
    "scopes",
    "updated_at",
)


def token_health(
    *,
    expires_at: datetime | None,
    invalid_since: datetime | None,
    last_checked_at: datetime | None,
    last_error: str = "",
) -> str:
    """One line about a token's health, never the token: refused / expired / works, expiry,
    last check."""
    if invalid_since is not None:
        state = f"refused since {invalid_since:%Y-%m-%d %H:%M}"
    elif expires_at is not None and expires_at <= timezone.now():
        state = f"expired {expires_at:%Y-%m-%d}"
    elif last_checked_at is None:
        state = "not checked yet"
    else:
        state = "works"
    parts = [state]
    if invalid_since is None and (expires_at is None or expires_at > timezone.now()):
        parts.append(f"expires {expires_at:%Y-%m-%d}" if expires_at else "does not expire")
    if last_checked_at is not None:
        parts.append(f"checked {last_checked_at:%Y-%m-%d %H:%M}")
    if last_error and invalid_since is None:
        parts.append(f"last error: {last_error}")
    return " · ".join(parts)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AccessTokenInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AccessToken
    fk_name = "account"
    fields = TOKEN_HEALTH_FIELDS
    readonly_fields = TOKEN_HEALTH_FIELDS
    extra = 0
    can_delete = False
    verbose_name = "Page token (what the account publishes with)"
    verbose_name_plural = "Page token (what the account publishes with)"


class TokenEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TokenEvent
    fields = ("created_at", "kind", "detail", "graph_code", "graph_subcode")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-created_at"]


def _user_token_field(name: str) -> Subquery:
    return Subquery(
        AccessToken.objects.filter(
            tenant_id=OuterRef("tenant_id"),
            facebook_user_id=OuterRef("facebook_user_id"),
            kind=AccessToken.Kind.USER_LONG_LIVED,
        ).values(name)[:1]
    )


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "tenant",
        "platform",
        "status",
        "page_token_health",
        "user_token_health",
        "connected_at",
    ]
    list_filter = ["status", "platform", "tenant"]
    search_fields = ["name", "username", "platform_id", "tenant__name"]
    list_select_related = ["tenant"]
    readonly_fields = [
        "tenant",
        "platform",
        "platform_id",
        "parent",
        "facebook_user_id",
        "page_token_health",
        "user_token_health",
        "connected_by",
        "connected_at",
        "updated_at",
        "disconnected_at",
    ]
    fields = [
        "tenant",
        "platform",
        "platform_id",
        "name",
        "username",
        "picture_url",
        "parent",
        "facebook_user_id",
        "status",
        "status_reason",
        "page_token_health",
        "user_token_health",
        "metadata",
        "connected_by",
        "connected_at",
        "updated_at",
        "disconnected_at",
    ]
    inlines = [AccessTokenInline, TokenEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts come from the connect flow, with their tokens

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConnectedAccount]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("tokens")
            .annotate(
                user_token_expires_at=_user_token_field("expires_at"),
                user_token_invalid_since=_user_token_field("invalid_since"),
                user_token_checked_at=_user_token_field("last_checked_at"),
                user_token_id=_user_token_field("id"),
            )
        )

    @admin.display(description="Page token")
    def page_token_health(self, account: ConnectedAccount) -> str:
        tokens = list(account.tokens.all())
        if not tokens:
            return "none (reconnect to publish)"
        token = tokens[0]
        return token_health(
            expires_at=token.expires_at,
            invalid_since=token.invalid_since,
            last_checked_at=token.last_checked_at,
            last_error=token.last_error,
        )

    @admin.display(description="Facebook login (user token)")
    def user_token_health(self, account: ConnectedAccount) -> str:
        if getattr(account, "user_token_id", None) is None:
            return "none (only needed to discover Pages and renew access)"
        return token_health(
            expires_at=getattr(account, "user_token_expires_at", None),
            invalid_since=getattr(account, "user_token_invalid_since", None),
            last_checked_at=getattr(account, "user_token_checked_at", None),
        )


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "tenant",
        "account",
        "kind",
        "health",
        "owners_warned_at",
    ]
    list_filter = ["kind", ("invalid_since", admin.EmptyFieldListFilter), "tenant"]
    list_select_related = ["tenant", "account"]
    fields = (
        "tenant",
        "account",
        "facebook_user_id",
        "user",
        *TOKEN_HEALTH_FIELDS,
        "owners_warned_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Health")
    def health(self, token: AccessToken) -> str:
        return token_health(
            expires_at=token.expires_at,
            invalid_since=token.invalid_since,
            last_checked_at=token.last_checked_at,
            last_error=token.last_error,
        )


@admin.register(TokenEvent)
class TokenEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "tenant", "account", "kind", "token_kind", "graph_code", "detail"]
    list_filter = ["kind", "token_kind", "tenant"]
    list_select_related = ["tenant", "account"]
    date_hierarchy = "created_at"


@admin.register(DataDeletionRequest)
class DataDeletionRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["confirmation_code", "facebook_user_id", "status", "created_at", "completed_at"]
    list_filter = ["status"]

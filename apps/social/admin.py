"""Staff see every connected account and its token health; never a token."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

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
    "last_error",
    "last_error_code",
    "scopes",
    "updated_at",
)


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


class TokenEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TokenEvent
    fields = ("created_at", "kind", "detail", "graph_code", "graph_subcode")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-created_at"]


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "tenant",
        "platform",
        "status",
        "token_expires",
        "token_checked",
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
        return super().get_queryset(request).prefetch_related("tokens")

    @admin.display(description="Token expires")
    def token_expires(self, account: ConnectedAccount) -> str:
        tokens = list(account.tokens.all())
        if not tokens:
            return "—"
        return str(tokens[0].expires_at or "never")

    @admin.display(description="Last check")
    def token_checked(self, account: ConnectedAccount) -> str:
        tokens = list(account.tokens.all())
        if not tokens or tokens[0].last_checked_at is None:
            return "—"
        error = f" — {tokens[0].last_error}" if tokens[0].last_error else ""
        return f"{tokens[0].last_checked_at:%Y-%m-%d %H:%M}{error}"


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "tenant",
        "account",
        "kind",
        "expires_at",
        "last_checked_at",
        "last_error",
    ]
    list_filter = ["kind", "tenant"]
    list_select_related = ["tenant", "account"]
    fields = ("tenant", "account", "facebook_user_id", "user", *TOKEN_HEALTH_FIELDS, "created_at")
    readonly_fields = fields


@admin.register(TokenEvent)
class TokenEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "tenant", "account", "kind", "token_kind", "graph_code", "detail"]
    list_filter = ["kind", "tenant"]
    list_select_related = ["tenant", "account"]
    date_hierarchy = "created_at"


@admin.register(DataDeletionRequest)
class DataDeletionRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["confirmation_code", "facebook_user_id", "status", "created_at", "completed_at"]
    list_filter = ["status"]

"""Read-only views for platform staff. The secret is never shown; changes go through the
dashboard (the tenant's managers)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.webhooks.models import WebhookDelivery, WebhookEndpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "tenant", "is_active", "created_at"]
    list_filter = ["is_active", "tenant"]
    search_fields = ["url", "description", "tenant__name"]
    list_select_related = ["tenant"]
    fields = [
        "tenant",
        "url",
        "description",
        "events",
        "is_active",
        "created_by",
        "created_at",
        "secret_rotated_at",
    ]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("secret")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "tenant",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status", "event", "tenant"]
    search_fields = ["event_id", "endpoint__url"]
    list_select_related = ["tenant", "endpoint"]
    fields = [
        "tenant",
        "endpoint",
        "event",
        "event_id",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_response",
        "last_error",
        "created_at",
        "delivered_at",
    ]

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: endpoints a tenant registers, signed deliveries retried with backoff."""

    name = "apps.webhooks"
    label = "webhooks"

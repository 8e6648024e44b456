from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: endpoints a tenant registers, signed deliveries retried with backoff."""

    name = "apps.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from apps.core import hooks
        from apps.webhooks import tenant_data

        hooks.register(self.label, tenant_data=tenant_data.TENANT_DATA)

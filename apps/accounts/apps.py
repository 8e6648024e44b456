from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, tenants, memberships and invitations (API keys join later)."""

    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from apps.accounts import metrics, tenant_data
        from apps.core import hooks

        hooks.register(self.label, metrics=metrics.METRICS, tenant_data=tenant_data.TENANT_DATA)

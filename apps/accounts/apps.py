from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, tenants, memberships and invitations (API keys join later)."""

    name = "apps.accounts"
    label = "accounts"

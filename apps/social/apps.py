from django.apps import AppConfig


class SocialConfig(AppConfig):
    """Facebook Pages and Instagram business accounts: connections, tokens, the Graph client."""

    name = "apps.social"
    label = "social"

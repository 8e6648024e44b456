"""Template filters that name an account's network from the registry, so that no template
knows a network by its id."""

from django import template

from apps.networks import registry

register = template.Library()


@register.filter
def network_site(platform: str) -> str:
    """Where an account's posts appear ("Instagram"), for "View on …" and account labels."""
    try:
        return registry.network_for(platform).site
    except LookupError:
        return platform


@register.filter
def network_label(platform: str) -> str:
    """The network's name as the compose page shows it ("Instagram (Instagram login)")."""
    try:
        return registry.network_for(platform).label
    except LookupError:
        return platform

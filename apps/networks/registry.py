"""The one place that lists the networks. Everything else asks here: ``network_for(platform)``
for an account's network, ``networks()`` for all of them, ``choices()`` for forms and the API.
"""

from collections.abc import Iterable

from apps.networks.base import ImageRules, Network, OwnLogin, VideoRules
from apps.networks.instagram import InstagramBusiness, InstagramLogin
from apps.networks.meta_facebook import FacebookPage
from apps.networks.threads import Threads

# The order is the order of the compose page's previews and of every list of networks.
_NETWORKS: tuple[Network, ...] = (
    FacebookPage(),
    InstagramBusiness(),
    InstagramLogin(),
    Threads(),
)
_BY_ID: dict[str, Network] = {network.id: network for network in _NETWORKS}


def networks() -> tuple[Network, ...]:
    return _NETWORKS


def network_for(platform: str) -> Network:
    """The network of an account's ``platform``; LookupError for one no package provides."""
    try:
        return _BY_ID[platform]
    except KeyError:
        raise LookupError(f"No network for platform {platform!r}") from None


def is_network(platform: str) -> bool:
    return platform in _BY_ID


def choices() -> list[tuple[str, str]]:
    """(id, label) of every network, e.g. for a filter or a list of allowed values."""
    return [(network.id, network.label) for network in _NETWORKS]


def chosen(platforms: Iterable[str]) -> tuple[Network, ...]:
    """The networks among ``platforms`` (unknown ids left out); all of them when none is."""
    picked = tuple(network for network in _NETWORKS if network.id in set(platforms))
    return picked or _NETWORKS


def network_for_token_kind(kind: str) -> Network | None:
    """The network that checks and refreshes tokens of ``kind`` when the token belongs to no
    account (a login token); None when no network does."""
    return next((n for n in _NETWORKS if kind in n.token_kinds), None)


def rendition_rules(variant: str) -> ImageRules | None:
    """The image rules of the network an asset rendition (``"instagram"``) is made for."""
    for network in _NETWORKS:
        image = network.limits.image
        if image is not None and image.rendition == variant:
            return image
    return None


def video_rules() -> tuple[VideoRules, ...]:
    """Every video format of every network, in the networks' order (the library's warnings)."""
    # Two networks may share one set of rules (Instagram through Facebook or its own login).
    return tuple(dict.fromkeys(r for network in _NETWORKS for r in network.limits.videos))


def own_login_networks() -> tuple[Network, ...]:
    """The networks connected through a login of their own ("Connect Threads")."""
    return tuple(network for network in _NETWORKS if isinstance(network, OwnLogin))


def own_login_for(slug: str) -> OwnLogin:
    """The network with its own login whose ``slug`` this is; LookupError otherwise."""
    for network in own_login_networks():
        if network.slug == slug and isinstance(network, OwnLogin):
            return network
    raise LookupError(f"No network with its own login called {slug!r}")

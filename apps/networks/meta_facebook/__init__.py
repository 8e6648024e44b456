"""Facebook Pages (Meta Graph API): text, link, photo and multi-photo posts."""

from apps.networks.meta_facebook.network import FacebookPage

__all__ = ["FacebookPage"]

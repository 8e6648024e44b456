"""Instagram business accounts (Meta Graph API, through the linked Page): images and
carousels through containers."""

from apps.networks.instagram.network import InstagramBusiness

__all__ = ["InstagramBusiness"]

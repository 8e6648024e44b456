"""Instagram professional accounts: through the linked Facebook Page (Facebook Login,
``InstagramBusiness``) or on their own (Instagram Login, ``InstagramLogin``). Images and
carousels through containers, the same way on both hosts."""

from apps.networks.instagram.login import InstagramLogin
from apps.networks.instagram.network import InstagramBusiness

__all__ = ["InstagramBusiness", "InstagramLogin"]

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Operators of a private instance close sign-up with ``ACCOUNT_ALLOW_SIGNUP=false``."""
        return bool(settings.ACCOUNT_ALLOW_SIGNUP)

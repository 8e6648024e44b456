"""django-allauth hooks: where Facebook Login hands its token to the connect flow."""

from typing import Any

import structlog
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect

from apps.core.exceptions import ApplicationError
from apps.social import services

logger = structlog.get_logger(__name__)

PENDING_SESSION_KEY = "pending_connection_id"


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        from django.conf import settings

        return bool(settings.ACCOUNT_ALLOW_SIGNUP)

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """On "Connect Facebook", keep the token (encrypted) for the page that lets the owner
        choose Pages. allauth itself stores no token (SOCIALACCOUNT_STORE_TOKENS is off)."""
        if sociallogin.state.get("process") != AuthProcess.CONNECT:
            return
        membership = getattr(request, "membership", None)
        if membership is None or sociallogin.token is None:
            return
        # When this Facebook login is already linked to another user of ours, allauth does not
        # link it again (and says so), but the Pages can still be connected to this business.
        try:
            pending = services.connection_start(
                actor=membership,
                facebook_user_id=sociallogin.account.uid,
                token=sociallogin.token.token,
                expires_at=sociallogin.token.expires_at,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            raise ImmediateHttpResponse(redirect("connections:list")) from exc
        request.session[PENDING_SESSION_KEY] = pending.pk

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """Denied consent or a failure at Facebook: back to where the person came from, with a
        message that says what happened, instead of allauth's generic error page."""
        denied = request.GET.get("error") == "access_denied"
        text = (
            "Facebook access was not granted, so nothing was connected."
            if denied
            else "Facebook did not complete the login. Please try again in a moment."
        )
        logger.info("facebook_login_failed", error=str(error), denied=denied)
        messages.error(request, text)
        if request.user.is_authenticated:
            raise ImmediateHttpResponse(redirect("connections:list"))
        raise ImmediateHttpResponse(redirect("account_login"))

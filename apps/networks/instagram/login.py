"""Instagram professional accounts connected with Instagram Login (the Instagram API with
Instagram Login, graph.instagram.com): no Facebook Page needed. Publishing is Instagram's
(``InstagramPublishing``: containers, polling, the 24-hour limit) on that host with the
account's own long-lived token (60 days, renewed with ``ig_refresh_token`` once a day old:
``LongLivedUserTokens``). Connected with the generic OAuth connect flow."""

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings

from apps.networks.base import ConnectedProfile, Outcome
from apps.networks.errors import Permanent
from apps.networks.instagram import login_client as instagram
from apps.networks.instagram.network import InstagramPublishing
from apps.networks.meta import neutral
from apps.networks.user_tokens import LongLivedUserTokens
from apps.social import graph
from apps.social.models import AccessToken, Platform

if TYPE_CHECKING:
    from apps.posts.models import Publication

# What Instagram Login gives access to: professional accounts only (a personal account has no
# publishing API).
PROFESSIONAL = frozenset({"BUSINESS", "MEDIA_CREATOR", "CREATOR"})
# Asked for, not required: a connection without them publishes (issue 16's insights).
OPTIONAL_SCOPES = frozenset({"instagram_business_manage_insights"})


class InstagramLogin(InstagramPublishing, LongLivedUserTokens):
    id = Platform.INSTAGRAM_LOGIN.value
    label = "Instagram (Instagram login)"
    slug = "instagram_login"
    token_kind = AccessToken.Kind.IG_LOGIN_LONG_LIVED
    token_kinds: frozenset[str] = frozenset({token_kind})

    def _graph(self) -> graph.GraphClient:
        return instagram.client()

    def _blocked(self, publication: "Publication") -> Outcome | None:
        return self.expired(publication)  # nothing is sent with a token Instagram refuses

    def account_url(self, publication: "Publication") -> str:
        account = publication.account
        if settings.INSTAGRAM_LOGIN_SANDBOX:
            return f"{settings.SANDBOX_GRAPH_URL.rstrip('/')}/"
        return f"https://www.instagram.com/{account.username or account.platform_id}/"

    # --- tokens (LongLivedUserTokens) ---------------------------------------------------------

    def _profile_read(self, token: str) -> None:
        instagram.get_profile(token=token)

    def _token_renew(self, token: str) -> tuple[str, datetime | None]:
        fresh = instagram.refresh_long_lived(token=token)
        return fresh.access_token, fresh.expires_at

    # --- connecting (its own login) -------------------------------------------------------------

    def connect_authorize_url(self, *, redirect_uri: str, state: str) -> str:
        return instagram.authorize_url(redirect_uri=redirect_uri, state=state)

    def connect_complete(self, *, code: str, redirect_uri: str) -> ConnectedProfile:
        """The code for a short-lived token, that for a long-lived one, then the profile."""
        try:
            short = instagram.exchange_code(code=code, redirect_uri=redirect_uri)
            long = instagram.exchange_long_lived(short_token=short.access_token)
            profile = instagram.get_profile(token=long.access_token)
        except graph.GraphError as exc:
            raise neutral(exc) from exc
        if short.user_id and short.user_id not in (profile.id, profile.user_id):
            raise Permanent("Instagram answered for another account than the one that consented.")
        if profile.account_type and profile.account_type not in PROFESSIONAL:
            raise Permanent(
                f"@{profile.username} is a personal Instagram account: only professional "
                "(business or creator) accounts can publish through the API. Switch it to a "
                "professional account in Instagram's settings, then connect again."
            )
        # Insights are optional: without them the account publishes, its insights say so.
        missing = [
            s
            for s in settings.INSTAGRAM_LOGIN_SCOPES
            if s not in short.permissions and s not in OPTIONAL_SCOPES
        ]
        if short.permissions and missing:
            raise Permanent(
                f"Instagram did not grant {', '.join(missing)}: connect again and allow "
                "everything asked for, or the account cannot be published to."
            )
        return ConnectedProfile(
            platform_id=profile.user_id,
            name=profile.name or profile.username,
            username=profile.username,
            picture_url=profile.picture_url,
            user_id=profile.user_id,
            token=long.access_token,
            token_kind=self.token_kind,
            expires_at=long.expires_at,
            scopes=short.permissions or tuple(settings.INSTAGRAM_LOGIN_SCOPES),
        )

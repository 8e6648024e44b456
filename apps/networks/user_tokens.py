"""Token hooks of a network that publishes with its user's own long-lived token (Threads,
Instagram with Instagram Login): the token lasts 60 days from when it was issued or last
refreshed, can be refreshed once it is a day old, and is renewed in its last week. A token past
its expiry is refused before anything is sent with it, as is a refresh before it is a day old.

A network using these provides ``label``, ``token_kind`` and the two calls ``_profile_read``
(any authenticated read: the health check) and ``_token_renew`` (the refresh endpoint)."""

from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from apps.networks.base import NeedsReauth, TokenCheck, TokenRefresh
from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount

if TYPE_CHECKING:
    from apps.posts.models import Publication

LONG_LIVED = timedelta(days=60)
REFRESH_MIN_AGE = timedelta(hours=24)
REFRESH_WITHIN = timedelta(days=7)


def issued_at(token: AccessToken) -> datetime | None:
    """When a long-lived token was issued (or last refreshed): 60 days before it expires."""
    return token.expires_at - LONG_LIVED if token.expires_at else None


class LongLivedUserTokens(ABC):
    label: str
    token_kind: str  # the AccessToken.kind it renews (also in the network's ``token_kinds``)

    @abstractmethod
    def _profile_read(self, token: str) -> None:
        """Any authenticated read with ``token`` (the health check); raises GraphError."""

    @abstractmethod
    def _token_renew(self, token: str) -> tuple[str, datetime | None]:
        """The network's refresh call: the new token and its expiry; raises GraphError."""

    def expired_message(self, expires_at: datetime) -> str:
        return (
            f"The {self.label} connection expired on {expires_at:%d %b %Y}: reconnect "
            f"{self.label} to publish again."
        )

    def expired(self, publication: "Publication") -> NeedsReauth | None:
        """NeedsReauth when the account's token is past its expiry (nothing is sent with it)."""
        expires = (
            AccessToken.objects.filter(account=publication.account)
            .values_list("expires_at", flat=True)
            .first()
        )
        if expires is not None and expires <= timezone.now():
            return NeedsReauth(self.expired_message(expires), 190, 463, answer="expired")
        return None

    def token_check(self, token: AccessToken) -> TokenCheck:
        if token.expires_at is not None and token.expires_at <= timezone.now():
            message = self.expired_message(token.expires_at)
            return TokenCheck(state="refused", reason=message, code=190, subcode=463)
        try:
            self._profile_read(token.token)
        except graph.GraphError as exc:
            if exc.needs_reconnect:
                return TokenCheck(
                    state="refused",
                    reason=f"{self.label} no longer accepts this connection "
                    f"({exc.user_message}). Reconnect {self.label}.",
                    detail=exc.technical_summary,
                    code=exc.code,
                    subcode=exc.subcode,
                )
            return TokenCheck(
                state="unknown",
                reason=exc.user_message,
                detail=exc.technical_summary,
                code=exc.code,
                subcode=exc.subcode,
            )
        return TokenCheck(state="valid", scopes=tuple(token.scopes), expires_at=token.expires_at)

    def token_refresh(self, token: AccessToken) -> TokenRefresh:
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            message = self.expired_message(token.expires_at)
            return TokenRefresh(refused=message, reason=message, code=190, subcode=463)
        issued = issued_at(token)
        if issued is not None and now - issued < REFRESH_MIN_AGE:
            ready = issued + REFRESH_MIN_AGE
            return TokenRefresh(
                reason=f"A {self.label} token can be renewed once it is 24 hours old (from "
                f"{ready:%d %b %Y %H:%M} UTC); nothing was sent.",
                detail="refresh not sent: token younger than 24 hours",
            )
        try:
            fresh, expires_at = self._token_renew(token.token)
        except graph.GraphError as exc:
            return TokenRefresh(
                refused=(
                    f"{self.label} no longer accepts this connection: reconnect {self.label}."
                    if exc.needs_reconnect
                    else ""
                ),
                reason=exc.user_message,
                detail=exc.technical_summary,
                code=exc.code,
                subcode=exc.subcode,
            )
        return TokenRefresh(token=fresh, expires_at=expires_at)

    def refresh_due(self, token: AccessToken, now: datetime) -> bool:
        issued = issued_at(token)
        return (
            token.kind == self.token_kind
            and token.expires_at is not None
            and token.invalid_since is None
            and now < token.expires_at <= now + REFRESH_WITHIN
            and issued is not None
            and now - issued >= REFRESH_MIN_AGE
        )

    def permissions_check(self, account: ConnectedAccount, token: AccessToken) -> None:
        return None  # the token is the account's own: nothing else to check

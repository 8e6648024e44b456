"""What the journeys of networks that own their login (Threads, Instagram Login) share: the
token's life after the first publication (renewal refused before 24 hours and done after, the
health check after a revocation, reconnect, disconnect)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.networks.base import Network
from apps.posts.models import Publication
from apps.social import services
from apps.social.models import AccessToken, ConnectedAccount, TokenEvent


def calls(sandbox: Any) -> int:
    return len(httpx.get(f"{sandbox.base_url}/_sandbox/calls").json()["calls"])


def token_life(
    *,
    network: Network,
    account: ConnectedAccount,
    client: Any,
    sandbox: Any,
    control: Callable[..., Any],
    connect: Callable[[Any], Any],
) -> None:
    """The token of ``account`` (one day old at most, the sandbox's clock two days on) through
    renewal, a revocation, a reconnect and a disconnect, as the daily jobs and the owner see
    it. ``connect(client)`` presses the network's "Connect" button and allows."""
    token = AccessToken.objects.get(account=account)

    # Refresh: refused before anything is sent while it is younger than a day...
    before = calls(sandbox)
    assert services.token_refresh(token=token) is False
    token.refresh_from_db()
    assert "24 hours" in token.last_error
    assert calls(sandbox) == before
    # ... renewed once it is (issued 25 hours ago).
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() + timedelta(days=60) - timedelta(hours=25)
    )
    token.refresh_from_db()
    old = token.token
    assert network.refresh_due(token, timezone.now() + timedelta(days=54))
    assert not network.refresh_due(token, timezone.now())
    assert services.token_refresh(token=token) is True
    token.refresh_from_db()
    assert token.token != old
    assert token.expires_at is not None
    assert token.expires_at - timezone.now() > timedelta(days=59)
    assert TokenEvent.objects.filter(account=account, kind="refreshed").exists()

    # Health: a revoked token → the account needs reconnection, the owners are told.
    control("faults", {"kind": "revoke_token", "scope": "user"})
    assert services.token_check(token=token) is False
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.NEEDS_REAUTH
    assert any("reconnect" in m.body.lower() for m in mail.outbox)

    # Reconnect heals it; disconnect deletes the token and keeps the account's history.
    connect(client)
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.ACTIVE
    assert AccessToken.objects.get(account=account).token != token.token
    client.post(reverse("connections:disconnect", args=[account.pk]))
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.DISCONNECTED
    assert not AccessToken.objects.filter(account=account).exists()
    assert Publication.objects.filter(account=account).count() == 1

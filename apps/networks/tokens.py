"""The token an account publishes with, as every network stores it (``AccessToken``, encrypted).

The engine loads it with the publication in one query (``token_subquery``) and leaves it on the
account under ``LOADED_TOKEN``; a network's step then reads it with ``account_token``.
"""

from django.db.models import OuterRef, Subquery

from apps.networks.errors import NeedsReconnection
from apps.social.models import AccessToken, ConnectedAccount

# A caller that loaded the account's token with its own query (see token_subquery) leaves it on
# the account under this name: account_token then needs no query of its own.
LOADED_TOKEN = "loaded_account_token"  # noqa: S105 - the name of an attribute, not a secret


def token_subquery() -> Subquery:
    """The token of the row's ``account_id``, decrypted on read like the field itself."""
    return Subquery(
        AccessToken.objects.filter(account=OuterRef("account_id")).values("token")[:1],
        output_field=AccessToken._meta.get_field("token"),
    )


def account_token(account: ConnectedAccount) -> str:
    """The token an account publishes with (for Instagram: the linked Page's token). Raises
    NeedsReconnection(token_missing=True) when there is none (disconnected, deauthorized)."""
    loaded = getattr(account, LOADED_TOKEN, None)
    if loaded:
        return str(loaded)
    token = AccessToken.objects.filter(account=account).only("token").first()
    if token is None:
        raise NeedsReconnection(
            f"{account} has no access token: reconnect it, then retry.", token_missing=True
        )
    return token.token

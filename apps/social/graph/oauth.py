"""Facebook Login tokens: the dialog URL, code and long-lived exchanges, checks, revocation."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from apps.core.logging import REDACTED

from ._shape import Shape
from .client import GraphClient, get_client
from .results import GranularScope, TokenDebugInfo, UserToken


def build_dialog_url(
    *,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str] | None = None,
    rerequest: bool = False,
    client: GraphClient | None = None,
) -> str:
    """The Facebook Login dialog URL (`{dialog}/{version}/dialog/oauth`) asking for `scopes`.

    `rerequest` asks again for permissions the person declined earlier.
    """
    config = (client or get_client()).config
    params = {
        "client_id": config.app_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
        "scope": ",".join(config.scopes if scopes is None else scopes),
    }
    if rerequest:
        params["auth_type"] = "rerequest"
    return f"{config.dialog_url}/{config.version}/dialog/oauth?{urlencode(params)}"


def _user_token(shape: Shape) -> UserToken:
    root = shape.root()
    expires_in = shape.opt_integer(root, "expires_in")
    return UserToken(
        access_token=shape.string(root, "access_token"),
        token_type=shape.opt_string(root, "token_type") or "bearer",
        expires_at=datetime.now(tz=UTC) + timedelta(seconds=expires_in) if expires_in else None,
    )


def exchange_code(*, code: str, redirect_uri: str, client: GraphClient | None = None) -> UserToken:
    """Trade the login dialog's `code` for a (short-lived) user token.

    Not retried: a code works once, so a repeat after a lost answer would fail anyway.
    """
    client = client or get_client()
    response = client.request(
        "GET",
        "/oauth/access_token",
        params={
            "client_id": client.config.app_id,
            "client_secret": client.config.app_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        },
        idempotent=False,
    )
    return _user_token(Shape(response))


def exchange_long_lived(*, user_token: str, client: GraphClient | None = None) -> UserToken:
    """Trade a short-lived user token for a long-lived one (about 60 days)."""
    client = client or get_client()
    response = client.request(
        "GET",
        "/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": client.config.app_id,
            "client_secret": client.config.app_secret,
            "fb_exchange_token": user_token,
        },
    )
    return _user_token(Shape(response))


def debug_token(*, input_token: str, client: GraphClient | None = None) -> TokenDebugInfo:
    """Ask Meta (with the app token) whether `input_token` is valid, whose it is, what it allows.

    An invalid token is an answer here, not an exception: `is_valid` is False and the error
    fields say why (for example 190/460, the password changed).
    """
    client = client or get_client()
    response = client.request(
        "GET",
        "/debug_token",
        token=client.config.app_access_token,
        params={"input_token": input_token},
    )
    shape = Shape(response)
    data = shape.child(shape.root(), "data")
    granular = []
    for item in shape.opt_items(data, "granular_scopes"):
        entry = shape.as_object(item, "an item of 'granular_scopes'")
        granular.append(
            GranularScope(
                scope=shape.string(entry, "scope"), target_ids=shape.strings(entry, "target_ids")
            )
        )
    error = shape.opt_child(data, "error")
    error_message = shape.opt_string(error, "message") if error else None
    return TokenDebugInfo(
        is_valid=shape.boolean(data, "is_valid"),
        type=shape.opt_string(data, "type"),
        app_id=shape.opt_object_id(data, "app_id"),
        user_id=shape.opt_object_id(data, "user_id"),
        scopes=shape.strings(data, "scopes"),
        granular_scopes=tuple(granular),
        expires_at=shape.opt_epoch(data, "expires_at"),
        data_access_expires_at=shape.opt_epoch(data, "data_access_expires_at"),
        issued_at=shape.opt_epoch(data, "issued_at"),
        error_code=shape.opt_integer(error, "code") if error else None,
        error_subcode=shape.opt_integer(error, "subcode") if error else None,
        error_message=error_message.replace(input_token, REDACTED) if error_message else None,
    )


def revoke_permissions(*, user_token: str, client: GraphClient | None = None) -> bool:
    """Remove the app's permissions from the user (`DELETE /me/permissions`): True when done."""
    response = (client or get_client()).request("DELETE", "/me/permissions", token=user_token)
    if isinstance(response.body, bool):
        return response.body
    shape = Shape(response)
    return shape.boolean(shape.root(), "success")


def own_token_call(
    client: GraphClient, *, grant_type: str, access_token: str, refresh: bool = False
) -> UserToken:
    """The token endpoints of a network whose user holds the token (Threads, Instagram with
    Instagram Login), outside the version prefix: ``/access_token`` trades a short-lived token
    for a long-lived one with the app secret (``th_exchange_token``, ``ig_exchange_token``);
    ``/refresh_access_token`` (``refresh``) gives a long-lived one another 60 days
    (``th_refresh_token``, ``ig_refresh_token``)."""
    params = {"grant_type": grant_type, "access_token": access_token}
    if not refresh:
        params["client_secret"] = client.config.app_secret
    response = client.request(
        "GET",
        "/refresh_access_token" if refresh else "/access_token",
        params=params,
        versioned=False,
    )
    return _user_token(Shape(response))


def own_dialog_url(client: GraphClient, *, redirect_uri: str, state: str) -> str:
    """The authorization window of a network with a login of its own (Threads, Instagram
    Login): the client's ``dialog_url`` is the window itself (no version prefix), asking for
    the client's scopes."""
    config = client.config
    query = urlencode(
        {
            "client_id": config.app_id,
            "redirect_uri": redirect_uri,
            "scope": ",".join(config.scopes),
            "response_type": "code",
            "state": state,
        }
    )
    return f"{config.dialog_url}?{query}"

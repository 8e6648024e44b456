"""The Instagram API with Instagram Login (graph.instagram.com, and api.instagram.com for the
code exchange) as small typed functions over the Graph client's machinery, bound to the
Instagram app's own configuration (INSTAGRAM_LOGIN_*). Publishing, the publishing limit, media
and engagement are the same calls as through Facebook Login (``apps.social.graph.instagram``),
sent to this host with the account's own token: pass ``client()`` to them. No ORM in here."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from apps.social import graph
from apps.social.graph._shape import Shape

PROFILE_FIELDS = "id,user_id,username,name,profile_picture_url,account_type"


@dataclass(frozen=True)
class InstagramToken:
    access_token: str
    user_id: str = ""  # the app-scoped id (the code exchange's answer)
    permissions: tuple[str, ...] = ()
    expires_at: datetime | None = None


@dataclass(frozen=True)
class InstagramProfile:
    id: str  # app-scoped
    user_id: str  # the professional account's id: what publishing calls name
    username: str
    name: str
    picture_url: str
    account_type: str


def config(*, graph_url: str | None = None) -> graph.GraphConfig:
    return graph.GraphConfig.from_settings(
        app_id=settings.INSTAGRAM_LOGIN_APP_ID,
        app_secret=settings.INSTAGRAM_LOGIN_APP_SECRET,
        graph_url=graph_url or settings.INSTAGRAM_LOGIN_GRAPH_URL,
        dialog_url=settings.INSTAGRAM_LOGIN_DIALOG_URL,
        version=settings.INSTAGRAM_LOGIN_GRAPH_VERSION,
        scopes=tuple(settings.INSTAGRAM_LOGIN_SCOPES),
    )


# This process's clients: graph.instagram.com, and api.instagram.com for the code exchange.
client = graph.ClientSlot(config, prefixes=("INSTAGRAM_LOGIN_",))
api_client = graph.ClientSlot(
    lambda: config(graph_url=settings.INSTAGRAM_LOGIN_API_URL), prefixes=("INSTAGRAM_LOGIN_",)
)


def _id_text(value: Any) -> str:
    """Meta answers ids as strings, and some answers of this API as numbers."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value.isdigit() else ""


def authorize_url(*, redirect_uri: str, state: str) -> str:
    """The authorization window (instagram.com/oauth/authorize) for this app."""
    return graph.own_dialog_url(client(), redirect_uri=redirect_uri, state=state)


def exchange_code(*, code: str, redirect_uri: str) -> InstagramToken:
    """The authorization code for a short-lived token (an hour), at api.instagram.com. Meta
    documents the answer as ``{"data": [{access_token, user_id, permissions}]}`` and has sent it
    flat too; both are read. Not retried: a code works once."""
    c = api_client()
    response = c.request(
        "POST",
        "/oauth/access_token",
        data={
            "client_id": c.config.app_id,
            "client_secret": c.config.app_secret,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        },
        versioned=False,
    )
    shape = Shape(response)
    root = shape.root()
    if "data" in root:
        entries = shape.items(root, "data")
        if not entries:
            raise shape.fail("'data' is empty: no token was issued")
        root = shape.as_object(entries[0], "data[0]")
    permissions = root.get("permissions")
    if isinstance(permissions, str):
        granted = tuple(p.strip() for p in permissions.split(",") if p.strip())
    elif isinstance(permissions, list):
        granted = tuple(str(p) for p in permissions if isinstance(p, str))
    else:
        granted = ()
    return InstagramToken(
        access_token=shape.string(root, "access_token"),
        user_id=_id_text(root.get("user_id")),
        permissions=granted,
    )


def exchange_long_lived(*, short_token: str) -> InstagramToken:
    """A short-lived token for a long-lived one (60 days): ``ig_exchange_token``."""
    fresh = graph.own_token_call(client(), grant_type="ig_exchange_token", access_token=short_token)
    return InstagramToken(access_token=fresh.access_token, expires_at=fresh.expires_at)


def refresh_long_lived(*, token: str) -> InstagramToken:
    """Another 60 days for a long-lived token at least a day old and not expired:
    ``ig_refresh_token``."""
    fresh = graph.own_token_call(
        client(), grant_type="ig_refresh_token", access_token=token, refresh=True
    )
    return InstagramToken(access_token=fresh.access_token, expires_at=fresh.expires_at)


def get_profile(*, token: str) -> InstagramProfile:
    response = client().request("GET", "/me", token=token, params={"fields": PROFILE_FIELDS})
    shape = Shape(response)
    root = shape.root()
    professional = _id_text(root.get("user_id"))
    if not professional:
        raise shape.fail("'user_id' (the professional account's id) is missing or not an id")
    return InstagramProfile(
        id=shape.object_id(root),
        user_id=professional,
        username=shape.opt_string(root, "username") or "",
        name=shape.opt_string(root, "name") or "",
        picture_url=shape.opt_string(root, "profile_picture_url") or "",
        account_type=shape.opt_string(root, "account_type") or "",
    )

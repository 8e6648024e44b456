"""The Threads API (graph.threads.net) as small typed functions over the Graph client's
machinery (``apps.social.graph.GraphClient``: one pooled httpx client, timeouts, retries of safe
calls, redaction, one log line and one metrics record per call, Meta's error classes), bound to
the Threads app's own configuration (THREADS_*). No ORM in here."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from apps.social import graph
from apps.social.graph._shape import Shape, paginate_since

TEXT, IMAGE, CAROUSEL = "TEXT", "IMAGE", "CAROUSEL"
IN_PROGRESS, FINISHED, PUBLISHED, ERROR, EXPIRED = (
    "IN_PROGRESS",
    "FINISHED",
    "PUBLISHED",
    "ERROR",
    "EXPIRED",
)
STATUSES = frozenset({IN_PROGRESS, FINISHED, PUBLISHED, ERROR, EXPIRED})
PROFILE_FIELDS = "id,username,name,threads_profile_picture_url"
LIST_FIELDS = "id,text,timestamp,permalink,media_type"
METRICS = "views,likes,replies,reposts,quotes,shares"


@dataclass(frozen=True)
class ThreadsToken:
    access_token: str
    user_id: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ThreadsProfile:
    id: str
    username: str
    name: str
    picture_url: str


@dataclass(frozen=True)
class ContainerStatus:
    status: str
    error_message: str = ""


@dataclass(frozen=True)
class PublishingLimit:
    quota_usage: int
    quota_total: int
    quota_duration: int

    @property
    def remaining(self) -> int:
        return self.quota_total - self.quota_usage


@dataclass(frozen=True)
class ThreadsPost:
    id: str
    text: str
    media_type: str
    permalink: str
    timestamp: datetime | None


# --- the client ------------------------------------------------------------------------------


def config() -> graph.GraphConfig:
    return graph.GraphConfig.from_settings(
        app_id=settings.THREADS_APP_ID,
        app_secret=settings.THREADS_APP_SECRET,
        graph_url=settings.THREADS_GRAPH_URL,
        dialog_url=settings.THREADS_DIALOG_URL,
        version=settings.THREADS_GRAPH_VERSION,
        scopes=tuple(settings.THREADS_SCOPES),
    )


# This process's Threads client (a GraphClient bound to graph.threads.net).
client = graph.ClientSlot(config, prefixes=("THREADS_",))


# --- login -----------------------------------------------------------------------------------


def authorize_url(*, redirect_uri: str, state: str) -> str:
    """Threads' authorization window for this app (threads.net/oauth/authorize)."""
    return graph.own_dialog_url(client(), redirect_uri=redirect_uri, state=state)


def exchange_code(*, code: str, redirect_uri: str) -> ThreadsToken:
    """The authorization code for a short-lived token (an hour) and the Threads user id.
    Not retried: a code works once."""
    c = client()
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
    user_id = root.get("user_id")
    return ThreadsToken(access_token=shape.string(root, "access_token"), user_id=str(user_id or ""))


def exchange_long_lived(*, short_token: str) -> ThreadsToken:
    """A short-lived token for a long-lived one (60 days)."""
    fresh = graph.own_token_call(client(), grant_type="th_exchange_token", access_token=short_token)
    return ThreadsToken(access_token=fresh.access_token, expires_at=fresh.expires_at)


def refresh_long_lived(*, token: str) -> ThreadsToken:
    """Another 60 days for a long-lived token at least a day old and not expired."""
    fresh = graph.own_token_call(
        client(), grant_type="th_refresh_token", access_token=token, refresh=True
    )
    return ThreadsToken(access_token=fresh.access_token, expires_at=fresh.expires_at)


def get_profile(*, token: str) -> ThreadsProfile:
    response = client().request("GET", "/me", token=token, params={"fields": PROFILE_FIELDS})
    shape = Shape(response)
    root = shape.root()
    return ThreadsProfile(
        id=shape.object_id(root),
        username=shape.opt_string(root, "username") or "",
        name=shape.opt_string(root, "name") or "",
        picture_url=shape.opt_string(root, "threads_profile_picture_url") or "",
    )


# --- publishing ------------------------------------------------------------------------------


def create_container(
    *,
    user_id: str,
    token: str,
    media_type: str,
    text: str | None = None,
    image_url: str | None = None,
    is_carousel_item: bool = False,
    children: Sequence[str] = (),
) -> str:
    """A media container (`POST /{user-id}/threads`); its id. Retried on transient errors: a
    container never published does nothing and expires."""
    data: dict[str, str] = {"media_type": media_type}
    if text:
        data["text"] = text
    if image_url:
        data["image_url"] = image_url
    if is_carousel_item:
        data["is_carousel_item"] = "true"
    if children:
        data["children"] = ",".join(children)
    response = client().request(
        "POST", "/{id}/threads", ids=(user_id,), token=token, data=data, idempotent=True
    )
    shape = Shape(response)
    return shape.object_id(shape.root())


def container_status(*, container_id: str, token: str) -> ContainerStatus:
    response = client().request(
        "GET", "/{id}", ids=(container_id,), token=token, params={"fields": "status,error_message"}
    )
    shape = Shape(response)
    root = shape.root()
    return ContainerStatus(
        status=shape.opt_string(root, "status") or "",
        error_message=shape.opt_string(root, "error_message") or "",
    )


def publish_container(*, user_id: str, token: str, creation_id: str) -> str:
    """`POST /{user-id}/threads_publish`: the thread's media id. Never retried (it creates a
    visible post); an answer lost after sending makes the outcome unknown."""
    response = Shape(
        client().request(
            "POST",
            "/{id}/threads_publish",
            ids=(user_id,),
            token=token,
            data={"creation_id": creation_id},
        ),
        outcome_unknown=True,
    )
    return response.object_id(response.root())


def publishing_limit(*, user_id: str, token: str) -> PublishingLimit:
    response = client().request(
        "GET",
        "/{id}/threads_publishing_limit",
        ids=(user_id,),
        token=token,
        params={"fields": "quota_usage,config"},
    )
    shape = Shape(response)
    entries = shape.items(shape.root(), "data")
    entry = shape.as_object(entries[0], "data[0]") if entries else {}
    conf = shape.opt_child(entry, "config") or {}
    return PublishingLimit(
        quota_usage=shape.opt_integer(entry, "quota_usage") or 0,
        quota_total=shape.opt_integer(conf, "quota_total") or 250,
        quota_duration=shape.opt_integer(conf, "quota_duration") or 86_400,
    )


def list_threads(*, user_id: str, token: str, since: datetime) -> list[ThreadsPost]:
    """Every thread of the profile since ``since``, every page read (GraphListingIncomplete
    when the listing cannot be read to its end)."""
    out = []
    for shape, item in paginate_since(
        client(), "/{id}/threads", ids=(user_id,), token=token, fields=LIST_FIELDS, since=since
    ):
        out.append(
            ThreadsPost(
                id=shape.object_id(item),
                text=shape.opt_string(item, "text") or "",
                media_type=shape.opt_string(item, "media_type") or "",
                permalink=shape.opt_string(item, "permalink") or "",
                timestamp=shape.opt_timestamp(item, "timestamp"),
            )
        )
    return out


def insights(*, media_id: str, token: str) -> dict[str, int]:
    response = client().request(
        "GET", "/{id}/insights", ids=(media_id,), token=token, params={"metric": METRICS}
    )
    shape = Shape(response)
    counts: dict[str, int] = {}
    for raw in shape.items(shape.root(), "data"):
        entry = shape.as_object(raw, "data[]")
        values = shape.opt_items(entry, "values")
        first = shape.as_object(values[0], "values[0]") if values else {}
        value = shape.opt_integer(first, "value")
        name = shape.opt_string(entry, "name")
        if name and value is not None:
            counts[name] = value
    return counts


def permalink(*, media_id: str, token: str) -> str:
    try:
        response = client().request(
            "GET", "/{id}", ids=(media_id,), token=token, params={"fields": "permalink"}
        )
    except graph.GraphError:
        return ""
    shape = Shape(response)
    return shape.opt_string(shape.root(), "permalink") or ""

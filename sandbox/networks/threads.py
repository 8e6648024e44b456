"""Threads (the Threads API, graph.threads.net): a login of its own (the consent dialog at
`/oauth/authorize`, the code exchange, `th_exchange_token`, `th_refresh_token`), Threads
profiles, media containers that take a little processing time, `threads_publish` (each
container at most once), the rolling 24-hour publishing limit, the profile's threads (paged,
`since` / `until`) and their insights.

Served by a mount of its own (`threads_mount()`: prefix `/threads`, or a port), as
graph.threads.net is another host than graph.facebook.com. Its tokens (`th_short`, `th_long`)
are valid there only. Imports no other network: its login is `hostlogin` (shared with
Instagram with Instagram Login), its containers `containers`.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any, cast

from .. import errors, hostlogin
from ..containers import (
    MediaContainer,
    StatusTexts,
    new_container_fault,
    ready_at,
    refuse_unpublishable,
)
from ..containers import status as lifecycle_status
from ..context import CallContext, Request, Viewer, graph_time
from ..control import ControlError, repeats
from ..errors import GraphError
from ..fields import FieldSpec
from ..graph import Graph
from ..hostlogin import HostLogin, HostLoginSpec
from ..insights import THREADS_MEDIA_METRICS
from ..media import FetchError, MediaSource, fetch, is_http_url
from ..nodes import MISSING, Renderer, engagement
from ..registry import (
    EdgeHandler,
    EdgeKey,
    Found,
    Mount,
    Network,
    NodeType,
    Resolver,
    RouteHandler,
)
from ..state import DEMO_USER_ID, SandboxState, UserRecord, content_key
from ..tokens import THREADS_LONG, THREADS_SHORT, TokenClaims

BISTRO_THREADS_ID = "27000000000000001"
TEXT_MAX = 500
CAROUSEL_MIN, CAROUSEL_MAX = 2, 20
IMAGE_MAX_BYTES = 8 * 1024 * 1024
QUOTA_DURATION = 86_400
REPLY_CONTROLS = frozenset({"everyone", "accounts_you_follow", "mentioned_only"})
SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_insights",
    "threads_read_replies",
    "threads_manage_replies",
)
METRICS = THREADS_MEDIA_METRICS


# --- records ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ThreadsProfile:
    id: str
    username: str
    name: str
    owner_user_id: str  # the person who logs in (the sandbox's demo user)
    biography: str = ""
    extra: bool = False  # added through the control API (`POST /_sandbox/threads/profiles`)


@dataclass(slots=True, kw_only=True)
class ThreadsContainer(MediaContainer):
    user_id: str
    text: str | None
    reply_control: str


@dataclass(slots=True)
class ThreadsMedia:
    id: str
    user_id: str
    container_id: str
    text: str | None
    media_type: str  # TEXT_POST, IMAGE, CAROUSEL_ALBUM
    timestamp: float
    shortcode: str
    image_urls: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    is_carousel_child: bool = False


class ThreadsStore:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def clear(self) -> None:
        profile = ThreadsProfile(
            BISTRO_THREADS_ID, "demobistro", "Demo Bistro", DEMO_USER_ID, "Plates, daily."
        )
        self.profiles: dict[str, ThreadsProfile] = {profile.id: profile}
        self.containers: dict[str, ThreadsContainer] = {}
        self.media: dict[str, ThreadsMedia] = {}

    def snapshot(self) -> dict[str, Any]:
        return {
            "threads_extra_profiles": [asdict(p) for p in self.profiles.values() if p.extra],
            "threads_containers": [asdict(c) for c in self.containers.values()],
            "threads_media": [asdict(m) for m in self.media.values()],
        }

    def load(self, data: dict[str, Any]) -> None:
        for raw in data.get("threads_extra_profiles", []):
            profile = ThreadsProfile(**raw)
            self.profiles[profile.id] = profile
        for raw in data.get("threads_containers", []):
            container = ThreadsContainer.from_dict(raw)
            self.containers[container.id] = container
        for raw in data.get("threads_media", []):
            media = ThreadsMedia(**raw)
            self.media[media.id] = media

    def profile_of(self, user_id: str) -> ThreadsProfile | None:
        """The Threads profile of the person who logs in: the first one they own (the demo
        user's profiles added through the control API are reached with minted tokens)."""
        return next((p for p in self.profiles.values() if p.owner_user_id == user_id), None)


def store(state: SandboxState) -> ThreadsStore:
    return cast(ThreadsStore, state.stores[ThreadsNetwork.name])


STATUS_TEXTS = StatusTexts(
    published="",
    timed_out="The container was not published within 24 hours.",
    in_progress="",
    error="{message}",
    error_default="FAILED_PROCESSING_IMAGE",
    expired="{message}",
    expired_default="The container has expired.",
    child_missing="A carousel item could not be found.",
    child_failed="Carousel item {child_id} is {code}.",
    children_in_progress="",
    finished="",
)


def container_status(
    state: SandboxState, container: ThreadsContainer, now: float
) -> tuple[str, str]:
    """`status` and `error_message` of a container at `now`."""
    return lifecycle_status(state, container, now, store(state).containers.get, STATUS_TEXTS)


# --- errors (Graph-shaped; the texts are the sandbox's where Meta does not publish them) --------


def _threads_error(message: str, *, code: int = 100, subcode: int | None = None) -> GraphError:
    return GraphError(message, code=code, subcode=subcode, type="THApiException")


def text_too_long() -> GraphError:
    return _threads_error(f"(#100) Param text must be at most {TEXT_MAX} characters long.")


def carousel_size() -> GraphError:
    return _threads_error(
        f"(#100) A carousel must have between {CAROUSEL_MIN} and {CAROUSEL_MAX} children."
    )


def already_published() -> GraphError:
    return _threads_error("(#100) The media container has already been published.")


def not_ready() -> GraphError:
    # The same pair as Instagram's "Media ID is not available": retry once it is FINISHED.
    return GraphError(
        "Media Not Found", code=9007, subcode=2207027, user_msg="The media is not ready yet."
    )


# --- fields -----------------------------------------------------------------------------------


def _user_fields(r: Renderer) -> dict[str, Resolver]:
    return {
        "id": lambda p, s: p.id,
        "username": lambda p, s: p.username,
        "name": lambda p, s: p.name,
        "threads_profile_picture_url": lambda p, s: r.picture_url(p.id),
        "threads_biography": lambda p, s: p.biography or MISSING,
    }


def _container_fields(r: Renderer) -> dict[str, Resolver]:
    def error_message(c: ThreadsContainer, s: FieldSpec) -> Any:
        message = container_status(r.state, c, r.now)[1]
        return message or MISSING

    return {
        "id": lambda c, s: c.id,
        "status": lambda c, s: container_status(r.state, c, r.now)[0],
        "error_message": error_message,
    }


def _media_fields(r: Renderer) -> dict[str, Resolver]:
    threads = store(r.state)

    def username(m: ThreadsMedia, s: FieldSpec) -> Any:
        profile = threads.profiles.get(m.user_id)
        return profile.username if profile else MISSING

    def children(m: ThreadsMedia, s: FieldSpec) -> Any:
        if not m.children:
            return MISSING
        return {"data": [{"id": child} for child in m.children]}

    return {
        "id": lambda m, s: m.id,
        "text": lambda m, s: m.text if m.text else MISSING,
        "media_type": lambda m, s: m.media_type,
        "media_product_type": lambda m, s: "THREADS",
        "media_url": lambda m, s: m.image_urls[0] if m.image_urls else MISSING,
        "permalink": lambda m, s: MISSING if m.is_carousel_child else r.view_url(m.id),
        "shortcode": lambda m, s: m.shortcode,
        "timestamp": lambda m, s: graph_time(m.timestamp),
        "username": username,
        "owner": lambda m, s: {"id": m.user_id},
        "is_quote_post": lambda m, s: False,
        "children": children,
    }


NODE_TYPES = (
    NodeType("ThreadsUser", "/{threads-user-id}", ("id",), _user_fields),
    NodeType("ThreadsMediaContainer", "/{container-id}", ("id",), _container_fields),
    NodeType("ThreadsMedia", "/{threads-media-id}", ("id",), _media_fields),
)


def insights(media: ThreadsMedia, now: float) -> dict[str, int]:
    """Views, likes, replies, reposts, quotes and shares: zero at first, growing with time."""
    counts = engagement(media.id, media.timestamp, now)
    likes, replies, shares = counts["likes"], counts["comments"], counts["shares"]
    return {
        "views": likes * 12 + replies * 3,
        "likes": likes,
        "replies": replies,
        "reposts": shares,
        "quotes": shares // 3,
        "shares": shares // 2,
    }


def _shortcode(media_id: str) -> str:
    digest = hashlib.sha256(media_id.encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[b % 64] for b in digest[:11])


# --- login ------------------------------------------------------------------------------------

LOGIN = HostLoginSpec(
    label="Threads",
    short_kind=THREADS_SHORT,
    long_kind=THREADS_LONG,
    scopes=SCOPES,
    required_scope="threads_basic",
    exchange_grant="th_exchange_token",
    refresh_grant="th_refresh_token",
)


def _code_answer(token: str, claims: TokenClaims) -> dict[str, Any]:
    """Threads answers the code exchange with the token and the profile's id (a number)."""
    return {"access_token": token, "user_id": int(claims.user_id)}


# --- publishing -------------------------------------------------------------------------------


def _split_ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class ThreadsPublisher:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    @property
    def threads(self) -> ThreadsStore:
        return store(self.state)

    def _require_publisher(self, viewer: Viewer, profile: ThreadsProfile) -> None:
        claims = viewer.claims
        if claims is None or claims.user_id != profile.id:
            raise errors.missing_permission("threads_content_publish")
        if not claims.has_scope("threads_basic", "threads_content_publish"):
            raise errors.missing_permission("threads_basic and threads_content_publish")

    def _fetch_image(self, url: str, ctx: CallContext) -> MediaSource:
        if not is_http_url(url):
            raise errors.invalid_url("image_url")
        if not self.state.config.fetch_media:
            return MediaSource(kind="url", url=url)
        try:
            source = fetch(url, timeout=self.state.config.fetch_timeout_seconds)
        except FetchError as exc:
            ctx.notes["fetch_error"] = exc.reason
            raise _threads_error("(#100) The image could not be downloaded.") from exc
        if source.image_format not in ("jpeg", "png"):
            raise _threads_error("(#100) Images must be JPEG or PNG.")
        if (source.size or 0) > IMAGE_MAX_BYTES:
            raise _threads_error("(#100) Images must be at most 8 MB.")
        return source

    def create(self, req: Request, ctx: CallContext, viewer: Viewer, profile: Any) -> Any:
        self._require_publisher(viewer, profile)
        media_type = (req.param("media_type") or "").upper()
        is_item = req.flag("is_carousel_item", False)
        text = req.param("text")
        if text and len(text) > TEXT_MAX:
            raise text_too_long()
        reply_control = req.param("reply_control") or "everyone"
        if reply_control not in REPLY_CONTROLS:
            raise errors.invalid_param("(#100) reply_control is not valid")
        image: MediaSource | None = None
        image_url: str | None = None
        children: list[str] = []
        if media_type == "CAROUSEL":
            children = _split_ids(req.param("children"))
            if not CAROUSEL_MIN <= len(children) <= CAROUSEL_MAX:
                raise carousel_size()
        elif media_type == "IMAGE":
            image_url = req.param("image_url")
            if not image_url:
                raise errors.missing_param("image_url")
            image = self._fetch_image(image_url, ctx)
        elif media_type == "TEXT":
            if not text:
                raise errors.missing_param("text")
            if is_item:
                raise errors.invalid_param("(#100) A carousel item is an IMAGE or a VIDEO")
        else:
            raise errors.invalid_param("(#100) media_type must be TEXT, IMAGE or CAROUSEL")
        now = self.state.now()
        threads = self.threads
        with self.state.lock:
            for child_id in children:
                child = threads.containers.get(child_id)
                if child is None or child.user_id != profile.id or not child.is_carousel_item:
                    raise errors.invalid_param(
                        f"(#100) {child_id} is not a carousel item container of this profile"
                    )
            number = self.state.next_number()
            container = ThreadsContainer(
                id=str(18_000_000_000_000_000 + number),
                user_id=profile.id,
                media_type=media_type,
                text=None if is_item else text,
                image_url=image_url,
                is_carousel_item=is_item,
                children=children,
                reply_control=reply_control,
                created_time=now,
                ready_at=ready_at(self.state, now),
                image=image,
            )
            new_container_fault(self.state, req, container, ctx)
            threads.containers[container.id] = container
            self.state.save()
        ctx.notes["created"] = container.id
        return {"id": container.id}

    def quota_usage(self, profile_id: str) -> int:
        horizon = self.state.now() - QUOTA_DURATION
        with self.state.lock:
            return sum(
                1
                for m in self.threads.media.values()
                if m.user_id == profile_id and not m.is_carousel_child and m.timestamp > horizon
            )

    def _new_media(
        self, container: ThreadsContainer, *, media_type: str, child: bool
    ) -> ThreadsMedia:
        media_id = str(18_100_000_000_000_000 + self.state.next_number())
        media = ThreadsMedia(
            id=media_id,
            user_id=container.user_id,
            container_id=container.id,
            text=container.text,
            media_type=media_type,
            timestamp=self.state.now(),
            shortcode=_shortcode(media_id),
            image_urls=[container.image_url] if container.image_url else [],
            is_carousel_child=child,
        )
        self.threads.media[media.id] = media
        return media

    def publish(self, req: Request, ctx: CallContext, viewer: Viewer, profile: Any) -> Any:
        self._require_publisher(viewer, profile)
        creation_id = req.param("creation_id")
        if not creation_id:
            raise errors.missing_param("creation_id")
        quota_used = self.quota_usage(profile.id)
        threads = self.threads
        with self.state.lock:
            container = threads.containers.get(creation_id)
            if container is None or container.user_id != profile.id:
                raise errors.unsupported("POST", creation_id)
            container.publish_attempts += 1
            self.state.save()
            if container.is_carousel_item:
                raise errors.invalid_param("(#100) A carousel item cannot be published on its own")
            status, _ = container_status(self.state, container, self.state.now())
            refuse_unpublishable(status, already_published=already_published, not_ready=not_ready)
            if quota_used >= self.state.config.threads_quota_total:
                raise errors.ig_publishing_limit()
            if container.media_type == "CAROUSEL":
                child_ids = []
                for child_id in container.children:
                    child = threads.containers[child_id]
                    child_media = self._new_media(child, media_type="IMAGE", child=True)
                    child.published_media_id = child_media.id
                    child.publish_count += 1
                    child_ids.append(child_media.id)
                media = self._new_media(container, media_type="CAROUSEL_ALBUM", child=False)
                media.children = child_ids
                media.image_urls = [url for i in child_ids for url in threads.media[i].image_urls]
            else:
                kind = "TEXT_POST" if container.media_type == "TEXT" else "IMAGE"
                media = self._new_media(container, media_type=kind, child=False)
            container.published_media_id = media.id
            container.publish_count += 1
            self.state.save()
        ctx.notes["created"] = media.id
        return {"id": media.id}


# --- control ----------------------------------------------------------------------------------


def add_profiles(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /_sandbox/threads/profiles` {"count", "name_prefix"}: more Threads profiles of the
    demo user (the reliability suite publishes to several), as `POST /_sandbox/pages` adds
    Pages. Kept in the state file."""
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ControlError("count is an integer from 1 to 1000")
    prefix = str(body.get("name_prefix") or "Load Test Threads")
    threads = store(state)
    created = []
    with state.lock:
        for _ in range(count):
            number = state.next_number()
            profile = ThreadsProfile(
                id=str(int(BISTRO_THREADS_ID) + 100_000 + number),
                username=f"loadtest{number}",
                name=f"{prefix} {number}",
                owner_user_id=DEMO_USER_ID,
                extra=True,
            )
            threads.profiles[profile.id] = profile
            created.append(asdict(profile))
        state.save()
    return {"profiles": created}


def mint(state: SandboxState, method: str, parts: list[str], body: dict[str, Any]) -> Any:
    """`GET /_sandbox/threads` (or `/threads/profiles`): the profiles; `POST
    /_sandbox/threads/profiles`: more profiles (`add_profiles`); `POST /_sandbox/threads/tokens`
    {"kind": "long" | "short", "user_id", "expires_in", "age_seconds"}: a Threads token without
    the OAuth dance."""
    threads = store(state)
    if method == "GET" and parts in ([], ["profiles"]):
        with state.lock:
            return {"profiles": [asdict(p) for p in threads.profiles.values()]}
    if method == "POST" and parts == ["profiles"]:
        return add_profiles(state, body)
    if method != "POST" or parts != ["tokens"]:
        raise ControlError(f"no control endpoint {method} /_sandbox/threads/{'/'.join(parts)}")
    profile_id = str(body.get("user_id") or BISTRO_THREADS_ID)
    if profile_id not in threads.profiles:
        raise ControlError(f"unknown Threads profile {profile_id}")
    return hostlogin.mint(state, LOGIN, profile_id, body, ControlError)


# --- the network --------------------------------------------------------------------------------


class ThreadsNetwork(Network):
    name = "threads"
    label = "Threads (sandbox)"
    scopes = SCOPES
    token_kinds = (THREADS_SHORT, THREADS_LONG)
    host_token_kinds = (THREADS_SHORT, THREADS_LONG)
    dialog_paths = ("/oauth/authorize",)

    def create_store(self, state: SandboxState) -> ThreadsStore:
        return ThreadsStore(state)

    def node_types(self) -> Iterable[NodeType]:
        return NODE_TYPES

    def me(self, state: SandboxState, claims: TokenClaims) -> Found | None:
        profile = store(state).profiles.get(claims.user_id)
        return ("ThreadsUser", profile) if profile else None

    def lookup(
        self, state: SandboxState, object_id: str, claims: TokenClaims | None, ctx: CallContext
    ) -> Found | None:
        if claims is None:
            return None
        threads = store(state)
        own = claims.user_id
        profile = threads.profiles.get(object_id)
        if profile is not None and profile.id == own:
            return "ThreadsUser", profile
        container = threads.containers.get(object_id)
        if container is not None and container.user_id == own:
            return "ThreadsMediaContainer", container
        media = threads.media.get(object_id)
        if media is not None and media.user_id == own:
            return "ThreadsMedia", media
        return None

    def routes(self, graph: Graph) -> dict[str, RouteHandler]:
        def profile_of(user_id: str) -> str | None:
            profile = store(graph.state).profile_of(user_id)
            return profile.id if profile else None

        return HostLogin(graph, LOGIN, profile_of, _code_answer).routes()

    def edges(self, graph: Graph) -> dict[EdgeKey, EdgeHandler]:
        state = graph.state
        publisher = ThreadsPublisher(state)

        def threads_list(req: Request, ctx: CallContext, viewer: Viewer, profile: Any) -> Any:
            render = graph.render_each(req, viewer, "ThreadsMedia")
            with state.lock:
                media = [
                    m
                    for m in store(state).media.values()
                    if m.user_id == profile.id and not m.is_carousel_child
                ]
            media = graph.pager.in_window(media, lambda m: m.timestamp, req)
            return graph.pager.paginate(req, media, render)

        def publishing_limit(req: Request, ctx: CallContext, viewer: Viewer, profile: Any) -> Any:
            wanted = [f.strip() for f in (req.param("fields") or "quota_usage").split(",")]
            entry: dict[str, Any] = {}
            for name in wanted:
                if name == "quota_usage":
                    entry["quota_usage"] = publisher.quota_usage(profile.id)
                elif name == "config":
                    entry["config"] = {
                        "quota_total": state.config.threads_quota_total,
                        "quota_duration": QUOTA_DURATION,
                    }
                elif name:
                    raise errors.nonexisting_field(name, "ThreadsPublishingLimit")
            return {"data": [entry]}

        def media_insights(req: Request, ctx: CallContext, viewer: Viewer, media: Any) -> Any:
            claims = viewer.claims
            if claims is None or not claims.has_scope("threads_manage_insights"):
                raise errors.missing_permission("threads_manage_insights")
            wanted = [m.strip() for m in (req.param("metric") or "").split(",") if m.strip()]
            if not wanted:
                raise errors.missing_param("metric")
            unknown = [m for m in wanted if m not in METRICS]
            if unknown:
                raise errors.invalid_param(f"(#100) metric[0] must be one of {', '.join(METRICS)}")
            counts = insights(media, state.now())
            return {
                "data": [
                    {
                        "name": name,
                        "period": "lifetime",
                        "values": [{"value": counts[name]}],
                        "title": name.capitalize(),
                        "id": f"{media.id}/insights/{name}/lifetime",
                    }
                    for name in wanted
                ]
            }

        return {
            ("ThreadsUser", "threads", "GET"): threads_list,
            ("ThreadsUser", "threads", "POST"): publisher.create,
            ("ThreadsUser", "threads_publish", "POST"): publisher.publish,
            ("ThreadsUser", "threads_publishing_limit", "GET"): publishing_limit,
            ("ThreadsMedia", "insights", "GET"): media_insights,
        }

    def dialog_note(self, state: SandboxState, user: UserRecord) -> str:
        profile = store(state).profile_of(user.id)
        if profile is None:
            return ""
        return (
            f"<p class='muted'>Threads profile <strong>@{escape(profile.username)}</strong> "
            "(for apps that ask for <code>threads_basic</code>)</p>"
        )

    def control(self) -> dict[str, Any]:
        return {"threads": mint}

    def published(self, state: SandboxState, base_url: str) -> tuple[dict[str, Any], dict]:
        threads = store(state)
        now = state.now()
        containers: list[dict[str, Any]] = [
            {
                "id": c.id,
                "target_id": c.user_id,
                "media_type": c.media_type,
                "is_carousel_item": c.is_carousel_item,
                "text": c.text,
                "image_url": c.image_url,
                "children": c.children,
                "reply_control": c.reply_control,
                "status": container_status(state, c, now)[0],
                "created_time": graph_time(c.created_time),
                "published_media_id": c.published_media_id,
                "publish_count": c.publish_count,
                "publish_attempts": c.publish_attempts,
            }
            for c in sorted(threads.containers.values(), key=lambda c: c.created_time)
        ]
        top = sorted(
            (m for m in threads.media.values() if not m.is_carousel_child),
            key=lambda m: m.timestamp,
        )
        keys = {m.id: content_key(m.user_id, m.text or "", None, m.image_urls) for m in top}
        same = Counter(keys.values())
        items = [
            {
                "id": m.id,
                "target_id": m.user_id,
                "username": threads.profiles[m.user_id].username
                if m.user_id in threads.profiles
                else "",
                "container_id": m.container_id,
                "text": m.text,
                "media_type": m.media_type,
                "children": m.children,
                "image_urls": m.image_urls,
                "timestamp": graph_time(m.timestamp),
                "created_at": m.timestamp,
                "permalink": f"{base_url}/_sandbox/view/{m.id}",
                "content_key": keys[m.id],
                "same_content_count": same[keys[m.id]],
            }
            for m in top
        ]
        summary = {
            "threads": len(items),
            "threads_by_type": dict(Counter(i["media_type"] for i in items)),
            "threads_containers": len(containers),
            "threads_with_repeated_content": repeats(same),
            "threads_containers_published_twice": [
                c["id"] for c in containers if c["publish_count"] > 1
            ],
        }
        return {"threads": items, "threads_containers": containers}, summary

    def index_html(self, state: SandboxState) -> str:
        threads = store(state)
        rows = "".join(
            f"<tr><td>{graph_time(m.timestamp)}</td>"
            f"<td>@{escape(threads.profiles[m.user_id].username)}</td>"
            f"<td>{escape(m.text or '')[:200]} ({escape(m.media_type)})</td>"
            f"<td><a href='/_sandbox/view/{escape(m.id)}'>{escape(m.id)}</a></td></tr>"
            for m in sorted(
                (m for m in threads.media.values() if not m.is_carousel_child),
                key=lambda m: m.timestamp,
                reverse=True,
            )[:30]
        )
        empty = "<tr><td colspan='4' class='muted'>nothing yet</td></tr>"
        return f"""
<h2>Threads</h2>
<table><tr><th>when (UTC)</th><th>profile</th><th>text</th><th>id</th></tr>
{rows or empty}</table>"""

    def view_html(self, state: SandboxState, object_id: str) -> tuple[str, str] | None:
        threads = store(state)
        media = threads.media.get(object_id)
        if media is None:
            return None
        profile = threads.profiles[media.user_id]
        images = "".join(
            f"<p><img alt='' style='max-width:100%' src='{escape(url)}'></p>"
            for url in media.image_urls
        )
        body = (
            f"<h1>@{escape(profile.username)} on Threads</h1><p class='muted'>"
            f"{graph_time(media.timestamp)} · {escape(media.media_type)} "
            f"{escape(media.id)}</p><p>{escape(media.text or '')}</p>{images}"
        )
        return profile.username, body


def threads_mount(*, prefix: str = "/threads", port: int | None = None) -> Mount:
    """Threads as its own Graph host: at `prefix` on the main port, or on `port`."""
    return Mount(
        name="threads",
        label="Threads API (graph.threads.net)",
        networks=(ThreadsNetwork(),),
        prefix="" if port is not None else prefix,
        port=port,
    )

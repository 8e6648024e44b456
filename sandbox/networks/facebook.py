"""Facebook Pages: the Pages a person manages (`/me/accounts`, Business portfolios), their
posts and photos, Page tokens, Page tasks, and Facebook Login's token routes.

Registers the node types Page (and AccountsEntry, a Page as `/me/accounts` lists it),
Business, PagePost and Photo; the edges `/me/accounts`, `/me/businesses`, `owned_pages`,
`client_pages`, `/{page-id}/feed|posts|published_posts|photos` (read and publish) and the
engagement edges of posts and photos; the routes `/oauth/access_token`,
`/oauth/access_token_info` and `/debug_token`; the Page token kind; the control endpoint
`/_sandbox/pages`; and its part of the read-out and of the HTML pages.

Networks built on Pages (Instagram business accounts) extend it through the `Network` hooks
`page_added`, `describe_page` and `page_columns`, and by adding fields to Page; this module
never imports them.
"""

import json
import re
import urllib.parse
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from html import escape
from typing import Any, cast

from .. import errors
from .. import insights as ins
from ..comments import CommentRecord, add_comment, comment_fields, comments_on, readout
from ..context import CallContext, Request, Viewer, graph_time
from ..control import ControlError, repeats
from ..fields import FieldSpec
from ..graph import Graph
from ..media import FetchError, MediaSource, describe, fetch, is_http_url
from ..nodes import MISSING, Renderer, engagement
from ..registry import (
    ControlHandler,
    EdgeHandler,
    EdgeKey,
    Found,
    Network,
    NodeType,
    Resolver,
    RouteHandler,
)
from ..state import DEMO_USER_ID, SandboxState, UserRecord, content_key
from ..tokens import PAGE, TokenClaims

DEMO_BUSINESS_ID = "102000000000001"
BISTRO_PAGE_ID = "101000000000001"
CATERING_PAGE_ID = "101000000000002"
BAKERY_PAGE_ID = "101000000000003"

# The tasks a person can have on a Page (Meta's Page roles, split up).
PAGE_TASKS = ("ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MANAGE", "MESSAGING", "MODERATE")
# What the demo user can do on a Page unless told otherwise (a Page "editor": all but MANAGE).
DEFAULT_PAGE_TASKS = ("ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE")
_ATTACHED = re.compile(r"^attached_media\[(\d+)\]$")


# --- records ----------------------------------------------------------------------------------


@dataclass(slots=True)
class PageRecord:
    id: str
    name: str
    category: str
    manager_ids: list[str]
    # The Instagram account linked to the Page (set by the network that serves it).
    ig_id: str | None = None
    # Listed by GET /me/accounts; False: reachable only through a Business portfolio.
    in_accounts: bool = True
    about: str = ""
    fan_count: int = 0
    username: str | None = None
    # The demo user's tasks on this Page (shown in `tasks`; publishing needs CREATE_CONTENT).
    tasks: list[str] = field(default_factory=lambda: list(DEFAULT_PAGE_TASKS))
    extra: bool = False  # created through the control API, not part of the demo seed


@dataclass(slots=True)
class BusinessRecord:
    id: str
    name: str
    member_ids: list[str]
    owned_page_ids: list[str]
    client_page_ids: list[str]


@dataclass(slots=True)
class PhotoRecord:
    id: str
    page_id: str
    caption: str
    published: bool
    created_time: float
    source: MediaSource
    post_id: str | None = None
    used_in_post_id: str | None = None


@dataclass(slots=True)
class PostRecord:
    id: str
    page_id: str
    message: str
    link: str | None
    photo_ids: list[str]
    published: bool
    created_time: float
    status_type: str
    # Identical content on the same Page: how the read-out exposes duplicate publishing.
    content_key: str = ""
    # The edge that created it: "feed" (status, link, attached_media) or "photos".
    edge: str = "feed"


def _demo_pages() -> list[PageRecord]:
    return [
        PageRecord(
            BISTRO_PAGE_ID,
            "Demo Bistro",
            "Restaurant",
            [DEMO_USER_ID],
            about="Seasonal plates, natural wine. (Sandbox demo Page.)",
            fan_count=1289,
            username="demobistro",
        ),
        PageRecord(
            CATERING_PAGE_ID,
            "Demo Bistro Catering",
            "Caterer",
            [DEMO_USER_ID],
            # The trap of SPEC 5.1: only the Business portfolio lists this Page.
            in_accounts=False,
            about="Weddings and office lunches. (Sandbox demo Page.)",
            fan_count=312,
            username="bistrocatering",
        ),
        PageRecord(
            BAKERY_PAGE_ID,
            "Demo Bistro Bakery",
            "Bakery",
            [DEMO_USER_ID],
            about="Sourdough every morning. (Sandbox demo Page, no Instagram.)",
            fan_count=845,
            username="demobistrobakery",
        ),
    ]


class FacebookStore:
    """Pages, Business portfolios, Page posts and photos, and the (#506) refusals."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.pages: dict[str, PageRecord] = {p.id: p for p in _demo_pages()}
        business = BusinessRecord(
            DEMO_BUSINESS_ID,
            "Demo Bistro Group",
            member_ids=[DEMO_USER_ID],
            owned_page_ids=[BISTRO_PAGE_ID, CATERING_PAGE_ID],
            client_page_ids=[],
        )
        self.businesses: dict[str, BusinessRecord] = {business.id: business}
        self.posts: dict[str, PostRecord] = {}
        self.photos: dict[str, PhotoRecord] = {}
        self.comments: dict[str, CommentRecord] = {}
        # `(#506) Duplicate status message` refusals (not faults): page, message, earlier post.
        self.duplicate_refusals: list[dict[str, Any]] = []

    def snapshot(self) -> dict[str, Any]:
        return {
            "extra_pages": [asdict(p) for p in self.pages.values() if p.extra],
            # Tasks changed at runtime on the demo Pages (extra Pages carry their own).
            "page_tasks": {
                p.id: p.tasks
                for p in self.pages.values()
                if not p.extra and tuple(p.tasks) != DEFAULT_PAGE_TASKS
            },
            "posts": [asdict(p) for p in self.posts.values()],
            "photos": [asdict(p) for p in self.photos.values()],
            "fb_comments": [asdict(c) for c in self.comments.values()],
        }

    def load(self, data: dict[str, Any]) -> None:
        for raw in data.get("extra_pages", []):
            page = PageRecord(**raw)
            self.pages[page.id] = page
        for page_id, tasks in data.get("page_tasks", {}).items():
            if page_id in self.pages:
                self.pages[page_id].tasks = [str(t) for t in tasks]
        for raw in data.get("posts", []):
            post = PostRecord(**raw)
            self.posts[post.id] = post
        for raw in data.get("photos", []):
            source = raw.pop("source")
            media = MediaSource.from_dict(source) if source else MediaSource(kind="upload")
            photo = PhotoRecord(**raw, source=media)
            self.photos[photo.id] = photo
        for raw in data.get("fb_comments", []):
            comment = CommentRecord(**raw)
            self.comments[comment.id] = comment
        for post in self.posts.values():
            # State files from before `edge`: a photo's own post came from /photos.
            first = self.photos.get(post.photo_ids[0]) if post.photo_ids else None
            if first is not None and first.post_id == post.id:
                post.edge = "photos"

    def pages_of(self, user_id: str) -> list[PageRecord]:
        return [p for p in self.pages.values() if user_id in p.manager_ids]


def store(state: SandboxState) -> FacebookStore:
    return cast(FacebookStore, state.stores[FacebookNetwork.name])


def can_see_page(claims: TokenClaims | None, page: PageRecord) -> bool:
    """A Page token sees its own Page; a user token the Pages its user manages."""
    if claims is None:
        return False
    if claims.is_page:
        return claims.page_id == page.id
    return claims.user_id in page.manager_ids


# --- fields -----------------------------------------------------------------------------------

# What a StoryAttachment (a Page post's `attachments`) and its parts may be asked for.
ATTACHMENT_FIELDS = frozenset(
    {
        "description",
        "media",
        "media_type",
        "subattachments",
        "target",
        "title",
        "type",
        "unshimmed_url",
        "url",
    }
)
_PART_FIELDS: dict[str, tuple[str, frozenset[str]]] = {
    "target": ("StoryAttachmentTarget", frozenset({"id", "url", "unshimmed_url"})),
    "media": ("StoryAttachmentMedia", frozenset({"image", "source"})),
    "image": ("ImageSource", frozenset({"src", "width", "height"})),
}


def project(
    value: dict[str, Any], specs: list[FieldSpec] | None, node_type: str, known: frozenset[str]
) -> dict[str, Any]:
    """The parts of a plain JSON value asked for by nested fields (`target{id}`), checked
    against what that type has: an unknown name is Meta's nonexisting-field error."""
    if specs is None:
        return value
    _check_names(specs, node_type, known)
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.name not in value:
            continue
        inner = value[spec.name]
        if spec.name == "subattachments":
            out[spec.name] = {
                "data": [
                    project(item, spec.children, "StoryAttachment", ATTACHMENT_FIELDS)
                    for item in inner["data"]
                ]
            }
        elif spec.name in _PART_FIELDS and isinstance(inner, dict):
            part_type, part_known = _PART_FIELDS[spec.name]
            out[spec.name] = project(inner, spec.children, part_type, part_known)
        else:
            out[spec.name] = inner
    return out


def _check_names(specs: list[FieldSpec], node_type: str, known: frozenset[str]) -> None:
    """Every name asked for exists on its type, whether this value has it or not (Meta checks
    the request, not the data)."""
    for spec in specs:
        if spec.name not in known:
            raise errors.nonexisting_field(spec.name, node_type)
        if not spec.children:
            continue
        if spec.name == "subattachments":
            _check_names(spec.children, "StoryAttachment", ATTACHMENT_FIELDS)
        elif spec.name in _PART_FIELDS:
            _check_names(spec.children, *_PART_FIELDS[spec.name])


def _page_fields(r: Renderer) -> dict[str, Resolver]:
    def access_token(page: PageRecord, spec: FieldSpec) -> Any:
        claims = r.viewer.claims if r.viewer else None
        if claims is None or not claims.is_user or claims.user_id not in page.manager_ids:
            return MISSING
        return r.state.signer.encode(r.state.signer.derive_page(claims, page.id))

    return {
        "id": lambda p, s: p.id,
        "name": lambda p, s: p.name,
        "category": lambda p, s: p.category,
        "category_list": lambda p, s: [{"id": str(2500 + len(p.category)), "name": p.category}],
        "about": lambda p, s: p.about or MISSING,
        "fan_count": lambda p, s: p.fan_count,
        "followers_count": lambda p, s: p.fan_count,
        "username": lambda p, s: p.username or MISSING,
        "link": lambda p, s: r.view_url(p.id),
        "is_published": lambda p, s: True,
        "tasks": lambda p, s: list(p.tasks),
        "access_token": access_token,
        "picture": lambda p, s: r.picture(p.id, s),
    }


def _business_fields(r: Renderer) -> dict[str, Resolver]:
    pages = store(r.state).pages
    return {
        "id": lambda b, s: b.id,
        "name": lambda b, s: b.name,
        "verification_status": lambda b, s: "not_verified",
        "primary_page": lambda b, s: (
            {"id": b.owned_page_ids[0], "name": pages[b.owned_page_ids[0]].name}
            if b.owned_page_ids
            else MISSING
        ),
    }


def _photo_attachment(r: Renderer, photo: PhotoRecord, *, url: str) -> dict[str, Any]:
    source = photo.source
    attachment: dict[str, Any] = {
        "media": {
            "image": {
                "height": source.height or 0,
                "src": source.url or r.picture_url(photo.id),
                "width": source.width or 0,
            }
        },
        "media_type": "photo",
        "target": {"id": photo.id, "url": r.view_url(photo.id)},
        "type": "photo",
        "url": url,
    }
    if photo.caption:
        attachment["description"] = photo.caption
    return attachment


def post_attachment(r: Renderer, post: PostRecord) -> dict[str, Any] | None:
    """The one StoryAttachment of a Page post, in Meta's shape: a photo, an album of photos
    (`subattachments`), or a shared link; None for a text post."""
    fb = store(r.state)
    photos = [fb.photos[i] for i in post.photo_ids if i in fb.photos]
    if len(photos) == 1:
        return _photo_attachment(r, photos[0], url=r.view_url(photos[0].id))
    if photos:
        first = _photo_attachment(r, photos[0], url="")
        album: dict[str, Any] = {
            "media": first["media"],
            "media_type": "album",
            "subattachments": {
                "data": [_photo_attachment(r, p, url=r.view_url(p.id)) for p in photos]
            },
            "target": {"id": post.id.rpartition("_")[2], "url": r.view_url(post.id)},
            "title": f"Photos from {fb.pages[post.page_id].name}'s post",
            "type": "album",
            "url": r.view_url(post.id),
        }
        if post.message:
            album["description"] = post.message
        return album
    if post.link:
        host = urllib.parse.urlsplit(post.link).netloc
        return {
            "media_type": "link",
            "target": {"url": post.link},
            "title": host,
            "type": "share",
            "unshimmed_url": post.link,
            "url": post.link,
        }
    return None


def _post_fields(r: Renderer) -> dict[str, Resolver]:
    fb = store(r.state)

    def counts(post: PostRecord) -> dict[str, int]:
        return engagement(post.id, post.created_time, r.now)

    def shares(post: PostRecord, spec: FieldSpec) -> Any:
        # Meta leaves `shares` out until a post has been shared.
        count = counts(post)["shares"]
        return {"count": count} if count else MISSING

    def full_picture(post: PostRecord, spec: FieldSpec) -> Any:
        if not post.photo_ids:
            return MISSING
        photo = fb.photos.get(post.photo_ids[0])
        return (photo.source.url if photo else None) or r.picture_url(post.photo_ids[0])

    def attachments(post: PostRecord, spec: FieldSpec) -> Any:
        attachment = post_attachment(r, post)
        if attachment is None:
            return MISSING  # a text post carries nothing (Meta leaves the field out)
        picked = project(attachment, spec.children, "StoryAttachment", ATTACHMENT_FIELDS)
        return {"data": [picked]}

    def page_from(post: PostRecord, spec: FieldSpec) -> Any:
        page = fb.pages.get(post.page_id)
        return {"name": page.name if page else "", "id": post.page_id}

    return {
        "id": lambda p, s: p.id,
        "message": lambda p, s: p.message or MISSING,
        "created_time": lambda p, s: graph_time(p.created_time),
        "updated_time": lambda p, s: graph_time(p.created_time),
        "permalink_url": lambda p, s: r.view_url(p.id),
        "status_type": lambda p, s: p.status_type,
        "is_published": lambda p, s: p.published,
        "is_hidden": lambda p, s: False,
        "link": lambda p, s: p.link or MISSING,
        "object_id": lambda p, s: p.photo_ids[0] if len(p.photo_ids) == 1 else MISSING,
        "full_picture": full_picture,
        "attachments": attachments,
        "from": page_from,
        "likes": lambda p, s: r.summary_edge("likes", counts(p), s),
        "comments": lambda p, s: r.summary_edge("comments", counts(p), s),
        "reactions": lambda p, s: r.summary_edge("reactions", counts(p), s),
        "shares": shares,
    }


def _photo_fields(r: Renderer) -> dict[str, Resolver]:
    pages = store(r.state).pages

    def counts(photo: PhotoRecord) -> dict[str, int]:
        return engagement(photo.id, photo.created_time, r.now)

    def images(photo: PhotoRecord, spec: FieldSpec) -> Any:
        source = photo.source
        return [
            {
                "height": source.height or 0,
                "width": source.width or 0,
                "source": source.url or r.picture_url(photo.id),
            }
        ]

    return {
        "id": lambda p, s: p.id,
        "created_time": lambda p, s: graph_time(p.created_time),
        "name": lambda p, s: p.caption or MISSING,
        "link": lambda p, s: r.view_url(p.post_id or p.id),
        "page_story_id": lambda p, s: p.post_id or MISSING,
        "picture": lambda p, s: p.source.url or r.picture_url(p.id),
        "images": images,
        "width": lambda p, s: p.source.width or MISSING,
        "height": lambda p, s: p.source.height or MISSING,
        "from": lambda p, s: {"name": pages[p.page_id].name, "id": p.page_id},
        "likes": lambda p, s: r.summary_edge("likes", counts(p), s),
        "comments": lambda p, s: r.summary_edge("comments", counts(p), s),
        "reactions": lambda p, s: r.summary_edge("reactions", counts(p), s),
    }


NODE_TYPES = (
    NodeType("Page", "/{page-id}", ("name", "id"), _page_fields),
    NodeType(
        "AccountsEntry",
        "/{page-id}",
        ("access_token", "category", "category_list", "name", "id", "tasks"),
        _page_fields,
        shown_as="Page",
    ),
    NodeType("Business", "/{business-id}", ("id", "name"), _business_fields),
    NodeType("PagePost", "/{post-id}", ("created_time", "message", "id"), _post_fields),
    NodeType("Photo", "/{photo-id}", ("created_time", "name", "id"), _photo_fields),
    NodeType("Comment", "/{comment-id}", ("created_time", "from", "message", "id"), comment_fields),
)


def comment_on(state: SandboxState) -> EdgeHandler:
    """`POST /{object-id}/comments` (`message`) on a Page's post, photo or video: a Page token
    of that Page with pages_manage_engagement; answers `{"id": "{object}_{comment}"}`."""

    def handler(req: Request, ctx: CallContext, viewer: Viewer, record: Any) -> Any:
        claims = viewer.claims
        if claims is None or not claims.is_page or claims.page_id != record.page_id:
            raise errors.missing_permission("pages_manage_engagement with the Page's token")
        if not claims.has_scope("pages_manage_engagement"):
            raise errors.missing_permission("pages_manage_engagement")
        fb = store(state)
        with state.lock:
            page = fb.pages[record.page_id]
            created = add_comment(
                state,
                fb.comments,
                message=req.param("message"),
                target_id=record.id,
                owner_id=page.id,
                author_name=page.name,
                comment_id=record.id.rpartition("_")[2] + "_{n}",
            )
        ctx.notes["created"] = created.id
        return {"id": created.id}

    return handler


def comments_list(state: SandboxState, graph: Graph) -> EdgeHandler:
    """`GET /{object-id}/comments` on a Page's post, photo or video: the comments callers
    posted (`POST /{object-id}/comments`), oldest first, 25 per page (`limit`, cursors), as
    Comment nodes (`fields=id,message,from,created_time`). `summary=true` adds the synthetic
    engagement summary the node's `comments` field shows."""

    def handler(req: Request, ctx: CallContext, viewer: Viewer, record: Any) -> Any:
        with state.lock:
            items = comments_on(store(state).comments, record.id)
        body = graph.pager.paginate(req, items, graph.render_each(req, viewer, "Comment"))
        if req.param("summary") in ("true", "1"):
            node_type = "PagePost" if record.id in store(state).posts else "Photo"
            if node_type == "Photo" and record.id not in store(state).photos:
                return body  # a video: no synthetic counts
            spec = FieldSpec("comments", {"summary": "true"})
            with state.lock:
                node = graph.renderer(req, viewer).render(node_type, record, [spec])
            body["summary"] = node["comments"].get("summary")
        return body

    return handler


# --- publishing -------------------------------------------------------------------------------


def _attached_media(params: dict[str, str]) -> list[str]:
    """`attached_media[0]={"media_fbid":"…"}` fields or one `attached_media` JSON array."""
    entries: list[tuple[int, str]] = []
    for key, value in params.items():
        match = _ATTACHED.match(key)
        if match:
            entries.append((int(match.group(1)), value))
    raw_items: list[Any] = []
    if "attached_media" in params:
        try:
            parsed = json.loads(params["attached_media"])
        except ValueError as exc:
            raise errors.invalid_param("(#100) param attached_media must be an array.") from exc
        raw_items = parsed if isinstance(parsed, list) else [parsed]
    for _, value in sorted(entries):
        try:
            raw_items.append(json.loads(value))
        except ValueError as exc:
            raise errors.invalid_param(
                '(#100) attached_media must be objects like {"media_fbid": "..."}'
            ) from exc
    ids = []
    for item in raw_items:
        if not isinstance(item, dict) or not item.get("media_fbid"):
            raise errors.invalid_param(
                '(#100) attached_media must be objects like {"media_fbid": "..."}'
            )
        ids.append(str(item["media_fbid"]))
    return ids


class PagePublisher:
    """`POST /{page-id}/feed` and `/photos`: with a Page token of that Page, the Page's
    CREATE_CONTENT task, and Meta's duplicate-status check."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    @property
    def fb(self) -> FacebookStore:
        return store(self.state)

    def _require_page_token(self, viewer: Viewer, page: PageRecord) -> None:
        claims = viewer.claims
        if claims is None or not claims.is_page or claims.page_id != page.id:
            raise errors.page_publish_permission()
        if not claims.has_scope("pages_manage_posts", "pages_read_engagement"):
            raise errors.page_publish_permission()
        # Checked on every call, not when the token was issued: a person who loses the task
        # keeps a valid Page token that can no longer publish.
        if "CREATE_CONTENT" not in page.tasks:
            raise errors.page_task_required()

    def _new_post(
        self,
        page: PageRecord,
        *,
        message: str,
        link: str | None,
        photo_ids: list[str],
        published: bool,
        status_type: str,
        edge: str,
    ) -> PostRecord:
        number = self.state.next_number()
        photos = self.fb.photos
        images = [photos[p].source.sha256 or photos[p].source.url or p for p in photo_ids]
        post = PostRecord(
            id=f"{page.id}_{122_100_000_000_000_000 + number}",
            page_id=page.id,
            message=message,
            link=link,
            photo_ids=photo_ids,
            published=published,
            created_time=self.state.now(),
            status_type=status_type,
            content_key=content_key(page.id, message, link, images),
            edge=edge,
        )
        self.fb.posts[post.id] = post
        return post

    def _repeated_status(self, page: PageRecord, message: str) -> PostRecord | None:
        """Meta's duplicate check: the feed post of this Page with the same status text created
        within `duplicate_window_seconds` (photo captions from /photos are not statuses)."""
        window = self.state.config.duplicate_window_seconds
        text = message.strip()
        if window <= 0 or not text:
            return None
        horizon = self.state.now() - window
        for post in self.fb.posts.values():
            if (
                post.page_id == page.id
                and post.edge == "feed"
                and post.created_time >= horizon
                and post.message.strip() == text
            ):
                return post
        return None

    def feed(self, req: Request, ctx: CallContext, viewer: Viewer, page: PageRecord) -> Any:
        self._require_page_token(viewer, page)
        message = req.param("message") or ""
        link = req.param("link") or None
        if link and not is_http_url(link):
            raise errors.invalid_url("link")
        if req.param("scheduled_publish_time"):
            raise errors.invalid_param("(#100) The sandbox does not emulate scheduled posts")
        media_ids = _attached_media(req.params)
        if not message and not link and not media_ids:
            raise errors.invalid_param("(#100) Missing message or attachment")
        published = req.flag("published", True)
        fb = self.fb
        with self.state.lock:
            for index, media_id in enumerate(media_ids):
                photo = fb.photos.get(media_id)
                if (
                    photo is None
                    or photo.page_id != page.id
                    or photo.published
                    or photo.used_in_post_id
                ):
                    raise errors.invalid_param(
                        f"(#100) attached_media[{index}] must be an unpublished photo of this "
                        "Page that no post uses yet"
                    )
            earlier = self._repeated_status(page, message)
            if earlier is not None:
                # Kept for the read-out: a product that re-posts is caught even though Meta
                # (and the sandbox) refused the copy.
                fb.duplicate_refusals.append(
                    {
                        "time": graph_time(self.state.now()),
                        "target_id": page.id,
                        "message": message,
                        "earlier_post_id": earlier.id,
                    }
                )
                ctx.notes["duplicate_of"] = earlier.id
                raise errors.duplicate_status()
            status_type = (
                "added_photos" if media_ids else "shared_story" if link else "mobile_status_update"
            )
            post = self._new_post(
                page,
                message=message,
                link=link,
                photo_ids=media_ids,
                published=published,
                status_type=status_type,
                edge="feed",
            )
            for media_id in media_ids:
                fb.photos[media_id].used_in_post_id = post.id
            self.state.save()
        ctx.notes["created"] = post.id
        return {"id": post.id}

    def photo(self, req: Request, ctx: CallContext, viewer: Viewer, page: PageRecord) -> Any:
        self._require_page_token(viewer, page)
        caption = req.param("caption") or req.param("message") or ""
        published = req.flag("published", True)
        if req.param("scheduled_publish_time"):
            raise errors.invalid_param("(#100) The sandbox does not emulate scheduled posts")
        upload = req.files.get("source")
        url = req.param("url")
        if upload is not None:
            source = describe(upload[1], kind="upload")
            source.content_type = upload[2]
            if source.image_format is None:
                raise errors.photo_invalid()
        elif url:
            if not is_http_url(url):
                raise errors.invalid_url("url")
            if self.state.config.fetch_media:
                try:
                    source = fetch(url, timeout=self.state.config.fetch_timeout_seconds)
                except FetchError as exc:
                    ctx.notes["fetch_error"] = exc.reason
                    raise errors.photo_invalid() from exc
                if source.image_format is None:
                    raise errors.photo_invalid()
            else:
                source = MediaSource(kind="url", url=url)
        else:
            raise errors.photo_required()
        with self.state.lock:
            number = self.state.next_number()
            photo = PhotoRecord(
                id=str(122_200_000_000_000_000 + number),
                page_id=page.id,
                caption=caption,
                published=published,
                created_time=self.state.now(),
                source=source,
            )
            self.fb.photos[photo.id] = photo
            answer: dict[str, Any] = {"id": photo.id}
            if published:
                post = self._new_post(
                    page,
                    message=caption,
                    link=None,
                    photo_ids=[photo.id],
                    published=True,
                    status_type="added_photos",
                    edge="photos",
                )
                photo.post_id = post.id
                photo.used_in_post_id = post.id
                answer["post_id"] = post.id
            self.state.save()
        ctx.notes["created"] = answer.get("post_id", photo.id)
        return answer


# --- the control API: Pages and their tasks -----------------------------------------------------


def require_insights_token(viewer: Viewer, page: PageRecord) -> None:
    """Page and post insights: a Page token of that Page with read_insights and
    pages_read_engagement."""
    claims = viewer.claims
    if claims is None or not claims.is_page:
        raise errors.GraphError(
            "(#190) This method must be called with a Page Access Token", code=190
        )
    if claims.page_id != page.id or not claims.has_scope("read_insights", "pages_read_engagement"):
        raise errors.missing_permission("read_insights and pages_read_engagement")


def _fb_metrics(req: Request, known: dict[str, tuple[str, str]]) -> list[str]:
    """The `metric` asked for; one retired or unknown name refuses the whole request."""
    wanted = ins.metric_names(req.param("metric"))
    if not wanted:
        raise errors.missing_param("metric")
    if any(ins.fb_retired(name) or name not in known for name in wanted):
        raise ins.fb_invalid_metric()
    return wanted


def _fb_insight(owner: str, name: str, period: str, known: dict[str, tuple[str, str]]) -> dict:
    title, description = known[name]
    return {
        "name": name,
        "period": period,
        "title": title,
        "description": description,
        "id": f"{owner}/insights/{name}/{period}",
    }


def insights_edges(state: SandboxState) -> dict[EdgeKey, EdgeHandler]:
    """`/{page-post-id}/insights` (lifetime) and `/{page-id}/insights` (daily), Meta's current
    metrics only (`sandbox/insights.py`)."""

    def post_insights(req: Request, ctx: CallContext, viewer: Viewer, post: Any) -> Any:
        with state.lock:
            page = store(state).pages[post.page_id]
        require_insights_token(viewer, page)
        wanted = _fb_metrics(req, ins.FB_POST_METRICS)
        c = ins.counts(post.id, post.created_time, state.now())
        reactions = {"like": c["likes"], "love": c["reactions"] - c["likes"]}
        values: dict[str, Any] = {
            "post_media_view": c["views"],
            "post_total_media_view_unique": c["reach"],
            "post_clicks": c["clicks"],
            "post_reactions_by_type_total": {k: v for k, v in reactions.items() if v},
        }
        return {
            "data": [
                _fb_insight(post.id, n, "lifetime", ins.FB_POST_METRICS)
                | {"values": [{"value": values[n]}]}
                for n in wanted
            ]
        }

    def page_insights(req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
        require_insights_token(viewer, page)
        wanted = _fb_metrics(req, ins.FB_PAGE_METRICS)
        period = req.param("period") or "day"
        if period != "day":
            raise errors.invalid_param("period must be one of the following values: day")
        now = state.now()
        since, until = ins.window(
            req.param("since"),
            req.param("until"),
            now,
            default=2 * ins.DAY,
            longest=ins.FB_MAX_WINDOW,
        )
        with state.lock:
            items = [
                ins.Published(p.id, p.created_time)
                for p in store(state).posts.values()
                if p.page_id == page.id and p.published
            ]

        def value(name: str, start: float, end: float) -> int:
            if name == "page_follows":  # the count of followers at the end of the day
                return page.fan_count + ins.total(items, "follows", 0, end)
            if end <= start:
                return 0
            if name == "page_media_view":
                views = ins.total(items, "views", start, end)
                return views + ins.baseline(page.id, name, start, end, 60)
            if name == "page_total_media_view_unique":  # people: at most the views
                reach = ins.total(items, "reach", start, end)
                return reach + ins.baseline(page.id, "page_media_view", start, end, 60) // 2
            return sum(ins.total(items, k, start, end) for k in ("likes", "comments", "shares"))

        return {
            "data": [
                _fb_insight(page.id, name, "day", ins.FB_PAGE_METRICS)
                | {
                    "values": [
                        {"value": v, "end_time": graph_time(end)}
                        for v, end in ins.daily(partial(value, name), since, until, now)
                    ]
                }
                for name in wanted
            ]
        }

    return {
        ("PagePost", "insights", "GET"): post_insights,
        ("Page", "insights", "GET"): page_insights,
    }


def parse_tasks(value: Any) -> list[str]:
    """A Page's task list from JSON: known task names, at least one, in Meta's order."""
    if not isinstance(value, list) or not value or any(t not in PAGE_TASKS for t in value):
        raise ControlError(f"tasks is a non-empty list of {list(PAGE_TASKS)}")
    return [t for t in PAGE_TASKS if t in value]


def page_view(state: SandboxState, page: PageRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": page.id,
        "name": page.name,
        "tasks": list(page.tasks),
        "in_accounts": page.in_accounts,
    }
    for network in state.networks:
        entry.update(network.describe_page(state, page))
    return entry


def add_pages(state: SandboxState, data: dict[str, Any]) -> dict[str, Any]:
    """More Pages for the demo user (benchmarks publish to a hundred accounts)."""
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ControlError("count is an integer from 1 to 1000")
    tasks = parse_tasks(data["tasks"]) if "tasks" in data else list(DEFAULT_PAGE_TASKS)
    in_accounts = bool(data.get("in_accounts", True))
    prefix = str(data.get("name_prefix") or "Load Test Page")
    fb = store(state)
    created = []
    with state.lock:
        for _ in range(count):
            number = state.next_number()
            page_id = str(101_000_000_100_000 + number)
            page = PageRecord(
                id=page_id,
                name=f"{prefix} {number}",
                category="Restaurant",
                manager_ids=[DEMO_USER_ID],
                in_accounts=in_accounts,
                tasks=list(tasks),
                extra=True,
            )
            fb.pages[page_id] = page
            for network in state.networks:
                network.page_added(state, page, number, data)
            if not in_accounts:
                fb.businesses[next(iter(fb.businesses))].owned_page_ids.append(page_id)
            created.append(page_view(state, page))
        state.save()
    return {"pages": created}


def change_page(state: SandboxState, page_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a Page at runtime (today: the demo user's tasks on it). Tokens already issued stay
    valid, as with Meta; what they may do follows the new tasks at once."""
    unknown = sorted(set(data) - {"tasks"})
    if unknown:
        raise ControlError(f"cannot change {unknown}; changeable: ['tasks']")
    with state.lock:
        page = store(state).pages.get(page_id)
        if page is None:
            raise ControlError(f"no Page {page_id}", status=404)
        if "tasks" in data:
            page.tasks = parse_tasks(data["tasks"])
        state.save()
        return page_view(state, page)


def _control_pages(state: SandboxState, method: str, parts: list[str], body: dict) -> Any:
    pages = store(state).pages
    if not parts:
        if method == "POST":
            return add_pages(state, body)
        if method == "GET":
            with state.lock:
                return {"pages": [page_view(state, p) for p in pages.values()]}
    if len(parts) == 1:
        if method == "POST":
            return change_page(state, parts[0], body)
        if method == "GET":
            with state.lock:
                page = pages.get(parts[0])
                if page is None:
                    raise ControlError(f"no Page {parts[0]}", status=404)
                return page_view(state, page)
    raise ControlError(f"no control endpoint {method} /_sandbox/pages/{'/'.join(parts)}", 404)


def _post_kind(post: PostRecord) -> str:
    if len(post.photo_ids) > 1:
        return "album"
    if post.photo_ids:
        return "photo"
    return "link" if post.link else "text"


# --- the network --------------------------------------------------------------------------------


class FacebookNetwork(Network):
    name = "facebook"
    label = "Facebook Pages (Graph API)"
    scopes = (
        "public_profile",
        "email",
        "pages_show_list",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_posts",
        "pages_manage_metadata",
        "pages_manage_engagement",
        "pages_messaging",
        "read_insights",
        "publish_video",
        "business_management",
    )
    token_kinds = (PAGE,)

    def create_store(self, state: SandboxState) -> FacebookStore:
        return FacebookStore()

    def node_types(self) -> Iterable[NodeType]:
        return NODE_TYPES

    def me(self, state: SandboxState, claims: TokenClaims) -> Found | None:
        pages = store(state).pages
        if claims.is_page and claims.page_id in pages:
            return "Page", pages[claims.page_id]
        return None

    def lookup(
        self, state: SandboxState, object_id: str, claims: TokenClaims | None, ctx: CallContext
    ) -> Found | None:
        fb = store(state)
        page = fb.pages.get(object_id)
        if page and can_see_page(claims, page):
            ctx.touch(page.id, "pages")
            return "Page", page
        business = fb.businesses.get(object_id)
        if (
            business
            and claims
            and claims.is_user
            and claims.user_id in business.member_ids
            and claims.has_scope("business_management")
        ):
            return "Business", business
        post = fb.posts.get(object_id)
        if post and can_see_page(claims, fb.pages[post.page_id]):
            ctx.touch(post.page_id, "pages")
            return "PagePost", post
        photo = fb.photos.get(object_id)
        if photo and can_see_page(claims, fb.pages[photo.page_id]):
            ctx.touch(photo.page_id, "pages")
            return "Photo", photo
        comment = fb.comments.get(object_id)
        if comment and can_see_page(claims, fb.pages[comment.owner_id]):
            return "Comment", comment
        return None

    def routes(self, graph: Graph) -> dict[str, RouteHandler]:
        # Facebook Login's token endpoints (the dialog is the server's: an HTML page).
        oauth = graph.oauth
        return {
            "/oauth/access_token": lambda req, ctx: oauth.access_token(req),
            "/oauth/access_token_info": lambda req, ctx: oauth.access_token_info(
                req, graph.peek(req, ctx)
            ),
            "/debug_token": lambda req, ctx: oauth.debug_token(req, graph.peek(req, ctx)),
        }

    def edges(self, graph: Graph) -> dict[EdgeKey, EdgeHandler]:
        state = graph.state
        pager = graph.pager
        publisher = PagePublisher(state)

        def accounts(req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
            claims = viewer.claims
            with state.lock:
                pages = [p for p in store(state).pages_of(user.id) if p.in_accounts]
            if claims is None or not claims.has_scope("pages_show_list"):
                pages = []
            render = graph.render_each(req, viewer, "AccountsEntry")
            return pager.paginate(req, pages, render, quirk=True)

        def businesses(req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
            claims = viewer.claims
            with state.lock:
                items = [b for b in store(state).businesses.values() if user.id in b.member_ids]
            if claims is None or not claims.has_scope("business_management"):
                items = []
            render = graph.render_each(req, viewer, "Business")
            return pager.paginate(req, items, render, quirk=True)

        def business_pages(req: Request, viewer: Viewer, ids: list[str]) -> Any:
            with state.lock:
                fb = store(state)
                pages = [fb.pages[i] for i in ids if i in fb.pages]
            render = graph.render_each(req, viewer, "Page")
            return pager.paginate(req, pages, render, quirk=True)

        def page_posts(req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
            render = graph.render_each(req, viewer, "PagePost")
            with state.lock:
                posts = [
                    p for p in store(state).posts.values() if p.page_id == page.id and p.published
                ]
            posts = pager.in_window(posts, lambda p: p.created_time, req)
            return pager.paginate(req, posts, render, strict_limit=True)

        def page_photos(req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
            render = graph.render_each(req, viewer, "Photo")
            with state.lock:
                photos = [
                    p for p in store(state).photos.values() if p.page_id == page.id and p.published
                ]
            photos = pager.in_window(photos, lambda p: p.created_time, req)
            return pager.paginate(req, photos, render)

        def engagement_edge(kind: str) -> EdgeHandler:
            def handler(req: Request, ctx: CallContext, viewer: Viewer, record: Any) -> Any:
                spec = FieldSpec(kind, {"summary": req.param("summary") or "false"})
                node_type = "PagePost" if record.id in store(state).posts else "Photo"
                with state.lock:
                    node = graph.renderer(req, viewer).render(node_type, record, [spec])
                return node[kind]

            return handler

        return {
            ("User", "accounts", "GET"): accounts,
            ("User", "businesses", "GET"): businesses,
            ("Business", "owned_pages", "GET"): lambda r, c, v, b: business_pages(
                r, v, b.owned_page_ids
            ),
            ("Business", "client_pages", "GET"): lambda r, c, v, b: business_pages(
                r, v, b.client_page_ids
            ),
            ("Page", "feed", "GET"): page_posts,
            ("Page", "posts", "GET"): page_posts,
            ("Page", "published_posts", "GET"): page_posts,
            ("Page", "feed", "POST"): publisher.feed,
            ("Page", "photos", "GET"): page_photos,
            ("Page", "photos", "POST"): publisher.photo,
            ("PagePost", "comments", "POST"): comment_on(state),
            ("Photo", "comments", "POST"): comment_on(state),
            ("PagePost", "likes", "GET"): engagement_edge("likes"),
            ("PagePost", "comments", "GET"): comments_list(state, graph),
            ("PagePost", "reactions", "GET"): engagement_edge("reactions"),
            ("Photo", "likes", "GET"): engagement_edge("likes"),
            ("Photo", "comments", "GET"): comments_list(state, graph),
            ("Photo", "reactions", "GET"): engagement_edge("reactions"),
            **insights_edges(state),
        }

    # --- login --------------------------------------------------------------------------------

    def scope_targets(self, state: SandboxState, user_id: str) -> dict[str, list[str]]:
        fb = store(state)
        pages = [p.id for p in fb.pages_of(user_id)]
        businesses = [b.id for b in fb.businesses.values() if user_id in b.member_ids]
        targets = {s: pages for s in self.scopes if s.startswith(("pages_", "read_insights"))}
        targets["business_management"] = businesses
        return targets

    def dialog_note(self, state: SandboxState, user: UserRecord) -> str:
        pages = ", ".join(escape(p.name) for p in store(state).pages_of(user.id))
        return f"<p class='muted'>The demo user manages: {pages}.</p>"

    # --- control API, read-out, HTML --------------------------------------------------------------

    def control(self) -> dict[str, ControlHandler]:
        return {"pages": _control_pages}

    def forget(self, state: SandboxState, object_id: str) -> bool:
        # Gone for every call after: Meta answers 100/33 "does not exist" for it.
        return store(state).posts.pop(object_id, None) is not None

    def published(self, state: SandboxState, base_url: str) -> tuple[dict[str, Any], dict]:
        fb = store(state)
        content = Counter(p.content_key for p in fb.posts.values())
        messages = Counter(
            (p.page_id, p.message.strip()) if p.message.strip() else None for p in fb.posts.values()
        )
        posts = [
            {
                "id": p.id,
                "target_id": p.page_id,
                "target_name": fb.pages[p.page_id].name if p.page_id in fb.pages else "",
                "kind": _post_kind(p),
                "edge": p.edge,
                "message": p.message,
                "link": p.link,
                "photo_ids": p.photo_ids,
                "image_sources": [
                    fb.photos[i].source.to_dict() for i in p.photo_ids if i in fb.photos
                ],
                "published": p.published,
                "status_type": p.status_type,
                "created_time": graph_time(p.created_time),
                "created_at": p.created_time,
                "permalink_url": f"{base_url}/_sandbox/view/{p.id}",
                "content_key": p.content_key,
                "same_content_count": content[p.content_key],
                "same_message_count": messages[(p.page_id, p.message.strip())]
                if p.message.strip()
                else 1,
            }
            for p in sorted(fb.posts.values(), key=lambda p: p.created_time)
        ]
        photos = [
            {
                "id": p.id,
                "target_id": p.page_id,
                "caption": p.caption,
                "published": p.published,
                "post_id": p.post_id,
                "used_in_post_id": p.used_in_post_id,
                "source": p.source.to_dict(),
                "created_time": graph_time(p.created_time),
            }
            for p in sorted(fb.photos.values(), key=lambda p: p.created_time)
        ]
        refusals = [dict(r) for r in fb.duplicate_refusals]
        comment_lists, comment_counts = readout(fb.comments, "facebook")
        lists = {
            "page_posts": posts,
            "photos": photos,
            "duplicate_refusals": refusals,
            **comment_lists,
        }
        summary = {
            "page_posts": len(posts),
            "page_posts_by_kind": dict(Counter(p["kind"] for p in posts)),
            "photos": len(photos),
            "photos_unattached": sum(
                1 for p in photos if not p["published"] and not p["used_in_post_id"]
            ),
            "posts_with_repeated_content": repeats(content),
            "posts_with_repeated_message": repeats(messages),
            "duplicate_statuses_refused": len(refusals),
            **comment_counts,
        }
        return lists, summary

    def index_html(self, state: SandboxState) -> str:
        fb = store(state)
        columns = [c for network in state.networks for c in network.page_columns()]
        headers = "".join(f"<th>{escape(h)}</th>" for h, _ in columns)
        page_rows = "".join(
            f"<tr><td>{_cell(p.name)}</td><td><code>{_cell(p.id)}</code></td>"
            f"<td>{'yes' if p.in_accounts else 'no — Business portfolio only'}</td>"
            + "".join(f"<td>{_cell(cell(state, p))}</td>" for _, cell in columns)
            + "</tr>"
            for p in fb.pages.values()
        )
        posts = sorted(fb.posts.values(), key=lambda p: p.created_time, reverse=True)[:30]
        post_rows = "".join(
            f"<tr><td>{graph_time(p.created_time)}</td><td>{_cell(fb.pages[p.page_id].name)}</td>"
            f"<td>{_cell(p.message)[:200]}{' 📷' * len(p.photo_ids)}</td>"
            f"<td><a href='/_sandbox/view/{escape(p.id)}'>{escape(p.id)}</a></td></tr>"
            for p in posts
        )
        return f"""
<h2>Demo data</h2>
<p>User <strong>Sandy Sandbox</strong> (sandy@sandbox.example) manages:</p>
<table><tr><th>Page</th><th>id</th><th>in /me/accounts</th>{headers}</tr>
{page_rows}</table>
<h2>Facebook posts</h2>
<table><tr><th>when (UTC)</th><th>Page</th><th>message</th><th>id</th></tr>
{post_rows or EMPTY_ROW}</table>"""

    def view_html(self, state: SandboxState, object_id: str) -> tuple[str, str] | None:
        fb = store(state)
        post = fb.posts.get(object_id)
        if post is not None:
            page = fb.pages[post.page_id]
            images = "".join(
                f"<p><img alt='' style='max-width:100%' "
                f"src='{escape(fb.photos[i].source.url or '/_sandbox/pictures/' + i)}'></p>"
                for i in post.photo_ids
                if i in fb.photos
            )
            link = (
                f"<p><a href='{escape(post.link)}'>{escape(post.link)}</a></p>" if post.link else ""
            )
            body = (
                f"<h1>{escape(page.name)}</h1><p class='muted'>{graph_time(post.created_time)}"
                f" · post {escape(post.id)}</p><p>{escape(post.message)}</p>{link}{images}"
            )
            return page.name, body
        photo = fb.photos.get(object_id)
        if photo is not None:
            owner = fb.pages[photo.page_id]
            src = photo.source.url or f"/_sandbox/pictures/{photo.id}"
            body = (
                f"<h1>{escape(owner.name)}</h1><p class='muted'>{graph_time(photo.created_time)}"
                f" · photo {escape(photo.id)}</p><p>{escape(photo.caption)}</p>"
                f"<p><img alt='' style='max-width:100%' src='{escape(src)}'></p>"
            )
            return owner.name, body
        page_record = fb.pages.get(object_id)
        if page_record is not None:
            return page_record.name, f"<h1>{escape(page_record.name)}</h1>"
        return None


EMPTY_ROW = "<tr><td colspan='4' class='muted'>Nothing yet.</td></tr>"


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value))

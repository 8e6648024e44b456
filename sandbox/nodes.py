"""How each Graph node looks: its fields, its defaults, and field expansion.

`Renderer.render(node_type, record, specs)` returns exactly the fields asked for (plus `id`), as
the Graph API does; an unknown field is Meta's "(#100) Tried accessing nonexisting field" error.
A field that exists but has no value, or needs a permission the token lacks, is left out.
"""

import hashlib
import math
import urllib.parse
from collections.abc import Callable
from typing import Any

from .context import Viewer, graph_time
from .errors import nonexisting_field
from .fields import FieldSpec, specs_for
from .state import (
    ContainerRecord,
    IgAccountRecord,
    IgMediaRecord,
    PageRecord,
    PhotoRecord,
    PostRecord,
    SandboxState,
    UserRecord,
)

MISSING: Any = object()
Resolver = Callable[[Any, FieldSpec], Any]

DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "User": ("name", "id"),
    "Page": ("name", "id"),
    "AccountsEntry": ("access_token", "category", "category_list", "name", "id", "tasks"),
    "IGUser": ("id",),
    "Business": ("id", "name"),
    "PagePost": ("created_time", "message", "id"),
    "Photo": ("created_time", "name", "id"),
    "ShadowIGMediaBuilder": ("id",),
    "IGMedia": ("id",),
}

# User fields Meta knows but returns only with permissions this app never gets.
_RESTRICTED_USER_FIELDS = frozenset(
    {
        "birthday",
        "gender",
        "link",
        "locale",
        "timezone",
        "updated_time",
        "verified",
        "middle_name",
        "hometown",
        "location",
        "age_range",
        "install_type",
        "installed",
    }
)


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
            raise nonexisting_field(spec.name, node_type)
        if not spec.children:
            continue
        if spec.name == "subattachments":
            _check_names(spec.children, "StoryAttachment", ATTACHMENT_FIELDS)
        elif spec.name in _PART_FIELDS:
            _check_names(spec.children, *_PART_FIELDS[spec.name])


def engagement(object_id: str, created: float, now: float) -> dict[str, int]:
    """Likes, comments, shares and reactions: zero at publication, growing with time since,
    the same for the same object and moment (seeded by the id)."""
    minutes = max(0.0, (now - created) / 60.0)
    digest = hashlib.sha256(object_id.encode()).digest()

    def spread(index: int) -> float:
        return 0.6 + digest[index] / 255.0

    likes = int(spread(0) * (40 * (1 - math.exp(-minutes / 240)) + minutes / 90))
    comments = int(spread(1) * (8 * (1 - math.exp(-minutes / 300)) + minutes / 600))
    shares = int(spread(2) * (5 * (1 - math.exp(-minutes / 360)) + minutes / 1440))
    reactions = likes + int(spread(3) * likes * 0.25)
    return {"likes": likes, "comments": comments, "shares": shares, "reactions": reactions}


class Renderer:
    """Renders nodes for one call (one viewer, one base URL, one moment)."""

    def __init__(self, state: SandboxState, viewer: Viewer | None, base_url: str) -> None:
        self.state = state
        self.viewer = viewer
        self.base_url = base_url
        self.now = state.now()
        self._tables: dict[str, dict[str, Resolver]] = {
            "User": self._user_fields(),
            "Page": self._page_fields(),
            "AccountsEntry": self._page_fields(),
            "IGUser": self._ig_user_fields(),
            "Business": self._business_fields(),
            "PagePost": self._post_fields(),
            "Photo": self._photo_fields(),
            "ShadowIGMediaBuilder": self._container_fields(),
            "IGMedia": self._ig_media_fields(),
        }

    # --- generic ------------------------------------------------------------------------------

    def render(self, node_type: str, record: Any, specs: list[FieldSpec] | None) -> dict[str, Any]:
        table = self._tables[node_type]
        wanted = specs if specs is not None else specs_for(DEFAULT_FIELDS[node_type])
        out: dict[str, Any] = {}
        for spec in wanted:
            resolver = table.get(spec.name)
            if resolver is None:
                if node_type == "User" and spec.name in _RESTRICTED_USER_FIELDS:
                    continue
                shown = "Page" if node_type == "AccountsEntry" else node_type
                raise nonexisting_field(spec.name, shown)
            value = resolver(record, spec)
            if value is not MISSING:
                out[spec.name] = value
        if "id" not in out:
            out["id"] = record.id
        return out

    def picture_url(self, object_id: str) -> str:
        return f"{self.base_url}/_sandbox/pictures/{object_id}"

    def view_url(self, object_id: str) -> str:
        return f"{self.base_url}/_sandbox/view/{object_id}"

    def _picture(self, object_id: str, spec: FieldSpec, url: str | None = None) -> Any:
        size = spec.int_modifier("width", spec.int_modifier("height", 50))
        data = {
            "height": size,
            "is_silhouette": False,
            "url": url or self.picture_url(object_id),
            "width": size,
        }
        if spec.children:
            inner = spec.children
            if len(inner) == 1 and inner[0].name == "data" and inner[0].children:
                inner = inner[0].children
            data = {c.name: data[c.name] for c in inner if c.name in data}
        return {"data": data}

    def _summary_edge(self, kind: str, counts: dict[str, int], spec: FieldSpec) -> Any:
        body: dict[str, Any] = {"data": []}
        if spec.flag("summary"):
            total = counts[kind]
            if kind == "likes":
                body["summary"] = {"total_count": total, "can_like": True, "has_liked": False}
            elif kind == "comments":
                body["summary"] = {"order": "ranked", "total_count": total, "can_comment": True}
            else:
                body["summary"] = {"total_count": total, "viewer_reaction": "NONE"}
        return body

    def _has_scope(self, *scopes: str) -> bool:
        claims = self.viewer.claims if self.viewer else None
        return bool(claims and claims.has_scope(*scopes))

    # --- User -----------------------------------------------------------------------------------

    def _user_fields(self) -> dict[str, Resolver]:
        def email(user: UserRecord, spec: FieldSpec) -> Any:
            return user.email if self._has_scope("email") else MISSING

        return {
            "id": lambda u, s: u.id,
            "name": lambda u, s: u.name,
            "first_name": lambda u, s: u.first_name,
            "last_name": lambda u, s: u.last_name,
            "short_name": lambda u, s: u.first_name,
            "name_format": lambda u, s: "{first} {last}",
            "email": email,
            "picture": lambda u, s: self._picture(u.id, s),
        }

    # --- Page -----------------------------------------------------------------------------------

    def _page_fields(self) -> dict[str, Resolver]:
        def access_token(page: PageRecord, spec: FieldSpec) -> Any:
            claims = self.viewer.claims if self.viewer else None
            if claims is None or not claims.is_user or claims.user_id not in page.manager_ids:
                return MISSING
            return self.state.signer.encode(self.state.signer.derive_page(claims, page.id))

        def instagram(page: PageRecord, spec: FieldSpec) -> Any:
            account = self.state.ig_of_page(page.id)
            if account is None or not self._has_scope("instagram_basic"):
                return MISSING
            return self.render("IGUser", account, spec.children)

        return {
            "id": lambda p, s: p.id,
            "name": lambda p, s: p.name,
            "category": lambda p, s: p.category,
            "category_list": lambda p, s: [{"id": str(2500 + len(p.category)), "name": p.category}],
            "about": lambda p, s: p.about or MISSING,
            "fan_count": lambda p, s: p.fan_count,
            "followers_count": lambda p, s: p.fan_count,
            "username": lambda p, s: p.username or MISSING,
            "link": lambda p, s: self.view_url(p.id),
            "is_published": lambda p, s: True,
            "tasks": lambda p, s: list(p.tasks),
            "access_token": access_token,
            "picture": lambda p, s: self._picture(p.id, s),
            "instagram_business_account": instagram,
            "connected_instagram_account": instagram,
        }

    # --- Instagram user ---------------------------------------------------------------------------

    def _ig_user_fields(self) -> dict[str, Resolver]:
        def media_count(account: IgAccountRecord, spec: FieldSpec) -> int:
            return sum(
                1
                for m in self.state.ig_media.values()
                if m.ig_user_id == account.id and not m.is_carousel_child
            )

        return {
            "id": lambda a, s: a.id,
            "ig_id": lambda a, s: int(a.id[-10:]),
            "username": lambda a, s: a.username,
            "name": lambda a, s: a.name,
            "biography": lambda a, s: a.biography or MISSING,
            "website": lambda a, s: MISSING,
            "profile_picture_url": lambda a, s: self.picture_url(a.id),
            "followers_count": lambda a, s: a.followers_count,
            "follows_count": lambda a, s: a.follows_count,
            "media_count": media_count,
        }

    # --- Business -------------------------------------------------------------------------------

    def _business_fields(self) -> dict[str, Resolver]:
        return {
            "id": lambda b, s: b.id,
            "name": lambda b, s: b.name,
            "verification_status": lambda b, s: "not_verified",
            "primary_page": lambda b, s: (
                {"id": b.owned_page_ids[0], "name": self.state.pages[b.owned_page_ids[0]].name}
                if b.owned_page_ids
                else MISSING
            ),
        }

    # --- Page posts and photos -------------------------------------------------------------------

    def _post_fields(self) -> dict[str, Resolver]:
        def counts(post: PostRecord) -> dict[str, int]:
            return engagement(post.id, post.created_time, self.now)

        def shares(post: PostRecord, spec: FieldSpec) -> Any:
            # Meta leaves `shares` out until a post has been shared.
            count = counts(post)["shares"]
            return {"count": count} if count else MISSING

        def full_picture(post: PostRecord, spec: FieldSpec) -> Any:
            if not post.photo_ids:
                return MISSING
            photo = self.state.photos.get(post.photo_ids[0])
            return (photo.source.url if photo else None) or self.picture_url(post.photo_ids[0])

        def attachments(post: PostRecord, spec: FieldSpec) -> Any:
            attachment = self.post_attachment(post)
            if attachment is None:
                return MISSING  # a text post carries nothing (Meta leaves the field out)
            picked = project(attachment, spec.children, "StoryAttachment", ATTACHMENT_FIELDS)
            return {"data": [picked]}

        def page_from(post: PostRecord, spec: FieldSpec) -> Any:
            page = self.state.pages.get(post.page_id)
            return {"name": page.name if page else "", "id": post.page_id}

        return {
            "id": lambda p, s: p.id,
            "message": lambda p, s: p.message or MISSING,
            "created_time": lambda p, s: graph_time(p.created_time),
            "updated_time": lambda p, s: graph_time(p.created_time),
            "permalink_url": lambda p, s: self.view_url(p.id),
            "status_type": lambda p, s: p.status_type,
            "is_published": lambda p, s: p.published,
            "is_hidden": lambda p, s: False,
            "link": lambda p, s: p.link or MISSING,
            "object_id": lambda p, s: p.photo_ids[0] if len(p.photo_ids) == 1 else MISSING,
            "full_picture": full_picture,
            "attachments": attachments,
            "from": page_from,
            "likes": lambda p, s: self._summary_edge("likes", counts(p), s),
            "comments": lambda p, s: self._summary_edge("comments", counts(p), s),
            "reactions": lambda p, s: self._summary_edge("reactions", counts(p), s),
            "shares": shares,
        }

    def photo_attachment(self, photo: PhotoRecord, *, url: str) -> dict[str, Any]:
        source = photo.source
        attachment: dict[str, Any] = {
            "media": {
                "image": {
                    "height": source.height or 0,
                    "src": source.url or self.picture_url(photo.id),
                    "width": source.width or 0,
                }
            },
            "media_type": "photo",
            "target": {"id": photo.id, "url": self.view_url(photo.id)},
            "type": "photo",
            "url": url,
        }
        if photo.caption:
            attachment["description"] = photo.caption
        return attachment

    def post_attachment(self, post: PostRecord) -> dict[str, Any] | None:
        """The one StoryAttachment of a Page post, in Meta's shape: a photo, an album of
        photos (`subattachments`), or a shared link; None for a text post."""
        photos = [self.state.photos[i] for i in post.photo_ids if i in self.state.photos]
        if len(photos) == 1:
            return self.photo_attachment(photos[0], url=self.view_url(photos[0].id))
        if photos:
            first = self.photo_attachment(photos[0], url="")
            album: dict[str, Any] = {
                "media": first["media"],
                "media_type": "album",
                "subattachments": {
                    "data": [self.photo_attachment(p, url=self.view_url(p.id)) for p in photos]
                },
                "target": {"id": post.id.rpartition("_")[2], "url": self.view_url(post.id)},
                "title": f"Photos from {self.state.pages[post.page_id].name}'s post",
                "type": "album",
                "url": self.view_url(post.id),
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

    def _photo_fields(self) -> dict[str, Resolver]:
        def counts(photo: PhotoRecord) -> dict[str, int]:
            return engagement(photo.id, photo.created_time, self.now)

        def images(photo: PhotoRecord, spec: FieldSpec) -> Any:
            source = photo.source
            return [
                {
                    "height": source.height or 0,
                    "width": source.width or 0,
                    "source": source.url or self.picture_url(photo.id),
                }
            ]

        return {
            "id": lambda p, s: p.id,
            "created_time": lambda p, s: graph_time(p.created_time),
            "name": lambda p, s: p.caption or MISSING,
            "link": lambda p, s: self.view_url(p.post_id or p.id),
            "page_story_id": lambda p, s: p.post_id or MISSING,
            "picture": lambda p, s: p.source.url or self.picture_url(p.id),
            "images": images,
            "width": lambda p, s: p.source.width or MISSING,
            "height": lambda p, s: p.source.height or MISSING,
            "from": lambda p, s: {"name": self.state.pages[p.page_id].name, "id": p.page_id},
            "likes": lambda p, s: self._summary_edge("likes", counts(p), s),
            "comments": lambda p, s: self._summary_edge("comments", counts(p), s),
            "reactions": lambda p, s: self._summary_edge("reactions", counts(p), s),
        }

    # --- Instagram containers and media ----------------------------------------------------------

    def _container_fields(self) -> dict[str, Resolver]:
        return {
            "id": lambda c, s: c.id,
            "status_code": lambda c, s: container_status(self.state, c, self.now)[0],
            "status": lambda c, s: container_status(self.state, c, self.now)[1],
        }

    def _ig_media_fields(self) -> dict[str, Resolver]:
        def counts(media: IgMediaRecord) -> dict[str, int]:
            return engagement(media.id, media.timestamp, self.now)

        def children(media: IgMediaRecord, spec: FieldSpec) -> Any:
            if not media.children:
                return MISSING
            inner = spec.children or specs_for(("id",))
            return {
                "data": [
                    self.render("IGMedia", self.state.ig_media[child], inner)
                    for child in media.children
                    if child in self.state.ig_media
                ]
            }

        def username(media: IgMediaRecord, spec: FieldSpec) -> Any:
            account = self.state.ig_accounts.get(media.ig_user_id)
            return account.username if account else MISSING

        return {
            "id": lambda m, s: m.id,
            "caption": lambda m, s: m.caption if m.caption else MISSING,
            "media_type": lambda m, s: m.media_type,
            "media_product_type": lambda m, s: "FEED",
            "media_url": lambda m, s: m.image_urls[0] if m.image_urls else MISSING,
            "permalink": lambda m, s: MISSING if m.is_carousel_child else self.view_url(m.id),
            "shortcode": lambda m, s: m.shortcode,
            "timestamp": lambda m, s: graph_time(m.timestamp),
            "like_count": lambda m, s: counts(m)["likes"],
            "comments_count": lambda m, s: counts(m)["comments"],
            "is_comment_enabled": lambda m, s: True,
            "username": username,
            "owner": lambda m, s: {"id": m.ig_user_id},
            "children": children,
        }


def container_status(
    state: SandboxState, container: ContainerRecord, now: float
) -> tuple[str, str]:
    """`status_code` and `status` of a container at `now`."""
    if container.published_media_id:
        return "PUBLISHED", "Published: Media has been published."
    if now >= container.created_time + state.config.container_ttl_seconds:
        return "EXPIRED", "Expired: Media was not published within 24 hours of its creation."
    if now < container.ready_at:
        return "IN_PROGRESS", "In Progress: Media is still being processed."
    if container.forced_status == "ERROR":
        message = container.forced_message or "Media upload has failed with error code 2207001"
        return "ERROR", f"Error: {message}"
    if container.forced_status == "EXPIRED":
        message = container.forced_message or "Media was not published in time and has expired."
        return "EXPIRED", f"Expired: {message}"
    for child_id in container.children:
        child = state.containers.get(child_id)
        if child is None:
            return "ERROR", "Error: A carousel item could not be found."
        code, _ = container_status(state, child, now)
        if code in ("ERROR", "EXPIRED"):
            return "ERROR", f"Error: Carousel item {child_id} is {code}."
        if code == "IN_PROGRESS":
            return "IN_PROGRESS", "In Progress: Carousel items are still being processed."
    return "FINISHED", "Finished: Media has been uploaded and it is ready to be published."

"""Publishing: Facebook Page posts and photos, Instagram containers and media.

The rules are Meta's: a Page is published to with a Page token of that Page; Instagram media are
created as containers that are processed for a while before `media_publish` accepts them; a
container is published at most once; the rolling 24-hour publishing limit is enforced; images
given by URL are fetched (outside the state lock) and judged by their bytes.
"""

import hashlib
import json
import re
from typing import Any

from . import errors
from .context import CallContext, Request, Viewer, graph_time
from .errors import GraphError
from .media import FetchError, MediaSource, describe, fetch, is_http_url
from .nodes import container_status
from .state import (
    CONTAINER_FAULTS,
    ContainerRecord,
    IgAccountRecord,
    IgMediaRecord,
    PageRecord,
    PhotoRecord,
    PostRecord,
    SandboxState,
)

IG_MAX_BYTES = 8 * 1024 * 1024
IG_MIN_RATIO = 4 / 5
IG_MAX_RATIO = 1.91
CAPTION_MAX = 2200
HASHTAG_MAX = 30
MENTION_MAX = 20
QUOTA_DURATION = 86_400
_ATTACHED = re.compile(r"^attached_media\[(\d+)\]$")


def _split_ids(text: str | None) -> list[str]:
    if not text:
        return []
    text = text.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise errors.invalid_param("(#100) children must be a list of ids") from exc
        return [str(v) for v in values]
    return [part.strip() for part in text.split(",") if part.strip()]


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


def content_key(page_id: str, message: str, link: str | None, images: list[str]) -> str:
    text = "\0".join([page_id, message.strip(), link or "", ",".join(images)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _caption_problem(caption: str | None) -> bool:
    if not caption:
        return False
    hashtags = len(re.findall(r"(?<!\w)#\w+", caption))
    mentions = len(re.findall(r"(?<!\w)@[\w.]+", caption))
    return len(caption) > CAPTION_MAX or hashtags > HASHTAG_MAX or mentions > MENTION_MAX


class Publisher:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    # --- permissions ----------------------------------------------------------------------------

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

    def _require_ig_publisher(self, viewer: Viewer, account: IgAccountRecord) -> None:
        claims = viewer.claims
        if claims is None:
            raise errors.missing_permission("instagram_content_publish")
        if claims.is_page:
            if claims.page_id != account.page_id:
                raise errors.missing_permission("instagram_content_publish")
        elif self.state.config.ig_requires_page_token:
            raise errors.missing_permission(
                "instagram_content_publish with a Page access token of the linked Page"
            )
        if not claims.has_scope("instagram_basic", "instagram_content_publish"):
            raise errors.missing_permission("instagram_basic and instagram_content_publish")
        page = self.state.pages.get(account.page_id)
        if page is None or not {"CREATE_CONTENT", "MANAGE"} & set(page.tasks):
            raise errors.ig_page_task_required()

    # --- Facebook Page ----------------------------------------------------------------------------

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
        images = [
            self.state.photos[p].source.sha256 or self.state.photos[p].source.url or p
            for p in photo_ids
        ]
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
        self.state.posts[post.id] = post
        return post

    def _repeated_status(self, page: PageRecord, message: str) -> PostRecord | None:
        """Meta's duplicate check: the feed post of this Page with the same status text created
        within `duplicate_window_seconds` (photo captions from /photos are not statuses)."""
        window = self.state.config.duplicate_window_seconds
        text = message.strip()
        if window <= 0 or not text:
            return None
        horizon = self.state.now() - window
        for post in self.state.posts.values():
            if (
                post.page_id == page.id
                and post.edge == "feed"
                and post.created_time >= horizon
                and post.message.strip() == text
            ):
                return post
        return None

    def page_feed(self, req: Request, ctx: CallContext, page: PageRecord, viewer: Viewer) -> Any:
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
        with self.state.lock:
            for index, media_id in enumerate(media_ids):
                photo = self.state.photos.get(media_id)
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
                self.state.duplicate_refusals.append(
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
                self.state.photos[media_id].used_in_post_id = post.id
            self.state.save()
        ctx.notes["created"] = post.id
        return {"id": post.id}

    def page_photo(self, req: Request, ctx: CallContext, page: PageRecord, viewer: Viewer) -> Any:
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
            self.state.photos[photo.id] = photo
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

    # --- Instagram --------------------------------------------------------------------------------

    def _fetch_ig_image(self, url: str, ctx: CallContext) -> MediaSource:
        if not is_http_url(url):
            raise errors.ig_fetch_failed(url)
        if not self.state.config.fetch_media:
            return MediaSource(kind="url", url=url)
        try:
            source = fetch(url, timeout=self.state.config.fetch_timeout_seconds)
        except FetchError as exc:
            ctx.notes["fetch_error"] = exc.reason
            raise (
                errors.ig_fetch_timeout() if exc.timeout else errors.ig_fetch_failed(url)
            ) from exc
        if source.image_format is None:
            raise errors.ig_fetch_failed(url)
        if source.image_format != "jpeg":
            raise errors.ig_unsupported_format()
        if (source.size or 0) > IG_MAX_BYTES:
            raise errors.ig_too_large()
        if source.width and source.height:
            ratio = source.width / source.height
            if ratio < IG_MIN_RATIO - 0.001 or ratio > IG_MAX_RATIO + 0.001:
                raise errors.ig_aspect_ratio()
        return source

    def ig_create(
        self, req: Request, ctx: CallContext, account: IgAccountRecord, viewer: Viewer
    ) -> Any:
        self._require_ig_publisher(viewer, account)
        media_type = (req.param("media_type") or "IMAGE").upper()
        is_item = req.flag("is_carousel_item", False)
        caption = req.param("caption")
        if _caption_problem(caption):
            raise errors.ig_caption_too_long()
        image: MediaSource | None = None
        image_url: str | None = None
        children: list[str] = []
        if media_type == "CAROUSEL":
            children = _split_ids(req.param("children"))
            if not 2 <= len(children) <= 10:
                raise errors.ig_carousel_size()
        elif media_type == "IMAGE":
            image_url = req.param("image_url")
            if not image_url:
                raise errors.missing_param("image_url")
            image = self._fetch_ig_image(image_url, ctx)
        else:
            raise errors.ig_unknown_media_type()
        now = self.state.now()
        with self.state.lock:
            for child_id in children:
                child = self.state.containers.get(child_id)
                if child is None or child.ig_user_id != account.id or not child.is_carousel_item:
                    raise errors.invalid_param(
                        f"(#100) The carousel item {child_id} is not a carousel item container "
                        "of this Instagram account"
                    )
            fault = self.state.take_fault(req.method, req.path, CONTAINER_FAULTS)
            number = self.state.next_number()
            container = ContainerRecord(
                id=str(17_900_000_000_000_000 + number),
                ig_user_id=account.id,
                media_type=media_type,
                caption=None if is_item else caption,
                image_url=image_url,
                is_carousel_item=is_item,
                children=children,
                created_time=now,
                ready_at=now + max(self.state.config.processing_seconds, 0.0),
                image=image,
                caption_ignored=bool(is_item and caption),
            )
            if fault is not None:
                container.forced_status = "ERROR" if fault.kind == "container_error" else "EXPIRED"
                message = fault.params.get("message")
                container.forced_message = str(message) if message else None
                ctx.notes["fault"] = fault.kind
            self.state.containers[container.id] = container
            self.state.save()
        ctx.notes["created"] = container.id
        return {"id": container.id}

    def quota_usage(self, account_id: str) -> int:
        horizon = self.state.now() - QUOTA_DURATION
        with self.state.lock:
            return sum(
                1
                for media in self.state.ig_media.values()
                if media.ig_user_id == account_id
                and not media.is_carousel_child
                and media.timestamp > horizon
            )

    def _shortcode(self, media_id: str) -> str:
        digest = hashlib.sha256(media_id.encode()).digest()
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return "".join(alphabet[b % 64] for b in digest[:11])

    def _new_media(
        self,
        account: IgAccountRecord,
        container: ContainerRecord,
        *,
        media_type: str,
        image_urls: list[str],
        child: bool,
    ) -> IgMediaRecord:
        number = self.state.next_number()
        media_id = str(17_950_000_000_000_000 + number)
        media = IgMediaRecord(
            id=media_id,
            ig_user_id=account.id,
            container_id=container.id,
            caption=container.caption,
            media_type=media_type,
            timestamp=self.state.now(),
            shortcode=self._shortcode(media_id),
            image_urls=image_urls,
            is_carousel_child=child,
        )
        self.state.ig_media[media.id] = media
        return media

    def ig_publish(
        self, req: Request, ctx: CallContext, account: IgAccountRecord, viewer: Viewer
    ) -> Any:
        self._require_ig_publisher(viewer, account)
        creation_id = req.param("creation_id")
        if not creation_id:
            raise errors.missing_param("creation_id")
        quota_used = self.quota_usage(account.id)
        with self.state.lock:
            container = self.state.containers.get(creation_id)
            if container is None or container.ig_user_id != account.id:
                raise GraphError(
                    f"The media with id {creation_id} cannot be found",
                    code=24,
                    subcode=2207006,
                    is_transient=False,
                    user_title="Media not found",
                    user_msg=f"The media with id {creation_id} cannot be found.",
                )
            container.publish_attempts += 1
            self.state.save()
            if container.is_carousel_item:
                raise errors.invalid_param(
                    "(#100) A carousel item cannot be published on its own; publish the "
                    "CAROUSEL container"
                )
            status, _ = container_status(self.state, container, self.state.now())
            if status == "PUBLISHED":
                raise errors.ig_already_published()
            if status == "IN_PROGRESS":
                raise errors.ig_not_ready()
            if status == "ERROR":
                raise errors.ig_container_failed()
            if status == "EXPIRED":
                raise errors.ig_expired()
            if quota_used >= self.state.config.quota_total:
                raise errors.ig_publishing_limit()
            if container.media_type == "CAROUSEL":
                child_ids = []
                urls = []
                for child_id in container.children:
                    child = self.state.containers[child_id]
                    child_media = self._new_media(
                        account,
                        child,
                        media_type="IMAGE",
                        image_urls=[child.image_url] if child.image_url else [],
                        child=True,
                    )
                    child.published_media_id = child_media.id
                    child.publish_count += 1
                    child_ids.append(child_media.id)
                    urls.extend(child_media.image_urls)
                media = self._new_media(
                    account, container, media_type="CAROUSEL_ALBUM", image_urls=urls, child=False
                )
                media.children = child_ids
            else:
                media = self._new_media(
                    account,
                    container,
                    media_type="IMAGE",
                    image_urls=[container.image_url] if container.image_url else [],
                    child=False,
                )
            container.published_media_id = media.id
            container.publish_count += 1
            self.state.save()
        ctx.notes["created"] = media.id
        return {"id": media.id}

"""Instagram business accounts (the Instagram Graph API with Facebook Login): accounts linked
to Facebook Pages, media containers that are processed before `media_publish` accepts them,
published media, and the rolling 24-hour publishing limit.

Registers the node types IGUser, ShadowIGMediaBuilder (a container) and IGMedia; the fields
`instagram_business_account` and `connected_instagram_account` of a Page; the edges
`/{ig-user-id}/media` (list and create), `media_publish` and `content_publishing_limit`; its
part of the read-out and of the HTML pages; and, through the Page hooks of `Network`, an
Instagram account for each Page added with `POST /_sandbox/pages` (`"instagram": true`).

Built on the Facebook network (an account is reached through its Page, with a Page token of
that Page and the Page's tasks): it imports `facebook`, never the other way round. The store,
the publisher and the account edges are also those of Instagram with Instagram Login
(`instagram_login.py`, which imports this module): its accounts have no Page (`page_id` ""),
are never seen through this mount, and are published to after the check of that login
(`MediaPublisher(authorize=...)`).
"""

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from html import escape
from typing import Any, cast

from .. import errors
from .. import insights as ins
from ..comments import CommentRecord, add_comment, comment_fields, readout
from ..containers import (
    MediaContainer,
    StatusTexts,
    new_container_fault,
    ready_at,
    refuse_unpublishable,
)
from ..containers import status as lifecycle_status
from ..context import CallContext, Request, Viewer, graph_time
from ..control import repeats
from ..errors import GraphError
from ..fields import FieldSpec, parse_fields, specs_for
from ..graph import Graph
from ..media import FetchError, MediaSource, fetch, is_http_url
from ..nodes import MISSING, Renderer, engagement
from ..registry import EdgeHandler, EdgeKey, FieldTable, Found, Network, NodeType, Resolver
from ..state import SandboxState, content_key
from ..tokens import TokenClaims
from ..video import (
    COMPLETERS,
    IG_CAROUSEL_VIDEO,
    IG_REELS,
    IG_STORY,
    IG_UPLOAD,
    Problem,
    Rules,
    UploadSession,
    fetch_video,
    open_session,
    problem,
    upload_uri,
)
from . import facebook
from .facebook import BISTRO_PAGE_ID, CATERING_PAGE_ID, PageRecord, can_see_page

BISTRO_IG_ID = "17841400000000001"
CATERING_IG_ID = "17841400000000002"
IG_MAX_BYTES = 8 * 1024 * 1024
IG_MIN_RATIO = 4 / 5
# A Story photo may be as tall as a phone's screen (Meta: 9:16 recommended for Stories).
IG_STORY_MIN_RATIO = 9 / 16
IG_MAX_RATIO = 1.91
CAPTION_MAX = 2200
HASHTAG_MAX = 30
MENTION_MAX = 20
QUOTA_DURATION = 86_400
STORY_SECONDS = 86_400
VIDEO_TYPES = ("REELS", "STORIES", "VIDEO")
COLLABORATORS_MAX = 3
ALT_TEXT_MAX = 1000


# --- records ----------------------------------------------------------------------------------


@dataclass(slots=True)
class IgAccountRecord:
    id: str
    username: str
    name: str
    page_id: str
    followers_count: int = 0
    follows_count: int = 0
    biography: str = ""
    extra: bool = False


@dataclass(slots=True, kw_only=True)
class ContainerRecord(MediaContainer):
    ig_user_id: str
    caption: str | None
    caption_ignored: bool = False
    # FEED, REELS or STORY (what the published media's media_product_type will be).
    product: str = "FEED"
    video_url: str | None = None
    cover_url: str | None = None
    thumb_offset: int | None = None
    share_to_feed: bool | None = None
    audio_name: str | None = None
    upload_type: str | None = None
    alt_text: str | None = None
    collaborators: list[str] = field(default_factory=list)
    location_id: str | None = None


@dataclass(slots=True)
class IgMediaRecord:
    id: str
    ig_user_id: str
    container_id: str
    caption: str | None
    media_type: str  # IMAGE or CAROUSEL_ALBUM
    timestamp: float
    shortcode: str
    image_urls: list[str]
    children: list[str] = field(default_factory=list)
    is_carousel_child: bool = False
    media_product_type: str = "FEED"
    video_url: str | None = None
    cover_url: str | None = None

    def live(self, now: float) -> bool:
        """A story is gone 24 hours after it was published; everything else stays."""
        return self.media_product_type != "STORY" or now < self.timestamp + STORY_SECONDS


class InstagramStore:
    """Instagram accounts (linked to Pages of the Facebook store), containers and media."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def clear(self) -> None:
        accounts = [
            IgAccountRecord(
                BISTRO_IG_ID, "demobistro", "Demo Bistro", BISTRO_PAGE_ID, 2410, 180, "Plates."
            ),
            IgAccountRecord(
                CATERING_IG_ID,
                "bistrocatering",
                "Demo Bistro Catering",
                CATERING_PAGE_ID,
                530,
                95,
                "We cater.",
            ),
        ]
        self.accounts: dict[str, IgAccountRecord] = {a.id: a for a in accounts}
        # The demo Pages the accounts are linked to (the Facebook store was cleared first).
        pages = facebook.store(self.state).pages
        for account in accounts:
            pages[account.page_id].ig_id = account.id
        self.containers: dict[str, ContainerRecord] = {}
        self.media: dict[str, IgMediaRecord] = {}
        self.comments: dict[str, CommentRecord] = {}

    def snapshot(self) -> dict[str, Any]:
        return {
            # Accounts without a Page (Instagram Login's) are kept by the store that added them.
            "extra_ig_accounts": [
                asdict(a) for a in self.accounts.values() if a.extra and a.page_id
            ],
            "containers": [asdict(c) for c in self.containers.values()],
            "ig_media": [asdict(m) for m in self.media.values()],
            "ig_comments": [asdict(c) for c in self.comments.values()],
        }

    def load(self, data: dict[str, Any]) -> None:
        for raw in data.get("extra_ig_accounts", []):
            account = IgAccountRecord(**raw)
            self.accounts[account.id] = account
        for raw in data.get("containers", []):
            container = ContainerRecord.from_dict(raw)
            self.containers[container.id] = container
        for raw in data.get("ig_media", []):
            media = IgMediaRecord(**raw)
            self.media[media.id] = media
        for raw in data.get("ig_comments", []):
            comment = CommentRecord(**raw)
            self.comments[comment.id] = comment

    def of_page(self, page: PageRecord) -> IgAccountRecord | None:
        return self.accounts.get(page.ig_id) if page.ig_id else None

    def page_of(self, account: IgAccountRecord) -> PageRecord | None:
        """The Page an account is linked to; None for an account reached with Instagram Login
        (no Page: `page_id` is "")."""
        if not account.page_id:
            return None
        return facebook.store(self.state).pages.get(account.page_id)


def store(state: SandboxState) -> InstagramStore:
    return cast(InstagramStore, state.stores[InstagramNetwork.name])


STATUS_TEXTS = StatusTexts(
    published="Published: Media has been published.",
    timed_out="Expired: Media was not published within 24 hours of its creation.",
    in_progress="In Progress: Media is still being processed.",
    error="Error: {message}",
    error_default="Media upload has failed with error code 2207001",
    expired="Expired: {message}",
    expired_default="Media was not published in time and has expired.",
    child_missing="Error: A carousel item could not be found.",
    child_failed="Error: Carousel item {child_id} is {code}.",
    children_in_progress="In Progress: Carousel items are still being processed.",
    finished="Finished: Media has been uploaded and it is ready to be published.",
)


def container_status(
    state: SandboxState, container: ContainerRecord, now: float
) -> tuple[str, str]:
    """`status_code` and `status` of a container at `now`."""
    return lifecycle_status(state, container, now, store(state).containers.get, STATUS_TEXTS)


# --- fields -----------------------------------------------------------------------------------


def ig_user_fields(r: Renderer) -> dict[str, Resolver]:
    media = store(r.state).media

    def media_count(account: IgAccountRecord, spec: FieldSpec) -> int:
        return sum(
            1
            for m in media.values()
            if m.ig_user_id == account.id
            and not m.is_carousel_child
            and m.media_product_type != "STORY"
        )

    return {
        "id": lambda a, s: a.id,
        "ig_id": lambda a, s: int(a.id[-10:]),
        "username": lambda a, s: a.username,
        "name": lambda a, s: a.name,
        "biography": lambda a, s: a.biography or MISSING,
        "website": lambda a, s: MISSING,
        "profile_picture_url": lambda a, s: r.picture_url(a.id),
        "followers_count": lambda a, s: a.followers_count,
        "follows_count": lambda a, s: a.follows_count,
        "media_count": media_count,
    }


def _container_fields(r: Renderer) -> dict[str, Resolver]:
    return {
        "id": lambda c, s: c.id,
        "status_code": lambda c, s: container_status(r.state, c, r.now)[0],
        "status": lambda c, s: container_status(r.state, c, r.now)[1],
    }


def _ig_media_fields(r: Renderer) -> dict[str, Resolver]:
    ig = store(r.state)

    def counts(media: IgMediaRecord) -> dict[str, int]:
        return engagement(media.id, media.timestamp, r.now)

    def children(media: IgMediaRecord, spec: FieldSpec) -> Any:
        if not media.children:
            return MISSING
        inner = spec.children or specs_for(("id",))
        return {
            "data": [
                r.render("IGMedia", ig.media[child], inner)
                for child in media.children
                if child in ig.media
            ]
        }

    def username(media: IgMediaRecord, spec: FieldSpec) -> Any:
        account = ig.accounts.get(media.ig_user_id)
        return account.username if account else MISSING

    return {
        "id": lambda m, s: m.id,
        "caption": lambda m, s: m.caption if m.caption else MISSING,
        "media_type": lambda m, s: m.media_type,
        "media_product_type": lambda m, s: m.media_product_type,
        "media_url": lambda m, s: m.video_url or (m.image_urls[0] if m.image_urls else MISSING),
        "thumbnail_url": lambda m, s: (
            (m.cover_url or r.picture_url(m.id)) if m.media_type == "VIDEO" else MISSING
        ),
        "permalink": lambda m, s: MISSING if m.is_carousel_child else r.view_url(m.id),
        "shortcode": lambda m, s: m.shortcode,
        "timestamp": lambda m, s: graph_time(m.timestamp),
        "like_count": lambda m, s: counts(m)["likes"],
        "comments_count": lambda m, s: counts(m)["comments"],
        "is_comment_enabled": lambda m, s: True,
        "username": username,
        "owner": lambda m, s: {"id": m.ig_user_id},
        "children": children,
    }


def _page_instagram_fields(r: Renderer) -> dict[str, Resolver]:
    """What a Page shows of its linked account (with `instagram_basic`)."""

    def instagram(page: PageRecord, spec: FieldSpec) -> Any:
        account = store(r.state).of_page(page)
        if account is None or not r.has_scope("instagram_basic"):
            return MISSING
        return r.render("IGUser", account, spec.children)

    return {"instagram_business_account": instagram, "connected_instagram_account": instagram}


NODE_TYPES = (
    NodeType("IGUser", "/{ig-user-id}", ("id",), ig_user_fields),
    NodeType("ShadowIGMediaBuilder", "/{container-id}", ("id",), _container_fields),
    NodeType("IGMedia", "/{ig-media-id}", ("id",), _ig_media_fields),
    NodeType("IGComment", "/{ig-comment-id}", ("id", "text", "timestamp"), comment_fields),
)


# --- publishing -------------------------------------------------------------------------------


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


def _caption_problem(caption: str | None) -> bool:
    if not caption:
        return False
    hashtags = len(re.findall(r"(?<!\w)#\w+", caption))
    mentions = len(re.findall(r"(?<!\w)@[\w.]+", caption))
    return len(caption) > CAPTION_MAX or hashtags > HASHTAG_MAX or mentions > MENTION_MAX


def _collaborators(req: Request, media_type: str, is_item: bool) -> list[str]:
    """`collaborators`: a JSON array of up to 3 usernames, on a feed image, a carousel or a
    Reel (not a Story, not a carousel item)."""
    raw = req.param("collaborators")
    if not raw:
        return []
    if media_type == "STORIES":
        raise errors.ig_not_on_stories("collaborators")
    if is_item:
        raise errors.ig_collaborators_invalid("goes on the carousel, not on its items")
    try:
        names = json.loads(raw)
    except ValueError as exc:
        raise errors.ig_collaborators_invalid("must be a JSON array of usernames") from exc
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise errors.ig_collaborators_invalid("must be a JSON array of usernames")
    if len(names) > COLLABORATORS_MAX:
        raise errors.ig_collaborators_invalid(
            f"must have at most {COLLABORATORS_MAX} usernames ({len(names)} given)"
        )
    return [n.strip() for n in names]


def _location(req: Request, media_type: str) -> str | None:
    location = req.param("location_id") or None
    if location and media_type == "STORIES":
        raise errors.ig_not_on_stories("location_id")
    if location and not location.isdigit():
        raise errors.invalid_param("(#100) Param location_id must be a valid Page id")
    return location


def _alt_text(req: Request, media_type: str, is_image: bool) -> str | None:
    alt_text = req.param("alt_text")
    if alt_text is None or alt_text == "":
        return None
    if not is_image or media_type == "STORIES":
        raise errors.ig_alt_text_images_only()
    if len(alt_text) > ALT_TEXT_MAX:
        raise errors.invalid_param(
            f"(#100) Param alt_text must be at most {ALT_TEXT_MAX} characters"
        )
    return alt_text


def _shortcode(media_id: str) -> str:
    digest = hashlib.sha256(media_id.encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[b % 64] for b in digest[:11])


@dataclass(slots=True)
class VideoRequest:
    """The video parameters of one container creation."""

    product: str = "FEED"
    rules: Rules | None = None
    url: str | None = None
    source: MediaSource | None = None
    resumable: bool = False
    cover_url: str | None = None
    thumb_offset: int | None = None
    share_to_feed: bool | None = None
    audio_name: str | None = None


def _wants_video(req: Request) -> bool:
    """A Story is a video when it names one (video_url or a resumable upload)."""
    return bool(req.param("video_url")) or (req.param("upload_type") or "") == "resumable"


def _rules_of(container: ContainerRecord) -> Rules:
    if container.media_type == "VIDEO":
        return IG_CAROUSEL_VIDEO
    return IG_STORY if container.product == "STORY" else IG_REELS


def _check_video(container: ContainerRecord, source: MediaSource, rules: Rules) -> None:
    """Meta's checks of the file, made when it is there: the container ends in ERROR (with
    the code and subcode `media_publish` then answers) when one fails."""
    found: Problem | None = problem(source, rules)
    duration = source.duration_seconds
    offset = container.thumb_offset
    if found is None and offset is not None and duration is not None and offset >= duration * 1e3:
        found = Problem(
            "Thumbnail offset must be greater than or equal to 0 and less than video "
            f"duration, i.e. {int(duration * 1000)}",
            1,
            2207057,
        )
    if found is not None and container.forced_status is None:
        container.fail(found.message, found.code, found.subcode)


def _failure(container: ContainerRecord, ig: "InstagramStore") -> GraphError:
    """What `media_publish` answers for a container in ERROR: its own code and subcode (a
    video rule's or a fault's), a failed carousel item's, else Meta's 2207032."""
    for candidate in [container, *(ig.containers.get(c) for c in container.children)]:
        if candidate is not None and candidate.forced_subcode is not None:
            return errors.ig_video_failed(
                candidate.forced_message or "Media upload has failed",
                candidate.forced_code if candidate.forced_code is not None else -1,
                candidate.forced_subcode,
            )
    return errors.ig_container_failed()


def _upload_done(state: SandboxState, session: UploadSession) -> None:
    """A container's resumable upload is whole: processing starts now (under the lock)."""
    container = store(state).containers.get(session.id)
    if container is None or session.source is None or session.completed_at is None:
        return
    container.video = session.source
    container.awaiting_upload = False
    container.ready_at = ready_at(state, session.completed_at, video=True)
    _check_video(container, session.source, _rules_of(container))


COMPLETERS["ig"] = _upload_done


# Who may publish to an account: raises the Graph error of a caller that may not.
Authorize = Callable[[Viewer, IgAccountRecord], None]


def require_page_commenter(viewer: Viewer, account: IgAccountRecord) -> None:
    """Facebook Login: commenting as the account needs instagram_basic and
    instagram_manage_comments (with a Page token, of the linked Page)."""
    claims = viewer.claims
    if claims is None or (claims.is_page and claims.page_id != account.page_id):
        raise errors.missing_permission("instagram_manage_comments")
    if not claims.has_scope("instagram_basic", "instagram_manage_comments"):
        raise errors.missing_permission("instagram_basic and instagram_manage_comments")


class MediaPublisher:
    """Containers and `media_publish`: a container is processed for a while, published at most
    once, within the rolling 24-hour limit; images are fetched outside the state lock.

    `authorize` is the permission check of the login that reaches the account: by default
    Facebook Login's (a Page token of the linked Page, the Page's tasks); Instagram with
    Instagram Login passes its own (the account's Instagram-user token)."""

    def __init__(self, state: SandboxState, authorize: Authorize | None = None) -> None:
        self.state = state
        self.authorize: Authorize = authorize or self.require_page_publisher

    @property
    def ig(self) -> InstagramStore:
        return store(self.state)

    def require_page_publisher(self, viewer: Viewer, account: IgAccountRecord) -> None:
        """Facebook Login: a Page token of the linked Page with instagram_basic and
        instagram_content_publish, and MANAGE or CREATE_CONTENT on the Page."""
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
        page = self.ig.page_of(account)
        if page is None or not {"CREATE_CONTENT", "MANAGE"} & set(page.tasks):
            raise errors.ig_page_task_required()

    def _fetch_image(self, url: str, ctx: CallContext, *, story: bool = False) -> MediaSource:
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
            low = IG_STORY_MIN_RATIO if story else IG_MIN_RATIO
            if ratio < low - 0.001 or ratio > IG_MAX_RATIO + 0.001:
                raise errors.ig_aspect_ratio()
        return source

    def create(
        self, req: Request, ctx: CallContext, viewer: Viewer, account: IgAccountRecord
    ) -> Any:
        self.authorize(viewer, account)
        media_type = (req.param("media_type") or "IMAGE").upper()
        is_item = req.flag("is_carousel_item", False)
        caption = req.param("caption")
        if _caption_problem(caption):
            raise errors.ig_caption_too_long()
        image: MediaSource | None = None
        image_url: str | None = None
        children: list[str] = []
        video = VideoRequest()
        if media_type == "CAROUSEL":
            children = _split_ids(req.param("children"))
            if not 2 <= len(children) <= 10:
                raise errors.ig_carousel_size()
        elif media_type == "IMAGE" or (media_type == "STORIES" and not _wants_video(req)):
            if media_type == "STORIES" and caption:
                raise errors.ig_story_caption()
            image_url = req.param("image_url")
            if not image_url:
                raise errors.missing_param("image_url")
            image = self._fetch_image(image_url, ctx, story=media_type == "STORIES")
        elif media_type in VIDEO_TYPES:
            video = self._video_request(req, ctx, media_type, is_item, caption)
        else:
            raise errors.ig_unknown_media_type()
        collaborators = _collaborators(req, media_type, is_item)
        location_id = _location(req, media_type)
        alt_text = _alt_text(req, media_type, image_url is not None)
        now = self.state.now()
        ig = self.ig
        with self.state.lock:
            for child_id in children:
                child = ig.containers.get(child_id)
                if child is None or child.ig_user_id != account.id or not child.is_carousel_item:
                    raise errors.invalid_param(
                        f"(#100) The carousel item {child_id} is not a carousel item container "
                        "of this Instagram account"
                    )
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
                ready_at=ready_at(self.state, now),
                image=image,
                caption_ignored=bool(is_item and caption),
                product="STORY" if media_type == "STORIES" else video.product,
                video_url=video.url,
                video=video.source,
                cover_url=video.cover_url,
                thumb_offset=video.thumb_offset,
                share_to_feed=video.share_to_feed,
                audio_name=video.audio_name,
                upload_type="resumable" if video.resumable else None,
                awaiting_upload=video.resumable,
                alt_text=alt_text,
                collaborators=collaborators,
                location_id=location_id,
            )
            if video.rules is not None:
                container.ready_at = ready_at(self.state, now, video=True)
                if video.source is not None:
                    _check_video(container, video.source, video.rules)
            new_container_fault(self.state, req, container, ctx)
            ig.containers[container.id] = container
            answer = {"id": container.id}
            if video.resumable:
                open_session(
                    self.state,
                    container.id,
                    kind="ig",
                    host_path=IG_UPLOAD,
                    owners=self._uploaders(account),
                )
                answer["uri"] = upload_uri(req, IG_UPLOAD, container.id, self.state)
            self.state.save()
        ctx.notes["created"] = container.id
        return answer

    def _uploaders(self, account: IgAccountRecord) -> list[str]:
        """Who may upload a container's video: the linked Page (its Page token) and the
        people who manage it, or the Instagram-Login account itself."""
        page = self.ig.page_of(account)
        if page is None:
            return [account.id]
        return [page.id, *page.manager_ids]

    def _video_request(
        self, req: Request, ctx: CallContext, media_type: str, is_item: bool, caption: str | None
    ) -> "VideoRequest":
        """The video parameters of a REELS, STORIES or VIDEO (carousel item) container,
        checked as Meta checks them; the video fetched unless it comes by resumable upload."""
        video = VideoRequest()
        if media_type == "VIDEO":
            if not is_item:
                raise errors.ig_video_not_single()
            video.rules = IG_CAROUSEL_VIDEO
        elif is_item:
            raise errors.invalid_param(
                f"(#100) {media_type} cannot be a carousel item; use media_type=VIDEO"
            )
        elif media_type == "REELS":
            video.product, video.rules = "REELS", IG_REELS
            video.share_to_feed = req.flag("share_to_feed", True)
            video.audio_name = req.param("audio_name") or None
        else:
            if caption:
                raise errors.ig_story_caption()
            video.product, video.rules = "STORY", IG_STORY
        if media_type != "STORIES":
            cover = req.param("cover_url")
            if cover and not is_http_url(cover):
                raise errors.invalid_url("cover_url")
            video.cover_url = cover or None
            offset = req.param("thumb_offset")
            if offset:
                try:
                    video.thumb_offset = int(offset)
                except ValueError as exc:
                    raise errors.invalid_param("(#100) thumb_offset must be milliseconds") from exc
                if video.thumb_offset < 0:
                    raise errors.ig_thumb_offset(0)
        video.resumable = (req.param("upload_type") or "").lower() == "resumable"
        if video.resumable:
            return video
        url = req.param("video_url")
        if not url:
            raise errors.missing_param("video_url")
        video.url = url
        video.source = self._fetch_video(url, ctx)
        return video

    def _fetch_video(self, url: str, ctx: CallContext) -> MediaSource:
        if not is_http_url(url):
            raise errors.ig_fetch_failed(url)
        if not self.state.config.fetch_media:
            return MediaSource(kind="url", url=url)
        try:
            return fetch_video(url, timeout=self.state.config.fetch_timeout_seconds)
        except FetchError as exc:
            ctx.notes["fetch_error"] = exc.reason
            raise (
                errors.ig_fetch_timeout() if exc.timeout else errors.ig_fetch_failed(url)
            ) from exc

    def quota_usage(self, account_id: str) -> int:
        horizon = self.state.now() - QUOTA_DURATION
        with self.state.lock:
            return sum(
                1
                for media in self.ig.media.values()
                if media.ig_user_id == account_id
                and not media.is_carousel_child
                and media.timestamp > horizon
            )

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
            shortcode=_shortcode(media_id),
            image_urls=image_urls,
            is_carousel_child=child,
            media_product_type=container.product,
            video_url=container.video_url or (container.video.url if container.video else None),
            cover_url=container.cover_url,
        )
        self.ig.media[media.id] = media
        return media

    def publish(
        self, req: Request, ctx: CallContext, viewer: Viewer, account: IgAccountRecord
    ) -> Any:
        self.authorize(viewer, account)
        creation_id = req.param("creation_id")
        if not creation_id:
            raise errors.missing_param("creation_id")
        quota_used = self.quota_usage(account.id)
        ig = self.ig
        with self.state.lock:
            container = ig.containers.get(creation_id)
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
            refuse_unpublishable(
                status,
                already_published=errors.ig_already_published,
                not_ready=errors.ig_not_ready,
                failed=lambda: _failure(container, ig),
            )
            if quota_used >= self.state.config.quota_total:
                raise errors.ig_publishing_limit()
            if container.media_type == "CAROUSEL":
                child_ids = []
                urls = []
                for child_id in container.children:
                    child = ig.containers[child_id]
                    child_media = self._new_media(
                        account,
                        child,
                        media_type="VIDEO" if child.media_type == "VIDEO" else "IMAGE",
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
                is_video = container.media_type in VIDEO_TYPES and not container.image_url
                media = self._new_media(
                    account,
                    container,
                    media_type="VIDEO" if is_video else "IMAGE",
                    image_urls=[container.image_url] if container.image_url else [],
                    child=False,
                )
            container.published_media_id = media.id
            container.publish_count += 1
            self.state.save()
        ctx.notes["created"] = media.id
        return {"id": media.id}


def require_page_insights(viewer: Viewer, account: IgAccountRecord) -> None:
    """Facebook Login: reading insights needs instagram_basic and instagram_manage_insights
    (with a Page token, of the linked Page)."""
    claims = viewer.claims
    if claims is None or (claims.is_page and claims.page_id != account.page_id):
        raise errors.missing_permission("instagram_manage_insights")
    if not claims.has_scope("instagram_basic", "instagram_manage_insights"):
        raise errors.missing_permission("instagram_basic and instagram_manage_insights")


def _insight(owner: str, name: str, period: str, titles: dict[str, tuple[str, str]]) -> dict:
    title, description = titles[name]
    return {
        "name": name,
        "period": period,
        "title": title,
        "description": description,
        "id": f"{owner}/insights/{name}/{period}",
    }


def insights_edges(graph: Graph, may_read: Authorize) -> dict[EdgeKey, EdgeHandler]:
    """`/{ig-media-id}/insights` and `/{ig-user-id}/insights` on Meta's current metrics; a
    retired or unknown one refuses the whole request (`sandbox/insights.py` lists them)."""
    state = graph.state

    def checked(req: Request, known: dict[str, Any], queried: str) -> list[str]:
        wanted = ins.metric_names(req.param("metric"))
        if not wanted:
            raise errors.missing_param("metric")
        for index, name in enumerate(wanted):
            if name in ins.IG_RETIRED:
                raise ins.ig_retired(name, queried)
            if name not in known:
                raise ins.ig_not_one_of(index, known)
        return wanted

    def media_insights(req: Request, ctx: CallContext, viewer: Viewer, media: Any) -> Any:
        with state.lock:
            account = store(state).accounts[media.ig_user_id]
        may_read(viewer, account)
        wanted = checked(req, ins.IG_MEDIA_METRICS, "media")
        if media.is_carousel_child:
            raise ins.ig_carousel_child()
        allowed = ins.IG_BY_PRODUCT.get(media.media_product_type, ins.IG_BY_PRODUCT["FEED"])
        for name in wanted:
            if name not in allowed:
                raise ins.ig_unsupported_for_media(name)
        values = ins.counts(media.id, media.timestamp, state.now())
        return {
            "data": [
                _insight(media.id, n, "lifetime", ins.IG_MEDIA_METRICS)
                | {"values": [{"value": values[n]}]}
                for n in wanted
            ]
        }

    def account_insights(req: Request, ctx: CallContext, viewer: Viewer, account: Any) -> Any:
        may_read(viewer, account)
        wanted = checked(req, ins.IG_ACCOUNT_METRICS, "user")
        period = req.param("period")
        if not period:
            raise errors.missing_param("period")
        if period != "day":
            raise errors.invalid_param("period must be one of the following values: day")
        metric_type = req.param("metric_type") or "time_series"
        if metric_type not in ("time_series", "total_value"):
            raise errors.invalid_param(
                "metric_type must be one of the following values: time_series, total_value"
            )
        totals = metric_type == "total_value"
        if totals and "follower_count" in wanted:
            # The sandbox's words: Meta documents follower_count as a daily series only.
            raise errors.invalid_param("The metric follower_count does not support total_value")
        if not totals and (needs := [n for n in wanted if n not in ins.IG_TIME_SERIES]):
            raise ins.ig_needs_total_value(needs)
        now = state.now()
        since, until = ins.window(
            req.param("since"), req.param("until"), now, default=ins.DAY, longest=ins.IG_MAX_WINDOW
        )
        with state.lock:
            items = [
                ins.Published(m.id, m.timestamp)
                for m in store(state).media.values()
                if m.ig_user_id == account.id and not m.is_carousel_child
            ]

        def value(name: str, start: float, end: float) -> int:
            if end <= start:
                return 0
            reach = ins.total(items, "reach", start, end)
            reach += ins.baseline(account.id, "reach", start, end, 30)
            if name == "reach":
                return reach
            if name == "views":
                more = ins.total(items, "views", start, end) - ins.total(items, "reach", start, end)
                return reach + more + ins.baseline(account.id, "views", start, end, 15)
            if name == "follower_count":
                follows = ins.total(items, "follows", start, end)
                return follows + ins.baseline(account.id, "follower_count", start, end, 3)
            if name == "accounts_engaged":
                return ins.total(items, "total_interactions", start, end) * 3 // 4
            if name == "profile_links_taps":
                return ins.total(items, "profile_visits", start, end) // 4
            return ins.total(items, "saved" if name == "saves" else name, start, end)

        data = []
        for name in wanted:
            entry = _insight(account.id, name, "day", ins.IG_ACCOUNT_METRICS)
            if totals:
                entry["total_value"] = {"value": value(name, since, min(until, now))}
            else:
                entry["values"] = [
                    {"value": v, "end_time": graph_time(end)}
                    for v, end in ins.daily(partial(value, name), since, until, now)
                ]
            data.append(entry)
        return {"data": data}

    return {
        ("IGMedia", "insights", "GET"): media_insights,
        ("IGUser", "insights", "GET"): account_insights,
    }


def account_edges(
    graph: Graph,
    publisher: MediaPublisher,
    may_comment: Authorize = require_page_commenter,
    may_read_insights: Authorize = require_page_insights,
) -> dict[EdgeKey, EdgeHandler]:
    """The edges of an Instagram account, whichever login reaches it (the publisher's
    `authorize`, `may_comment` and `may_read_insights` are that login's checks): `/media`
    (list, create), `/stories`, `media_publish`, `content_publishing_limit`, a media's
    `/comments`, the account's and a media's `/insights`."""
    state = graph.state

    def comment(req: Request, ctx: CallContext, viewer: Viewer, media: Any) -> Any:
        ig = store(state)
        with state.lock:
            account = ig.accounts[media.ig_user_id]
            may_comment(viewer, account)
            created = add_comment(
                state,
                ig.comments,
                message=req.param("message"),
                target_id=media.id,
                owner_id=account.id,
                author_name=account.username,
                comment_id=str(17_860_000_000_000_000) + "{n}",
            )
        ctx.notes["created"] = created.id
        return {"id": created.id}

    def comments(req: Request, ctx: CallContext, viewer: Viewer, media: Any) -> Any:
        render = graph.render_each(req, viewer, "IGComment")
        with state.lock:
            items = [c for c in store(state).comments.values() if c.target_id == media.id]
        items = graph.pager.in_window(items, lambda c: c.created_time, req)
        return graph.pager.paginate(req, items, render)

    def listing(stories: bool) -> EdgeHandler:
        def handler(req: Request, ctx: CallContext, viewer: Viewer, account: Any) -> Any:
            render = graph.render_each(req, viewer, "IGMedia")
            now = state.now()
            with state.lock:
                media = [
                    m
                    for m in store(state).media.values()
                    if m.ig_user_id == account.id
                    and not m.is_carousel_child
                    and (m.media_product_type == "STORY") == stories
                    and m.live(now)
                ]
            media = graph.pager.in_window(media, lambda m: m.timestamp, req)
            return graph.pager.paginate(req, media, render)

        return handler

    def publishing_limit(req: Request, ctx: CallContext, viewer: Viewer, account: Any) -> Any:
        specs = parse_fields(req.param("fields")) or [FieldSpec("quota_usage")]
        entry: dict[str, Any] = {}
        for spec in specs:
            if spec.name == "quota_usage":
                entry["quota_usage"] = publisher.quota_usage(account.id)
            elif spec.name == "config":
                entry["config"] = {
                    "quota_total": state.config.quota_total,
                    "quota_duration": QUOTA_DURATION,
                }
            else:
                raise errors.nonexisting_field(spec.name, "ContentPublishingLimitResponse")
        return {"data": [entry]}

    return {
        ("IGUser", "media", "GET"): listing(stories=False),
        ("IGUser", "stories", "GET"): listing(stories=True),
        ("IGUser", "media", "POST"): publisher.create,
        ("IGUser", "media_publish", "POST"): publisher.publish,
        ("IGUser", "content_publishing_limit", "GET"): publishing_limit,
        ("IGMedia", "comments", "POST"): comment,
        ("IGMedia", "comments", "GET"): comments,
        **insights_edges(graph, may_read_insights),
    }


# --- the read-out -------------------------------------------------------------------------------


def _media_sources(ig: InstagramStore, media: IgMediaRecord) -> list[dict[str, Any]]:
    container = ig.containers.get(media.container_id)
    if container is None:
        return []
    ids = container.children or [container.id]
    sources = [ig.containers[i].image for i in ids if i in ig.containers]
    return [source.to_dict() for source in sources if source is not None]


def _video_sources(ig: InstagramStore, media: IgMediaRecord) -> list[dict[str, Any]]:
    container = ig.containers.get(media.container_id)
    if container is None:
        return []
    ids = container.children or [container.id]
    sources = [ig.containers[i].video for i in ids if i in ig.containers]
    return [source.to_dict() for source in sources if source is not None]


def _media_key(ig: InstagramStore, media: IgMediaRecord) -> str:
    """Same account, same caption, same images (by sha256 when fetched, else by URL)."""
    container = ig.containers.get(media.container_id)
    ids = (container.children or [container.id]) if container else []
    images = []
    for container_id in ids:
        child = ig.containers.get(container_id)
        if child is not None:
            source = child.image or child.video
            images.append(
                (source.sha256 if source else None) or child.image_url or child.video_url or ""
            )
    return content_key(media.ig_user_id, media.caption or "", None, images)


# --- the network --------------------------------------------------------------------------------


class InstagramNetwork(Network):
    name = "instagram"
    label = "Instagram business accounts (Instagram Graph API with Facebook Login)"
    scopes = (
        "instagram_basic",
        "instagram_content_publish",
        "instagram_manage_comments",
        "instagram_manage_insights",
    )

    def create_store(self, state: SandboxState) -> InstagramStore:
        return InstagramStore(state)

    def forget(self, state: SandboxState, object_id: str) -> bool:
        # Both logins' media live in this store: gone for both hosts (100/33 after).
        return store(state).media.pop(object_id, None) is not None

    def node_types(self) -> Iterable[NodeType]:
        return NODE_TYPES

    def field_extensions(self) -> dict[str, FieldTable]:
        return {"Page": _page_instagram_fields, "AccountsEntry": _page_instagram_fields}

    def lookup(
        self, state: SandboxState, object_id: str, claims: TokenClaims | None, ctx: CallContext
    ) -> Found | None:
        ig = store(state)

        def visible(account: IgAccountRecord | None) -> bool:
            # Through its Page only: an account without one (Instagram Login's) is not seen here.
            page = ig.page_of(account) if account else None
            return page is not None and can_see_page(claims, page)

        account = ig.accounts.get(object_id)
        if account and visible(account):
            ctx.touch(account.id, "instagram")
            return "IGUser", account
        container = ig.containers.get(object_id)
        owner = ig.accounts.get(container.ig_user_id) if container else None
        if container and owner and visible(owner):
            ctx.touch(owner.id, "instagram")
            return "ShadowIGMediaBuilder", container
        media = ig.media.get(object_id)
        if media is not None and not media.live(state.now()):
            media = None
        owner = ig.accounts.get(media.ig_user_id) if media else None
        if media and owner and visible(owner):
            ctx.touch(owner.id, "instagram")
            return "IGMedia", media
        comment = ig.comments.get(object_id)
        owner = ig.accounts.get(comment.owner_id) if comment else None
        if comment and owner and visible(owner):
            return "IGComment", comment
        return None

    def edges(self, graph: Graph) -> dict[EdgeKey, EdgeHandler]:
        return account_edges(graph, MediaPublisher(graph.state))

    def scope_targets(self, state: SandboxState, user_id: str) -> dict[str, list[str]]:
        pages = facebook.store(state).pages_of(user_id)
        accounts = [p.ig_id for p in pages if p.ig_id]
        return dict.fromkeys(self.scopes, accounts)

    # --- the Page hooks ---------------------------------------------------------------------------

    def page_added(self, state: SandboxState, page: Any, number: int, options: dict) -> None:
        if not bool(options.get("instagram", True)):
            return
        ig_id = str(17_841_400_000_100_000 + number)
        page.ig_id = ig_id
        store(state).accounts[ig_id] = IgAccountRecord(
            ig_id, f"loadtest{number}", page.name, page.id, extra=True
        )

    def describe_page(self, state: SandboxState, page: Any) -> dict[str, Any]:
        account = store(state).of_page(page)
        if account is None:
            return {}
        return {"instagram_business_account": {"id": account.id, "username": account.username}}

    def page_columns(self) -> list[tuple[str, Callable[[SandboxState, Any], str]]]:
        def cell(state: SandboxState, page: Any) -> str:
            account = store(state).of_page(page)
            return "@" + account.username if account else "—"

        return [("Instagram", cell)]

    # --- read-out, HTML -------------------------------------------------------------------------

    def published(self, state: SandboxState, base_url: str) -> tuple[dict[str, Any], dict]:
        ig = store(state)
        now = state.now()

        def login_of(account_id: str) -> str:
            """How the account is reached: "facebook" (through its Page) or "instagram"
            (Instagram with Instagram Login: no Page)."""
            account = ig.accounts.get(account_id)
            return "facebook" if account is None or account.page_id else "instagram"

        containers: list[dict[str, Any]] = []
        for c in sorted(ig.containers.values(), key=lambda c: c.created_time):
            status_code, status = container_status(state, c, now)
            containers.append(
                {
                    "id": c.id,
                    "target_id": c.ig_user_id,
                    "login": login_of(c.ig_user_id),
                    "media_type": c.media_type,
                    "is_carousel_item": c.is_carousel_item,
                    "caption": c.caption,
                    "caption_ignored": c.caption_ignored,
                    "image_url": c.image_url,
                    "image": c.image.to_dict() if c.image else None,
                    "product": c.product,
                    "video_url": c.video_url,
                    "video": c.video.to_dict() if c.video else None,
                    "upload_type": c.upload_type,
                    "awaiting_upload": c.awaiting_upload,
                    "cover_url": c.cover_url,
                    "thumb_offset": c.thumb_offset,
                    "share_to_feed": c.share_to_feed,
                    "audio_name": c.audio_name,
                    "alt_text": c.alt_text,
                    "collaborators": c.collaborators,
                    "location_id": c.location_id,
                    "error_code": c.forced_code,
                    "error_subcode": c.forced_subcode,
                    "children": c.children,
                    "status_code": status_code,
                    "status": status,
                    "created_time": graph_time(c.created_time),
                    "published_media_id": c.published_media_id,
                    "publish_count": c.publish_count,
                    "publish_attempts": c.publish_attempts,
                }
            )
        top_media = sorted(
            (m for m in ig.media.values() if not m.is_carousel_child),
            key=lambda m: m.timestamp,
        )
        media_keys = {m.id: _media_key(ig, m) for m in top_media}
        media_content = Counter(media_keys.values())
        captions = Counter(
            (m.ig_user_id, (m.caption or "").strip()) if (m.caption or "").strip() else None
            for m in top_media
        )
        media = [
            {
                "id": m.id,
                "target_id": m.ig_user_id,
                "login": login_of(m.ig_user_id),
                "username": ig.accounts[m.ig_user_id].username
                if m.ig_user_id in ig.accounts
                else "",
                "container_id": m.container_id,
                "caption": m.caption,
                "media_type": m.media_type,
                "media_product_type": m.media_product_type,
                "live": m.live(now),
                "video_url": m.video_url,
                "video_sources": _video_sources(ig, m),
                "children": m.children,
                "image_sources": _media_sources(ig, m),
                "image_urls": m.image_urls,
                "timestamp": graph_time(m.timestamp),
                "created_at": m.timestamp,
                "permalink": f"{base_url}/_sandbox/view/{m.id}",
                "content_key": media_keys[m.id],
                "same_content_count": media_content[media_keys[m.id]],
                "same_caption_count": captions[(m.ig_user_id, (m.caption or "").strip())]
                if (m.caption or "").strip()
                else 1,
            }
            for m in top_media
        ]
        comment_lists, comment_counts = readout(ig.comments, "instagram")
        lists = {"instagram_media": media, "containers": containers, **comment_lists}
        summary = {
            "instagram_media": len(media),
            "instagram_media_by_type": dict(Counter(m["media_type"] for m in media)),
            "instagram_media_by_login": dict(Counter(m["login"] for m in media)),
            "instagram_media_by_product": dict(Counter(m["media_product_type"] for m in media)),
            "instagram_reels": sum(1 for m in media if m["media_product_type"] == "REELS"),
            "instagram_stories": sum(1 for m in media if m["media_product_type"] == "STORY"),
            "containers": len(containers),
            "instagram_media_with_repeated_content": repeats(media_content),
            "instagram_media_with_repeated_caption": repeats(captions),
            # Ids of containers published more than once: always [] (the proof of no repeat).
            "containers_published_twice": [c["id"] for c in containers if c["publish_count"] > 1],
            **comment_counts,
        }
        return lists, summary

    def index_html(self, state: SandboxState) -> str:
        ig = store(state)
        media = sorted(
            (m for m in ig.media.values() if not m.is_carousel_child),
            key=lambda m: m.timestamp,
            reverse=True,
        )[:30]
        media_rows = "".join(
            f"<tr><td>{graph_time(m.timestamp)}</td>"
            f"<td>@{escape(ig.accounts[m.ig_user_id].username)}</td>"
            f"<td>{escape(m.caption or '')[:200]} ({escape(m.media_type)})</td>"
            f"<td><a href='/_sandbox/view/{escape(m.id)}'>{escape(m.id)}</a></td></tr>"
            for m in media
        )
        return f"""
<h2>Instagram media</h2>
<table><tr><th>when (UTC)</th><th>account</th><th>caption</th><th>id</th></tr>
{media_rows or facebook.EMPTY_ROW}</table>"""

    def view_html(self, state: SandboxState, object_id: str) -> tuple[str, str] | None:
        ig = store(state)
        media = ig.media.get(object_id)
        if media is None:
            return None
        account = ig.accounts[media.ig_user_id]
        images = "".join(
            f"<p><img alt='' style='max-width:100%' src='{escape(url)}'></p>"
            for url in media.image_urls
        )
        if media.video_url:
            images += f"<p><video controls src='{escape(media.video_url)}'></video></p>"
        body = (
            f"<h1>@{escape(account.username)}</h1><p class='muted'>"
            f"{graph_time(media.timestamp)} · {escape(media.media_type)} "
            f"{escape(media.media_product_type)} "
            f"{escape(media.id)}</p><p>{escape(media.caption or '')}</p>{images}"
        )
        return account.username, body

"""Video on Facebook Pages: Reels (`/{page-id}/video_reels`, start → upload → finish), Page
videos (`/{page-id}/videos` with `file_url` or `source`), and Page Stories
(`/{page-id}/photo_stories` with an unpublished photo, `/{page-id}/video_stories` start →
upload → finish), each video processed for `video_processing_seconds` and published at most
once; `GET /{video-id}?fields=status` says where one stands, and the Stories of a Page are
gone after 24 hours.

Registers the node types Video and PageStory, those edges of Page, the upload completer of
kind "fb" (sandbox/video.py keeps the upload sessions) and its part of the read-out. Built on
the Facebook network (its Pages, photos and Page-token check); it imports `facebook`, never
the other way round.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from html import escape
from typing import Any, cast

from .. import errors
from ..context import CallContext, Request, Viewer, graph_time
from ..control import repeats
from ..errors import GraphError
from ..graph import Graph
from ..media import FetchError, MediaSource, is_http_url
from ..nodes import MISSING, Renderer, engagement
from ..registry import EdgeHandler, EdgeKey, Found, Network, NodeType, Resolver
from ..state import SandboxState, content_key
from ..tokens import TokenClaims
from ..video import (
    COMPLETERS,
    FB_REEL,
    FB_STORY,
    FB_UPLOAD,
    FB_VIDEO,
    Problem,
    UploadSession,
    describe_video,
    fetch_video,
    open_session,
    problem,
    upload_uri,
    uploads,
)
from . import facebook
from .facebook import PagePublisher, PageRecord, can_see_page, comment_on, comments_list

STORY_SECONDS = 86_400
RULES = {"reel": FB_REEL, "story": FB_STORY, "video": FB_VIDEO}


@dataclass(slots=True)
class VideoRecord:
    id: str
    page_id: str
    kind: str  # "reel", "video" or "story"
    created_time: float
    description: str = ""
    title: str = ""
    source: MediaSource | None = None
    uploaded_at: float | None = None
    # When processing is done (upload time + video_processing_seconds).
    ready_at: float | None = None
    # "PUBLISHED" / "DRAFT" / "SCHEDULED" as finish asked; None until finished.
    video_state: str | None = None
    finished_at: float | None = None
    publish_count: int = 0
    publish_attempts: int = 0
    error: str | None = None
    error_code: int | None = None
    post_id: str | None = None

    def live_from(self) -> float | None:
        """When it is (or will be) live: published and processed, without error."""
        if self.video_state != "PUBLISHED" or self.error or self.ready_at is None:
            return None
        return max(self.ready_at, self.finished_at or self.ready_at)


@dataclass(slots=True)
class StoryRecord:
    post_id: str
    page_id: str
    media_type: str  # "photo" or "video"
    media_id: str
    created_time: float

    @property
    def id(self) -> str:
        """What the pager's cursors name."""
        return self.post_id


class VideoStore:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.videos: dict[str, VideoRecord] = {}
        self.stories: dict[str, StoryRecord] = {}

    def snapshot(self) -> dict[str, Any]:
        return {
            "fb_videos": [asdict(v) for v in self.videos.values()],
            "fb_stories": [asdict(s) for s in self.stories.values()],
        }

    def load(self, data: dict[str, Any]) -> None:
        for raw in data.get("fb_videos", []):
            raw = dict(raw)
            source = raw.pop("source", None)
            video = VideoRecord(**raw, source=MediaSource.from_dict(source) if source else None)
            self.videos[video.id] = video
        for raw in data.get("fb_stories", []):
            story = StoryRecord(**raw)
            self.stories[story.post_id] = story


def store(state: SandboxState) -> VideoStore:
    return cast(VideoStore, state.stores[FacebookVideoNetwork.name])


def _story_live(story: StoryRecord, now: float) -> bool:
    return story.created_time <= now < story.created_time + STORY_SECONDS


# --- fields -----------------------------------------------------------------------------------


def video_status(state: SandboxState, video: VideoRecord, now: float) -> dict[str, Any]:
    """The `status` of a Video, in the shape of Meta's VideoStatus (the phases' words for the
    states in between are the sandbox's)."""
    session = uploads(state).sessions.get(video.id)
    transferred = session.offset if session else (video.source.size or 0 if video.source else 0)
    if video.uploaded_at is None:
        uploading: dict[str, Any] = {"status": "in_progress" if transferred else "not_started"}
        processing: dict[str, Any] = {"status": "not_started"}
        overall = "upload"
    elif video.error:
        uploading = {"status": "complete"}
        processing = {
            "status": "error",
            "errors": [{"code": video.error_code, "message": video.error}],
        }
        overall = "error"
    elif video.ready_at is not None and now < video.ready_at:
        uploading = {"status": "complete"}
        processing = {"status": "in_progress"}
        overall = "processing"
    else:
        uploading = {"status": "complete"}
        processing = {"status": "complete"}
        overall = "ready"
    uploading["bytes_transferred"] = transferred
    live = video.live_from()
    if live is not None and now >= live:
        publishing: dict[str, Any] = {
            "status": "complete",
            "publish_status": "published",
            "publish_time": int(live),
        }
    elif video.video_state == "PUBLISHED" and not video.error:
        publishing = {"status": "in_progress", "publish_status": "not_published"}
    else:
        status = "draft" if video.video_state == "DRAFT" else "not_published"
        publishing = {"status": "not_started", "publish_status": status}
    return {
        "video_status": overall,
        "uploading_phase": uploading,
        "processing_phase": processing,
        "publishing_phase": publishing,
    }


def _video_fields(r: Renderer) -> dict[str, Resolver]:
    def live(video: VideoRecord) -> bool:
        start = video.live_from()
        return start is not None and r.now >= start

    def counts(video: VideoRecord) -> dict[str, int]:
        start = video.live_from()
        if start is None or r.now < start:
            return {"likes": 0, "comments": 0, "shares": 0, "reactions": 0}
        return engagement(video.id, start, r.now)

    return {
        "id": lambda v, s: v.id,
        "description": lambda v, s: v.description or MISSING,
        "title": lambda v, s: v.title or MISSING,
        "created_time": lambda v, s: graph_time(v.created_time),
        "updated_time": lambda v, s: graph_time(v.finished_at or v.created_time),
        "status": lambda v, s: video_status(r.state, v, r.now),
        "published": lambda v, s: live(v),
        "length": lambda v, s: (v.source.duration_seconds if v.source else None) or MISSING,
        "permalink_url": lambda v, s: r.view_url(v.id),
        "source": lambda v, s: (v.source.url if v.source else None) or MISSING,
        "post_id": lambda v, s: v.post_id or MISSING,
        "from": lambda v, s: {"id": v.page_id},
        # A Video's likes, comments and reactions (Meta has no `shares` on a Video).
        "likes": lambda v, s: r.summary_edge("likes", counts(v), s),
        "comments": lambda v, s: r.summary_edge("comments", counts(v), s),
        "reactions": lambda v, s: r.summary_edge("reactions", counts(v), s),
    }


def _story_fields(r: Renderer) -> dict[str, Resolver]:
    return {
        "post_id": lambda st, s: st.post_id,
        "status": lambda st, s: "PUBLISHED",
        "creation_time": lambda st, s: str(int(st.created_time)),
        "media_type": lambda st, s: st.media_type,
        "media_id": lambda st, s: st.media_id,
        "url": lambda st, s: r.view_url(st.post_id),
    }


NODE_TYPES = (
    NodeType("Video", "/{video-id}", ("id", "description", "updated_time"), _video_fields),
    NodeType(
        "PageStory",
        "/{story-id}",
        ("post_id", "status", "creation_time", "media_type", "media_id", "url"),
        _story_fields,
    ),
)


# --- publishing -------------------------------------------------------------------------------


def _check(video: VideoRecord) -> None:
    if video.source is None or video.error:
        return
    found: Problem | None = problem(video.source, RULES[video.kind])
    if found is not None:
        video.error, video.error_code = found.message, 6000


def _upload_done(state: SandboxState, session: UploadSession) -> None:
    video = store(state).videos.get(session.id)
    if video is None or session.completed_at is None:
        return
    video.source = session.source
    video.uploaded_at = session.completed_at
    video.ready_at = session.completed_at + max(state.config.video_processing_seconds, 0.0)
    _check(video)


COMPLETERS["fb"] = _upload_done


def already_published(video_id: str) -> GraphError:
    # Meta does not document a second finish of a published video; the words are the sandbox's.
    return errors.invalid_param(f"(#100) The video {video_id} has already been published")


def reels_limit(total: int) -> GraphError:
    # Meta documents the limit (30 API-published Reels per Page in a moving 24 hours, enforced
    # on POST /{page-id}/video_reels) but not its error; code and words are the sandbox's.
    return GraphError(
        f"(#9) The Page has reached the limit of {total} API-published Reels in 24 hours",
        code=9,
        is_transient=False,
    )


class VideoPublisher:
    """The Page's video calls, with the Page-token check of `PagePublisher`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.pages = PagePublisher(state)

    @property
    def videos(self) -> VideoStore:
        return store(self.state)

    def _new_video(self, page: PageRecord, kind: str, **extra: Any) -> VideoRecord:
        number = self.state.next_number()
        video = VideoRecord(
            id=str(1_200_000_000_000_000 + number),
            page_id=page.id,
            kind=kind,
            created_time=self.state.now(),
            **extra,
        )
        self.videos.videos[video.id] = video
        return video

    def _video_of(self, req: Request, page: PageRecord, kind: str) -> VideoRecord:
        video_id = req.param("video_id")
        if not video_id:
            raise errors.missing_param("video_id")
        video = self.videos.videos.get(video_id)
        if video is None or video.page_id != page.id or video.kind != kind:
            raise errors.invalid_param(f"(#100) video_id {video_id} is not an upload of this Page")
        return video

    def phased(self, kind: str) -> EdgeHandler:
        """`video_reels` / `video_stories`: upload_phase=start | finish."""

        def handler(req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
            self.pages._require_page_token(viewer, page)
            phase = (req.param("upload_phase") or "").lower()
            with self.state.lock:
                if phase == "start":
                    video = self._new_video(page, kind)
                    open_session(
                        self.state, video.id, kind="fb", host_path=FB_UPLOAD, owners=[page.id]
                    )
                    self.state.save()
                    ctx.notes["created"] = video.id
                    return {
                        "video_id": video.id,
                        "upload_url": upload_uri(req, FB_UPLOAD, video.id, self.state),
                    }
                if phase != "finish":
                    raise errors.invalid_param("(#100) upload_phase must be start or finish")
                video = self._video_of(req, page, kind)
                return self._finish(req, ctx, page, video)

        return handler

    def _finish(
        self, req: Request, ctx: CallContext, page: PageRecord, video: VideoRecord
    ) -> dict[str, Any]:
        video.publish_attempts += 1
        self.state.save()
        if video.uploaded_at is None:
            # Meta documents finishing after the upload; the words are the sandbox's.
            raise errors.invalid_param(
                f"(#100) The upload of video {video.id} is not complete; finish it first"
            )
        if video.video_state == "PUBLISHED" or video.publish_count:
            raise already_published(video.id)
        wanted = (
            (req.param("video_state") or "PUBLISHED").upper()
            if video.kind == "reel"
            else "PUBLISHED"
        )
        if wanted not in ("PUBLISHED", "DRAFT", "SCHEDULED"):
            raise errors.invalid_param("(#100) video_state must be PUBLISHED, DRAFT or SCHEDULED")
        if (
            wanted == "PUBLISHED"
            and video.kind == "reel"
            and self._reels_today(page) >= (self.state.config.fb_reels_quota_total)
        ):
            raise reels_limit(self.state.config.fb_reels_quota_total)
        video.description = req.param("description") or video.description
        video.title = req.param("title") or video.title
        video.video_state = wanted
        video.finished_at = self.state.now()
        answer: dict[str, Any] = {"success": True}
        if wanted == "PUBLISHED" and not video.error:
            video.publish_count += 1
            video.post_id = f"{page.id}_{video.id}"
            if video.kind == "story":
                live = video.live_from() or video.finished_at
                story = StoryRecord(video.post_id, page.id, "video", video.id, live)
                self.videos.stories[story.post_id] = story
                answer["post_id"] = story.post_id
        self.state.save()
        ctx.notes["created"] = video.id
        return answer

    def _reels_today(self, page: PageRecord) -> int:
        horizon = self.state.now() - 86_400
        return sum(
            1
            for v in self.videos.videos.values()
            if v.page_id == page.id
            and v.kind == "reel"
            and v.publish_count
            and (v.finished_at or 0) > horizon
        )

    def page_video(self, req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
        """`POST /{page-id}/videos` with `file_url` (fetched) or a multipart `source`."""
        self.pages._require_page_token(viewer, page)
        upload = req.files.get("source")
        url = req.param("file_url")
        if upload is not None:
            source = describe_video(upload[1], kind="upload")
        elif url:
            if not is_http_url(url):
                raise errors.invalid_url("file_url")
            if not self.state.config.fetch_media:
                source = MediaSource(kind="url", url=url)
            else:
                try:
                    source = fetch_video(url, timeout=self.state.config.fetch_timeout_seconds)
                except FetchError as exc:
                    ctx.notes["fetch_error"] = exc.reason
                    # Meta's Video API: 389 "Unable to fetch video file from URL".
                    raise GraphError(
                        "(#389) Unable to fetch video file from URL.", code=389
                    ) from exc
        else:
            raise errors.missing_param("file_url or source")
        with self.state.lock:
            now = self.state.now()
            video = self._new_video(
                page,
                "video",
                description=req.param("description") or "",
                title=req.param("title") or "",
                source=source,
                uploaded_at=now,
                ready_at=now + max(self.state.config.video_processing_seconds, 0.0),
            )
            if source.video_format is not None or self.state.config.fetch_media:
                _check(video)
            video.video_state = "PUBLISHED" if req.flag("published", True) else "DRAFT"
            video.finished_at = now
            video.publish_attempts = 1
            if video.video_state == "PUBLISHED" and not video.error:
                video.publish_count = 1
                video.post_id = f"{page.id}_{video.id}"
            self.state.save()
        ctx.notes["created"] = video.id
        return {"id": video.id}

    def photo_story(self, req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
        """`POST /{page-id}/photo_stories?photo_id=` (an unpublished photo of this Page)."""
        self.pages._require_page_token(viewer, page)
        photo_id = req.param("photo_id")
        if not photo_id:
            raise errors.missing_param("photo_id")
        with self.state.lock:
            photo = facebook.store(self.state).photos.get(photo_id)
            if photo is None or photo.page_id != page.id or photo.published:
                raise errors.invalid_param(
                    f"(#100) photo_id {photo_id} is not an unpublished photo of this Page"
                )
            if photo.used_in_post_id:
                raise errors.invalid_param(
                    f"(#100) The photo {photo_id} has already been published in "
                    f"{photo.used_in_post_id}"
                )
            number = self.state.next_number()
            story = StoryRecord(
                f"{page.id}_{1_300_000_000_000_000 + number}",
                page.id,
                "photo",
                photo.id,
                self.state.now(),
            )
            photo.used_in_post_id = story.post_id
            self.videos.stories[story.post_id] = story
            self.state.save()
        ctx.notes["created"] = story.post_id
        return {"success": True, "post_id": story.post_id}


# --- the network --------------------------------------------------------------------------------


class FacebookVideoNetwork(Network):
    name = "facebook_video"
    label = "Facebook Page videos, Reels and Stories"

    def create_store(self, state: SandboxState) -> VideoStore:
        return VideoStore()

    def node_types(self) -> Iterable[NodeType]:
        return NODE_TYPES

    def lookup(
        self, state: SandboxState, object_id: str, claims: TokenClaims | None, ctx: CallContext
    ) -> Found | None:
        pages = facebook.store(state).pages
        video = store(state).videos.get(object_id)
        if video and video.page_id in pages and can_see_page(claims, pages[video.page_id]):
            ctx.touch(video.page_id, "pages")
            return "Video", video
        story = store(state).stories.get(object_id)
        page = pages.get(story.page_id) if story else None
        if story and page and _story_live(story, state.now()) and can_see_page(claims, page):
            ctx.touch(story.page_id, "pages")
            return "PageStory", story
        return None

    def edges(self, graph: Graph) -> dict[EdgeKey, EdgeHandler]:
        state = graph.state
        publisher = VideoPublisher(state)

        def videos(kind: str) -> EdgeHandler:
            def handler(req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
                render = graph.render_each(req, viewer, "Video")
                now = state.now()
                with state.lock:
                    items = [
                        v
                        for v in store(state).videos.values()
                        if v.page_id == page.id
                        and v.kind == kind
                        and (start := v.live_from()) is not None
                        and now >= start
                    ]
                items = graph.pager.in_window(items, lambda v: v.live_from() or 0.0, req)
                return graph.pager.paginate(req, items, render)

            return handler

        def stories(req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
            render = graph.render_each(req, viewer, "PageStory")
            now = state.now()
            with state.lock:
                items = [
                    s
                    for s in store(state).stories.values()
                    if s.page_id == page.id and _story_live(s, now)
                ]
            items = graph.pager.in_window(items, lambda s: s.created_time, req)
            return graph.pager.paginate(req, items, render)

        return {
            ("Page", "video_reels", "POST"): publisher.phased("reel"),
            ("Page", "video_reels", "GET"): videos("reel"),
            ("Page", "video_stories", "POST"): publisher.phased("story"),
            ("Page", "photo_stories", "POST"): publisher.photo_story,
            ("Page", "videos", "POST"): publisher.page_video,
            ("Page", "videos", "GET"): videos("video"),
            ("Page", "stories", "GET"): stories,
            ("Video", "comments", "POST"): comment_on(state),
            ("Video", "comments", "GET"): comments_list(state, graph),
        }

    def index_html(self, state: SandboxState) -> str:
        vs = store(state)
        pages = facebook.store(state).pages
        videos = sorted(vs.videos.values(), key=lambda v: v.created_time, reverse=True)[:30]
        rows = "".join(
            f"<tr><td>{graph_time(v.created_time)}</td>"
            f"<td>{escape(pages[v.page_id].name if v.page_id in pages else v.page_id)}</td>"
            f"<td>{escape(v.kind)} · {escape(v.video_state or 'not finished')} · "
            f"{escape(video_status(state, v, state.now())['video_status'])} · "
            f"{escape(v.description[:200])}</td>"
            f"<td><a href='/_sandbox/view/{escape(v.id)}'>{escape(v.id)}</a></td></tr>"
            for v in videos
        )
        return f"""
<h2>Facebook Reels, videos and Stories</h2>
<table><tr><th>when (UTC)</th><th>Page</th><th>what</th><th>id</th></tr>
{rows or facebook.EMPTY_ROW}</table>"""

    def view_html(self, state: SandboxState, object_id: str) -> tuple[str, str] | None:
        vs = store(state)
        story = vs.stories.get(object_id)
        video = vs.videos.get(story.media_id if story else object_id)
        if story is not None and video is None:
            body = f"<h1>Story {escape(story.post_id)}</h1><p>photo {escape(story.media_id)}</p>"
            return "Story", body
        if video is None:
            return None
        src = video.source.url if video.source and video.source.url else None
        player = f"<p><video controls src='{escape(src)}'></video></p>" if src else ""
        body = (
            f"<h1>{escape(video.kind.title())} {escape(video.id)}</h1><p class='muted'>"
            f"{graph_time(video.created_time)} · {escape(video.video_state or 'not finished')}"
            f"</p><p>{escape(video.description)}</p>{player}"
        )
        return video.kind.title(), body

    def published(self, state: SandboxState, base_url: str) -> tuple[dict[str, Any], dict]:
        vs = store(state)
        now = state.now()

        def key(video: VideoRecord) -> str:
            sha = (video.source.sha256 or video.source.url) if video.source else None
            return content_key(video.page_id, video.description, video.kind, [sha or video.id])

        keys = {v.id: key(v) for v in vs.videos.values() if v.publish_count}
        same = Counter(keys.values())
        entries: list[dict[str, Any]] = []
        for v in sorted(vs.videos.values(), key=lambda v: v.created_time):
            start = v.live_from()
            entries.append(
                {
                    "id": v.id,
                    "target_id": v.page_id,
                    "kind": v.kind,
                    "description": v.description,
                    "video_state": v.video_state,
                    "status": video_status(state, v, now),
                    "live": start is not None and now >= start,
                    "post_id": v.post_id,
                    "source": v.source.to_dict() if v.source else None,
                    "error": v.error,
                    "created_time": graph_time(v.created_time),
                    "publish_count": v.publish_count,
                    "publish_attempts": v.publish_attempts,
                    "content_key": keys.get(v.id),
                    "same_content_count": same[keys[v.id]] if v.id in keys else 0,
                }
            )
        stories = [
            {
                "post_id": s.post_id,
                "target_id": s.page_id,
                "media_type": s.media_type,
                "media_id": s.media_id,
                "created_time": graph_time(s.created_time),
                "live": _story_live(s, now),
            }
            for s in sorted(vs.stories.values(), key=lambda s: s.created_time)
        ]
        story_media = Counter(s["media_id"] for s in stories)
        reels = [e for e in entries if e["kind"] == "reel"]
        videos = [e for e in entries if e["kind"] == "video"]
        lists = {
            "facebook_reels": reels,
            "facebook_videos": videos,
            "facebook_video_stories": [e for e in entries if e["kind"] == "story"],
            "facebook_stories": stories,
        }
        summary = {
            "facebook_reels": sum(1 for e in reels if e["publish_count"]),
            "facebook_reels_draft": sum(1 for e in reels if e["video_state"] == "DRAFT"),
            "facebook_videos": sum(1 for e in videos if e["publish_count"]),
            "facebook_stories": len(stories),
            "facebook_videos_with_repeated_content": repeats(same),
            # Always [] (the proof of no repeat): a video finished as published twice, a
            # photo or video in two Stories.
            "reels_published_twice": [e["id"] for e in reels if e["publish_count"] > 1],
            "videos_published_twice": [e["id"] for e in entries if e["publish_count"] > 1],
            "stories_published_twice": [m for m, n in story_media.items() if n > 1],
        }
        return lists, summary

"""Facebook Pages: Reels (`/{page-id}/video_reels` start → upload on rupload.facebook.com →
finish), Page videos (`/{page-id}/videos`), Stories (`/{page-id}/photo_stories`,
`/{page-id}/video_stories`), a video's status, and comments under a Page's posts and videos.

The upload host is another host (`FACEBOOK_RUPLOAD_URL`), reached through a client of its own
(`upload_client`), with the same token handling, timeouts, logging and redaction as every call.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from django.conf import settings

from ._shape import JSONObject, Shape, paginate, paginate_since
from .client import ClientSlot, GraphClient, get_client
from .config import GraphConfig
from .results import (
    Comment,
    PagePostEngagement,
    PageStory,
    PageVideo,
    VideoFinished,
    VideoStatus,
    VideoUploadSession,
)

VideoEdge = Literal["video_reels", "video_stories"]

# Meta fetches the whole file before it answers an upload by `file_url`: longer than a call.
UPLOAD_TIMEOUT_FACTOR = 4
VIDEO_FIELDS = "id,status,post_id,permalink_url"
PAGE_VIDEO_FIELDS = "id,description,created_time,permalink_url"
STORY_FIELDS = "post_id,status,creation_time,media_type,media_id,url"
COMMENT_FIELDS = "id,message,from,created_time"
# A Video has likes, comments and reactions, but no `shares` (a Page post's field).
VIDEO_ENGAGEMENT_FIELDS = (
    "id,permalink_url,likes.summary(true),comments.summary(true),reactions.summary(true)"
)


def _upload_config() -> GraphConfig:
    timeout = float(getattr(settings, "GRAPH_TIMEOUT_SECONDS", 15.0)) * UPLOAD_TIMEOUT_FACTOR
    return GraphConfig.from_settings(
        graph_url=settings.FACEBOOK_RUPLOAD_URL, timeout_seconds=timeout
    )


# This process's client of the upload host (rupload.facebook.com, or the sandbox's /rupload).
upload_client = ClientSlot(_upload_config, prefixes=("FACEBOOK_",))


# --- Reels and video Stories: start, upload, finish --------------------------------------------


def start_video_upload(
    *, page_id: str, page_token: str, edge: VideoEdge, client: GraphClient | None = None
) -> VideoUploadSession:
    """Begin a Reel (`edge="video_reels"`) or a video Story (`"video_stories"`):
    `upload_phase=start`. Nothing is visible yet, so a repeat is harmless (another unused id)."""
    response = (client or get_client()).request(
        "POST",
        f"/{{id}}/{edge}",
        ids=(page_id,),
        token=page_token,
        data={"upload_phase": "start"},
        idempotent=True,
    )
    shape = Shape(response)
    root = shape.root()
    return VideoUploadSession(
        video_id=shape.object_id(root, "video_id"), upload_url=shape.opt_string(root, "upload_url")
    )


def upload_video_from_url(
    *, video_id: str, page_token: str, file_url: str, client: GraphClient | None = None
) -> None:
    """Have Meta fetch the video at `file_url` into the upload begun for `video_id`
    (`POST {rupload}/video-upload/{version}/{video-id}` with a `file_url` header). Uploading
    the same file again to a complete upload changes nothing, so it is retried when safe."""
    client = client or upload_client()
    response = client.request(
        "POST",
        f"/video-upload/{client.config.version}/{{id}}",
        ids=(video_id,),
        token=page_token,
        headers={"file_url": file_url},
        idempotent=True,
        versioned=False,
    )
    shape = Shape(response)
    root = shape.root()
    if root.get("success") is not True:
        raise shape.fail("'success' is not true")


def finish_video_upload(
    *,
    page_id: str,
    page_token: str,
    edge: VideoEdge,
    video_id: str,
    description: str = "",
    client: GraphClient | None = None,
) -> VideoFinished:
    """Publish an uploaded Reel or video Story (`upload_phase=finish`, `video_state=PUBLISHED`:
    without it a Reel stays a draft). Never retried: on an unknown outcome, read the video's
    status (`get_video_status`)."""
    data = {"upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED"}
    if description:
        data["description"] = description
    response = (client or get_client()).request(
        "POST", f"/{{id}}/{edge}", ids=(page_id,), token=page_token, data=data
    )
    shape = Shape(response, outcome_unknown=True)
    root = shape.root()
    return VideoFinished(
        success=root.get("success") is True, post_id=shape.opt_object_id(root, "post_id")
    )


def _phase(shape: Shape, status: JSONObject, key: str) -> JSONObject:
    return shape.opt_child(status, key) or {}


def get_video_status(
    *, video_id: str, token: str, client: GraphClient | None = None
) -> VideoStatus:
    """Where a video stands: uploaded, processed, published (`GET /{video-id}?fields=status`)."""
    response = (client or get_client()).request(
        "GET", "/{id}", ids=(video_id,), token=token, params={"fields": VIDEO_FIELDS}
    )
    shape = Shape(response)
    root = shape.root()
    status = shape.child(root, "status")
    processing = _phase(shape, status, "processing_phase")
    publishing = _phase(shape, status, "publishing_phase")
    errors = []
    for raw in shape.opt_items(processing, "errors"):
        error = shape.as_object(raw, "an error of 'processing_phase'")
        errors.append(shape.opt_string(error, "message") or "")
    return VideoStatus(
        video_id=shape.object_id(root),
        video_status=shape.opt_string(status, "video_status") or "",
        uploading=shape.opt_string(_phase(shape, status, "uploading_phase"), "status") or "",
        processing=shape.opt_string(processing, "status") or "",
        publishing=shape.opt_string(publishing, "status") or "",
        publish_status=shape.opt_string(publishing, "publish_status") or "",
        errors=tuple(e for e in errors if e),
        post_id=shape.opt_object_id(root, "post_id"),
        permalink_url=shape.opt_string(root, "permalink_url"),
    )


def _summary_count(shape: Shape, obj: JSONObject, edge: str) -> int | None:
    value = shape.opt_child(obj, edge)
    if value is None:
        return None
    return shape.integer(shape.child(value, "summary"), "total_count")


def get_video_engagement(
    *, video_id: str, token: str, client: GraphClient | None = None
) -> PagePostEngagement:
    """Likes, comments and reactions of a Page's video or Reel (`shares` is 0: a video has
    none to read)."""
    response = (client or get_client()).request(
        "GET", "/{id}", ids=(video_id,), token=token, params={"fields": VIDEO_ENGAGEMENT_FIELDS}
    )
    shape = Shape(response)
    root = shape.root()
    return PagePostEngagement(
        post_id=shape.object_id(root),
        likes=_summary_count(shape, root, "likes"),
        comments=_summary_count(shape, root, "comments"),
        shares=0,
        reactions=_summary_count(shape, root, "reactions"),
        permalink_url=shape.opt_string(root, "permalink_url"),
    )


# --- Page videos --------------------------------------------------------------------------


def publish_page_video(
    *,
    page_id: str,
    page_token: str,
    file_url: str,
    description: str = "",
    client: GraphClient | None = None,
) -> str:
    """Post a video to the Page (`POST /{page-id}/videos`, fetched by Meta from `file_url`);
    the video's id. Never retried: on an unknown outcome, reconcile with `list_page_videos`."""
    data = {"file_url": file_url}
    if description:
        data["description"] = description
    response = (client or get_client()).request(
        "POST", "/{id}/videos", ids=(page_id,), token=page_token, data=data
    )
    shape = Shape(response, outcome_unknown=True)
    return shape.object_id(shape.root())


def list_page_videos(
    *, page_id: str, page_token: str, since: datetime, client: GraphClient | None = None
) -> tuple[PageVideo, ...]:
    """Every video of the Page from `since` on, newest first, read to the end (every result
    page; GraphListingIncomplete when it cannot be)."""
    return tuple(
        PageVideo(
            id=shape.object_id(item),
            description=shape.opt_string(item, "description"),
            created_time=shape.opt_timestamp(item, "created_time"),
            permalink_url=shape.opt_string(item, "permalink_url"),
        )
        for shape, item in paginate_since(
            client or get_client(),
            "/{id}/videos",
            ids=(page_id,),
            token=page_token,
            fields=PAGE_VIDEO_FIELDS,
            since=since,
        )
    )


# --- Stories ------------------------------------------------------------------------------


def publish_photo_story(
    *, page_id: str, page_token: str, photo_id: str, client: GraphClient | None = None
) -> str:
    """Show an unpublished photo of the Page as a Story (`POST /{page-id}/photo_stories`); the
    Story's post id. Never retried: on an unknown outcome, look in `list_page_stories`."""
    response = (client or get_client()).request(
        "POST", "/{id}/photo_stories", ids=(page_id,), token=page_token, data={"photo_id": photo_id}
    )
    shape = Shape(response, outcome_unknown=True)
    return shape.object_id(shape.root(), "post_id")


def list_page_stories(
    *, page_id: str, page_token: str, since: datetime, client: GraphClient | None = None
) -> tuple[PageStory, ...]:
    """The Page's Stories from `since` on (they last 24 hours), read to the end."""
    return tuple(
        PageStory(
            post_id=shape.object_id(item, "post_id"),
            media_type=shape.opt_string(item, "media_type"),
            media_id=shape.opt_object_id(item, "media_id"),
            url=shape.opt_string(item, "url"),
        )
        for shape, item in paginate_since(
            client or get_client(),
            "/{id}/stories",
            ids=(page_id,),
            token=page_token,
            fields=STORY_FIELDS,
            since=since,
        )
    )


# --- Comments -----------------------------------------------------------------------------


def post_comment(
    *, object_id: str, token: str, message: str, client: GraphClient | None = None
) -> str:
    """Comment under an object as the token's owner (`POST /{object-id}/comments`): a Page's
    post, photo or video with its Page token, an Instagram media with the account's token
    (``client``: the host the account is reached on). The comment's id. Never retried: on an
    unknown outcome, look first (`iter_comments`, `instagram.list_ig_comments`)."""
    response = (client or get_client()).request(
        "POST", "/{id}/comments", ids=(object_id,), token=token, data={"message": message}
    )
    shape = Shape(response, outcome_unknown=True)
    return shape.object_id(shape.root())


def iter_comments(
    *, object_id: str, token: str, client: GraphClient | None = None
) -> Iterator[Comment]:
    """Every comment under an object, oldest first as Meta lists them, every result page
    read (GraphListingIncomplete when the listing cannot be read to its end)."""
    client = client or get_client()
    params = {"fields": COMMENT_FIELDS, "limit": str(client.config.page_size)}
    for shape, item in paginate(
        client, "/{id}/comments", ids=(object_id,), token=token, params=params, complete=True
    ):
        author = shape.opt_child(item, "from")
        yield Comment(
            id=shape.object_id(item),
            message=shape.opt_string(item, "message"),
            from_id=shape.opt_object_id(author, "id") if author else None,
            created_time=shape.opt_timestamp(item, "created_time"),
        )


def list_comments(
    *, object_id: str, token: str, client: GraphClient | None = None
) -> tuple[Comment, ...]:
    """Every comment under an object (all result pages)."""
    return tuple(iter_comments(object_id=object_id, token=token, client=client))

"""Instagram business accounts: media containers, publishing, the publishing quota, media and
engagement (all through graph.facebook.com with the Page's token)."""

import json
from collections.abc import Sequence
from datetime import datetime

from ._shape import JSONObject, Shape, paginate, paginate_since
from .client import GraphClient, get_client
from .results import (
    IgComment,
    IgContainer,
    IgContainerStatus,
    IgMedia,
    IgMediaEngagement,
    IgPublishedMedia,
    IgPublishingLimit,
)

MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp"
COMMENT_FIELDS = "id,text,username,timestamp,from"
CAROUSEL = "CAROUSEL"


REELS = "REELS"
STORIES = "STORIES"
VIDEO = "VIDEO"  # a video carousel item (a single feed video is published as REELS)
COLLABORATORS_MAX = 3  # Meta: up to 3 collaborators on an image, a carousel or a Reel


def create_ig_container(
    *,
    ig_user_id: str,
    token: str,
    image_url: str | None = None,
    video_url: str | None = None,
    caption: str | None = None,
    is_carousel_item: bool = False,
    children: Sequence[str] = (),
    media_type: str | None = None,
    alt_text: str | None = None,
    cover_url: str | None = None,
    thumb_offset_ms: int | None = None,
    share_to_feed: bool | None = None,
    audio_name: str | None = None,
    collaborators: Sequence[str] = (),
    location_id: str | None = None,
    client: GraphClient | None = None,
) -> IgContainer:
    """Create a media container (`POST /{ig-user-id}/media`): an image from a public JPEG URL
    (with its `alt_text`), a Reel (`media_type=REELS`, a public `video_url`, a cover image or
    the frame at `thumb_offset_ms`, `share_to_feed`, `audio_name`), a Story
    (`media_type=STORIES`, an image or a video, no caption), a carousel item
    (`is_carousel_item`, an image or `media_type=VIDEO`, no caption), or a carousel of
    `children` containers. Feed images, carousels and Reels may invite `collaborators`
    (usernames, at most 3) and tag a place (`location_id`, a Facebook Page id).

    Retried on transient errors: a container that is never published does nothing and expires
    after 24 hours, so a duplicate is harmless.
    """
    data: dict[str, str] = {}
    kind = (media_type or "").upper()
    if children:
        if image_url or video_url or is_carousel_item:
            raise ValueError("A carousel container takes children, not media of its own.")
        data["media_type"] = kind or CAROUSEL
        data["children"] = ",".join(children)
    elif video_url:
        if image_url:
            raise ValueError("An Instagram container holds an image or a video, not both.")
        if kind not in (REELS, STORIES, VIDEO):
            raise ValueError("A video container is REELS, STORIES or VIDEO (a carousel item).")
        if (kind == VIDEO) != is_carousel_item:
            raise ValueError("VIDEO is a carousel item's type; a single video is REELS.")
        data["media_type"] = kind
        data["video_url"] = video_url
    elif image_url:
        if kind not in ("", "IMAGE", STORIES):
            raise ValueError(f"An image container cannot be {kind}.")
        data["image_url"] = image_url
        if kind:
            data["media_type"] = kind
    else:
        raise ValueError("An Instagram container needs an image_url, a video_url or children.")
    if is_carousel_item:
        if caption:
            raise ValueError("Carousel items carry no caption; put it on the carousel.")
        if collaborators or location_id:
            raise ValueError("Collaborators and a location go on the carousel, not its items.")
        data["is_carousel_item"] = "true"
    if kind == STORIES and (caption or collaborators or location_id):
        raise ValueError("A Story carries no caption, collaborators or location.")
    if kind != REELS and (cover_url or share_to_feed is not None or audio_name):
        raise ValueError("A cover, share_to_feed and audio_name are a Reel's only.")
    if thumb_offset_ms is not None:
        if kind not in (REELS, VIDEO) or thumb_offset_ms < 0:
            raise ValueError("thumb_offset is a non-negative offset into a Reel or video item.")
        data["thumb_offset"] = str(thumb_offset_ms)
    if alt_text:
        if not image_url or kind == STORIES:
            raise ValueError("Alt text goes on a feed image or an image carousel item.")
        data["alt_text"] = alt_text
    if len(collaborators) > COLLABORATORS_MAX:
        raise ValueError(f"At most {COLLABORATORS_MAX} collaborators.")
    if collaborators:
        data["collaborators"] = json.dumps(list(collaborators))
    if location_id:
        data["location_id"] = location_id
    if cover_url:
        data["cover_url"] = cover_url
    if share_to_feed is not None:
        data["share_to_feed"] = "true" if share_to_feed else "false"
    if audio_name:
        data["audio_name"] = audio_name
    if caption:
        data["caption"] = caption
    response = (client or get_client()).request(
        "POST", "/{id}/media", ids=(ig_user_id,), token=token, data=data, idempotent=True
    )
    shape = Shape(response)
    return IgContainer(id=shape.object_id(shape.root()))


def get_ig_container_status(
    *, container_id: str, token: str, client: GraphClient | None = None
) -> IgContainerStatus:
    """A container's state: IN_PROGRESS, FINISHED (ready), ERROR / EXPIRED (failed, `status`
    says why) or PUBLISHED (an earlier attempt published it: never publish again)."""
    response = (client or get_client()).request(
        "GET",
        "/{id}",
        ids=(container_id,),
        token=token,
        params={"fields": "id,status_code,status"},
    )
    shape = Shape(response)
    root = shape.root()
    return IgContainerStatus(
        id=shape.opt_object_id(root, "id") or container_id,
        status_code=shape.string(root, "status_code"),
        status=shape.opt_string(root, "status"),
    )


def publish_ig_container(
    *, ig_user_id: str, token: str, creation_id: str, client: GraphClient | None = None
) -> IgPublishedMedia:
    """Publish a FINISHED container (`POST /{ig-user-id}/media_publish`); returns the media id.

    Never retried: on outcome_unknown, read the container status (PUBLISHED means it went out).
    """
    response = (client or get_client()).request(
        "POST",
        "/{id}/media_publish",
        ids=(ig_user_id,),
        token=token,
        data={"creation_id": creation_id},
    )
    shape = Shape(response, outcome_unknown=True)
    return IgPublishedMedia(id=shape.object_id(shape.root()))


def get_ig_publishing_limit(
    *, ig_user_id: str, token: str, client: GraphClient | None = None
) -> IgPublishingLimit:
    """The account's rolling publishing quota as Meta reports it (never assume 25/50/100)."""
    response = (client or get_client()).request(
        "GET",
        "/{id}/content_publishing_limit",
        ids=(ig_user_id,),
        token=token,
        params={"fields": "quota_usage,config"},
    )
    shape = Shape(response)
    data = shape.items(shape.root(), "data")
    if not data:
        raise shape.fail("'data' is empty: no publishing limit was reported")
    entry = shape.as_object(data[0], "an item of 'data'")
    config = shape.child(entry, "config")
    return IgPublishingLimit(
        quota_usage=shape.integer(entry, "quota_usage"),
        quota_total=shape.integer(config, "quota_total"),
        quota_duration=shape.integer(config, "quota_duration"),
    )


def _read_media(shape: Shape, item: JSONObject) -> IgMedia:
    return IgMedia(
        id=shape.object_id(item),
        caption=shape.opt_string(item, "caption"),
        media_type=shape.opt_string(item, "media_type"),
        permalink=shape.opt_string(item, "permalink"),
        timestamp=shape.opt_timestamp(item, "timestamp"),
        media_product_type=shape.opt_string(item, "media_product_type"),
    )


def list_ig_media(
    *, ig_user_id: str, token: str, since: datetime, client: GraphClient | None = None
) -> tuple[IgMedia, ...]:
    """Every media item the account got from `since` on (time-based paging, every result page
    followed to the end), newest first: what reconciliation looks through. Reels are here
    (`media_type` VIDEO, `media_product_type` REELS); Stories are not (`list_ig_stories`).

    Raises GraphListingIncomplete when the listing cannot be read to its end.
    """
    return tuple(
        _read_media(shape, item)
        for shape, item in paginate_since(
            client or get_client(),
            "/{id}/media",
            ids=(ig_user_id,),
            token=token,
            fields=MEDIA_FIELDS,
            since=since,
        )
    )


def list_ig_stories(
    *, ig_user_id: str, token: str, since: datetime, client: GraphClient | None = None
) -> tuple[IgMedia, ...]:
    """The account's live Stories (`GET /{ig-user-id}/stories`, the last 24 hours) from `since`
    on, every page read: where reconciliation finds a Story (they are not in `/media`).

    Raises GraphListingIncomplete when the listing cannot be read to its end.
    """
    return tuple(
        _read_media(shape, item)
        for shape, item in paginate_since(
            client or get_client(),
            "/{id}/stories",
            ids=(ig_user_id,),
            token=token,
            fields=MEDIA_FIELDS,
            since=since,
        )
    )


def list_ig_comments(
    *, media_id: str, token: str, client: GraphClient | None = None
) -> tuple[IgComment, ...]:
    """Every comment on a media item (`GET /{ig-media-id}/comments`, every page followed).

    Raises GraphListingIncomplete when the listing cannot be read to its end.
    """
    comments = []
    for shape, item in paginate(
        client or get_client(),
        "/{id}/comments",
        ids=(media_id,),
        token=token,
        params={"fields": COMMENT_FIELDS},  # Meta's 25 a page: a new post has few
        complete=True,
    ):
        author = shape.opt_child(item, "from")
        comments.append(
            IgComment(
                id=shape.object_id(item),
                text=shape.opt_string(item, "text") or "",
                username=shape.opt_string(item, "username") or "",
                from_id=(shape.opt_string(author, "id") or "") if author else "",
                timestamp=shape.opt_timestamp(item, "timestamp"),
            )
        )
    return tuple(comments)


def get_ig_media_engagement(
    *, media_id: str, token: str, client: GraphClient | None = None
) -> IgMediaEngagement:
    """Like and comment counts of an Instagram media item."""
    response = (client or get_client()).request(
        "GET",
        "/{id}",
        ids=(media_id,),
        token=token,
        params={"fields": "id,like_count,comments_count,permalink"},
    )
    shape = Shape(response)
    root = shape.root()
    return IgMediaEngagement(
        media_id=shape.object_id(root),
        like_count=shape.opt_integer(root, "like_count"),
        comments_count=shape.opt_integer(root, "comments_count"),
        permalink=shape.opt_string(root, "permalink"),
    )

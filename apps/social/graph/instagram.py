"""Instagram business accounts: media containers, publishing, the publishing quota, media and
engagement (all through graph.facebook.com with the Page's token)."""

from collections.abc import Sequence
from datetime import datetime

from ._shape import Shape, paginate_since
from .client import GraphClient, get_client
from .results import (
    IgContainer,
    IgContainerStatus,
    IgMedia,
    IgMediaEngagement,
    IgPublishedMedia,
    IgPublishingLimit,
)

MEDIA_FIELDS = "id,caption,media_type,permalink,timestamp"
CAROUSEL = "CAROUSEL"


def create_ig_container(
    *,
    ig_user_id: str,
    token: str,
    image_url: str | None = None,
    caption: str | None = None,
    is_carousel_item: bool = False,
    children: Sequence[str] = (),
    media_type: str | None = None,
    client: GraphClient | None = None,
) -> IgContainer:
    """Create a media container (`POST /{ig-user-id}/media`): an image from a public JPEG URL,
    a carousel item (`is_carousel_item`, no caption), or a carousel of `children` containers.

    Retried on transient errors: a container that is never published does nothing and expires
    after 24 hours, so a duplicate is harmless.
    """
    data: dict[str, str] = {}
    if children:
        if image_url or is_carousel_item:
            raise ValueError("A carousel container takes children, not an image of its own.")
        data["media_type"] = media_type or CAROUSEL
        data["children"] = ",".join(children)
    elif image_url:
        data["image_url"] = image_url
        if media_type:
            data["media_type"] = media_type
    else:
        raise ValueError("An Instagram container needs an image_url or children.")
    if is_carousel_item:
        if caption:
            raise ValueError("Carousel items carry no caption; put it on the carousel.")
        data["is_carousel_item"] = "true"
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


def list_ig_media(
    *, ig_user_id: str, token: str, since: datetime, client: GraphClient | None = None
) -> tuple[IgMedia, ...]:
    """Every media item the account got from `since` on (time-based paging, every result page
    followed to the end), newest first: what reconciliation looks through.

    Raises GraphListingIncomplete when the listing cannot be read to its end.
    """
    media = []
    for shape, item in paginate_since(
        client or get_client(),
        "/{id}/media",
        ids=(ig_user_id,),
        token=token,
        fields=MEDIA_FIELDS,
        since=since,
    ):
        media.append(
            IgMedia(
                id=shape.object_id(item),
                caption=shape.opt_string(item, "caption"),
                media_type=shape.opt_string(item, "media_type"),
                permalink=shape.opt_string(item, "permalink"),
                timestamp=shape.opt_timestamp(item, "timestamp"),
            )
        )
    return tuple(media)


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

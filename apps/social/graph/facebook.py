"""Facebook: the user, their Pages (directly and through Business portfolios), Page posts, photos
and engagement."""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import structlog

from ._shape import JSONObject, Shape, paginate, paginate_since
from .client import FileField, GraphClient, get_client
from .errors import GraphInvalidRequestError, GraphPermissionError
from .results import (
    Business,
    FacebookPage,
    FacebookUser,
    InstagramAccount,
    PagePhoto,
    PagePost,
    PagePostEngagement,
    PostAttachment,
    PublishedPost,
)

logger = structlog.get_logger(__name__)

# What a portfolio the token may not read answers (`(#200) Requires business_management`,
# `(#100) Missing Permission`); anything else (token, rate limit, outage) stops discovery.
_PORTFOLIO_UNREADABLE = (GraphPermissionError, GraphInvalidRequestError)

INSTAGRAM_FIELDS = "instagram_business_account{id,username,profile_picture_url}"
PAGE_FIELDS = f"id,name,access_token,category,picture{{url}},tasks,{INSTAGRAM_FIELDS}"
POST_FIELDS = (
    "id,message,created_time,permalink_url,"
    "attachments{media_type,target{id},subattachments{media_type,target{id}}}"
)
ENGAGEMENT_FIELDS = (
    "id,permalink_url,likes.summary(true),comments.summary(true),shares,reactions.summary(true)"
)


# --- the user and their Pages --------------------------------------------------------------


def get_me(*, user_token: str, client: GraphClient | None = None) -> FacebookUser:
    """The Facebook user behind `user_token`."""
    response = (client or get_client()).request(
        "GET", "/me", token=user_token, params={"fields": "id,name"}
    )
    shape = Shape(response)
    root = shape.root()
    return FacebookUser(id=shape.object_id(root), name=shape.opt_string(root, "name"))


def _instagram(shape: Shape, obj: JSONObject) -> InstagramAccount | None:
    account = shape.opt_child(obj, "instagram_business_account")
    if account is None:
        return None
    return InstagramAccount(
        id=shape.object_id(account),
        username=shape.opt_string(account, "username"),
        profile_picture_url=shape.opt_string(account, "profile_picture_url"),
    )


def _page(
    shape: Shape, item: JSONObject, *, source: str, business_id: str | None
) -> FacebookPage | None:
    page_id = shape.object_id(item)
    page_token = shape.opt_string(item, "access_token")
    if page_token is None:
        # Meta gives a Page token only to people with a task on the Page; without one we cannot
        # act for it, and the user's own token must never stand in for it.
        logger.info("graph_page_without_token", page_id=page_id, source=source)
        return None
    picture = shape.opt_child(item, "picture")
    picture_data = shape.opt_child(picture, "data") if picture else None
    return FacebookPage(
        id=page_id,
        name=shape.string(item, "name"),
        access_token=page_token,
        category=shape.opt_string(item, "category"),
        picture_url=shape.opt_string(picture_data, "url") if picture_data else None,
        tasks=shape.strings(item, "tasks"),
        instagram=_instagram(shape, item),
        source=source,
        business_id=business_id,
    )


def _pages(
    client: GraphClient,
    endpoint: str,
    *,
    ids: tuple[str, ...],
    token: str,
    source: str,
    business_id: str | None,
) -> tuple[FacebookPage, ...]:
    params = {"fields": PAGE_FIELDS, "limit": str(client.config.page_size)}
    pages = []
    for shape, item in paginate(client, endpoint, ids=ids, token=token, params=params):
        page = _page(shape, item, source=source, business_id=business_id)
        if page is not None:
            pages.append(page)
    return tuple(pages)


def list_pages(*, user_token: str, client: GraphClient | None = None) -> tuple[FacebookPage, ...]:
    """Every Page of `/me/accounts` (all result pages), each with its own Page token."""
    return _pages(
        client or get_client(),
        "/me/accounts",
        ids=(),
        token=user_token,
        source="me_accounts",
        business_id=None,
    )


def list_businesses(*, user_token: str, client: GraphClient | None = None) -> tuple[Business, ...]:
    """The Business portfolios the user belongs to (needs `business_management`)."""
    client = client or get_client()
    params = {"fields": "id,name", "limit": str(client.config.page_size)}
    return tuple(
        Business(id=shape.object_id(item), name=shape.opt_string(item, "name"))
        for shape, item in paginate(client, "/me/businesses", token=user_token, params=params)
    )


def list_business_pages(
    *, user_token: str, business_id: str, client: GraphClient | None = None
) -> tuple[FacebookPage, ...]:
    """The Pages a Business portfolio owns (`/owned_pages`) and manages for clients
    (`/client_pages`), with Page tokens where the user has a task on them."""
    client = client or get_client()
    return tuple(
        page
        for edge in ("owned_pages", "client_pages")
        for page in _pages(
            client,
            f"/{{id}}/{edge}",
            ids=(business_id,),
            token=user_token,
            source=edge,
            business_id=business_id,
        )
    )


def _merge(pages: Iterable[FacebookPage]) -> tuple[FacebookPage, ...]:
    merged: dict[str, FacebookPage] = {}
    for page in pages:
        known = merged.get(page.id)
        if known is None:
            merged[page.id] = page
        elif known.instagram is None and page.instagram is not None:
            merged[page.id] = FacebookPage(
                id=known.id,
                name=known.name,
                access_token=known.access_token,
                category=known.category,
                picture_url=known.picture_url,
                tasks=known.tasks,
                instagram=page.instagram,
                source=known.source,
                business_id=known.business_id,
            )
    return tuple(merged.values())


def discover_pages(
    *, user_token: str, client: GraphClient | None = None
) -> tuple[FacebookPage, ...]:
    """Every Page the user can connect: `/me/accounts` plus the Pages of their Business
    portfolios (a known trap: some Pages are reachable only there). Each Page appears once, with
    its Page token and its Instagram business account if it has one.

    A portfolio (or the portfolio list) the token may not read is skipped with a warning, not
    fatal: without `business_management` the user still gets their directly managed Pages.
    """
    client = client or get_client()
    found = list(list_pages(user_token=user_token, client=client))
    try:
        businesses = list_businesses(user_token=user_token, client=client)
    except _PORTFOLIO_UNREADABLE as exc:
        logger.warning("graph_businesses_unavailable", code=exc.code, subcode=exc.subcode)
        businesses = ()
    for business in businesses:
        try:
            found.extend(
                list_business_pages(user_token=user_token, business_id=business.id, client=client)
            )
        except _PORTFOLIO_UNREADABLE as exc:
            logger.warning(
                "graph_business_pages_unavailable",
                business_id=business.id,
                code=exc.code,
                subcode=exc.subcode,
            )
    return _merge(found)


def get_instagram_account(
    *, page_id: str, page_token: str, client: GraphClient | None = None
) -> InstagramAccount | None:
    """The Instagram business account linked to a Page, or None."""
    response = (client or get_client()).request(
        "GET", "/{id}", ids=(page_id,), token=page_token, params={"fields": INSTAGRAM_FIELDS}
    )
    shape = Shape(response)
    return _instagram(shape, shape.root())


# --- publishing ----------------------------------------------------------------------------


def publish_page_post(
    *,
    page_id: str,
    page_token: str,
    message: str = "",
    link: str | None = None,
    attached_media_ids: Sequence[str] = (),
    client: GraphClient | None = None,
) -> PublishedPost:
    """Post to a Page feed (`POST /{page-id}/feed`): text, a link, or unpublished photos attached.

    Never retried: on GraphTimeoutError / outcome_unknown, reconcile with `list_page_posts`.
    """
    if not (message or link or attached_media_ids):
        raise ValueError("A Page post needs a message, a link or attached media.")
    data: dict[str, str] = {}
    if message:
        data["message"] = message
    if link:
        data["link"] = link
    for index, media_id in enumerate(attached_media_ids):
        data[f"attached_media[{index}]"] = json.dumps({"media_fbid": media_id})
    response = (client or get_client()).request(
        "POST", "/{id}/feed", ids=(page_id,), token=page_token, data=data
    )
    shape = Shape(response, outcome_unknown=True)
    return PublishedPost(id=shape.object_id(shape.root()))


def upload_page_photo(
    *,
    page_id: str,
    page_token: str,
    url: str | None = None,
    image: bytes | None = None,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    caption: str = "",
    published: bool = True,
    client: GraphClient | None = None,
) -> PagePhoto:
    """Upload one photo to a Page (`POST /{page-id}/photos`) from a public `url` or as `image`
    bytes (multipart `source`).

    `published=False` uploads it for attaching to a multi-photo post; such an upload is retried on
    transient errors (a duplicate unpublished photo is never shown). A published upload is not.
    """
    if (url is None) == (image is None):
        raise ValueError("Give exactly one of url= or image= to upload a photo.")
    data: dict[str, str] = {"published": "true" if published else "false"}
    if caption:
        data["caption"] = caption
    files: dict[str, FileField] | None = None
    if url is not None:
        data["url"] = url
    elif image is not None:
        files = {"source": (filename, image, content_type)}
    response = (client or get_client()).request(
        "POST",
        "/{id}/photos",
        ids=(page_id,),
        token=page_token,
        data=data,
        files=files,
        idempotent=not published,
    )
    shape = Shape(response, outcome_unknown=published)
    root = shape.root()
    return PagePhoto(id=shape.object_id(root), post_id=shape.opt_object_id(root, "post_id"))


def list_page_posts(
    *,
    page_id: str,
    page_token: str,
    since: datetime,
    client: GraphClient | None = None,
) -> tuple[PagePost, ...]:
    """Every post the Page got from `since` on (Graph's time-based paging, every result page
    followed to the end), newest first: what reconciliation looks through. There is no `until`:
    what landed after is read too, so a clock at Meta that runs ahead cannot hide a post.

    Raises GraphListingIncomplete when the listing cannot be read to its end.
    """
    posts = []
    for shape, item in paginate_since(
        client or get_client(),
        "/{id}/posts",
        ids=(page_id,),
        token=page_token,
        fields=POST_FIELDS,
        since=since,
    ):
        posts.append(
            PagePost(
                id=shape.object_id(item),
                message=shape.opt_string(item, "message"),
                created_time=shape.opt_timestamp(item, "created_time"),
                permalink_url=shape.opt_string(item, "permalink_url"),
                attachments=_attachments(shape, item),
            )
        )
    return tuple(posts)


def _attachments(shape: Shape, item: JSONObject) -> tuple[PostAttachment, ...]:
    """The post's attachments as Meta lists them (`attachments{media_type,target{id},
    subattachments{…}}`): a photo, an album of photos, a link share."""
    found = []
    box = shape.opt_child(item, "attachments")
    for raw in shape.opt_items(box, "data") if box else []:
        attachment = shape.as_object(raw, "an attachment")
        target = shape.opt_child(attachment, "target")
        subs = shape.opt_child(attachment, "subattachments")
        children = []
        for raw_sub in shape.opt_items(subs, "data") if subs else []:
            sub = shape.as_object(raw_sub, "a subattachment")
            sub_target = shape.opt_child(sub, "target")
            children.append(
                PostAttachment(
                    media_type=shape.opt_string(sub, "media_type") or "",
                    target_id=shape.opt_object_id(sub_target, "id") if sub_target else None,
                )
            )
        found.append(
            PostAttachment(
                media_type=shape.opt_string(attachment, "media_type") or "",
                target_id=shape.opt_object_id(target, "id") if target else None,
                children=tuple(children),
            )
        )
    return tuple(found)


# --- engagement ------------------------------------------------------------------------------


def _summary_count(shape: Shape, obj: JSONObject, edge: str) -> int | None:
    value = shape.opt_child(obj, edge)
    if value is None:
        return None
    return shape.integer(shape.child(value, "summary"), "total_count")


def get_page_post_engagement(
    *, post_id: str, token: str, client: GraphClient | None = None
) -> PagePostEngagement:
    """Likes, comments, shares and reactions of a Page post (with the Page token)."""
    response = (client or get_client()).request(
        "GET", "/{id}", ids=(post_id,), token=token, params={"fields": ENGAGEMENT_FIELDS}
    )
    shape = Shape(response)
    root = shape.root()
    shares = shape.opt_child(root, "shares")
    return PagePostEngagement(
        post_id=shape.object_id(root),
        likes=_summary_count(shape, root, "likes"),
        comments=_summary_count(shape, root, "comments"),
        shares=shape.integer(shares, "count") if shares else 0,
        reactions=_summary_count(shape, root, "reactions"),
        permalink_url=shape.opt_string(root, "permalink_url"),
    )

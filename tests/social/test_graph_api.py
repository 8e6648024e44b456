"""The typed Graph functions: OAuth, Page discovery and paging, publishing, Instagram, engagement.

respx stands in for Meta; no network and no database.
"""

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from apps.social import graph
from apps.social.graph.errors import (
    GraphMalformedResponseError,
    GraphPermissionError,
    GraphTokenError,
    GraphTransientError,
)

GRAPH = "https://graph.test"
BASE = f"{GRAPH}/v25.0"
APP_ID = "app-1"
APP_SECRET = "app-secret-0123456789"
USER_TOKEN = "EAAuser-token-SECRET-1111"
PAGE_TOKEN = "EAApage-token-SECRET-2222"


@pytest.fixture
def client() -> Iterator[graph.GraphClient]:
    config = graph.GraphConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        graph_url=GRAPH,
        dialog_url="https://www.fb.test",
        version="v25.0",
        max_retries=2,
        max_pages=5,
    )
    with graph.GraphClient(config, sleep=lambda seconds: None) as c:
        yield c


@pytest.fixture
def meta() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def page_item(page_id: str, *, token: str | None = None, ig: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": page_id,
        "name": f"Page {page_id}",
        "category": "Restaurant",
        "picture": {"data": {"url": f"https://cdn.test/{page_id}.jpg"}},
        "tasks": ["CREATE_CONTENT", "MODERATE"],
    }
    if token is not None:
        item["access_token"] = token
    if ig is not None:
        item["instagram_business_account"] = {
            "id": ig,
            "username": f"ig_{ig}",
            "profile_picture_url": f"https://cdn.test/ig{ig}.jpg",
        }
    return item


def paged(
    pages: dict[str | None, tuple[list[dict[str, Any]], str | None]],
) -> Callable[[httpx.Request], httpx.Response]:
    """A listing keyed by the `after` cursor; each page names the cursor of the next one.

    Like Meta, the `next` links embed the access token and point at graph.facebook.com.
    """

    def respond(request: httpx.Request) -> httpx.Response:
        items, next_cursor = pages[request.url.params.get("after")]
        body: dict[str, Any] = {"data": items}
        if next_cursor is not None:
            body["paging"] = {
                "cursors": {"after": next_cursor},
                "next": (
                    f"https://graph.facebook.com/v25.0{request.url.path.removeprefix('/v25.0')}"
                    f"?access_token={USER_TOKEN}&limit=100&after={next_cursor}"
                ),
            }
        return httpx.Response(200, json=body)

    return respond


# --- OAuth -----------------------------------------------------------------------------------


def test_the_dialog_url_asks_for_the_configured_scopes(client: graph.GraphClient) -> None:
    url = graph.build_dialog_url(
        redirect_uri="https://app.test/cb", state="st4te", rerequest=True, client=client
    )

    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.fb.test/v25.0/dialog/oauth"
    )
    assert parse_qs(parts.query) == {
        "client_id": [APP_ID],
        "redirect_uri": ["https://app.test/cb"],
        "state": ["st4te"],
        "response_type": ["code"],
        "scope": [",".join(client.config.scopes)],
        "auth_type": ["rerequest"],
    }
    assert "pages_manage_posts" in client.config.scopes


def test_exchange_code_returns_a_short_lived_user_token(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/oauth/access_token").respond(
        json={"access_token": USER_TOKEN, "token_type": "bearer", "expires_in": 3600}
    )

    token = graph.exchange_code(code="AQcode", redirect_uri="https://app.test/cb", client=client)

    assert token.access_token == USER_TOKEN
    assert token.expires_at is not None
    assert abs(token.expires_at - (datetime.now(tz=UTC) + timedelta(hours=1))) < timedelta(
        seconds=5
    )
    params = route.calls.last.request.url.params
    assert dict(params) == {
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
        "redirect_uri": "https://app.test/cb",
        "code": "AQcode",
    }
    assert "Authorization" not in route.calls.last.request.headers


def test_a_code_exchange_is_not_retried(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.get("/oauth/access_token").respond(500, json={"error": {"code": 2}})

    with pytest.raises(GraphTransientError):
        graph.exchange_code(code="AQcode", redirect_uri="https://app.test/cb", client=client)

    assert route.call_count == 1


def test_exchange_long_lived_computes_expires_at(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/oauth/access_token").respond(
        json={"access_token": "EAAlong", "token_type": "bearer", "expires_in": 5183944}
    )

    token = graph.exchange_long_lived(user_token=USER_TOKEN, client=client)

    assert token.expires_at is not None
    assert token.expires_at - datetime.now(tz=UTC) > timedelta(days=59)
    assert dict(route.calls.last.request.url.params) == {
        "grant_type": "fb_exchange_token",
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
        "fb_exchange_token": USER_TOKEN,
    }


def test_a_token_without_expires_in_has_no_expiry(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/oauth/access_token").respond(json={"access_token": "EAAlong"})

    token = graph.exchange_long_lived(user_token=USER_TOKEN, client=client)

    assert (token.token_type, token.expires_at) == ("bearer", None)


def test_an_exchange_answer_without_a_token_is_malformed(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/oauth/access_token").respond(json={"token_type": "bearer"})

    with pytest.raises(GraphMalformedResponseError, match="could not understand") as caught:
        graph.exchange_long_lived(user_token=USER_TOKEN, client=client)

    assert caught.value.detail == "'access_token' is missing"


def test_debug_token_describes_a_valid_token(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/debug_token").respond(
        json={
            "data": {
                "app_id": APP_ID,
                "type": "USER",
                "application": "Social Automation",
                "data_access_expires_at": 1790000000,
                "expires_at": 0,
                "is_valid": True,
                "issued_at": 1780000000,
                "scopes": ["pages_show_list", "pages_manage_posts"],
                "granular_scopes": [{"scope": "pages_show_list", "target_ids": ["1", "2"]}],
                "user_id": "42",
            }
        }
    )

    info = graph.debug_token(input_token=USER_TOKEN, client=client)

    assert info.is_valid
    assert (info.type, info.user_id, info.app_id) == ("USER", "42", APP_ID)
    assert info.scopes == ("pages_show_list", "pages_manage_posts")
    assert info.granular_scopes == (
        graph.GranularScope(scope="pages_show_list", target_ids=("1", "2")),
    )
    assert info.expires_at is None  # Meta's 0: never expires
    assert info.data_access_expires_at == datetime.fromtimestamp(1790000000, tz=UTC)
    assert route.calls.last.request.url.params["input_token"] == USER_TOKEN


def test_debug_token_reports_why_a_token_is_invalid(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/debug_token").respond(
        json={
            "data": {
                "app_id": APP_ID,
                "is_valid": False,
                "scopes": [],
                "expires_at": 1780000000,
                "error": {
                    "code": 190,
                    "subcode": 460,
                    "message": f"The session for {USER_TOKEN} has been invalidated",
                },
            }
        }
    )

    info = graph.debug_token(input_token=USER_TOKEN, client=client)

    assert not info.is_valid
    assert (info.error_code, info.error_subcode) == (190, 460)
    assert info.error_message == "The session for [redacted] has been invalidated"
    assert info.expires_at == datetime.fromtimestamp(1780000000, tz=UTC)


def test_revoke_permissions_deletes_me_permissions(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.delete("/me/permissions").respond(json={"success": True})

    assert graph.revoke_permissions(user_token=USER_TOKEN, client=client) is True
    assert route.calls.last.request.headers["Authorization"] == f"OAuth {USER_TOKEN}"


# --- discovery and paging --------------------------------------------------------------------


def test_list_pages_follows_next_through_an_empty_page(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/me/accounts").mock(
        side_effect=paged(
            {
                None: ([page_item("1", token="EAAp1", ig="171")], "c1"),
                "c1": ([], "c2"),  # empty, yet more follows
                "c2": ([page_item("2", token="EAAp2")], None),
            }
        )
    )

    pages = graph.list_pages(user_token=USER_TOKEN, client=client)

    assert [(p.id, p.access_token) for p in pages] == [("1", "EAAp1"), ("2", "EAAp2")]
    assert pages[0] == graph.FacebookPage(
        id="1",
        name="Page 1",
        access_token="EAAp1",
        category="Restaurant",
        picture_url="https://cdn.test/1.jpg",
        tasks=("CREATE_CONTENT", "MODERATE"),
        instagram=graph.InstagramAccount(
            id="171", username="ig_171", profile_picture_url="https://cdn.test/ig171.jpg"
        ),
    )
    assert pages[1].instagram is None
    assert route.call_count == 3
    first, *following = [call.request for call in route.calls]
    assert first.url.params["fields"] == (
        "id,name,access_token,category,picture{url},tasks,"
        "instagram_business_account{id,username,profile_picture_url}"
    )
    for request in following:
        # `next` pointed at graph.facebook.com with the token inside: we went to the configured
        # host, with the token in the header and a fresh proof.
        assert request.url.host == "graph.test"
        assert "access_token" not in request.url.params
        assert request.headers["Authorization"] == f"OAuth {USER_TOKEN}"
        assert request.url.params["appsecret_proof"] == graph.appsecret_proof(
            USER_TOKEN, APP_SECRET
        )


def test_paging_stops_on_a_loop(
    client: graph.GraphClient, meta: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    route = meta.get("/me/accounts").mock(
        side_effect=paged(
            {
                None: ([page_item("1", token="EAAp1")], "c1"),
                "c1": ([page_item("2", token="EAAp2")], "c1"),  # points at itself
            }
        )
    )

    pages = graph.list_pages(user_token=USER_TOKEN, client=client)

    assert [p.id for p in pages] == ["1", "2"]
    assert route.call_count == 2
    stops = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    assert {"event": "graph_paging_stopped", "reason": "loop"}.items() <= next(
        m for m in stops if m["event"] == "graph_paging_stopped"
    ).items()


def test_paging_is_capped(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    endless: dict[str | None, tuple[list[dict[str, Any]], str | None]] = {
        None: ([page_item("0", token="t0")], "c1")
    }
    endless.update(
        {f"c{n}": ([page_item(str(n), token=f"t{n}")], f"c{n + 1}") for n in range(1, 9)}
    )
    route = meta.get("/me/accounts").mock(side_effect=paged(endless))

    pages = graph.list_pages(user_token=USER_TOKEN, client=client)

    assert route.call_count == client.config.max_pages == 5
    assert len(pages) == 5


def test_a_listing_without_data_is_malformed(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me/accounts").respond(json={"paging": {}})

    with pytest.raises(GraphMalformedResponseError, match="could not understand"):
        graph.list_pages(user_token=USER_TOKEN, client=client)


def test_discover_pages_adds_business_pages_once_each_with_page_tokens(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me/accounts").respond(json={"data": [page_item("1", token="EAAp1")]})
    meta.get("/me/businesses").mock(
        side_effect=paged(
            {
                None: ([{"id": "900", "name": "Bistro Group"}], "b1"),
                "b1": ([{"id": "901", "name": "Agency"}], None),
            }
        )
    )
    meta.get("/900/owned_pages").respond(
        json={
            "data": [
                page_item("1", token="EAAp1-again", ig="171"),  # also in /me/accounts
                page_item("2", token="EAAp2"),  # only reachable through the portfolio
                page_item("3"),  # no role on it: no Page token, cannot be connected
            ]
        }
    )
    meta.get("/900/client_pages").respond(json={"data": []})
    meta.get("/901/owned_pages").respond(
        403, json={"error": {"code": 200, "message": "Requires business_management"}}
    )
    meta.get("/901/client_pages").respond(json={"data": [page_item("4", token="EAAp4")]})

    pages = graph.discover_pages(user_token=USER_TOKEN, client=client)

    assert [(p.id, p.access_token, p.source, p.business_id) for p in pages] == [
        ("1", "EAAp1", "me_accounts", None),
        ("2", "EAAp2", "owned_pages", "900"),
    ]
    # Page 1 came first from /me/accounts; the portfolio told us about its Instagram account.
    assert pages[0].instagram is not None
    assert pages[0].instagram.id == "171"
    assert all(p.access_token != USER_TOKEN for p in pages)


def test_discover_pages_without_business_permission_still_lists_pages(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me/accounts").respond(json={"data": [page_item("1", token="EAAp1")]})
    for error in (
        {"code": 200, "message": "(#200) Requires business_management permission"},
        {"code": 100, "message": "(#100) Missing Permission"},
    ):
        meta.get("/me/businesses").respond(403, json={"error": error})

        pages = graph.discover_pages(user_token=USER_TOKEN, client=client)

        assert [p.id for p in pages] == ["1"]


def test_discover_pages_stops_on_a_token_error(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me/accounts").respond(400, json={"error": {"code": 190, "error_subcode": 460}})

    with pytest.raises(GraphTokenError):
        graph.discover_pages(user_token=USER_TOKEN, client=client)


def test_get_instagram_account(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    meta.get("/1").respond(
        json={"id": "1", "instagram_business_account": {"id": "171", "username": "bistro"}}
    )
    meta.get("/2").respond(json={"id": "2"})

    account = graph.get_instagram_account(page_id="1", page_token=PAGE_TOKEN, client=client)

    assert account == graph.InstagramAccount(id="171", username="bistro", profile_picture_url=None)
    assert graph.get_instagram_account(page_id="2", page_token=PAGE_TOKEN, client=client) is None


# --- Facebook publishing ---------------------------------------------------------------------


def test_publish_page_post_with_link_and_attached_photos(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.post("/1/feed").respond(json={"id": "1_99"})

    post = graph.publish_page_post(
        page_id="1",
        page_token=PAGE_TOKEN,
        message="Two new dishes",
        link="https://bistro.test/menu",
        attached_media_ids=("501", "502"),
        client=client,
    )

    assert post.id == "1_99"
    form = form_of(route.calls.last.request)
    assert form["message"] == "Two new dishes"
    assert form["link"] == "https://bistro.test/menu"
    assert json.loads(form["attached_media[0]"]) == {"media_fbid": "501"}
    assert json.loads(form["attached_media[1]"]) == {"media_fbid": "502"}


def test_an_empty_page_post_is_refused_before_calling(client: graph.GraphClient) -> None:
    with pytest.raises(ValueError, match="needs a message"):
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, client=client)


def test_upload_page_photo_by_url(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.post("/1/photos").respond(json={"id": "501", "post_id": "1_77"})

    photo = graph.upload_page_photo(
        page_id="1",
        page_token=PAGE_TOKEN,
        url="https://media.test/a.jpg",
        caption="Fresh",
        client=client,
    )

    assert photo == graph.PagePhoto(id="501", post_id="1_77")
    form = form_of(route.calls.last.request)
    assert (form["url"], form["caption"], form["published"]) == (
        "https://media.test/a.jpg",
        "Fresh",
        "true",
    )


def test_upload_page_photo_bytes_as_multipart_source(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.post("/1/photos").respond(json={"id": "502"})

    photo = graph.upload_page_photo(
        page_id="1",
        page_token=PAGE_TOKEN,
        image=b"\xff\xd8\xff-jpeg-bytes",
        filename="dish.jpg",
        published=False,
        client=client,
    )

    assert photo == graph.PagePhoto(id="502", post_id=None)
    request = route.calls.last.request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    body = request.content
    assert b'name="source"; filename="dish.jpg"' in body
    assert b"\xff\xd8\xff-jpeg-bytes" in body
    assert b'name="published"\r\n\r\nfalse' in body
    assert graph.appsecret_proof(PAGE_TOKEN, APP_SECRET).encode() in body


def test_unpublished_photo_uploads_are_retried_but_published_ones_are_not(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.post("/1/photos")
    route.side_effect = [httpx.Response(503), httpx.Response(200, json={"id": "503"})]

    photo = graph.upload_page_photo(
        page_id="1",
        page_token=PAGE_TOKEN,
        url="https://m.test/a.jpg",
        published=False,
        client=client,
    )
    assert photo.id == "503"
    assert route.call_count == 2

    route.side_effect = [httpx.Response(503), httpx.Response(200, json={"id": "504"})]
    with pytest.raises(GraphTransientError) as caught:
        graph.upload_page_photo(
            page_id="1", page_token=PAGE_TOKEN, url="https://m.test/a.jpg", client=client
        )
    assert caught.value.outcome_unknown
    assert route.call_count == 3


def test_upload_page_photo_needs_exactly_one_source(client: graph.GraphClient) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        graph.upload_page_photo(page_id="1", page_token=PAGE_TOKEN, client=client)
    with pytest.raises(ValueError, match="exactly one"):
        graph.upload_page_photo(
            page_id="1", page_token=PAGE_TOKEN, url="https://x", image=b"x", client=client
        )


def test_list_page_posts_for_reconciliation(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/1/posts").respond(
        json={
            "data": [
                {
                    "id": "1_99",
                    "message": "Soup",
                    "created_time": "2026-11-20T10:00:00+0000",
                    "permalink_url": "https://facebook.test/1_99",
                },
                {"id": "1_98", "created_time": "2026-11-19T09:00:00+0000"},
            ]
        }
    )
    since = datetime(2026, 11, 19, tzinfo=UTC)

    posts = graph.list_page_posts(page_id="1", page_token=PAGE_TOKEN, since=since, client=client)

    assert posts[0] == graph.PagePost(
        id="1_99",
        message="Soup",
        created_time=datetime(2026, 11, 20, 10, tzinfo=UTC),
        permalink_url="https://facebook.test/1_99",
    )
    assert posts[1].message is None
    params = route.calls.last.request.url.params
    assert (params["since"], params["limit"]) == (str(int(since.timestamp())), "100")


# --- Instagram publishing --------------------------------------------------------------------


def test_create_an_image_container(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.post("/171/media").respond(json={"id": "c1"})

    container = graph.create_ig_container(
        ig_user_id="171",
        token=PAGE_TOKEN,
        image_url="https://media.test/a.jpg",
        caption="Hello #food",
        client=client,
    )

    assert container == graph.IgContainer(id="c1")
    form = form_of(route.calls.last.request)
    assert (form["image_url"], form["caption"]) == ("https://media.test/a.jpg", "Hello #food")


def test_create_a_carousel_from_item_containers(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.post("/171/media")
    route.side_effect = [
        httpx.Response(200, json={"id": "i1"}),
        httpx.Response(200, json={"id": "i2"}),
        httpx.Response(200, json={"id": "car"}),
    ]

    items = [
        graph.create_ig_container(
            ig_user_id="171", token=PAGE_TOKEN, image_url=url, is_carousel_item=True, client=client
        )
        for url in ("https://m.test/1.jpg", "https://m.test/2.jpg")
    ]
    carousel = graph.create_ig_container(
        ig_user_id="171",
        token=PAGE_TOKEN,
        children=[item.id for item in items],
        caption="Both",
        client=client,
    )

    assert carousel.id == "car"
    forms = [form_of(call.request) for call in route.calls]
    assert forms[0]["is_carousel_item"] == "true"
    assert "caption" not in forms[0]
    assert (forms[2]["media_type"], forms[2]["children"], forms[2]["caption"]) == (
        "CAROUSEL",
        "i1,i2",
        "Both",
    )


def test_container_creation_is_retried_on_transient_errors(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.post("/171/media")
    route.side_effect = [
        httpx.Response(400, json={"error": {"code": -1, "error_subcode": 2207001}}),
        httpx.Response(200, json={"id": "c1"}),
    ]

    container = graph.create_ig_container(
        ig_user_id="171", token=PAGE_TOKEN, image_url="https://m.test/a.jpg", client=client
    )

    assert container.id == "c1"
    assert route.call_count == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"image_url": "https://m.test/a.jpg", "is_carousel_item": True, "caption": "no"},
        {"image_url": "https://m.test/a.jpg", "children": ["i1"]},
    ],
)
def test_impossible_containers_are_refused_before_calling(
    client: graph.GraphClient, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=r"carousel|container"):
        graph.create_ig_container(ig_user_id="171", token=PAGE_TOKEN, client=client, **kwargs)


@pytest.mark.parametrize(
    ("status_code", "ready", "published", "failed"),
    [
        ("IN_PROGRESS", False, False, False),
        ("FINISHED", True, False, False),
        ("ERROR", False, False, True),
        ("EXPIRED", False, False, True),
        ("PUBLISHED", False, True, False),
    ],
)
def test_container_status(
    client: graph.GraphClient,
    meta: respx.MockRouter,
    status_code: str,
    ready: bool,
    published: bool,
    failed: bool,
) -> None:
    route = meta.get("/c1").respond(
        json={"id": "c1", "status_code": status_code, "status": f"{status_code.title()}: text"}
    )

    status = graph.get_ig_container_status(container_id="c1", token=PAGE_TOKEN, client=client)

    assert (status.status_code, status.status) == (status_code, f"{status_code.title()}: text")
    assert (status.is_ready, status.is_published, status.is_failed) == (ready, published, failed)
    assert route.calls.last.request.url.params["fields"] == "id,status_code,status"


def test_publish_a_container(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.post("/171/media_publish").respond(json={"id": "media-9"})

    media = graph.publish_ig_container(
        ig_user_id="171", token=PAGE_TOKEN, creation_id="c1", client=client
    )

    assert media == graph.IgPublishedMedia(id="media-9")
    assert form_of(route.calls.last.request)["creation_id"] == "c1"


def test_publish_is_never_retried(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.post("/171/media_publish").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(graph.GraphTimeoutError) as caught:
        graph.publish_ig_container(
            ig_user_id="171", token=PAGE_TOKEN, creation_id="c1", client=client
        )

    assert caught.value.outcome_unknown
    assert route.call_count == 1


def test_read_the_publishing_limit(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.get("/171/content_publishing_limit").respond(
        json={"data": [{"quota_usage": 7, "config": {"quota_total": 50, "quota_duration": 86400}}]}
    )

    limit = graph.get_ig_publishing_limit(ig_user_id="171", token=PAGE_TOKEN, client=client)

    assert limit == graph.IgPublishingLimit(quota_usage=7, quota_total=50, quota_duration=86400)
    assert limit.remaining == 43
    assert route.calls.last.request.url.params["fields"] == "quota_usage,config"


def test_an_empty_publishing_limit_is_malformed(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/171/content_publishing_limit").respond(json={"data": []})

    with pytest.raises(GraphMalformedResponseError):
        graph.get_ig_publishing_limit(ig_user_id="171", token=PAGE_TOKEN, client=client)


def test_list_ig_media(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    meta.get("/171/media").respond(
        json={
            "data": [
                {
                    "id": "m1",
                    "caption": "Hello",
                    "media_type": "IMAGE",
                    "permalink": "https://instagram.test/p/1",
                    "timestamp": "2026-11-20T10:00:00+0000",
                }
            ],
            "paging": {"cursors": {"after": "x"}},
        }
    )

    media = graph.list_ig_media(
        ig_user_id="171", token=PAGE_TOKEN, since=datetime(2026, 11, 1, tzinfo=UTC), client=client
    )

    assert media == (
        graph.IgMedia(
            id="m1",
            caption="Hello",
            media_type="IMAGE",
            permalink="https://instagram.test/p/1",
            timestamp=datetime(2026, 11, 20, 10, tzinfo=UTC),
        ),
    )


# --- engagement ------------------------------------------------------------------------------


def test_page_post_engagement(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.get("/1_99").respond(
        json={
            "id": "1_99",
            "permalink_url": "https://facebook.test/1_99",
            "likes": {"data": [], "summary": {"total_count": 12, "can_like": True}},
            "comments": {"data": [], "summary": {"order": "ranked", "total_count": 3}},
            "shares": {"count": 2},
            "reactions": {"data": [], "summary": {"total_count": 15}},
        }
    )

    engagement = graph.get_page_post_engagement(post_id="1_99", token=PAGE_TOKEN, client=client)

    assert engagement == graph.PagePostEngagement(
        post_id="1_99",
        likes=12,
        comments=3,
        shares=2,
        reactions=15,
        permalink_url="https://facebook.test/1_99",
    )
    assert route.calls.last.request.url.params["fields"] == (
        "id,permalink_url,likes.summary(true),comments.summary(true),shares,reactions.summary(true)"
    )


def test_page_post_without_shares_has_zero_shares(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/1_98").respond(
        json={"id": "1_98", "comments": {"data": [], "summary": {"total_count": 0}}}
    )

    engagement = graph.get_page_post_engagement(post_id="1_98", token=PAGE_TOKEN, client=client)

    assert (engagement.shares, engagement.comments, engagement.likes) == (0, 0, None)


def test_engagement_with_a_broken_summary_is_malformed(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/1_97").respond(json={"id": "1_97", "likes": {"data": []}})

    with pytest.raises(GraphMalformedResponseError) as caught:
        graph.get_page_post_engagement(post_id="1_97", token=PAGE_TOKEN, client=client)

    assert caught.value.detail == "'summary' is missing"


def test_ig_media_engagement(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    meta.get("/m1").respond(
        json={"id": "m1", "like_count": 40, "comments_count": 5, "permalink": "https://ig.test/1"}
    )

    engagement = graph.get_ig_media_engagement(media_id="m1", token=PAGE_TOKEN, client=client)

    assert engagement == graph.IgMediaEngagement(
        media_id="m1", like_count=40, comments_count=5, permalink="https://ig.test/1"
    )


def test_permission_errors_on_engagement_surface(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/m1").respond(
        400, json={"error": {"code": 10, "message": "(#10) Application does not have permission"}}
    )

    with pytest.raises(GraphPermissionError) as caught:
        graph.get_ig_media_engagement(media_id="m1", token=PAGE_TOKEN, client=client)

    assert caught.value.needs_reconnect

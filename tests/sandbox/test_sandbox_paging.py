"""List edges page like Meta's: 25 by default, `limit` up to 100, newest first, stable cursors,
`next` absent on the last page, `previous` after the first; and `since` / `until` windows on the
Page post edges and on Instagram media, kept by the `next` links."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox import BISTRO_IG_ID, BISTRO_PAGE_ID
from tests.sandbox.test_sandbox import SandboxApi, graph_error, query_of, running_sandbox

POST_EDGES = ("feed", "posts", "published_posts")
IMAGE = "https://cdn.example/photo.jpg"


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox(fetch_media=False, quota_total=1000) as api:
        yield api


@pytest.fixture
def token(sandbox: SandboxApi) -> str:
    return sandbox.page_token()


def make_posts(sandbox: SandboxApi, token: str, count: int, *, step: float = 0) -> list[str]:
    """`count` text posts, oldest first; the sandbox clock moves `step` seconds after each."""
    ids = []
    for number in range(count):
        response = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message=f"Post number {number}")
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
        if step:
            sandbox.advance(step)
    return ids


def make_media(sandbox: SandboxApi, token: str, count: int, *, step: float = 0) -> list[str]:
    ids = []
    for number in range(count):
        container = sandbox.post(
            f"/{BISTRO_IG_ID}/media", token, image_url=IMAGE, caption=f"Media {number}"
        ).json()["id"]
        published = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container)
        assert published.status_code == 200, published.text
        ids.append(published.json()["id"])
        if step:
            sandbox.advance(step)
    return ids


def walk(sandbox: SandboxApi, first: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page, following `paging.next` (a full URL with the token) until it is absent."""
    pages = [first]
    while "next" in pages[-1].get("paging", {}):
        response = sandbox.http.get(pages[-1]["paging"]["next"])
        assert response.status_code == 200, response.text
        pages.append(response.json())
    return pages


def ids_of(pages: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page["data"]]


def unix(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp())


# --- cursor paging ------------------------------------------------------------------------------


@pytest.mark.parametrize("edge", POST_EDGES)
def test_page_post_edges_give_25_newest_first_and_page_to_the_end(
    sandbox: SandboxApi, token: str, edge: str
) -> None:
    created = make_posts(sandbox, token, 60)

    first = sandbox.get(f"/{BISTRO_PAGE_ID}/{edge}", token).json()
    pages = walk(sandbox, first)

    assert [len(p["data"]) for p in pages] == [25, 25, 10]
    assert ids_of(pages) == created[::-1]  # every post exactly once, newest first
    assert set(first["data"][0]) == {"created_time", "message", "id"}
    assert "previous" not in first["paging"]
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    assert all("previous" in p["paging"] for p in pages[1:])
    assert "next" not in pages[-1]["paging"]
    assert query_of(first["paging"]["next"])["access_token"] == token


def test_more_than_100_items_with_the_largest_page(sandbox: SandboxApi, token: str) -> None:
    created = make_posts(sandbox, token, 130)

    pages = walk(sandbox, sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token, limit=100).json())

    assert [len(p["data"]) for p in pages] == [100, 30]
    assert ids_of(pages) == created[::-1]
    assert query_of(pages[0]["paging"]["next"])["limit"] == "100"


def test_a_page_post_edge_refuses_a_limit_over_100(sandbox: SandboxApi, token: str) -> None:
    make_posts(sandbox, token, 3)

    response = sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token, limit=101)

    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["type"]) == (100, "OAuthException")
    assert error["message"] == "(#100) The 'limit' parameter should not exceed 100"


def test_other_list_edges_cap_a_limit_over_100(sandbox: SandboxApi, token: str) -> None:
    created = make_media(sandbox, token, 105)

    first = sandbox.get(f"/{BISTRO_IG_ID}/media", token, limit=500).json()
    pages = walk(sandbox, first)

    assert [len(p["data"]) for p in pages] == [100, 5]
    assert ids_of(pages) == created[::-1]


def test_instagram_media_and_photos_page_by_25(sandbox: SandboxApi, token: str) -> None:
    media = make_media(sandbox, token, 30)
    photos = [
        sandbox.post(f"/{BISTRO_PAGE_ID}/photos", token, url=IMAGE, caption=f"Photo {n}").json()[
            "id"
        ]
        for n in range(27)
    ]

    media_pages = walk(sandbox, sandbox.get(f"/{BISTRO_IG_ID}/media", token).json())
    photo_pages = walk(sandbox, sandbox.get(f"/{BISTRO_PAGE_ID}/photos", token).json())

    assert [len(p["data"]) for p in media_pages] == [25, 5]
    assert ids_of(media_pages) == media[::-1]
    assert [len(p["data"]) for p in photo_pages] == [25, 2]
    assert ids_of(photo_pages) == photos[::-1]


def test_cursors_stay_put_when_newer_posts_arrive(sandbox: SandboxApi, token: str) -> None:
    created = make_posts(sandbox, token, 30)
    first = sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token, limit=10).json()

    newer = [
        sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message=f"Later post {n}").json()["id"]
        for n in range(5)
    ]
    pages = walk(sandbox, first)

    # Nothing seen twice, nothing skipped: the newer posts are for the next read from the top.
    assert ids_of(pages) == created[::-1]
    assert not set(newer) & set(ids_of(pages))


def test_previous_goes_back_a_page(sandbox: SandboxApi, token: str) -> None:
    created = make_posts(sandbox, token, 12)
    first = sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token, limit=5).json()
    second = sandbox.http.get(first["paging"]["next"]).json()

    back = sandbox.http.get(second["paging"]["previous"]).json()

    assert [p["id"] for p in back["data"]] == [p["id"] for p in first["data"]]
    assert [p["id"] for p in second["data"]] == created[::-1][5:10]


def test_an_empty_edge_has_no_paging(sandbox: SandboxApi, token: str) -> None:
    assert sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token).json() == {"data": []}


# --- bad paging input ---------------------------------------------------------------------------


def test_limit_zero_asks_for_no_items(sandbox: SandboxApi, token: str) -> None:
    make_posts(sandbox, token, 3)

    assert sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token, limit=0).json() == {"data": []}


@pytest.mark.parametrize("limit", ["-1", "ten", "2.5", "1e3"])
def test_a_negative_or_non_numeric_limit_is_an_invalid_parameter(
    sandbox: SandboxApi, token: str, limit: str
) -> None:
    response = sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token, limit=limit)

    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == 100
    assert error["message"].startswith("(#100) The parameter limit must be")


@pytest.mark.parametrize("cursor", ["garbage!!", "c2J4OjEyMw", "Zm9vOmJhcg"])
@pytest.mark.parametrize("direction", ["after", "before"])
def test_an_unknown_cursor_is_an_invalid_parameter(
    sandbox: SandboxApi, token: str, cursor: str, direction: str
) -> None:
    """Garbage, a well-formed cursor of no item here (sbx:123), another system's (foo:bar)."""
    make_posts(sandbox, token, 3)

    response = sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token, **{direction: cursor})

    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["message"]) == (
        100,
        f"(#100) The {direction} parameter is not a valid cursor",
    )


# --- since / until ------------------------------------------------------------------------------


@pytest.mark.parametrize("edge", POST_EDGES)
def test_since_and_until_bound_created_time_inclusively(
    sandbox: SandboxApi, token: str, edge: str
) -> None:
    created = make_posts(sandbox, token, 10, step=60)
    listed = sandbox.get(f"/{BISTRO_PAGE_ID}/{edge}", token, limit=100).json()["data"]
    times = {p["id"]: unix(p["created_time"]) for p in listed}
    since, until = times[created[3]], times[created[6]]

    window = sandbox.get(f"/{BISTRO_PAGE_ID}/{edge}", token, since=since, until=until).json()
    just_outside = sandbox.get(
        f"/{BISTRO_PAGE_ID}/{edge}", token, since=since + 1, until=until - 1
    ).json()

    assert [p["id"] for p in window["data"]] == created[3:7][::-1]
    assert [p["id"] for p in just_outside["data"]] == created[4:6][::-1]


def test_since_alone_and_until_alone(sandbox: SandboxApi, token: str) -> None:
    created = make_posts(sandbox, token, 6, step=3600)
    listed = sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token).json()["data"]
    middle = {p["id"]: unix(p["created_time"]) for p in listed}[created[2]]

    newer = sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token, since=middle).json()["data"]
    older = sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token, until=middle - 1).json()["data"]

    assert [p["id"] for p in newer] == created[2:][::-1]
    assert [p["id"] for p in older] == created[:2][::-1]


def test_the_next_link_keeps_the_window(sandbox: SandboxApi, token: str) -> None:
    created = make_posts(sandbox, token, 40, step=60)
    listed = walk(sandbox, sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token).json())
    times = {p["id"]: unix(p["created_time"]) for page in listed for p in page["data"]}
    since, until = times[created[5]], times[created[34]]

    first = sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token, since=since, until=until, limit=7).json()
    pages = walk(sandbox, first)

    assert query_of(first["paging"]["next"])["since"] == str(since)
    assert query_of(first["paging"]["next"])["until"] == str(until)
    assert [len(p["data"]) for p in pages] == [7, 7, 7, 7, 2]
    assert ids_of(pages) == created[5:35][::-1]


def test_since_and_until_take_strtotime_like_texts(sandbox: SandboxApi, token: str) -> None:
    created = make_posts(sandbox, token, 3, step=86_400)
    listed = sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token).json()["data"]
    moment = {p["id"]: p["created_time"] for p in listed}[created[1]]
    stamp = unix(moment)
    iso_z = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    iso_colon = datetime.fromtimestamp(stamp, UTC).isoformat()

    for text in (moment, iso_z, iso_colon, f"@{stamp}"):
        found = sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token, since=text, until=text).json()
        assert [p["id"] for p in found["data"]] == [created[1]], text
    # The clock is now a day after the last post: "-36 hours" reaches back over one post.
    recent = sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token, since="-36 hours").json()["data"]
    assert [p["id"] for p in recent] == [created[2]]
    assert sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token, since="now").json() == {"data": []}


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", ["yesterday-ish", "2026-13-45", "12:00 next blue moon"])
def test_an_unparsable_time_is_an_invalid_parameter(
    sandbox: SandboxApi, token: str, name: str, value: str
) -> None:
    response = sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token, **{name: value})

    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == 100
    assert error["message"].startswith(f"(#100) The parameter {name} must be a Unix timestamp")


def test_since_after_until_is_an_empty_answer_not_an_error(sandbox: SandboxApi, token: str) -> None:
    make_posts(sandbox, token, 3)
    now = int(sandbox.control("GET", "clock")["now"])

    response = sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token, since=now, until=now - 3600)

    assert response.status_code == 200
    assert response.json() == {"data": []}


def test_instagram_media_take_since_and_until_on_their_timestamp(
    sandbox: SandboxApi, token: str
) -> None:
    created = make_media(sandbox, token, 5, step=120)
    listed = sandbox.get(f"/{BISTRO_IG_ID}/media", token, fields="id,timestamp").json()["data"]
    times = {m["id"]: unix(m["timestamp"]) for m in listed}

    window = sandbox.get(
        f"/{BISTRO_IG_ID}/media", token, since=times[created[1]], until=times[created[3]]
    ).json()["data"]
    outside = sandbox.get(
        f"/{BISTRO_IG_ID}/media", token, since=times[created[1]] + 1, until=times[created[3]] - 1
    ).json()["data"]

    assert [m["id"] for m in window] == created[1:4][::-1]
    assert [m["id"] for m in outside] == [created[2]]

"""Publishing against the sandbox: Facebook Page posts and photos, Instagram containers, media and
carousels, the publishing limit, media fetching, and engagement that grows with time."""

import json
from collections.abc import Iterator

import httpx
import pytest

from sandbox import (
    BAKERY_PAGE_ID,
    BISTRO_IG_ID,
    BISTRO_PAGE_ID,
    CATERING_IG_ID,
    CATERING_PAGE_ID,
    appsecret_proof,
)
from tests.sandbox.test_sandbox import (
    ImageHost,
    SandboxApi,
    graph_error,
    image_bytes,
    running_sandbox,
)


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox() as api:
        yield api


@pytest.fixture
def image_host() -> Iterator[ImageHost]:
    host = ImageHost()
    yield host
    host.close()


# --- Facebook Pages -------------------------------------------------------------------------


def test_a_user_token_cannot_post_to_a_page(sandbox: SandboxApi) -> None:
    response = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", sandbox.token(), message="Hello")

    assert response.status_code == 403
    error = graph_error(response)
    assert error["code"] == 200
    assert (
        "If posting to a page, requires both pages_read_engagement and pages_manage_posts as an "
        "admin with sufficient administrative permission" in error["message"]
    )
    assert sandbox.published()["page_posts"] == []


def test_a_page_token_without_pages_manage_posts_cannot_post(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=["public_profile", "pages_show_list"])

    response = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="Hello")

    assert graph_error(response)["code"] == 200


def test_a_text_and_link_post_is_listed_on_the_page(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()

    response = sandbox.post(
        f"/{BISTRO_PAGE_ID}/feed",
        token,
        message="Tonight: mussels",
        link="https://bistro.example/menu",
    )

    assert response.status_code == 200
    post_id = response.json()["id"]
    assert post_id.startswith(f"{BISTRO_PAGE_ID}_")
    listed = sandbox.get(
        f"/{BISTRO_PAGE_ID}/posts", token, fields="id,message,created_time,permalink_url"
    ).json()["data"]
    assert listed[0]["id"] == post_id
    assert listed[0]["message"] == "Tonight: mussels"
    assert listed[0]["created_time"].endswith("+0000")
    assert sandbox.http.get(listed[0]["permalink_url"]).status_code == 200
    published = sandbox.published()["page_posts"]
    assert [(p["id"], p["target_id"], p["link"]) for p in published] == [
        (post_id, BISTRO_PAGE_ID, "https://bistro.example/menu")
    ]
    assert published[0]["same_content_count"] == 1


def test_an_empty_post_is_refused(sandbox: SandboxApi) -> None:
    response = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", sandbox.page_token())

    assert graph_error(response)["code"] == 100


def test_a_photo_by_url_is_fetched_and_posted(sandbox: SandboxApi, image_host: ImageHost) -> None:
    token = sandbox.page_token()

    response = sandbox.post(
        f"/{BISTRO_PAGE_ID}/photos", token, url=f"{image_host.url}/photo.jpg", caption="Our terrace"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "post_id"}
    assert body["post_id"].startswith(f"{BISTRO_PAGE_ID}_")
    assert image_host.requests == ["/photo.jpg"]
    photo = sandbox.published()["photos"][0]
    assert photo["caption"] == "Our terrace"
    assert photo["source"]["size"] == len(image_bytes())
    assert photo["source"]["content_type"] == "image/jpeg"
    assert len(photo["source"]["sha256"]) == 64
    post = sandbox.get(f"/{body['post_id']}", token, fields="message,full_picture").json()
    assert post["message"] == "Our terrace"


def test_a_photo_uploaded_as_bytes(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    data = image_bytes("PNG")

    response = sandbox.post(
        f"/{BISTRO_PAGE_ID}/photos",
        token,
        files={"source": ("terrace.png", data, "image/png")},
        message="Upload",
    )

    assert response.status_code == 200, response.text
    source = sandbox.published()["photos"][0]["source"]
    assert source["kind"] == "upload"
    assert source["size"] == len(data)
    assert source["image_format"] == "png"


@pytest.mark.parametrize("path", ["/missing.jpg", "/page.html"])
def test_a_photo_url_that_is_not_an_image_is_refused(
    sandbox: SandboxApi, image_host: ImageHost, path: str
) -> None:
    response = sandbox.post(
        f"/{BISTRO_PAGE_ID}/photos", sandbox.page_token(), url=image_host.url + path
    )

    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["message"]) == (324, "(#324) Missing or invalid image file")
    assert sandbox.published()["photos"] == []


def test_a_photo_needs_a_url_or_a_file(sandbox: SandboxApi) -> None:
    error = graph_error(sandbox.post(f"/{BISTRO_PAGE_ID}/photos", sandbox.page_token()))

    assert (error["code"], error["message"]) == (324, "(#324) Requires upload file")


@pytest.mark.parametrize("style", ["indexed", "json_array"])
def test_several_photos_in_one_post(sandbox: SandboxApi, image_host: ImageHost, style: str) -> None:
    token = sandbox.page_token()
    ids = [
        sandbox.post(
            f"/{BISTRO_PAGE_ID}/photos",
            token,
            url=f"{image_host.url}/photo.jpg",
            published="false",
        ).json()
        for _ in range(3)
    ]
    assert all(set(answer) == {"id"} for answer in ids)
    media = [{"media_fbid": answer["id"]} for answer in ids]
    if style == "indexed":
        fields = {f"attached_media[{i}]": json.dumps(m) for i, m in enumerate(media)}
    else:
        fields = {"attached_media": json.dumps(media)}

    response = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="Three plates", **fields)

    assert response.status_code == 200, response.text
    post = sandbox.published()["page_posts"][0]
    assert post["photo_ids"] == [answer["id"] for answer in ids]
    assert len(post["image_sources"]) == 3
    again = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="Reuse", **fields)
    assert graph_error(again)["code"] == 100


def test_fetching_can_be_switched_off(sandbox: SandboxApi) -> None:
    sandbox.configure(fetch_media=False)

    response = sandbox.post(
        f"/{BISTRO_PAGE_ID}/photos", sandbox.page_token(), url="http://unreachable.invalid/a.jpg"
    )

    assert response.status_code == 200
    assert sandbox.published()["photos"][0]["source"]["fetched"] is False


# --- Instagram ------------------------------------------------------------------------------


def status_of(sandbox: SandboxApi, token: str, container_id: str) -> str:
    body = sandbox.get(f"/{container_id}", token, fields="status_code,status").json()
    assert body["status"]
    status: str = body["status_code"]
    return status


def test_an_instagram_image_goes_in_progress_finished_published(
    sandbox: SandboxApi, image_host: ImageHost
) -> None:
    sandbox.configure(processing_seconds=60)
    token = sandbox.page_token()

    created = sandbox.post(
        f"/{BISTRO_IG_ID}/media",
        token,
        image_url=f"{image_host.url}/photo.jpg",
        caption="Lunch #bistro",
    )
    container_id = created.json()["id"]
    assert status_of(sandbox, token, container_id) == "IN_PROGRESS"

    early = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container_id)
    error = graph_error(early)
    assert (error["code"], error["error_subcode"]) == (9007, 2207027)
    assert error["message"] == "Media ID is not available"

    sandbox.advance(61)
    assert status_of(sandbox, token, container_id) == "FINISHED"
    published = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container_id)
    assert published.status_code == 200
    media_id = published.json()["id"]
    assert status_of(sandbox, token, container_id) == "PUBLISHED"

    twice = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container_id)
    assert twice.status_code == 400
    assert graph_error(twice)["code"] == 100

    listed = sandbox.get(
        f"/{BISTRO_IG_ID}/media", token, fields="id,caption,timestamp,permalink"
    ).json()["data"]
    assert [(m["id"], m["caption"]) for m in listed] == [(media_id, "Lunch #bistro")]
    record = sandbox.published()
    assert [m["id"] for m in record["instagram_media"]] == [media_id]
    container = record["containers"][0]
    assert (container["publish_count"], container["publish_attempts"]) == (1, 3)
    assert container["image"]["image_format"] == "jpeg"
    assert record["summary"]["containers_published_twice"] == []


def test_an_instagram_carousel(sandbox: SandboxApi, image_host: ImageHost) -> None:
    token = sandbox.page_token()
    children = [
        sandbox.post(
            f"/{BISTRO_IG_ID}/media",
            token,
            image_url=f"{image_host.url}/square.jpg",
            is_carousel_item="true",
            caption="ignored",
        ).json()["id"]
        for _ in range(3)
    ]

    too_few = sandbox.post(
        f"/{BISTRO_IG_ID}/media", token, media_type="CAROUSEL", children=children[0]
    )
    assert graph_error(too_few)["error_subcode"] == 2207028
    carousel = sandbox.post(
        f"/{BISTRO_IG_ID}/media",
        token,
        media_type="CAROUSEL",
        children=",".join(children),
        caption="Three plates",
    ).json()["id"]
    assert status_of(sandbox, token, carousel) == "FINISHED"
    media_id = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=carousel).json()[
        "id"
    ]

    media = sandbox.get(
        f"/{media_id}", token, fields="media_type,caption,children{id,media_type}"
    ).json()
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert media["caption"] == "Three plates"
    assert len(media["children"]["data"]) == 3
    containers = {c["id"]: c for c in sandbox.published()["containers"]}
    assert all(containers[c]["caption"] is None for c in children)
    assert all(containers[c]["caption_ignored"] for c in children)
    child_alone = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=children[0])
    assert graph_error(child_alone)["code"] == 100


def test_the_publishing_limit(sandbox: SandboxApi) -> None:
    sandbox.configure(quota_total=2, fetch_media=False)
    token = sandbox.page_token()

    def publish() -> httpx.Response:
        container = sandbox.post(
            f"/{BISTRO_IG_ID}/media", token, image_url="https://cdn.example/a.jpg"
        ).json()["id"]
        return sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container)

    assert publish().status_code == 200
    assert publish().status_code == 200
    limit = sandbox.get(
        f"/{BISTRO_IG_ID}/content_publishing_limit", token, fields="config,quota_usage"
    ).json()
    assert limit == {
        "data": [{"config": {"quota_total": 2, "quota_duration": 86400}, "quota_usage": 2}]
    }

    error = graph_error(publish())
    assert (error["code"], error["error_subcode"]) == (9, 2207042)

    sandbox.advance(86_401)
    assert publish().status_code == 200


@pytest.mark.parametrize(
    ("path", "code", "subcode"),
    [
        ("/missing.jpg", 9004, 2207052),
        ("/page.html", 9004, 2207052),
        ("/photo.png", 36001, 2207005),
        ("/panorama.jpg", 36003, 2207009),
    ],
)
def test_instagram_refuses_media_it_cannot_use(
    sandbox: SandboxApi, image_host: ImageHost, path: str, code: int, subcode: int
) -> None:
    response = sandbox.post(
        f"/{BISTRO_IG_ID}/media", sandbox.page_token(), image_url=image_host.url + path
    )

    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["error_subcode"]) == (code, subcode)
    assert error["error_user_msg"]
    assert sandbox.published()["containers"] == []


def test_a_failed_download_says_so_like_meta(sandbox: SandboxApi, image_host: ImageHost) -> None:
    url = image_host.url + "/missing.jpg"

    error = graph_error(sandbox.post(f"/{BISTRO_IG_ID}/media", sandbox.page_token(), image_url=url))

    assert error["error_user_title"].startswith("Media download has failed.")
    assert f"The media could not be fetched from this URI: {url}" in error["error_user_msg"]


def test_a_slow_image_host_times_out(image_host: ImageHost) -> None:
    with running_sandbox(fetch_timeout_seconds=0.3) as sandbox:
        response = sandbox.post(
            f"/{BISTRO_IG_ID}/media",
            sandbox.page_token(),
            image_url=image_host.url + "/slow.jpg",
        )

    error = graph_error(response)
    assert (error["code"], error["error_subcode"]) == (-2, 2207003)


def test_instagram_publishing_needs_the_linked_pages_token(sandbox: SandboxApi) -> None:
    sandbox.configure(fetch_media=False)
    image = {"image_url": "https://cdn.example/a.jpg"}

    with_user = sandbox.post(f"/{BISTRO_IG_ID}/media", sandbox.token(), **image)
    other_page = sandbox.post(f"/{BISTRO_IG_ID}/media", sandbox.page_token(BAKERY_PAGE_ID), **image)
    own = sandbox.post(f"/{CATERING_IG_ID}/media", sandbox.page_token(CATERING_PAGE_ID), **image)

    assert graph_error(with_user)["code"] == 10
    assert graph_error(other_page)["error_subcode"] == 33
    assert own.status_code == 200
    sandbox.configure(ig_requires_page_token=False)
    assert sandbox.post(f"/{BISTRO_IG_ID}/media", sandbox.token(), **image).status_code == 200


def test_a_container_expires_after_a_day(sandbox: SandboxApi) -> None:
    sandbox.configure(fetch_media=False)
    token = sandbox.page_token()
    container = sandbox.post(
        f"/{BISTRO_IG_ID}/media", token, image_url="https://cdn.example/a.jpg"
    ).json()["id"]

    sandbox.advance(86_401)

    assert status_of(sandbox, token, container) == "EXPIRED"
    error = graph_error(
        sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container)
    )
    assert (error["code"], error["error_subcode"]) == (-2, 2207020)


def test_a_long_caption_is_refused(sandbox: SandboxApi) -> None:
    sandbox.configure(fetch_media=False)
    caption = " ".join(f"#tag{i}" for i in range(31))

    response = sandbox.post(
        f"/{BISTRO_IG_ID}/media",
        sandbox.page_token(),
        image_url="https://cdn.example/a.jpg",
        caption=caption,
    )

    assert graph_error(response)["error_subcode"] == 2207010


# --- engagement -----------------------------------------------------------------------------


def test_facebook_engagement_grows_with_time(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    post_id = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="Soup").json()["id"]
    fields = (
        "likes.summary(true),comments.summary(true),shares,reactions.summary(true),"
        "permalink_url,created_time"
    )

    fresh = sandbox.get(f"/{post_id}", token, fields=fields).json()
    assert fresh["likes"] == {
        "data": [],
        "summary": {"total_count": 0, "can_like": True, "has_liked": False},
    }
    assert fresh["comments"]["summary"]["total_count"] == 0
    assert "shares" not in fresh  # Meta leaves it out until someone shares

    sandbox.advance(6 * 3600)
    later = sandbox.get(f"/{post_id}", token, fields=fields).json()
    same = sandbox.get(f"/{post_id}", token, fields=fields).json()
    sandbox.advance(24 * 3600)
    much_later = sandbox.get(f"/{post_id}", token, fields=fields).json()

    likes = [
        later["likes"]["summary"]["total_count"],
        much_later["likes"]["summary"]["total_count"],
    ]
    assert 0 < likes[0] < likes[1]
    assert later["likes"] == same["likes"]
    assert later["reactions"]["summary"]["total_count"] >= likes[0]
    assert much_later["shares"]["count"] > 0
    assert much_later["comments"]["summary"]["total_count"] > 0
    edge = sandbox.get(f"/{post_id}/likes", token, summary="true").json()
    assert edge["summary"]["total_count"] == likes[1]
    limited = sandbox.get(f"/{post_id}", token, fields="likes.limit(0).summary(true)").json()
    assert limited["likes"]["summary"]["total_count"] == likes[1]


def test_a_json_body_and_a_method_override_are_accepted(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    proof = appsecret_proof(token, "sandbox-secret")

    as_json = sandbox.http.post(
        f"/v25.0/{BISTRO_PAGE_ID}/feed",
        json={"message": "JSON body", "appsecret_proof": proof},
        headers={"Authorization": f"Bearer {token}"},
    )
    as_get = sandbox.http.get(
        f"/{BISTRO_PAGE_ID}/feed",
        params={
            "method": "post",
            "message": "GET with method=post",
            "access_token": token,
            "appsecret_proof": proof,
        },
    )

    assert as_json.status_code == 200, as_json.text
    assert as_get.status_code == 200, as_get.text
    assert {p["message"] for p in sandbox.published()["page_posts"]} == {
        "JSON body",
        "GET with method=post",
    }


def test_instagram_engagement_grows_with_time(sandbox: SandboxApi) -> None:
    sandbox.configure(fetch_media=False)
    token = sandbox.page_token()
    container = sandbox.post(
        f"/{BISTRO_IG_ID}/media", token, image_url="https://cdn.example/a.jpg", caption="Hi"
    ).json()["id"]
    media_id = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container).json()[
        "id"
    ]
    fields = "like_count,comments_count,permalink,timestamp,caption,media_type"

    fresh = sandbox.get(f"/{media_id}", token, fields=fields).json()
    sandbox.advance(12 * 3600)
    later = sandbox.get(f"/{media_id}", token, fields=fields).json()

    assert (fresh["like_count"], fresh["comments_count"]) == (0, 0)
    assert later["like_count"] > 0
    assert later["comments_count"] > 0
    assert later["media_type"] == "IMAGE"
    assert later["caption"] == "Hi"
    assert later["timestamp"] == fresh["timestamp"]

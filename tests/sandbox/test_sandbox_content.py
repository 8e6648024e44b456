"""What a Page post carries and whether it may be posted again: Meta's (#506) duplicate status
refusal, the `attachments` field, and the read-out of `/_sandbox/published` that lets a test
prove each post, photo, album, image and carousel went out exactly once."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import BAKERY_PAGE_ID, BISTRO_IG_ID, BISTRO_PAGE_ID
from tests.sandbox.test_sandbox import ImageHost, SandboxApi, graph_error, running_sandbox

DUPLICATE = {"message": "(#506) Duplicate status message", "type": "OAuthException", "code": 506}


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox() as api:
        yield api


@pytest.fixture
def image_host() -> Iterator[ImageHost]:
    host = ImageHost()
    yield host
    host.close()


@pytest.fixture
def token(sandbox: SandboxApi) -> str:
    return sandbox.page_token()


def feed(sandbox: SandboxApi, token: str, page_id: str = BISTRO_PAGE_ID, **data: Any) -> Any:
    return sandbox.post(f"/{page_id}/feed", token, **data)


def unpublished_photos(sandbox: SandboxApi, token: str, url: str, count: int) -> list[str]:
    return [
        sandbox.post(f"/{BISTRO_PAGE_ID}/photos", token, url=url, published="false").json()["id"]
        for _ in range(count)
    ]


def album(sandbox: SandboxApi, token: str, photo_ids: list[str], message: str) -> Any:
    media = json.dumps([{"media_fbid": i} for i in photo_ids])
    return feed(sandbox, token, message=message, attached_media=media)


def assert_duplicate(response: Any) -> None:
    assert response.status_code == 400, response.text
    error = graph_error(response)
    assert {k: error[k] for k in DUPLICATE} == DUPLICATE
    assert "error_subcode" not in error


# --- (#506) Duplicate status message ------------------------------------------------------------


def test_the_same_status_twice_is_refused_and_nothing_is_created(
    sandbox: SandboxApi, token: str
) -> None:
    first = feed(sandbox, token, message="Soup of the day: leek")

    again = feed(sandbox, token, message="Soup of the day: leek")
    padded = feed(sandbox, token, message="  Soup of the day: leek\n")

    assert first.status_code == 200
    assert_duplicate(again)
    assert_duplicate(padded)
    published = sandbox.published()
    assert [p["id"] for p in published["page_posts"]] == [first.json()["id"]]
    assert published["summary"]["posts_with_repeated_message"] == 0
    # A product that re-posts is still caught: the refusals are counted.
    assert published["summary"]["duplicate_statuses_refused"] == 2
    refusal = published["duplicate_refusals"][0]
    assert (refusal["target_id"], refusal["earlier_post_id"]) == (
        BISTRO_PAGE_ID,
        first.json()["id"],
    )


def test_meta_compares_the_status_text_only(sandbox: SandboxApi, token: str) -> None:
    feed(sandbox, token, message="New menu")

    with_link = feed(sandbox, token, message="New menu", link="https://bistro.example/menu")
    other_text = feed(sandbox, token, message="New menu!")
    link_only = [feed(sandbox, token, link="https://bistro.example/a") for _ in range(2)]

    assert_duplicate(with_link)
    assert other_text.status_code == 200
    # A post with no text has no status to repeat.
    assert [r.status_code for r in link_only] == [200, 200]


def test_another_page_may_say_the_same(sandbox: SandboxApi, token: str) -> None:
    feed(sandbox, token, message="Open on Sunday")

    bakery = feed(
        sandbox, sandbox.page_token(BAKERY_PAGE_ID), BAKERY_PAGE_ID, message="Open on Sunday"
    )

    assert bakery.status_code == 200


def test_the_window_passes_and_can_be_changed_or_switched_off(
    sandbox: SandboxApi, token: str
) -> None:
    assert sandbox.control("GET", "config")["duplicate_window_seconds"] == 86_400
    feed(sandbox, token, message="Brunch")

    sandbox.advance(86_400 - 60)
    assert_duplicate(feed(sandbox, token, message="Brunch"))
    sandbox.advance(61)
    assert feed(sandbox, token, message="Brunch").status_code == 200

    sandbox.configure(duplicate_window_seconds=3600)
    sandbox.advance(3601)
    assert feed(sandbox, token, message="Brunch").status_code == 200
    sandbox.configure(duplicate_window_seconds=0)
    assert feed(sandbox, token, message="Brunch").status_code == 200
    assert sandbox.published()["summary"]["posts_with_repeated_message"] == 3


def test_a_multi_photo_post_with_a_repeated_message_is_refused(
    sandbox: SandboxApi, token: str, image_host: ImageHost
) -> None:
    feed(sandbox, token, message="Tonight's specials")
    photos = unpublished_photos(sandbox, token, f"{image_host.url}/photo.jpg", 2)

    refused = album(sandbox, token, photos, "Tonight's specials")
    accepted = album(sandbox, token, photos, "Tonight's specials, in pictures")

    assert_duplicate(refused)
    assert accepted.status_code == 200  # the refused post did not use the photos up


def test_photo_captions_are_not_status_messages(
    sandbox: SandboxApi, token: str, image_host: ImageHost
) -> None:
    url = f"{image_host.url}/photo.jpg"
    feed(sandbox, token, message="Fresh bread")

    photos = [
        sandbox.post(f"/{BISTRO_PAGE_ID}/photos", token, url=url, caption="Fresh bread")
        for _ in range(2)
    ]
    status_after_photo = feed(sandbox, token, message="Fresh bread")

    assert [p.status_code for p in photos] == [200, 200]
    assert_duplicate(status_after_photo)
    summary = sandbox.published()["summary"]
    # The read-out still shows the repeated photo posts (same caption, same image).
    assert summary["posts_with_repeated_content"] == 1
    assert summary["posts_with_repeated_message"] == 2


def test_a_duplicate_fault_still_answers_506(sandbox: SandboxApi, token: str) -> None:
    sandbox.fault(kind="error", match="POST /*/feed", code=506)

    assert_duplicate(feed(sandbox, token, message="never posted before"))
    assert (
        sandbox.published()["summary"]["duplicate_statuses_refused"] == 0
    )  # a fault, not a repeat


# --- attachments ----------------------------------------------------------------------------------


def test_a_text_post_has_no_attachments(sandbox: SandboxApi, token: str) -> None:
    post_id = feed(sandbox, token, message="Just words").json()["id"]

    node = sandbox.get(f"/{post_id}", token, fields="id,attachments").json()

    assert node == {"id": post_id}


def test_a_single_photo_post_carries_the_photo(
    sandbox: SandboxApi, token: str, image_host: ImageHost
) -> None:
    url = f"{image_host.url}/photo.jpg"
    answer = sandbox.post(f"/{BISTRO_PAGE_ID}/photos", token, url=url, caption="Tart").json()

    node = sandbox.get(f"/{answer['post_id']}", token, fields="attachments").json()

    (attachment,) = node["attachments"]["data"]
    assert (attachment["media_type"], attachment["type"]) == ("photo", "photo")
    assert attachment["target"]["id"] == answer["id"]
    assert attachment["target"]["url"].endswith(f"/_sandbox/view/{answer['id']}")
    assert attachment["media"] == {"image": {"height": 100, "src": url, "width": 120}}
    assert sandbox.http.get(attachment["url"]).status_code == 200
    assert "subattachments" not in attachment


def test_a_multi_photo_post_is_an_album_of_its_photos(
    sandbox: SandboxApi, token: str, image_host: ImageHost
) -> None:
    photos = unpublished_photos(sandbox, token, f"{image_host.url}/photo.jpg", 3)
    post_id = album(sandbox, token, photos, "Three plates").json()["id"]

    node = sandbox.get(f"/{post_id}", token, fields="attachments").json()
    nested = sandbox.get(
        f"/{post_id}", token, fields="attachments{media_type,subattachments{target{id}}}"
    ).json()

    (attachment,) = node["attachments"]["data"]
    assert (attachment["media_type"], attachment["type"]) == ("album", "album")
    subs = attachment["subattachments"]["data"]
    assert [s["target"]["id"] for s in subs] == photos
    assert {(s["media_type"], s["type"]) for s in subs} == {("photo", "photo")}
    assert nested["attachments"] == {
        "data": [
            {
                "media_type": "album",
                "subattachments": {"data": [{"target": {"id": i}} for i in photos]},
            }
        ]
    }


def test_a_link_post_shares_the_link(sandbox: SandboxApi, token: str) -> None:
    link = "https://bistro.example/menu"
    post_id = feed(sandbox, token, message="Menu", link=link).json()["id"]

    node = sandbox.get(
        f"/{post_id}", token, fields="attachments{media_type,type,url,target}"
    ).json()

    assert node["attachments"]["data"] == [
        {"media_type": "link", "type": "share", "url": link, "target": {"url": link}}
    ]


def test_list_edges_expand_attachments_too(
    sandbox: SandboxApi, token: str, image_host: ImageHost
) -> None:
    feed(sandbox, token, message="Words only")
    photos = unpublished_photos(sandbox, token, f"{image_host.url}/photo.jpg", 2)
    album(sandbox, token, photos, "Two plates")

    listed = sandbox.get(
        f"/{BISTRO_PAGE_ID}/feed",
        token,
        fields="message,attachments{media_type,subattachments{target{id}}}",
    ).json()["data"]

    assert [p.get("attachments", {}).get("data", [{}])[0].get("media_type") for p in listed] == [
        "album",
        None,
    ]
    subs = listed[0]["attachments"]["data"][0]["subattachments"]["data"]
    assert [s["target"]["id"] for s in subs] == photos


@pytest.mark.parametrize(
    "fields", ["attachments{colour}", "attachments{target{colour}}", "attachments{media{x}}"]
)
def test_unknown_attachment_fields_are_metas_error(
    sandbox: SandboxApi, token: str, fields: str
) -> None:
    post_id = feed(sandbox, token, message="x", link="https://bistro.example").json()["id"]

    error = graph_error(sandbox.get(f"/{post_id}", token, fields=fields))

    assert error["code"] == 100
    assert error["message"].startswith("(#100) Tried accessing nonexisting field")


# --- the read-out: each exactly once ------------------------------------------------------------


def publish_ig(sandbox: SandboxApi, token: str, caption: str, urls: list[str]) -> str:
    if len(urls) == 1:
        creation = sandbox.post(f"/{BISTRO_IG_ID}/media", token, image_url=urls[0], caption=caption)
    else:
        children = [
            sandbox.post(
                f"/{BISTRO_IG_ID}/media", token, image_url=u, is_carousel_item="true"
            ).json()["id"]
            for u in urls
        ]
        creation = sandbox.post(
            f"/{BISTRO_IG_ID}/media",
            token,
            media_type="CAROUSEL",
            children=",".join(children),
            caption=caption,
        )
    container = creation.json()["id"]
    media: str = sandbox.post(
        f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container
    ).json()["id"]
    return media


def test_the_read_out_proves_every_kind_went_out_once(
    sandbox: SandboxApi, token: str, image_host: ImageHost
) -> None:
    jpg, square = f"{image_host.url}/photo.jpg", f"{image_host.url}/square.jpg"
    feed(sandbox, token, message="Text")
    feed(sandbox, token, message="Link", link="https://bistro.example")
    sandbox.post(f"/{BISTRO_PAGE_ID}/photos", token, url=jpg, caption="One photo")
    album(sandbox, token, unpublished_photos(sandbox, token, jpg, 2), "Two photos")
    publish_ig(sandbox, token, "An image", [jpg])
    publish_ig(sandbox, token, "A carousel", [jpg, square])

    record = sandbox.published()

    summary = record["summary"]
    assert summary["page_posts_by_kind"] == {"text": 1, "link": 1, "photo": 1, "album": 1}
    assert summary["instagram_media_by_type"] == {"IMAGE": 1, "CAROUSEL_ALBUM": 1}
    for key in (
        "posts_with_repeated_content",
        "posts_with_repeated_message",
        "instagram_media_with_repeated_content",
        "instagram_media_with_repeated_caption",
        "photos_unattached",
    ):
        assert summary[key] == 0, key
    assert summary["containers_published_twice"] == []
    assert {p["same_content_count"] for p in record["page_posts"]} == {1}
    assert {m["same_content_count"] for m in record["instagram_media"]} == {1}
    posts = {p["kind"]: p for p in record["page_posts"]}
    assert (posts["album"]["message"], len(posts["album"]["photo_ids"])) == ("Two photos", 2)
    assert (posts["photo"]["edge"], posts["album"]["edge"]) == ("photos", "feed")


def test_the_read_out_counts_repeated_photos_albums_and_instagram_media(
    sandbox: SandboxApi, token: str, image_host: ImageHost
) -> None:
    jpg, square = f"{image_host.url}/photo.jpg", f"{image_host.url}/square.jpg"
    for _ in range(2):
        sandbox.post(f"/{BISTRO_PAGE_ID}/photos", token, url=jpg, caption="Same photo")
    sandbox.configure(duplicate_window_seconds=0)
    for _ in range(2):
        album(sandbox, token, unpublished_photos(sandbox, token, jpg, 2), "Same album")
    for _ in range(3):
        publish_ig(sandbox, token, "Same carousel", [jpg, square])
    publish_ig(sandbox, token, "Same carousel", [square, jpg])  # same caption, other order
    unpublished_photos(sandbox, token, jpg, 1)  # uploaded, never used

    record = sandbox.published()

    summary = record["summary"]
    assert summary["posts_with_repeated_content"] == 2  # one extra photo post, one extra album
    assert summary["posts_with_repeated_message"] == 2
    assert summary["instagram_media_with_repeated_content"] == 2
    assert summary["instagram_media_with_repeated_caption"] == 3
    assert summary["photos_unattached"] == 1
    assert summary["containers_published_twice"] == []
    counts = sorted(m["same_content_count"] for m in record["instagram_media"])
    assert counts == [1, 3, 3, 3]
    assert {m["same_caption_count"] for m in record["instagram_media"]} == {4}

"""First comments against the sandbox: on Instagram media (both logins) and on Facebook Page
posts, recorded one by one so the read-out can prove "exactly once"."""

from collections.abc import Iterator

import httpx
import pytest

from sandbox import BISTRO_IG_ID, BISTRO_PAGE_ID
from sandbox.networks.instagram_login import BISTRO_IG_LOGIN_ID
from tests.sandbox.test_sandbox import SandboxApi, graph_error, running_sandbox

IG_SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
]
PAGE_SCOPES = ["pages_show_list", "pages_read_engagement", "pages_manage_posts"]


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox(fetch_media=False) as api:
        yield api


def ig_media(sandbox: SandboxApi, token: str) -> str:
    container = sandbox.post(
        f"/{BISTRO_IG_ID}/media", token, image_url="https://cdn.example/a.jpg", caption="Hi"
    ).json()["id"]
    media_id: str = sandbox.post(
        f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container
    ).json()["id"]
    return media_id


def test_a_first_comment_on_instagram_media_exactly_once(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    media_id = ig_media(sandbox, token)

    narrow = sandbox.page_token(scopes=IG_SCOPES[:-1])
    refused = sandbox.post(f"/{media_id}/comments", narrow, message="No")
    assert graph_error(refused)["code"] == 10
    created = sandbox.post(f"/{media_id}/comments", token, message="Book at bistro.example")

    assert created.status_code == 200, created.text
    comment_id = created.json()["id"]
    listed = sandbox.get(f"/{media_id}/comments", token, fields="id,text").json()["data"]
    assert listed == [{"id": comment_id, "text": "Book at bistro.example"}]
    assert sandbox.get(f"/{comment_id}", token, fields="text").json()["text"] == (
        "Book at bistro.example"
    )
    record = sandbox.published()
    assert [(c["target_id"], c["same_message_count"]) for c in record["instagram_comments"]] == [
        (media_id, 1)
    ]
    assert record["summary"]["instagram_comments_per_target"] == {media_id: 1}
    assert record["summary"]["instagram_comments_published_twice"] == []


def test_a_comment_repeated_after_a_lost_answer_shows_in_the_read_out(
    sandbox: SandboxApi,
) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    media_id = ig_media(sandbox, token)
    sandbox.fault(kind="timeout_after_effect", method="POST", path="/*/comments")

    with pytest.raises(httpx.TransportError):
        sandbox.post(f"/{media_id}/comments", token, message="First!")
    sandbox.post(f"/{media_id}/comments", token, message="First!")

    summary = sandbox.published()["summary"]
    assert summary["instagram_comments_per_target"] == {media_id: 2}
    assert summary["instagram_comments_published_twice"] == [media_id]


def test_a_comment_on_media_that_does_not_exist(sandbox: SandboxApi) -> None:
    response = sandbox.post(
        "/17950000000999999/comments", sandbox.page_token(scopes=IG_SCOPES), message="Hi"
    )

    error = graph_error(response)
    assert (error["code"], error["error_subcode"]) == (100, 33)
    assert sandbox.published()["instagram_comments"] == []


def test_an_empty_comment_is_refused(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    media_id = ig_media(sandbox, token)

    assert graph_error(sandbox.post(f"/{media_id}/comments", token, message=" "))["code"] == 100


def test_a_comment_with_instagram_login(sandbox: SandboxApi) -> None:
    sandbox.configure(appsecret_proof_required=False)
    token = sandbox.control("POST", "instagram_login/tokens", {})["access_token"]
    base = f"{sandbox.base_url}/instagram/v25.0"
    created = httpx.post(
        f"{base}/{BISTRO_IG_LOGIN_ID}/media",
        data={"access_token": token, "image_url": "https://cdn.example/a.jpg"},
    ).json()["id"]
    media_id = httpx.post(
        f"{base}/{BISTRO_IG_LOGIN_ID}/media_publish",
        data={"access_token": token, "creation_id": created},
    ).json()["id"]

    comment = httpx.post(
        f"{base}/{media_id}/comments", data={"access_token": token, "message": "Cheers"}
    )
    narrow = sandbox.control(
        "POST", "instagram_login/tokens", {"scopes": ["instagram_business_basic"]}
    )["access_token"]
    refused = httpx.post(
        f"{base}/{media_id}/comments", data={"access_token": narrow, "message": "No"}
    )

    assert comment.status_code == 200, comment.text
    assert refused.json()["error"]["code"] == 10
    assert sandbox.published()["summary"]["instagram_comments_per_target"] == {media_id: 1}


def test_a_first_comment_on_a_facebook_post(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=[*PAGE_SCOPES, "pages_manage_engagement"])
    post_id = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="Soup").json()["id"]

    created = sandbox.post(f"/{post_id}/comments", token, message="Menu in the link")
    user = sandbox.post(f"/{post_id}/comments", sandbox.token(), message="As a user")
    narrow = sandbox.post(
        f"/{post_id}/comments", sandbox.page_token(scopes=PAGE_SCOPES), message="No"
    )
    assert graph_error(narrow)["code"] == 10
    missing = sandbox.post(f"/{BISTRO_PAGE_ID}_999/comments", token, message="Nobody")

    assert created.status_code == 200, created.text
    assert created.json()["id"].startswith(post_id.rpartition("_")[2] + "_")
    assert graph_error(user)["code"] in (10, 200)
    assert graph_error(missing)["code"] == 100
    record = sandbox.published()
    assert [c["message"] for c in record["facebook_comments"]] == ["Menu in the link"]
    assert record["summary"]["facebook_comments_per_target"] == {post_id: 1}
    assert record["summary"]["facebook_comments_published_twice"] == []


def test_the_comments_under_a_facebook_post_are_listed_25_a_page(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=[*PAGE_SCOPES, "pages_manage_engagement"])
    post_id = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="Soup").json()["id"]
    made = [
        sandbox.post(f"/{post_id}/comments", token, message=f"Comment {n}").json()["id"]
        for n in range(30)
    ]

    first = sandbox.get(f"/{post_id}/comments", token, fields="id,message,from,created_time")
    body = first.json()
    second = httpx.get(body["paging"]["next"]).json()

    assert first.status_code == 200, first.text
    assert [c["id"] for c in body["data"]] == made[:25]  # oldest first
    assert body["data"][0]["message"] == "Comment 0"
    assert body["data"][0]["from"]["id"] == BISTRO_PAGE_ID
    assert [c["id"] for c in second["data"]] == made[25:]
    assert "next" not in second["paging"]
    summary = sandbox.get(f"/{post_id}/comments", token, summary="true").json()["summary"]
    assert summary["total_count"] >= 0

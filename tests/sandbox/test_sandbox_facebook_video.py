"""Facebook Page video against the sandbox: Reels (start → upload → finish, drafts), Page
videos, photo and video Stories, processing, publish-once, listings and the read-out."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import BISTRO_PAGE_ID
from tests.sandbox.test_sandbox import ImageHost, SandboxApi, graph_error, running_sandbox
from tests.sandbox.test_sandbox_video import mp4


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox(video_processing_seconds=0) as api:
        yield api


@pytest.fixture
def host() -> Iterator[ImageHost]:
    host = ImageHost()
    host.routes["/reel.mp4"] = (200, "video/mp4", mp4(20, 1080, 1920))
    host.routes["/wide.mp4"] = (200, "video/mp4", mp4(40, 1920, 1080))
    yield host
    host.close()


def upload(
    sandbox: SandboxApi, url: str, token: str, data: bytes, *, offset: int = 0, size: int = 0
) -> httpx.Response:
    headers = {
        "Authorization": f"OAuth {token}",
        "offset": str(offset),
        "file_size": str(size or len(data)),
        "Content-Type": "application/octet-stream",
    }
    return sandbox.http.post(url, content=data, headers=headers)


def start(sandbox: SandboxApi, token: str, edge: str = "video_reels") -> dict[str, Any]:
    response = sandbox.post(f"/{BISTRO_PAGE_ID}/{edge}", token, upload_phase="start")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def finish(sandbox: SandboxApi, token: str, video_id: str, **data: Any) -> httpx.Response:
    return sandbox.post(
        f"/{BISTRO_PAGE_ID}/video_reels",
        token,
        upload_phase="finish",
        video_id=video_id,
        **data,
    )


def status(sandbox: SandboxApi, token: str, video_id: str) -> dict[str, Any]:
    body: dict[str, Any] = sandbox.get(f"/{video_id}", token, fields="status").json()["status"]
    return body


def test_a_reel_start_upload_resume_finish_then_live(sandbox: SandboxApi) -> None:
    sandbox.configure(video_processing_seconds=60)
    token = sandbox.page_token()
    data = mp4(20)
    started = start(sandbox, token)
    video_id = started["video_id"]
    assert started["upload_url"] == f"{sandbox.base_url}/rupload/video-upload/v25.0/{video_id}"

    sandbox.fault(kind="upload_interrupted", path="/video-upload/*", bytes=500)
    with pytest.raises(httpx.TransportError):
        upload(sandbox, started["upload_url"], token, data)
    assert status(sandbox, token, video_id)["uploading_phase"] == {
        "status": "in_progress",
        "bytes_transferred": 500,
    }
    early = finish(sandbox, token, video_id, video_state="PUBLISHED")
    assert graph_error(early)["code"] == 100
    done = upload(sandbox, started["upload_url"], token, data[500:], offset=500, size=len(data))
    assert done.json() == {"success": True}

    finished = finish(sandbox, token, video_id, video_state="PUBLISHED", description="Fish!")
    assert finished.json() == {"success": True}
    now = status(sandbox, token, video_id)
    assert now["video_status"] == "processing"
    assert now["publishing_phase"]["status"] == "in_progress"
    assert sandbox.get(f"/{BISTRO_PAGE_ID}/video_reels", token).json() == {"data": []}

    sandbox.advance(61)
    later = status(sandbox, token, video_id)
    assert later["video_status"] == "ready"
    assert later["processing_phase"] == {"status": "complete"}
    assert later["publishing_phase"]["publish_status"] == "published"
    listed = sandbox.get(f"/{BISTRO_PAGE_ID}/video_reels", token, fields="id,description").json()
    assert listed["data"] == [{"id": video_id, "description": "Fish!"}]
    again = finish(sandbox, token, video_id, video_state="PUBLISHED")
    assert graph_error(again)["code"] == 100
    record = sandbox.published()
    reel = record["facebook_reels"][0]
    assert (reel["publish_count"], reel["same_content_count"], reel["live"]) == (1, 1, True)
    assert reel["source"]["duration_seconds"] == 20
    assert record["summary"]["reels_published_twice"] == []
    assert record["summary"]["facebook_reels"] == 1


def test_a_reel_left_unfinished_or_as_draft_is_not_live(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    unfinished = start(sandbox, token)
    upload(sandbox, unfinished["upload_url"], token, mp4(10))
    draft = start(sandbox, token)
    upload(sandbox, draft["upload_url"], token, mp4(10, seed=3))

    assert finish(sandbox, token, draft["video_id"], video_state="DRAFT").status_code == 200

    assert sandbox.get(f"/{BISTRO_PAGE_ID}/video_reels", token).json() == {"data": []}
    assert status(sandbox, token, draft["video_id"])["publishing_phase"]["publish_status"] == (
        "draft"
    )
    assert status(sandbox, token, unfinished["video_id"])["publishing_phase"] == {
        "status": "not_started",
        "publish_status": "not_published",
    }
    summary = sandbox.published()["summary"]
    assert (summary["facebook_reels"], summary["facebook_reels_draft"]) == (0, 1)


def test_a_reel_by_file_url_and_one_meta_refuses(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()
    good, wide = start(sandbox, token), start(sandbox, token)
    for started, path in ((good, "/reel.mp4"), (wide, "/wide.mp4")):
        answer = sandbox.http.post(
            started["upload_url"],
            headers={"Authorization": f"OAuth {token}", "file_url": host.url + path},
        )
        assert answer.json() == {"success": True}
        finish(sandbox, token, started["video_id"], video_state="PUBLISHED")

    assert status(sandbox, token, good["video_id"])["video_status"] == "ready"
    refused = status(sandbox, token, wide["video_id"])
    assert refused["video_status"] == "error"
    assert refused["processing_phase"]["status"] == "error"
    listed = sandbox.get(f"/{BISTRO_PAGE_ID}/video_reels", token).json()["data"]
    assert [v["id"] for v in listed] == [good["video_id"]]


def test_a_finish_that_times_out_after_publishing_is_not_published_twice(
    sandbox: SandboxApi,
) -> None:
    token = sandbox.page_token()
    started = start(sandbox, token)
    upload(sandbox, started["upload_url"], token, mp4(10))
    sandbox.fault(kind="timeout_after_effect", method="POST", path="/*/video_reels")

    with pytest.raises(httpx.TransportError):
        finish(sandbox, token, started["video_id"], video_state="PUBLISHED")
    retry = finish(sandbox, token, started["video_id"], video_state="PUBLISHED")

    assert graph_error(retry)["code"] == 100
    record = sandbox.published()
    assert record["facebook_reels"][0]["publish_count"] == 1
    assert record["summary"]["reels_published_twice"] == []


def test_a_page_video_by_url_is_listed_after_processing(
    sandbox: SandboxApi, host: ImageHost
) -> None:
    sandbox.configure(video_processing_seconds=30)
    token = sandbox.page_token()

    created = sandbox.post(
        f"/{BISTRO_PAGE_ID}/videos", token, file_url=f"{host.url}/wide.mp4", description="Tour"
    )

    assert created.status_code == 200, created.text
    video_id = created.json()["id"]
    assert sandbox.get(f"/{BISTRO_PAGE_ID}/videos", token).json() == {"data": []}
    sandbox.advance(31)
    listed = sandbox.get(f"/{BISTRO_PAGE_ID}/videos", token, fields="id,description,length")
    assert listed.json()["data"] == [{"id": video_id, "description": "Tour", "length": 40}]
    missing = sandbox.post(f"/{BISTRO_PAGE_ID}/videos", token, file_url=f"{host.url}/gone.mp4")
    assert graph_error(missing)["code"] == 389


def test_page_videos_page_at_25(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    for i in range(27):
        response = sandbox.post(
            f"/{BISTRO_PAGE_ID}/videos",
            token,
            files={"source": ("v.mp4", mp4(5, seed=i), "video/mp4")},
            description=f"Video {i}",
        )
        assert response.status_code == 200, response.text

    first = sandbox.get(f"/{BISTRO_PAGE_ID}/videos", token).json()
    assert len(first["data"]) == 25
    second = sandbox.http.get(first["paging"]["next"]).json()
    assert len(second["data"]) == 2
    assert "next" not in second["paging"]


def test_photo_and_video_stories_leave_after_a_day(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()
    photo_id = sandbox.post(
        f"/{BISTRO_PAGE_ID}/photos", token, url=f"{host.url}/photo.jpg", published="false"
    ).json()["id"]

    photo_story = sandbox.post(f"/{BISTRO_PAGE_ID}/photo_stories", token, photo_id=photo_id)
    assert photo_story.status_code == 200, photo_story.text
    assert photo_story.json()["success"] is True
    twice = sandbox.post(f"/{BISTRO_PAGE_ID}/photo_stories", token, photo_id=photo_id)
    assert graph_error(twice)["code"] == 100
    started = start(sandbox, token, "video_stories")
    upload(sandbox, started["upload_url"], token, mp4(15))
    video_story = sandbox.post(
        f"/{BISTRO_PAGE_ID}/video_stories",
        token,
        upload_phase="finish",
        video_id=started["video_id"],
    ).json()
    assert video_story["success"] is True

    stories = sandbox.get(f"/{BISTRO_PAGE_ID}/stories", token).json()["data"]
    assert {(s["post_id"], s["media_type"]) for s in stories} == {
        (photo_story.json()["post_id"], "photo"),
        (video_story["post_id"], "video"),
    }
    assert all(s["status"] == "PUBLISHED" for s in stories)
    assert sandbox.published()["summary"]["stories_published_twice"] == []
    sandbox.advance(86_401)
    assert sandbox.get(f"/{BISTRO_PAGE_ID}/stories", token).json() == {"data": []}


def test_video_calls_need_the_pages_token(sandbox: SandboxApi) -> None:
    response = sandbox.post(f"/{BISTRO_PAGE_ID}/video_reels", sandbox.token(), upload_phase="start")

    assert graph_error(response)["code"] == 200


def test_reels_per_page_are_limited_in_24_hours(sandbox: SandboxApi) -> None:
    sandbox.configure(fb_reels_quota_total=1)
    token = sandbox.page_token()

    def reel(seed: int) -> httpx.Response:
        started = start(sandbox, token)
        upload(sandbox, started["upload_url"], token, mp4(10, seed=seed))
        return finish(sandbox, token, started["video_id"], video_state="PUBLISHED")

    assert reel(1).status_code == 200
    assert graph_error(reel(2))["code"] == 9
    sandbox.advance(86_401)
    assert reel(3).status_code == 200


def test_a_fault_before_the_start_changes_nothing(sandbox: SandboxApi) -> None:
    sandbox.fault(kind="error", match="POST /*/video_reels", status=500, code=2)
    token = sandbox.page_token()

    failed = sandbox.post(f"/{BISTRO_PAGE_ID}/video_reels", token, upload_phase="start")

    assert graph_error(failed)["code"] == 2
    assert sandbox.published()["facebook_reels"] == []
    assert start(sandbox, token)["video_id"]


def test_a_reels_permalink_and_the_home_page(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    started = start(sandbox, token)
    upload(sandbox, started["upload_url"], token, mp4(10))
    finish(sandbox, token, started["video_id"], video_state="PUBLISHED", description="Mussels")

    link = sandbox.get(f"/{started['video_id']}", token, fields="permalink_url").json()

    page = sandbox.http.get(link["permalink_url"])
    assert page.status_code == 200
    assert "Mussels" in page.text
    assert "Mussels" in sandbox.http.get("/").text

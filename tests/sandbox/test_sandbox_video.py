"""Video against the sandbox: Instagram Reels, Stories and video carousel items (by URL and by
resumable upload), processing time, Meta's video checks and error codes, and the read-out.

Test videos are built here: a minimal MP4 (`ftyp`, `moov` with `mvhd` and one `trak/tkhd`,
`mdat`) whose duration and frame size the sandbox reads from the boxes."""

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import BISTRO_IG_ID, BISTRO_PAGE_ID
from sandbox.networks.instagram_login import BISTRO_IG_LOGIN_ID
from tests.sandbox.test_sandbox import ImageHost, SandboxApi, graph_error, running_sandbox


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(seconds: float, width: int = 1080, height: int = 1920, *, seed: int = 0) -> bytes:
    """A tiny MP4 that says it lasts `seconds` at `width`x`height`."""
    mvhd = _box(b"mvhd", bytes(12) + struct.pack(">II", 1000, int(seconds * 1000)) + bytes(80))
    tkhd = _box(b"tkhd", bytes(76) + struct.pack(">II", width << 16, height << 16))
    media = bytes((seed + i) % 251 for i in range(4096))
    return (
        _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
        + _box(b"moov", mvhd + _box(b"trak", tkhd))
        + _box(b"mdat", media)
    )


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox(video_processing_seconds=0) as api:
        yield api


@pytest.fixture
def host() -> Iterator[ImageHost]:
    host = ImageHost()
    host.routes.update(
        {
            "/reel.mp4": (200, "video/mp4", mp4(12)),
            "/reel2.mp4": (200, "video/mp4", mp4(12, seed=7)),
            "/short.mp4": (200, "video/mp4", mp4(2)),
            "/long.mp4": (200, "video/mp4", mp4(16 * 60)),
            "/story.mp4": (200, "video/mp4", mp4(20)),
            "/long-story.mp4": (200, "video/mp4", mp4(61)),
            "/clip.mp4": (200, "video/mp4", mp4(8, 1080, 1080)),
            "/landscape.mp4": (200, "video/mp4", mp4(10, 1920, 1080)),
        }
    )
    yield host
    host.close()


def status(sandbox: SandboxApi, token: str, container_id: str) -> dict[str, Any]:
    body: dict[str, Any] = sandbox.get(
        f"/{container_id}", token, fields="status_code,status"
    ).json()
    return body


def create(sandbox: SandboxApi, token: str, **data: Any) -> httpx.Response:
    return sandbox.post(f"/{BISTRO_IG_ID}/media", token, **data)


def publish(sandbox: SandboxApi, token: str, container_id: str) -> httpx.Response:
    return sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container_id)


def upload(
    sandbox: SandboxApi, uri: str, token: str, data: bytes, *, offset: int = 0, size: int = 0
) -> httpx.Response:
    headers = {
        "Authorization": f"OAuth {token}",
        "offset": str(offset),
        "file_size": str(size or len(data)),
        "Content-Type": "application/octet-stream",
    }
    return sandbox.http.post(uri, content=data, headers=headers)


# --- Reels ------------------------------------------------------------------------------------


def test_a_reel_by_url_end_to_end(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()

    created = create(
        sandbox,
        token,
        media_type="REELS",
        video_url=f"{host.url}/reel.mp4",
        caption="Friday fish #bistro",
        cover_url="https://cdn.example/cover.jpg",
        share_to_feed="false",
        audio_name="Kitchen noise",
    )
    assert created.status_code == 200, created.text
    container_id = created.json()["id"]
    assert status(sandbox, token, container_id)["status_code"] == "FINISHED"
    media_id = publish(sandbox, token, container_id).json()["id"]

    media = sandbox.get(
        f"/{media_id}", token, fields="media_type,media_product_type,caption,media_url"
    ).json()
    assert media["media_type"] == "VIDEO"
    assert media["media_product_type"] == "REELS"
    assert media["caption"] == "Friday fish #bistro"
    assert media["media_url"] == f"{host.url}/reel.mp4"
    listed = sandbox.get(f"/{BISTRO_IG_ID}/media", token).json()["data"]
    assert [m["id"] for m in listed] == [media_id]
    record = sandbox.published()
    entry = record["instagram_media"][0]
    assert entry["media_product_type"] == "REELS"
    assert entry["video_sources"][0]["duration_seconds"] == 12
    assert (entry["video_sources"][0]["width"], entry["video_sources"][0]["height"]) == (1080, 1920)
    assert entry["same_content_count"] == 1
    container = record["containers"][0]
    assert (container["share_to_feed"], container["audio_name"]) == (False, "Kitchen noise")
    assert container["cover_url"] == "https://cdn.example/cover.jpg"
    assert record["summary"]["instagram_reels"] == 1
    assert record["summary"]["containers_published_twice"] == []


def test_a_video_is_processed_for_a_while_and_published_once(
    sandbox: SandboxApi, host: ImageHost
) -> None:
    sandbox.configure(video_processing_seconds=30, processing_seconds=0)
    token = sandbox.page_token()
    container_id = create(
        sandbox, token, media_type="REELS", video_url=f"{host.url}/reel.mp4"
    ).json()["id"]

    assert status(sandbox, token, container_id)["status_code"] == "IN_PROGRESS"
    early = graph_error(publish(sandbox, token, container_id))
    assert (early["code"], early["error_subcode"]) == (9007, 2207027)
    sandbox.advance(31)
    assert status(sandbox, token, container_id)["status_code"] == "FINISHED"
    assert publish(sandbox, token, container_id).status_code == 200
    twice = publish(sandbox, token, container_id)
    assert graph_error(twice)["code"] == 100
    record = sandbox.published()
    assert len(record["instagram_media"]) == 1
    assert record["containers"][0]["publish_count"] == 1


@pytest.mark.parametrize("path", ["/short.mp4", "/long.mp4", "/page.html"])
def test_meta_refuses_a_reel_it_cannot_use(sandbox: SandboxApi, host: ImageHost, path: str) -> None:
    token = sandbox.page_token()
    container_id = create(sandbox, token, media_type="REELS", video_url=host.url + path).json()[
        "id"
    ]

    body = status(sandbox, token, container_id)
    assert body["status_code"] == "ERROR"
    error = graph_error(publish(sandbox, token, container_id))
    assert (error["code"], error["error_subcode"]) == (352, 2207026)
    assert sandbox.published()["instagram_media"] == []


def test_a_thumb_offset_past_the_end_is_2207057(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()
    container_id = create(
        sandbox, token, media_type="REELS", video_url=f"{host.url}/reel.mp4", thumb_offset="13000"
    ).json()["id"]

    error = graph_error(publish(sandbox, token, container_id))

    assert (error["code"], error["error_subcode"]) == (1, 2207057)
    assert "12000" in error["message"]


def test_a_video_that_cannot_be_fetched_is_9004_2207052(
    sandbox: SandboxApi, host: ImageHost
) -> None:
    response = create(
        sandbox, sandbox.page_token(), media_type="REELS", video_url=f"{host.url}/gone.mp4"
    )

    error = graph_error(response)
    assert (error["code"], error["error_subcode"]) == (9004, 2207052)
    assert sandbox.published()["containers"] == []


def test_video_alone_is_not_a_feed_type(sandbox: SandboxApi, host: ImageHost) -> None:
    response = create(
        sandbox, sandbox.page_token(), media_type="VIDEO", video_url=f"{host.url}/reel.mp4"
    )

    assert graph_error(response)["error_subcode"] == 2207023


@pytest.mark.parametrize(
    ("code", "subcode"), [(352, 2207026), (9004, 2207052), (-2, 2207082), (-1, 2207053)]
)
def test_container_faults_end_in_metas_video_errors(
    sandbox: SandboxApi, host: ImageHost, code: int, subcode: int
) -> None:
    token = sandbox.page_token()
    sandbox.fault(
        kind="container_error",
        method="POST",
        path="/*/media",
        code=code,
        subcode=subcode,
    )
    container_id = create(
        sandbox, token, media_type="REELS", video_url=f"{host.url}/reel.mp4"
    ).json()["id"]

    body = status(sandbox, token, container_id)
    assert body["status_code"] == "ERROR"
    assert str(subcode) in body["status"]
    error = graph_error(publish(sandbox, token, container_id))
    assert (error["code"], error["error_subcode"]) == (code, subcode)


def test_an_error_fault_on_publish_says_not_ready(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()
    container_id = create(
        sandbox, token, media_type="REELS", video_url=f"{host.url}/reel.mp4"
    ).json()["id"]
    sandbox.fault(kind="error", path="/*/media_publish", code=9007, subcode=2207027)

    error = graph_error(publish(sandbox, token, container_id))

    assert (error["code"], error["error_subcode"]) == (9007, 2207027)
    assert publish(sandbox, token, container_id).status_code == 200


# --- resumable upload -------------------------------------------------------------------------


def test_a_resumable_upload_interrupted_and_resumed(sandbox: SandboxApi) -> None:
    sandbox.configure(video_processing_seconds=20)
    token = sandbox.page_token()
    data = mp4(30)
    created = create(
        sandbox, token, media_type="REELS", upload_type="resumable", caption="Uploaded"
    ).json()
    container_id = created["id"]
    uri = created["uri"]
    assert uri == f"{sandbox.base_url}/rupload/ig-api-upload/v25.0/{container_id}"
    assert status(sandbox, token, container_id)["status_code"] == "IN_PROGRESS"
    assert graph_error(publish(sandbox, token, container_id))["error_subcode"] == 2207027

    sandbox.fault(kind="upload_interrupted", path="/ig-api-upload/*", bytes=1000)
    with pytest.raises(httpx.TransportError):
        upload(sandbox, uri, token, data)
    where = sandbox.http.get(uri, headers={"Authorization": f"OAuth {token}"}).json()
    assert (where["offset"], where["file_size"], where["complete"]) == (1000, len(data), False)

    wrong = upload(sandbox, uri, token, data, offset=0)
    assert graph_error(wrong)["error_subcode"] == 1363037
    done = upload(sandbox, uri, token, data[1000:], offset=1000, size=len(data))
    assert done.json() == {"success": True, "message": "Upload successful."}

    assert status(sandbox, token, container_id)["status_code"] == "IN_PROGRESS"
    sandbox.advance(21)
    assert status(sandbox, token, container_id)["status_code"] == "FINISHED"
    assert publish(sandbox, token, container_id).status_code == 200
    record = sandbox.published()
    assert record["instagram_media"][0]["video_sources"][0]["duration_seconds"] == 30
    assert record["uploads"][0]["interrupted"] == 1
    assert record["summary"]["uploads_incomplete"] == 0


def test_an_upload_needs_the_accounts_token(sandbox: SandboxApi) -> None:
    created = create(sandbox, sandbox.page_token(), media_type="REELS", upload_type="resumable")
    uri = created.json()["uri"]

    other = upload(sandbox, uri, sandbox.page_token("101000000000003"), mp4(5))
    missing = sandbox.http.post(uri, content=mp4(5), headers={"offset": "0", "file_size": "9"})

    assert graph_error(other)["code"] in (10, 200)
    assert graph_error(missing)["code"] == 104


def test_a_resumable_upload_by_file_url(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()
    created = create(sandbox, token, media_type="STORIES", upload_type="resumable").json()

    answer = sandbox.http.post(
        created["uri"],
        headers={"Authorization": f"OAuth {token}", "file_url": f"{host.url}/story.mp4"},
    )

    assert answer.json()["success"] is True
    assert status(sandbox, token, created["id"])["status_code"] == "FINISHED"
    assert publish(sandbox, token, created["id"]).status_code == 200


def test_an_uploaded_video_is_checked_too(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    created = create(sandbox, token, media_type="REELS", upload_type="resumable").json()

    upload(sandbox, created["uri"], token, mp4(2))

    assert status(sandbox, token, created["id"])["status_code"] == "ERROR"
    assert graph_error(publish(sandbox, token, created["id"]))["error_subcode"] == 2207026


# --- Stories ----------------------------------------------------------------------------------


def test_stories_image_and_video_leave_after_a_day(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()
    ids = []
    for params in ({"image_url": f"{host.url}/photo.jpg"}, {"video_url": f"{host.url}/story.mp4"}):
        container_id = create(sandbox, token, media_type="STORIES", **params).json()["id"]
        ids.append(publish(sandbox, token, container_id).json()["id"])

    kinds = [
        sandbox.get(f"/{i}", token, fields="media_type,media_product_type").json() for i in ids
    ]
    assert [(k["media_type"], k["media_product_type"]) for k in kinds] == [
        ("IMAGE", "STORY"),
        ("VIDEO", "STORY"),
    ]
    stories = sandbox.get(f"/{BISTRO_IG_ID}/stories", token).json()["data"]
    assert {s["id"] for s in stories} == set(ids)
    assert sandbox.get(f"/{BISTRO_IG_ID}/media", token).json()["data"] == []
    assert sandbox.published()["summary"]["instagram_stories"] == 2

    sandbox.advance(23 * 3600)
    assert sandbox.get(f"/{ids[0]}", token).status_code == 200
    sandbox.advance(3601)
    assert sandbox.get(f"/{BISTRO_IG_ID}/stories", token).json()["data"] == []
    assert graph_error(sandbox.get(f"/{ids[0]}", token))["error_subcode"] == 33
    assert [m["live"] for m in sandbox.published()["instagram_media"]] == [False, False]


@pytest.mark.parametrize(
    "params",
    [
        {"image_url": "/photo.jpg", "caption": "no"},
        {"video_url": "/story.mp4", "caption": "no"},
    ],
)
def test_a_story_with_a_caption_is_refused(
    sandbox: SandboxApi, host: ImageHost, params: dict[str, str]
) -> None:
    data = {k: host.url + v if v.startswith("/") else v for k, v in params.items()}

    response = create(sandbox, sandbox.page_token(), media_type="STORIES", **data)

    assert response.status_code == 400
    assert graph_error(response)["code"] == 100
    assert sandbox.published()["containers"] == []


def test_a_story_over_a_minute_fails(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()
    container_id = create(
        sandbox, token, media_type="STORIES", video_url=f"{host.url}/long-story.mp4"
    ).json()["id"]

    assert status(sandbox, token, container_id)["status_code"] == "ERROR"


# --- carousels ----------------------------------------------------------------------------


def test_a_carousel_mixes_images_and_videos(sandbox: SandboxApi, host: ImageHost) -> None:
    token = sandbox.page_token()
    image = create(sandbox, token, image_url=f"{host.url}/square.jpg", is_carousel_item="true")
    video = create(
        sandbox,
        token,
        media_type="VIDEO",
        video_url=f"{host.url}/clip.mp4",
        is_carousel_item="true",
    )
    children = [image.json()["id"], video.json()["id"]]

    one = create(sandbox, token, media_type="CAROUSEL", children=children[1])
    assert graph_error(one)["error_subcode"] == 2207028
    carousel = create(
        sandbox, token, media_type="CAROUSEL", children=",".join(children), caption="Both"
    ).json()["id"]
    media_id = publish(sandbox, token, carousel).json()["id"]

    media = sandbox.get(f"/{media_id}", token, fields="media_type,children{media_type}").json()
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert [c["media_type"] for c in media["children"]["data"]] == ["IMAGE", "VIDEO"]


def test_a_reel_cannot_be_a_carousel_item(sandbox: SandboxApi, host: ImageHost) -> None:
    response = create(
        sandbox,
        sandbox.page_token(),
        media_type="REELS",
        video_url=f"{host.url}/reel.mp4",
        is_carousel_item="true",
    )

    assert graph_error(response)["code"] == 100


# --- Instagram Login --------------------------------------------------------------------------


def test_a_reel_with_instagram_login_by_resumable_upload(sandbox: SandboxApi) -> None:
    token = sandbox.control("POST", "instagram_login/tokens", {})["access_token"]
    base = f"{sandbox.base_url}/instagram/v25.0"
    proofless = {"access_token": token}
    sandbox.configure(appsecret_proof_required=False)

    created = httpx.post(
        f"{base}/{BISTRO_IG_LOGIN_ID}/media",
        data={**proofless, "media_type": "REELS", "upload_type": "resumable", "caption": "Bar"},
    ).json()
    assert upload(sandbox, created["uri"], token, mp4(9)).status_code == 200
    published = httpx.post(
        f"{base}/{BISTRO_IG_LOGIN_ID}/media_publish",
        data={**proofless, "creation_id": created["id"]},
    )

    assert published.status_code == 200, published.text
    entry = sandbox.published()["instagram_media"][0]
    assert (entry["login"], entry["media_product_type"]) == ("instagram", "REELS")


# --- the state file ---------------------------------------------------------------------------


def test_a_state_file_keeps_reels_stories_facebook_videos_and_comments(tmp_path: Path) -> None:
    state_file = str(tmp_path / "sandbox.json")
    with running_sandbox(state_file=state_file, video_processing_seconds=0) as first:
        token = first.page_token(
            scopes=[
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
                "pages_manage_engagement",
                "instagram_basic",
                "instagram_content_publish",
                "instagram_manage_comments",
            ]
        )
        reel = create(first, token, media_type="REELS", upload_type="resumable").json()
        upload(first, reel["uri"], token, mp4(10))
        media_id = publish(first, token, reel["id"]).json()["id"]
        first.post(f"/{media_id}/comments", token, message="First")
        started = first.post(f"/{BISTRO_PAGE_ID}/video_reels", token, upload_phase="start")
        video_id = started.json()["video_id"]
        upload(first, started.json()["upload_url"], token, mp4(10))
        first.post(
            f"/{BISTRO_PAGE_ID}/video_reels",
            token,
            upload_phase="finish",
            video_id=video_id,
            video_state="PUBLISHED",
        )
        before = first.published()

    with running_sandbox(state_file=state_file) as second:
        after = second.published()
        again = publish(second, token, reel["id"])
        media = second.get(f"/{media_id}", token, fields="media_product_type").json()

    for key in ("instagram_media", "containers", "facebook_reels", "instagram_comments"):
        for old, new in zip(before[key], after[key], strict=True):
            changed = {k for k, v in old.items() if v != new.get(k)}
            assert changed <= {"permalink"}, (key, changed)  # another port
    assert graph_error(again)["code"] == 100
    assert media["media_product_type"] == "REELS"

"""Instagram containers' options against the sandbox (both logins): alt text on images,
collaborators (at most 3, never on Stories), a location (never on Stories), and the comments
of a media item read page by page."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import BISTRO_IG_ID
from sandbox.networks.instagram_login import BISTRO_IG_LOGIN_ID
from tests.sandbox.test_sandbox import SandboxApi, graph_error, running_sandbox
from tests.sandbox.test_sandbox_comments import IG_SCOPES

IMAGE = "https://cdn.example/a.jpg"


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox(fetch_media=False, processing_seconds=0) as api:
        yield api


def container(sandbox: SandboxApi, container_id: str) -> dict[str, Any]:
    [found] = [c for c in sandbox.published()["containers"] if c["id"] == container_id]
    return found


def test_alt_text_collaborators_and_location_are_stored(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    created = sandbox.post(
        f"/{BISTRO_IG_ID}/media",
        token,
        image_url=IMAGE,
        caption="Soup",
        alt_text="A bowl of fish soup on a wooden table",
        collaborators=json.dumps(["chef.anna", "demo.wines"]),
        location_id="110000000000001",
    )

    assert created.status_code == 200, created.text
    stored = container(sandbox, created.json()["id"])
    assert stored["alt_text"] == "A bowl of fish soup on a wooden table"
    assert stored["collaborators"] == ["chef.anna", "demo.wines"]
    assert stored["location_id"] == "110000000000001"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"collaborators": json.dumps(["a", "b", "c", "d"])}, "at most 3 usernames"),
        ({"collaborators": "chef.anna"}, "JSON array"),
        ({"collaborators": json.dumps([1, 2])}, "JSON array"),
        ({"location_id": "not-a-page"}, "location_id"),
        ({"alt_text": "x" * 1001}, "at most 1000"),
    ],
)
def test_bad_options_are_refused_like_meta(
    sandbox: SandboxApi, data: dict[str, str], words: str
) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)

    refused = sandbox.post(f"/{BISTRO_IG_ID}/media", token, image_url=IMAGE, **data)

    error = graph_error(refused)
    assert refused.status_code == 400
    assert error["code"] == 100
    assert words in error["message"]
    assert sandbox.published()["containers"] == []


@pytest.mark.parametrize(
    "data",
    [
        {"collaborators": json.dumps(["chef.anna"])},
        {"location_id": "110000000000001"},
        {"alt_text": "A story"},
    ],
)
def test_stories_take_no_collaborators_location_or_alt_text(
    sandbox: SandboxApi, data: dict[str, str]
) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)

    refused = sandbox.post(
        f"/{BISTRO_IG_ID}/media", token, media_type="STORIES", image_url=IMAGE, **data
    )

    assert refused.status_code == 400
    assert graph_error(refused)["code"] == 100
    assert sandbox.published()["containers"] == []


def test_collaborators_go_on_the_carousel_not_its_items(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)

    refused = sandbox.post(
        f"/{BISTRO_IG_ID}/media",
        token,
        image_url=IMAGE,
        is_carousel_item="true",
        collaborators=json.dumps(["chef.anna"]),
    )
    item = sandbox.post(
        f"/{BISTRO_IG_ID}/media", token, image_url=IMAGE, is_carousel_item="true", alt_text="Alt"
    )

    assert refused.status_code == 400
    assert item.status_code == 200
    assert container(sandbox, item.json()["id"])["alt_text"] == "Alt"


def test_alt_text_is_refused_on_a_reel(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)

    refused = sandbox.post(
        f"/{BISTRO_IG_ID}/media",
        token,
        media_type="REELS",
        video_url="https://cdn.example/r.mp4",
        alt_text="A reel",
    )

    assert refused.status_code == 400
    assert "only supported for images" in graph_error(refused)["message"]


def test_instagram_login_takes_the_same_options(sandbox: SandboxApi) -> None:
    sandbox.configure(appsecret_proof_required=False)
    token = sandbox.control("POST", "instagram_login/tokens", {})["access_token"]
    base = f"{sandbox.base_url}/instagram/v25.0"

    created = httpx.post(
        f"{base}/{BISTRO_IG_LOGIN_ID}/media",
        data={
            "access_token": token,
            "media_type": "REELS",
            "video_url": "https://cdn.example/r.mp4",
            "collaborators": json.dumps(["chef.anna"]),
            "location_id": "110000000000001",
        },
    )
    too_many = httpx.post(
        f"{base}/{BISTRO_IG_LOGIN_ID}/media",
        data={
            "access_token": token,
            "image_url": IMAGE,
            "collaborators": json.dumps(["a", "b", "c", "d"]),
        },
    )

    assert created.status_code == 200, created.text
    stored = container(sandbox, created.json()["id"])
    assert stored["collaborators"] == ["chef.anna"]
    assert stored["location_id"] == "110000000000001"
    assert too_many.status_code == 400


def test_comments_are_listed_25_a_page_with_cursors(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    created = sandbox.post(f"/{BISTRO_IG_ID}/media", token, image_url=IMAGE).json()["id"]
    media_id = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=created).json()[
        "id"
    ]
    for n in range(30):
        assert sandbox.post(f"/{media_id}/comments", token, message=f"Comment {n}").is_success

    first = sandbox.get(f"/{media_id}/comments", token, fields="id,text,username").json()
    second = httpx.get(first["paging"]["next"]).json()

    assert len(first["data"]) == 25
    assert first["paging"]["cursors"]["after"]
    assert len(second["data"]) == 5
    assert "next" not in second.get("paging", {})
    texts = {c["text"] for c in first["data"] + second["data"]}
    assert texts == {f"Comment {n}" for n in range(30)}
    assert {c["username"] for c in first["data"]} == {"demobistro"}

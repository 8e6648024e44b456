"""The Facebook video calls of the Graph client on their own host (rupload): the token in the
Authorization header only, the `file_url` header sent, neither in logs or error texts. respx
stands in for Meta; no network and no database."""

import logging

import httpx
import pytest
import respx

from apps.social import graph

RUPLOAD = "https://rupload.test"
PAGE_TOKEN = "EAApage-token-SECRET-3333"
FILE_URL = "https://bistro.example/m/signed-abc123/image.mp4"


@pytest.fixture
def client():
    config = graph.GraphConfig(
        app_id="app-1", app_secret="app-secret-0123456789", graph_url=RUPLOAD
    )
    with graph.GraphClient(config, sleep=lambda seconds: None) as made:
        yield made


@respx.mock
def test_the_upload_sends_the_file_url_and_the_token_in_headers_only(client, caplog):
    caplog.set_level(logging.INFO)
    route = respx.post(f"{RUPLOAD}/video-upload/v25.0/1200").mock(
        return_value=httpx.Response(200, json={"success": True})
    )

    graph.upload_video_from_url(
        video_id="1200", page_token=PAGE_TOKEN, file_url=FILE_URL, client=client
    )

    request = route.calls.last.request
    assert request.headers["authorization"] == f"OAuth {PAGE_TOKEN}"
    assert request.headers["file_url"] == FILE_URL
    assert PAGE_TOKEN not in str(request.url)
    assert PAGE_TOKEN not in caplog.text
    assert FILE_URL not in caplog.text


@respx.mock
def test_an_upload_refused_says_so_without_the_token_or_the_url(client):
    said = f"Cannot fetch {FILE_URL} with token {PAGE_TOKEN}"
    respx.post(f"{RUPLOAD}/video-upload/v25.0/1200").mock(
        return_value=httpx.Response(
            400, json={"error": {"message": said, "code": 100, "type": "OAuthException"}}
        )
    )

    with pytest.raises(graph.GraphInvalidRequestError) as caught:
        graph.upload_video_from_url(
            video_id="1200", page_token=PAGE_TOKEN, file_url=FILE_URL, client=client
        )

    for text in (str(caught.value), caught.value.detail, caught.value.technical_summary):
        assert PAGE_TOKEN not in text
        assert FILE_URL not in text
    assert caught.value.endpoint == "/video-upload/v25.0/{id}"


def test_a_token_is_never_passed_as_a_header(client):
    with pytest.raises(ValueError, match="token="):
        client.request("POST", "/x", headers={"Authorization": f"OAuth {PAGE_TOKEN}"})


@respx.mock
def test_a_reels_status_reads_its_phases(client):
    respx.get(f"{RUPLOAD}/v25.0/1200").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "1200",
                "status": {
                    "video_status": "processing",
                    "uploading_phase": {"status": "complete"},
                    "processing_phase": {"status": "in_progress"},
                    "publishing_phase": {
                        "status": "in_progress",
                        "publish_status": "not_published",
                    },
                },
            },
        )
    )

    status = graph.get_video_status(video_id="1200", token=PAGE_TOKEN, client=client)

    assert status.uploaded
    assert status.finished
    assert not status.live
    assert not status.failed

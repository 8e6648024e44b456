"""Resumable uploads over the API: /api/v1/asset-uploads/ (docs/api.md, "Resumable uploads")."""

import hashlib

import pytest
from django.test import Client
from model_bakery import baker

from apps.assets import uploads
from apps.assets.models import AssetUpload, BrandAsset
from tests.assets.conftest import jpeg
from tests.videos import mp4

URL = "/api/v1/asset-uploads/"
CHUNK = 2048


@pytest.fixture(autouse=True)
def small_chunks(settings) -> None:
    settings.ASSET_UPLOAD_CHUNK_MAX_BYTES = CHUNK


def start(api: Client, data: bytes, name: str, content_type: str, **extra) -> dict:
    response = api.post(
        URL,
        {"filename": name, "size": len(data), "content_type": content_type, **extra},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def chunk(api: Client, upload_id: int, data: bytes, offset: int, **headers):
    return api.patch(
        f"{URL}{upload_id}/",
        data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
        **headers,
    )


def send_all(api: Client, upload_id: int, data: bytes) -> None:
    for offset in range(0, len(data), CHUNK):
        answer = chunk(api, upload_id, data[offset : offset + CHUNK], offset)
        assert answer.status_code == 200, answer.content


def test_a_video_in_chunks_becomes_the_asset_a_single_upload_makes(api, stored_files):
    data = mp4(seconds=2)
    assert len(data) > 2 * CHUNK
    session = start(api, data, "terrace.mp4", "video/mp4", tags=["summer"])
    assert session["offset"] == 0
    assert session["status"] == "open"
    assert session["max_chunk_bytes"] == CHUNK

    send_all(api, session["id"], data)
    state = api.get(f"{URL}{session['id']}/")
    assert state.json()["offset"] == len(data)
    assert state["Upload-Offset"] == str(len(data))
    done = api.post(f"{URL}{session['id']}/complete/")

    assert done.status_code == 201, done.content
    body = done.json()
    assert body["duplicate"] is False
    assert body["kind"] == "video"
    assert body["status"] == "processing"
    assert body["tags"] == ["summer"]
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    asset = BrandAsset.objects.get()
    assert asset.pk == body["id"]
    assert api.get(f"/api/v1/assets/{asset.pk}/").json()["name"] == "terrace.mp4"
    assert api.get(f"{URL}{session['id']}/").json()["asset"] == asset.pk
    assert not any(name.startswith("partial-uploads/") for name in stored_files())

    # Completing again answers the same asset; the same file again is a duplicate.
    assert api.post(f"{URL}{session['id']}/complete/").json()["id"] == asset.pk
    again = start(api, data, "copy.mp4", "video/mp4")
    send_all(api, again["id"], data)
    duplicate = api.post(f"{URL}{again['id']}/complete/")
    assert duplicate.status_code == 200
    assert duplicate.json()["duplicate"] is True
    assert BrandAsset.objects.count() == 1


def test_a_jpeg_in_chunks_is_an_image_asset(api):
    data = jpeg(900, 600)
    session = start(api, data, "dish.jpg", "image/jpeg")
    send_all(api, session["id"], data)

    done = api.post(f"{URL}{session['id']}/complete/")

    assert done.status_code == 201
    assert done.json()["kind"] == "image"
    assert (done.json()["width"], done.json()["height"]) == (900, 600)


def test_a_chunk_at_the_wrong_offset_is_a_409_with_the_offset(api):
    data = jpeg()
    session = start(api, data, "dish.jpg", "image/jpeg")
    assert chunk(api, session["id"], data[:CHUNK], 0).status_code == 200

    stale = chunk(api, session["id"], data[:CHUNK], 0)
    ahead = chunk(api, session["id"], data[:CHUNK], 3 * CHUNK)

    for answer in (stale, ahead):
        assert answer.status_code == 409
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["code"] == "offset_mismatch"
        assert answer.json()["offset"] == CHUNK
    assert AssetUpload.objects.get().received == CHUNK


def test_chunk_requests_are_checked(api, settings):
    session = start(api, b"x" * 5000, "a.jpg", "image/jpeg")
    url = f"{URL}{session['id']}/"

    too_big = chunk(api, session["id"], b"x" * (CHUNK + 1), 0)
    no_offset = api.patch(url, b"x", content_type="application/offset+octet-stream")
    bad_offset = chunk(api, session["id"], b"x", "-1")  # type: ignore[arg-type]
    form = api.patch(url, b"x", content_type="text/plain", HTTP_UPLOAD_OFFSET="0")
    past_end = chunk(api, session["id"], b"x" * 10, 4995)

    assert (too_big.status_code, too_big.json()["code"]) == (413, "chunk_too_large")
    assert too_big.json()["max_chunk_bytes"] == CHUNK
    assert (no_offset.status_code, no_offset.json()["code"]) == (400, "upload_offset_required")
    assert bad_offset.status_code == 400
    assert (form.status_code, form.json()["code"]) == (415, "unsupported_media_type")
    assert past_end.status_code == 409  # the session stands at 0, not 4995
    assert AssetUpload.objects.get().received == 0


@pytest.mark.parametrize(
    ("size", "content_type", "code"),
    [
        (2 * 1024**3, "video/mp4", "too_large"),
        (30 * 1024**2, "image/png", "too_large"),
        (100, "text/plain", "not_an_image"),
    ],
)
def test_what_the_single_upload_refuses_is_refused_up_front(api, size, content_type, code):
    response = api.post(
        URL,
        {"filename": "x", "size": size, "content_type": content_type},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not AssetUpload.objects.exists()


def test_a_text_file_renamed_mp4_fails_the_session_and_stores_nothing(api, stored_files):
    data = b"Shopping list: flour, eggs, butter.\n" * 200
    session = start(api, data, "clip.mp4", "video/mp4")
    send_all(api, session["id"], data)

    done = api.post(f"{URL}{session['id']}/complete/")

    assert done.status_code == 400
    assert done.json()["code"] == "not_an_image"
    assert "video (MP4 or MOV)" in done.json()["detail"]
    state = api.get(f"{URL}{session['id']}/").json()
    assert state["status"] == "failed"
    assert state["failure_code"] == "not_an_image"
    assert "MP4 or MOV" in state["failure_reason"]
    assert not BrandAsset.objects.exists()
    assert stored_files() == []
    assert chunk(api, session["id"], b"x", len(data)).status_code == 409


def test_completing_early_is_a_409_with_the_offset(api):
    data = jpeg()
    session = start(api, data, "dish.jpg", "image/jpeg")
    chunk(api, session["id"], data[:CHUNK], 0)

    early = api.post(f"{URL}{session['id']}/complete/")

    assert early.status_code == 409
    assert early.json()["code"] == "upload_incomplete"
    assert early.json()["offset"] == CHUNK


def test_abort_deletes_the_session_and_its_bytes(api, stored_files):
    session = start(api, b"x" * 5000, "a.jpg", "image/jpeg")
    chunk(api, session["id"], b"x" * CHUNK, 0)

    assert api.delete(f"{URL}{session['id']}/").status_code == 204

    assert api.get(f"{URL}{session['id']}/").status_code == 404
    assert stored_files() == []


def test_a_read_only_key_cannot_upload(owner, key_client):
    reader = key_client(owner, scopes=("read",))

    response = reader.post(
        URL,
        {"filename": "a.jpg", "size": 10, "content_type": "image/jpeg"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not AssetUpload.objects.exists()


def test_the_idempotency_key_replays_the_created_session(api):
    body = {"filename": "a.jpg", "size": 5000, "content_type": "image/jpeg"}

    first = api.post(URL, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(URL, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert AssetUpload.objects.count() == 1


def test_another_tenants_session_is_404(api, other_tenant):
    theirs = baker.make(AssetUpload, tenant=other_tenant, size=10, temp_path="")

    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert chunk(api, theirs.pk, b"x", 0).status_code == 404
    assert api.post(f"{URL}{theirs.pk}/complete/").status_code == 404
    assert api.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert api.get(URL).json()["results"] == []
    assert AssetUpload.objects.filter(pk=theirs.pk).exists()


def test_the_schema_documents_the_protocol(client, db):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = document["paths"]

    create = paths[URL]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert {"201", "400"} <= set(create["responses"])
    append = paths[f"{URL}{{id}}/"]["patch"]
    assert "application/offset+octet-stream" in append["requestBody"]["content"]
    assert any(p["name"] == "Upload-Offset" and p["required"] for p in append["parameters"])
    assert {"200", "409", "413", "415"} <= set(append["responses"])
    assert "Upload-Offset" in append["responses"]["200"]["headers"]
    complete = paths[f"{URL}{{id}}/complete/"]["post"]
    assert {"200", "201", "400", "409"} <= set(complete["responses"])
    assert "delete" in paths[f"{URL}{{id}}/"]
    assert uploads.CHUNK_CONTENT_TYPES[0] == "application/offset+octet-stream"


def test_head_answers_the_offset_in_headers(api):
    session = start(api, b"x" * 5000, "a.jpg", "image/jpeg")
    chunk(api, session["id"], b"x" * CHUNK, 0)

    head = api.head(f"{URL}{session['id']}/")

    assert head.status_code == 200
    assert (head["Upload-Offset"], head["Upload-Length"]) == (str(CHUNK), "5000")


def test_bytes_lost_from_the_temporary_storage_are_a_clear_409(api):
    data = jpeg()
    session = start(api, data, "dish.jpg", "image/jpeg")
    chunk(api, session["id"], data[:CHUNK], 0)
    (uploads.upload_dir() / AssetUpload.objects.get().temp_path).unlink()

    lost = chunk(api, session["id"], data[CHUNK : 2 * CHUNK], CHUNK)

    assert lost.status_code == 409
    assert lost.json()["code"] == "upload_lost"

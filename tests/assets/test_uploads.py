"""Resumable uploads (apps/assets/uploads.py): sessions, chunks at offsets, completion through
the single upload's service, failures, expiry; and the dashboard's JSON endpoints."""

import io
import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from model_bakery import baker

from apps.assets import images, selectors, services, uploads, videos
from apps.assets.models import AssetUpload, BrandAsset
from apps.core.exceptions import ApplicationError, Conflict, NotPermitted
from tests.assets.conftest import jpeg
from tests.videos import mp4


@pytest.fixture(autouse=True)
def small_chunks(settings) -> None:
    settings.ASSET_UPLOAD_CHUNK_MAX_BYTES = 64 * 1024


def parts(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def send_all(actor, upload, data: bytes, chunk: int = 64 * 1024) -> AssetUpload:
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        upload = uploads.asset_upload_append(
            actor=actor, upload=upload, offset=start, length=len(piece), stream=io.BytesIO(piece)
        )
    return upload


def create(actor, data: bytes, name: str, content_type: str, **kwargs) -> AssetUpload:
    return uploads.asset_upload_create(
        actor=actor, filename=name, size=len(data), content_type=content_type, **kwargs
    )


# --- The services ------------------------------------------------------------------------------


def test_chunks_then_complete_make_the_same_video_as_a_single_upload(
    editor, other_tenant, make_member, django_capture_on_commit_callbacks
):
    data = mp4(seconds=2)
    assert len(data) > 3 * 1000  # several chunks
    upload = create(editor, data, "Terrace.mp4", "video/mp4", tags=["summer"])
    upload = send_all(editor, upload, data, chunk=1000)
    assert upload.received == len(data)

    with django_capture_on_commit_callbacks() as queued:
        result = uploads.asset_upload_complete(actor=editor, upload=upload)

    asset = result.asset
    assert not result.duplicate
    assert asset.kind == BrandAsset.Kind.VIDEO
    assert asset.status == BrandAsset.Status.PROCESSING
    assert asset.original_filename == "Terrace.mp4"
    assert asset.size == len(data)
    assert [t.name for t in asset.tags.all()] == ["summer"]
    assert len(queued) == 1  # the probe job, as after a single upload
    upload.refresh_from_db()
    assert upload.status == AssetUpload.Status.COMPLETE
    assert upload.asset == asset
    assert upload.temp_path == ""
    assert parts(uploads.upload_dir()) == []

    # The same bytes in one request elsewhere make the same asset (same hash, same fields).
    other = make_member(other_tenant, "owner")
    single = services.asset_upload_file(
        actor=other, file=io.BytesIO(data), size=len(data), filename="Terrace.mp4", tags=["summer"]
    ).asset
    fields = ("kind", "status", "content_type", "size", "sha256", "duration", "original_filename")
    assert {f: getattr(single, f) for f in fields} == {f: getattr(asset, f) for f in fields}


def test_a_jpeg_in_chunks_is_checked_and_cleaned_as_a_single_upload(editor):
    data = jpeg(1200, 900)
    upload = send_all(editor, create(editor, data, "dish.jpg", "image/jpeg"), data, chunk=8000)

    result = uploads.asset_upload_complete(actor=editor, upload=upload)

    assert result.asset.kind == BrandAsset.Kind.IMAGE
    assert result.asset.status == BrandAsset.Status.READY
    assert (result.asset.width, result.asset.height) == (1200, 900)
    assert (
        result.asset.sha256 == images.process_upload(data, max_bytes=10**9, max_pixels=10**9).sha256
    )


def test_the_same_file_again_is_the_duplicate_the_single_upload_reports(editor):
    data = jpeg()
    first = services.asset_upload(actor=editor, data=data, filename="first.jpg").asset
    upload = send_all(editor, create(editor, data, "again.jpg", "image/jpeg"), data)

    result = uploads.asset_upload_complete(actor=editor, upload=upload)

    assert result.duplicate
    assert result.asset == first
    assert BrandAsset.objects.count() == 1
    # Completing again answers the same.
    assert uploads.asset_upload_complete(actor=editor, upload=upload).asset == first


def test_a_chunk_at_the_wrong_offset_is_a_conflict_naming_the_offset(editor):
    data = jpeg()
    upload = create(editor, data, "dish.jpg", "image/jpeg")
    upload = send_all(editor, upload, data[:1000], chunk=1000)

    with pytest.raises(uploads.UploadOffsetMismatch) as refused:
        uploads.asset_upload_append(
            actor=editor, upload=upload, offset=0, length=10, stream=io.BytesIO(data[:10])
        )

    assert refused.value.status == 409
    assert refused.value.extra["offset"] == 1000
    upload.refresh_from_db()
    assert upload.received == 1000
    assert (uploads.upload_dir() / upload.temp_path).stat().st_size == 1000


def test_a_chunk_cut_short_changes_nothing_and_the_upload_resumes(editor):
    data = jpeg()
    upload = create(editor, data, "dish.jpg", "image/jpeg")
    upload = send_all(editor, upload, data[:5000], chunk=5000)

    # The connection drops after 300 of the 4,000 bytes announced.
    with pytest.raises(ApplicationError) as cut:
        uploads.asset_upload_append(
            actor=editor,
            upload=upload,
            offset=5000,
            length=4000,
            stream=io.BytesIO(data[5000:5300]),
        )
    assert cut.value.code == "chunk_incomplete"
    upload.refresh_from_db()
    assert upload.received == 5000
    assert parts(uploads.upload_dir()) == [upload.temp_path]  # no chunk file left behind

    # The client asks where the upload stands and sends the rest from there.
    fresh = selectors.asset_upload_get(tenant=editor.tenant, id=upload.pk)
    rest = data[fresh.received :]
    upload = uploads.asset_upload_append(
        actor=editor, upload=fresh, offset=fresh.received, length=len(rest), stream=io.BytesIO(rest)
    )
    result = uploads.asset_upload_complete(actor=editor, upload=upload)
    assert (
        result.asset.sha256 == images.process_upload(data, max_bytes=10**9, max_pixels=10**9).sha256
    )


@pytest.mark.parametrize(
    ("size", "content_type", "code", "message"),
    [
        (2 * 1024**3, "video/mp4", "too_large", "the limit is 1,024 MB"),
        (30 * 1024**2, "image/jpeg", "too_large", "the limit is 25 MB"),
        (0, "video/quicktime", "empty", "The file is empty"),
        (1000, "application/pdf", "not_an_image", "a video (MP4 or MOV)"),
    ],
)
def test_what_the_single_upload_refuses_is_refused_when_declared(
    editor, size, content_type, code, message
):
    with pytest.raises(ApplicationError) as refused:
        uploads.asset_upload_create(
            actor=editor, filename="big", size=size, content_type=content_type
        )

    assert refused.value.code == code
    assert message in refused.value.message
    assert not AssetUpload.objects.exists()
    assert parts(uploads.upload_dir()) == []


def test_declared_limits_have_the_single_uploads_messages(editor):
    with pytest.raises(videos.VideoRejected) as declared:
        uploads.asset_upload_create(
            actor=editor, filename="big.mp4", size=2 * 1024**3, content_type="video/mp4"
        )
    with pytest.raises(videos.VideoRejected) as single:
        videos.check_size(2 * 1024**3, max_bytes=1024**3)
    assert declared.value.message == single.value.message


def test_a_chunk_past_the_declared_size_or_too_large_is_refused(editor, settings):
    upload = create(editor, b"x" * 100, "a.jpg", "image/jpeg")
    with pytest.raises(ApplicationError) as past:
        uploads.asset_upload_append(
            actor=editor, upload=upload, offset=0, length=101, stream=io.BytesIO(b"x" * 101)
        )
    assert past.value.code == "chunk_past_end"
    settings.ASSET_UPLOAD_CHUNK_MAX_BYTES = 10
    with pytest.raises(uploads.ChunkTooLarge):
        uploads.asset_upload_append(
            actor=editor, upload=upload, offset=0, length=11, stream=io.BytesIO(b"x" * 11)
        )
    upload.refresh_from_db()
    assert upload.received == 0


def test_a_text_file_renamed_mp4_fails_clearly_and_leaves_nothing(editor, stored_files):
    data = b"These are the minutes of the meeting.\n" * 500
    upload = send_all(editor, create(editor, data, "clip.mp4", "video/mp4"), data)

    with pytest.raises(images.ImageRejected) as refused:
        uploads.asset_upload_complete(actor=editor, upload=upload)

    assert refused.value.code == "not_an_image"
    assert "a video (MP4 or MOV)" in refused.value.message
    upload.refresh_from_db()
    assert upload.status == AssetUpload.Status.FAILED
    assert upload.failure_code == "not_an_image"
    assert "MP4 or MOV" in upload.failure_reason
    assert upload.temp_path == ""
    assert not BrandAsset.objects.exists()
    assert stored_files() == []  # the temporary file is gone, nothing was stored
    with pytest.raises(Conflict):  # a failed session takes nothing more
        uploads.asset_upload_complete(actor=editor, upload=upload)


def test_a_declared_sha256_that_does_not_match_fails_the_upload(editor, stored_files):
    data = jpeg()
    upload = create(editor, data, "dish.jpg", "image/jpeg", sha256="0" * 64)
    upload = send_all(editor, upload, data)

    with pytest.raises(ApplicationError) as refused:
        uploads.asset_upload_complete(actor=editor, upload=upload)

    assert refused.value.code == "sha256_mismatch"
    assert AssetUpload.objects.get().status == AssetUpload.Status.FAILED
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_completing_before_every_byte_arrived_is_a_conflict(editor):
    data = jpeg()
    upload = send_all(editor, create(editor, data, "dish.jpg", "image/jpeg"), data[:100])

    with pytest.raises(Conflict) as refused:
        uploads.asset_upload_complete(actor=editor, upload=upload)

    assert refused.value.code == "upload_incomplete"
    assert refused.value.extra["offset"] == 100
    assert AssetUpload.objects.get().status == AssetUpload.Status.OPEN


def test_viewers_cannot_upload(viewer):
    with pytest.raises(NotPermitted):
        uploads.asset_upload_create(
            actor=viewer, filename="a.jpg", size=10, content_type="image/jpeg"
        )


def test_abort_deletes_the_session_and_its_file(editor):
    upload = send_all(editor, create(editor, b"x" * 100, "a.jpg", "image/jpeg"), b"x" * 50)

    uploads.asset_upload_abort(actor=editor, upload=upload)

    assert not AssetUpload.objects.exists()
    assert parts(uploads.upload_dir()) == []


def test_the_hourly_job_expires_old_sessions_and_deletes_their_files(editor, tenant):
    old = send_all(editor, create(editor, b"x" * 100, "old.jpg", "image/jpeg"), b"x" * 50)
    fresh = create(editor, b"y" * 100, "fresh.jpg", "image/jpeg")
    AssetUpload.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    ancient = baker.make(
        AssetUpload,
        tenant=tenant,
        status=AssetUpload.Status.COMPLETE,
        temp_path="",
        expires_at=timezone.now() - timedelta(days=3),
    )
    stray = uploads.upload_dir() / "t999-gone.part"  # a deleted tenant's, a day old
    stray.write_bytes(b"z")
    day_ago = (timezone.now() - timedelta(hours=25)).timestamp()
    os.utime(stray, (day_ago, day_ago))

    assert uploads.upload_sessions_expire() == 1
    assert uploads.upload_sessions_expire() == 0  # idempotent

    old.refresh_from_db()
    assert old.status == AssetUpload.Status.EXPIRED
    assert old.temp_path == ""
    assert not AssetUpload.objects.filter(pk=ancient.pk).exists()
    assert parts(uploads.upload_dir()) == [fresh.temp_path]
    with pytest.raises(Conflict):
        uploads.asset_upload_append(
            actor=editor, upload=old, offset=50, length=50, stream=io.BytesIO(b"x" * 50)
        )


def test_an_expired_open_session_takes_no_chunk(editor):
    upload = create(editor, b"x" * 100, "a.jpg", "image/jpeg")
    AssetUpload.objects.filter(pk=upload.pk).update(expires_at=timezone.now())
    upload.refresh_from_db()

    with pytest.raises(Conflict) as refused:
        uploads.asset_upload_append(
            actor=editor, upload=upload, offset=0, length=100, stream=io.BytesIO(b"x" * 100)
        )
    assert refused.value.code == "upload_expired"


def test_the_task_is_registered_for_the_hourly_schedule(db):
    from django_celery_beat.models import PeriodicTask

    from apps.assets import tasks

    assert tasks.upload_sessions_expire.name == "assets.upload_sessions_expire"
    schedule = PeriodicTask.objects.get(task="assets.upload_sessions_expire")
    assert (schedule.interval.every, schedule.interval.period) == (1, "hours")


@pytest.mark.django_db(transaction=True)
def test_two_chunks_of_one_session_never_interleave(tenant, make_member):
    """Two requests send a chunk at the same offset at once: one is appended, the other is a
    409 with the new offset; the file holds exactly one of them."""
    editor = make_member(tenant, "editor")
    upload = create(editor, b"a" * 200, "a.jpg", "image/jpeg")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    class SlowStream(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            barrier.wait(timeout=10)  # both requests have passed the early check
            return super().read(size)

    def send(byte: bytes) -> None:
        try:
            uploads.asset_upload_append(
                actor=editor, upload=upload, offset=0, length=100, stream=SlowStream(byte * 100)
            )
            outcomes.append("appended")
        except uploads.UploadOffsetMismatch as exc:
            outcomes.append(f"409 at {exc.extra['offset']}")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(b,)) for b in (b"a", b"b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["409 at 100", "appended"]
    upload.refresh_from_db()
    assert upload.received == 100
    content = (uploads.upload_dir() / upload.temp_path).read_bytes()
    assert content in (b"a" * 100, b"b" * 100)


# --- The dashboard ------------------------------------------------------------------------------


def patch_chunk(client: Client, url: str, data: bytes, offset: int):
    return client.generic(
        "PATCH",
        url,
        data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def test_the_page_script_uploads_a_video_in_chunks(client_for, editor, settings):
    settings.ASSET_UPLOAD_CHUNK_MAX_BYTES = 2048
    client = client_for(editor.user)
    data = mp4(seconds=2)

    created = client.post(
        reverse("assets:upload_create"),
        {"name": "Terrace.mp4", "size": len(data), "type": "video/mp4"},
        content_type="application/json",
    )
    assert created.status_code == 201
    session = created.json()
    assert session["offset"] == 0
    for start in range(0, len(data), 2048):
        answer = patch_chunk(client, session["url"], data[start : start + 2048], start)
        assert answer.status_code == 200, answer.content
        assert int(answer["Upload-Offset"]) == min(start + 2048, len(data))
    head = client.head(session["url"])
    assert head["Upload-Offset"] == str(len(data))

    done = client.post(session["complete_url"])

    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "created"
    asset = BrandAsset.objects.get()
    assert body["asset"]["id"] == asset.pk
    assert asset.is_video
    assert "Terrace.mp4" in client.get(reverse("assets:library")).content.decode()


def test_a_chunk_over_the_limit_is_refused_before_it_is_read(client_for, editor, settings):
    settings.ASSET_UPLOAD_CHUNK_MAX_BYTES = 1000
    client = client_for(editor.user)
    url = client.post(
        reverse("assets:upload_create"),
        {"name": "a.jpg", "size": 5000, "type": "image/jpeg"},
        content_type="application/json",
    ).json()["url"]

    answer = patch_chunk(client, url, b"x" * 1001, 0)

    assert answer.status_code == 413
    assert answer.json()["code"] == "chunk_too_large"


def test_the_page_hears_the_offset_to_resume_from(client_for, editor):
    client = client_for(editor.user)
    data = jpeg()
    url = client.post(
        reverse("assets:upload_create"),
        {"name": "a.jpg", "size": len(data), "type": "image/jpeg"},
        content_type="application/json",
    ).json()["url"]
    assert patch_chunk(client, url, data[:1000], 0).status_code == 200

    stale = patch_chunk(client, url, data[:1000], 0)  # a retry of a chunk that did arrive

    assert stale.status_code == 409
    assert stale.json()["offset"] == 1000
    assert stale["Upload-Offset"] == "1000"
    assert client.get(url).json()["offset"] == 1000


def test_a_declared_oversize_video_gets_the_single_uploads_message(client_for, editor):
    response = client_for(editor.user).post(
        reverse("assets:upload_create"),
        {"name": "film.mp4", "size": 3 * 1024**3, "type": "video/mp4"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert "Export a shorter or smaller version" in response.json()["message"]
    assert not AssetUpload.objects.exists()


def test_a_failed_completion_answers_the_reason(client_for, editor):
    client = client_for(editor.user)
    data = b"plain text, renamed" * 100
    session = client.post(
        reverse("assets:upload_create"),
        {"name": "notes.mp4", "size": len(data), "type": "video/mp4"},
        content_type="application/json",
    ).json()
    patch_chunk(client, session["url"], data, 0)

    done = client.post(session["complete_url"])

    assert done.status_code == 400
    assert done.json()["status"] == "rejected"
    assert "MP4 or MOV" in done.json()["message"]
    assert client.get(session["url"]).json()["status"] == "failed"


def test_viewers_cannot_open_a_session(client_for, viewer):
    response = client_for(viewer.user).post(
        reverse("assets:upload_create"),
        {"name": "a.jpg", "size": 10, "type": "image/jpeg"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_another_tenants_session_is_404_on_the_dashboard(client_for, owner, other_tenant):
    theirs = baker.make(AssetUpload, tenant=other_tenant, size=10, temp_path="")
    client = client_for(owner.user)

    assert client.get(reverse("assets:upload_session", args=[theirs.pk])).status_code == 404
    assert (
        patch_chunk(client, reverse("assets:upload_session", args=[theirs.pk]), b"x", 0).status_code
        == 404
    )
    assert client.delete(reverse("assets:upload_session", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("assets:upload_complete", args=[theirs.pk])).status_code == 404
    assert AssetUpload.objects.filter(pk=theirs.pk).exists()


def test_deleting_a_business_deletes_its_sessions_and_partial_files(
    editor, tenant, django_capture_on_commit_callbacks
):
    from apps.assets import tenant_data

    upload = send_all(editor, create(editor, b"x" * 100, "a.jpg", "image/jpeg"), b"x" * 50)
    assert parts(uploads.upload_dir()) == [upload.temp_path]

    with django_capture_on_commit_callbacks(execute=True):
        tenant_data.rows_delete(tenant)

    assert not AssetUpload.objects.exists()
    assert parts(uploads.upload_dir()) == []


def test_a_connection_dropped_mid_chunk_changes_nothing(editor):
    upload = create(editor, b"x" * 100, "a.jpg", "image/jpeg")

    class Dropped(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            if self.tell() >= 30:
                raise OSError("connection reset by peer")
            return super().read(min(size, 30))

    with pytest.raises(ApplicationError) as cut:
        uploads.asset_upload_append(
            actor=editor, upload=upload, offset=0, length=100, stream=Dropped(b"x" * 100)
        )

    assert cut.value.code == "chunk_incomplete"
    upload.refresh_from_db()
    assert upload.received == 0
    assert parts(uploads.upload_dir()) == [upload.temp_path]

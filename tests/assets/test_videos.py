"""Videos in the asset library: upload, the probe job (Celery's machinery, and a real worker),
bad input refused with nothing half-stored, each network's warnings, and compose refusing a
video until publishing exists."""

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.assets import services, tasks, videos
from apps.assets.models import BrandAsset
from apps.networks import registry
from apps.posts import services as post_services
from apps.posts.services import PostInput
from tests.conftest import CeleryWorker, wait_until
from tests.videos import long_mp4, mp4

X = " \N{MULTIPLICATION SIGN} "


@pytest.fixture(scope="module")
def clip() -> bytes:
    return mp4(320, 240, seconds=3)


@pytest.fixture
def probes_inline(monkeypatch):
    """The probe queued on commit runs through Celery's own machinery (``apply``) in this
    process; the test with a real worker is below."""
    monkeypatch.setattr(
        tasks.video_probe, "delay", lambda asset_id: tasks.video_probe.apply((asset_id,))
    )


def upload(actor, data: bytes, name: str = "clip.mp4", **kwargs) -> services.UploadResult:
    return services.asset_upload_file(
        actor=actor, file=io.BytesIO(data), size=len(data), filename=name, **kwargs
    )


def video_file(data: bytes, name: str = "clip.mp4") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="video/mp4")


# --- Upload and the probe job ---------------------------------------------------------------------


def test_upload_stores_the_video_processing_and_the_job_fills_in_its_facts(
    editor, clip, probes_inline, stored_files, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = upload(editor, clip, "Terrace.MP4")
    asset = result.asset
    assert asset.kind == "video"
    assert asset.status == "processing"
    assert asset.content_type == "video/mp4"
    assert asset.size == len(clip)
    assert asset.thumbnail.name == ""
    assert asset.file.name.endswith(".mp4")

    for callback in queued:  # the commit: the probe job runs
        callback()

    asset.refresh_from_db()
    assert asset.status == "ready", asset.failure_reason
    assert asset.duration == pytest.approx(3, abs=0.2)
    assert (asset.width, asset.height) == (320, 240)
    assert asset.frame_rate == 25
    assert asset.video_codec == "h264"
    assert asset.audio_codec == "aac"
    assert asset.bitrate
    assert asset.bitrate > 0
    with default_storage.open(asset.thumbnail.name, "rb") as poster:
        image = Image.open(poster)
        assert image.format == "JPEG"
        assert image.size == (320, 240)
    assert len(stored_files()) == 2  # the video and its poster


def test_the_job_is_idempotent(editor, clip, probes_inline, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = upload(editor, clip).asset
    asset.refresh_from_db()
    poster = asset.thumbnail.name

    assert tasks.video_probe.apply((asset.pk,)).get() is None  # ready: left alone

    asset.refresh_from_db()
    assert asset.status == "ready"
    assert asset.thumbnail.name == poster


def test_a_video_without_sound_and_a_mov(editor, probes_inline, django_capture_on_commit_callbacks):
    silent = mp4(160, 120, seconds=2, audio=False, container="mov")

    with django_capture_on_commit_callbacks(execute=True):
        asset = upload(editor, silent, "silent.mov").asset

    asset.refresh_from_db()
    assert asset.content_type == "video/quicktime"
    assert asset.status == "ready"
    assert asset.audio_codec == ""
    assert asset.thumbnail.name  # the first frame: shorter than two seconds


def test_the_same_video_twice_is_stored_once(editor, clip, probes_inline, stored_files):
    first = upload(editor, clip)
    again = upload(editor, clip, "copy.mp4")

    assert again.duplicate
    assert again.asset.pk == first.asset.pk
    assert BrandAsset.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_probes_the_uploaded_video(editor, clip, media_root: Path, monkeypatch):
    worker = CeleryWorker("test-video-probe", MEDIA_ROOT=str(media_root)).start()
    monkeypatch.setattr(
        tasks.video_probe,
        "delay",
        lambda asset_id: tasks.video_probe.apply_async((asset_id,), queue=worker.queue),
    )
    try:
        asset = upload(editor, clip).asset  # autocommit: queued at once

        assert wait_until(
            lambda: BrandAsset.objects.get(pk=asset.pk).status != "processing", timeout=60
        )
    finally:
        worker.stop()
    asset.refresh_from_db()
    assert asset.status == "ready", asset.failure_reason
    assert (asset.width, asset.height, asset.video_codec) == (320, 240, "h264")
    assert (media_root / asset.thumbnail.name).is_file()


# --- Bad input ------------------------------------------------------------------------------------


def test_a_text_file_named_mp4_is_refused_and_nothing_is_stored(client_for, editor, stored_files):
    fake = SimpleUploadedFile("clip.mp4", b"just some notes, not a video\n" * 20, "video/mp4")

    response = client_for(editor.user).post(
        reverse("assets:upload"), {"files": fake}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 400
    assert "video (MP4 or MOV)" in response.json()["message"]
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_a_file_that_only_starts_like_an_mp4_is_refused(editor, stored_files):
    fake = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"garbage" * 100

    with pytest.raises(videos.VideoRejected) as exc:
        upload(editor, fake)

    assert exc.value.code == "truncated"
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_a_truncated_mp4_is_refused_at_upload(client_for, editor, clip, stored_files):
    half = clip[: len(clip) // 2]

    response = client_for(editor.user).post(
        reverse("assets:upload"), {"files": video_file(half)}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "truncated"
    assert "incomplete" in response.json()["message"]
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_a_four_hour_video_is_refused_with_its_duration(client_for, editor, stored_files):
    response = client_for(editor.user).post(
        reverse("assets:upload"), {"files": video_file(long_mp4())}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "too_long"
    assert "This video is 4 h 0 min long; the limit is 15 min." in response.json()["message"]
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_a_video_over_the_size_limit_is_refused(editor, clip, settings, stored_files):
    settings.ASSET_VIDEO_MAX_BYTES = 1000

    with pytest.raises(videos.VideoRejected) as exc:
        upload(editor, clip)

    assert exc.value.code == "too_large"
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_a_video_the_job_finds_too_long_is_marked_failed_with_why(
    editor, clip, settings, probes_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        asset = upload(editor, clip).asset
    settings.ASSET_VIDEO_MAX_SECONDS = 2  # the job reads the setting as it runs
    for callback in queued:
        callback()

    asset.refresh_from_db()
    assert asset.status == "failed"
    assert asset.failure_reason.startswith("This video is 3 s long; the limit is 2 s.")
    assert asset.thumbnail.name == ""


def test_a_video_ffmpeg_cannot_read_is_marked_failed_not_crashed(
    editor, clip, probes_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        asset = upload(editor, clip).asset
    # The stored bytes go bad before the job runs (a damaged disk, a hand-made file).
    path = Path(default_storage.path(asset.file.name))
    path.write_bytes(clip[:40] + bytes(len(clip) - 40))
    for callback in queued:
        callback()

    asset.refresh_from_db()
    assert asset.status == "failed"
    assert "cannot be read" in asset.failure_reason


# --- Network rules --------------------------------------------------------------------------------


def test_a_sixteen_minute_video_is_too_long_for_an_instagram_reel():
    warnings = videos.warnings_for(
        registry.video_rules(),
        duration=16 * 60,
        width=1080,
        height=1920,
        frame_rate=30,
        video_codec="h264",
        audio_codec="aac",
        size=200 * 1024 * 1024,
    )

    assert "Too long for an Instagram Reel (16 min; at most 15 min)" in warnings
    assert "Too long for a Facebook Reel (16 min; at most 1 min 30 s)" in warnings
    assert "Too long for an Instagram Story (16 min; at most 1 min)" in warnings
    assert len(warnings) == len(set(warnings))  # Instagram's two logins share one set of rules


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"duration": 2}, "Too short for an Instagram Reel (2 s; at least 3 s)"),
        ({"size": 400 * 1024 * 1024}, "Too large for an Instagram Reel (400 MB; at most 300 MB)"),
        (
            {"frame_rate": 120},
            "Too many frames per second for an Instagram Reel (120 fps; at most 60)",
        ),
        ({"width": 1920, "height": 1080}, f"Not 9:16 as a Facebook Reel must be (1920{X}1080 px)"),
        (
            {"width": 360, "height": 640},
            f"Too small for a Facebook Reel (360{X}640 px; at least 540{X}960)",
        ),
        ({"video_codec": "vp9"}, "An Instagram Reel needs H.264 or HEVC video (this is vp9)"),
        ({"audio_codec": "opus"}, "A Facebook Story needs AAC sound (this is opus)"),
    ],
)
def test_each_rule_says_what_the_network_would_refuse(facts, expected):
    base = {
        "duration": 30.0,
        "width": 1080,
        "height": 1920,
        "frame_rate": 30.0,
        "video_codec": "h264",
        "audio_codec": "aac",
        "size": 20 * 1024 * 1024,
    }
    assert videos.warnings_for(registry.video_rules(), **base) == []

    assert expected in videos.warnings_for(registry.video_rules(), **{**base, **facts})


def test_a_vertical_clip_fits_and_a_small_landscape_one_is_warned_about(
    editor, clip, probes_inline, django_capture_on_commit_callbacks
):
    vertical = mp4(1080, 1920, seconds=4, fps=10)
    with django_capture_on_commit_callbacks(execute=True):
        upright = upload(editor, vertical, "upright.mp4").asset
        small = upload(editor, clip, "small.mp4").asset
    upright.refresh_from_db()
    small.refresh_from_db()

    assert services.asset_video_warnings(asset=upright) == []
    warnings = services.asset_video_warnings(asset=small)
    assert f"Too small for a Facebook Reel (320{X}240 px; at least 540{X}960)" in warnings
    assert "Not 9:16 as a Facebook Reel must be (320 \N{MULTIPLICATION SIGN} 240 px)" in warnings


# --- The dashboard --------------------------------------------------------------------------------


def test_the_grid_and_the_page_show_processing_then_the_facts(
    client_for, editor, clip, probes_inline, django_capture_on_commit_callbacks
):
    client = client_for(editor.user)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        answer = client.post(
            reverse("assets:upload"), {"files": video_file(clip)}, HTTP_ACCEPT="application/json"
        ).json()
    assert answer["status"] == "created"
    assert answer["asset"]["status"] == "processing"
    asset_id = answer["asset"]["id"]

    grid = client.get(reverse("assets:library")).content.decode()
    page = client.get(reverse("assets:detail", args=[asset_id])).content.decode()
    assert "Processing…" in grid
    assert "Processing…" in page
    assert client.get(reverse("assets:thumbnail", args=[asset_id])).status_code == 404

    for callback in queued:
        callback()

    grid = client.get(reverse("assets:library")).content.decode()
    page = client.get(reverse("assets:detail", args=[asset_id])).content.decode()
    assert "Processing…" not in grid
    assert "0:03" in grid  # the duration badge
    assert "<video" in page
    assert "h264" in page
    assert "aac" in page
    assert "25 fps" in page
    assert "Not 9:16 as a Facebook Reel must be (320 \N{MULTIPLICATION SIGN} 240 px)" in page
    assert "Video posts are not available yet." in page
    assert client.get(reverse("assets:thumbnail", args=[asset_id])).status_code == 200


def test_a_failed_video_says_why_in_the_grid_and_on_its_page(client_for, editor, clip, settings):
    asset = upload(editor, clip).asset  # no job runs here: marked failed by hand below
    services._video_failed(asset.pk, "The video cannot be read.")
    client = client_for(editor.user)

    grid = client.get(reverse("assets:library")).content.decode()
    page = client.get(reverse("assets:detail", args=[asset.pk])).content.decode()

    assert "Failed: The video cannot be read." in grid
    assert "could not be processed" in page


def test_another_tenants_video_is_not_found(client_for, make_member, other_tenant, editor, clip):
    asset = upload(editor, clip).asset
    stranger = client_for(make_member(other_tenant, "owner").user)

    for name in ("assets:detail", "assets:file", "assets:thumbnail"):
        assert stranger.get(reverse(name, args=[asset.pk])).status_code == 404


def test_deleting_a_video_deletes_its_files(
    editor, clip, probes_inline, stored_files, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        asset = upload(editor, clip).asset
    assert len(stored_files()) == 2

    with django_capture_on_commit_callbacks(execute=True):
        services.asset_delete(actor=editor, asset=BrandAsset.objects.get(pk=asset.pk))

    assert stored_files() == []


# --- Not postable yet -----------------------------------------------------------------------------


def test_a_ready_video_can_be_chosen_for_a_post(editor, clip):
    video = upload(editor, clip).asset

    post = post_services.post_create(
        actor=editor, data=PostInput(caption="Tonight", asset_ids=[video.pk], format="reel")
    )

    assert [pa.asset for pa in post.post_assets.all()] == [video]


def test_the_compose_page_offers_a_video_once_it_is_probed(client_for, editor, clip):
    video = upload(editor, clip, "not-offered.mp4").asset
    assert video.status == "processing"

    page = client_for(editor.user).get(reverse("posts:create")).content.decode()
    assert "not-offered.mp4" not in page

    BrandAsset.objects.filter(pk=video.pk).update(status="ready")
    page = client_for(editor.user).get(reverse("posts:create")).content.decode()
    assert "not-offered.mp4" in page

"""The conversion job: a probed video a network would refuse for its codecs, container, frame
rate or bytes gets an H.264/AAC MP4 rendition (Celery's machinery, in this process), which the
public "video" URL serves and the warnings judge; a compliant video is left alone."""

import io
import itertools
from pathlib import Path

import av
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from apps.assets import images, media_urls, services, tasks, videos
from apps.assets.models import BrandAsset
from tests.conftest import CeleryWorker, wait_until
from tests.videos import mp4

RED = (255, 0, 0)
X = " \N{MULTIPLICATION SIGN} "


@pytest.fixture
def jobs_inline(monkeypatch):
    """The jobs queued on commit run through Celery's own machinery (``apply``) here."""
    monkeypatch.setattr(tasks.video_probe, "delay", lambda pk: tasks.video_probe.apply((pk,)))
    monkeypatch.setattr(
        tasks.video_transcode, "delay", lambda pk: tasks.video_transcode.apply((pk,))
    )


def upload(actor, data: bytes, name: str, capture) -> BrandAsset:
    with capture(execute=True):
        asset = services.asset_upload_file(
            actor=actor, file=io.BytesIO(data), size=len(data), filename=name
        ).asset
    asset.refresh_from_db()
    return asset


def probe_file(name: str) -> dict:
    """What FFmpeg finds in a stored file, read independently of the product's probe."""
    with default_storage.open(name, "rb") as file, av.open(file) as container:
        video = container.streams.video[0]
        frame = next(container.decode(video))
        audio = container.streams.audio[0] if container.streams.audio else None
        return {
            "format": container.format.name,
            "video": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "audio": audio.codec_context.name if audio is not None else "",
            "size": (frame.width, frame.height),
            "fps": float(video.average_rate),
            "rotation": frame.rotation,
            "duration": container.duration / av.time_base,
            "image": frame.to_image(),
        }


def top_level_boxes(name: str) -> list[bytes]:
    with default_storage.open(name, "rb") as file:
        size = default_storage.size(name)
        return [kind for kind, _, _ in videos._boxes(file, 0, size)]


def test_an_mpeg4_mov_with_pcm_sound_gets_an_h264_aac_mp4_within_the_rules(
    editor, jobs_inline, django_capture_on_commit_callbacks
):
    source = mp4(320, 240, seconds=3, container="mov", codec="mpeg4", audio_codec="pcm_s16le")
    asset = upload(editor, source, "old-camera.mov", django_capture_on_commit_callbacks)

    assert asset.status == "ready"
    assert (asset.video_codec, asset.audio_codec) == ("mpeg4", "pcm_s16le")
    assert asset.transcode_status == "done", asset.transcode_failure_reason
    assert asset.transcode_progress == 100
    found = probe_file(asset.video_rendition.name)
    assert found["video"] == "h264"
    assert found["pix_fmt"] == "yuv420p"
    assert found["audio"] == "aac"
    assert found["size"] == (320, 240)
    assert found["fps"] == 25
    assert found["duration"] == pytest.approx(3, abs=0.15)
    boxes = top_level_boxes(asset.video_rendition.name)
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # streams: the index comes first
    assert asset.rendition_facts["video_codec"] == "h264"
    assert asset.rendition_facts["size"] == default_storage.size(asset.video_rendition.name)
    # What the networks would still refuse is judged on the rendition: its shape, not codecs.
    warnings = services.asset_video_warnings(asset=asset)
    assert warnings
    assert not [w for w in warnings if "needs H.264" in w or "needs AAC" in w]
    assert "Not 9:16 as a Facebook Reel must be (320 \N{MULTIPLICATION SIGN} 240 px)" in warnings
    # The original is kept; the public "video" URL serves the rendition, as MP4.
    assert default_storage.exists(asset.file.name)
    url = media_urls.public_url(asset=asset, variant="video")
    assert url.endswith("/video.mp4")
    response = Client().get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    with default_storage.open(asset.video_rendition.name, "rb") as rendition:
        assert b"".join(response.streaming_content) == rendition.read()


def test_a_90_fps_video_is_capped_at_the_lowest_max_fps(
    editor, jobs_inline, django_capture_on_commit_callbacks
):
    source = mp4(320, 240, seconds=2, fps=90)
    asset = upload(editor, source, "slow-mo.mp4", django_capture_on_commit_callbacks)

    assert asset.frame_rate == 90
    assert asset.transcode_status == "done", asset.transcode_failure_reason
    found = probe_file(asset.video_rendition.name)
    assert (found["video"], found["audio"]) == ("h264", "aac")
    assert found["fps"] == 60
    assert found["duration"] == pytest.approx(2, abs=0.1)
    assert not [w for w in services.asset_video_warnings(asset=asset) if "frames per second" in w]


def test_a_large_video_is_scaled_to_1920_on_the_long_side_keeping_its_shape():
    plan = videos.rendition_plan(
        (), width=3840, height=2160, rotation=0, frame_rate=30.0, duration=10.0
    )
    upright = videos.rendition_plan(
        (), width=2160, height=3840, rotation=90, frame_rate=30.0, duration=10.0
    )
    odd = videos.rendition_plan(
        (), width=2001, height=999, rotation=0, frame_rate=None, duration=None
    )

    assert (plan.width, plan.height) == (1920, 1080)
    assert (upright.width, upright.height) == (1920, 1080)  # turned: landscape as shown
    assert (odd.width, odd.height) == (1920, 958)  # even numbers, the ratio kept
    assert odd.fps == 30


def test_a_phone_video_with_a_rotation_flag_is_turned_upright(
    editor, jobs_inline, django_capture_on_commit_callbacks
):
    # Coded 320 x 240 with the red square top-left; the flag says "turn 90 degrees clockwise".
    source = mp4(320, 240, seconds=2, codec="mpeg4", rotation=-90)
    asset = upload(editor, source, "phone.mp4", django_capture_on_commit_callbacks)

    assert (asset.width, asset.height) == (240, 320)  # the probe reports it as shown
    assert asset.metadata["rotation"] == 90
    with default_storage.open(asset.thumbnail.name, "rb") as poster:
        from PIL import Image

        assert Image.open(poster).size == (240, 320)
    assert asset.transcode_status == "done", asset.transcode_failure_reason
    found = probe_file(asset.video_rendition.name)
    assert found["size"] == (240, 320)
    assert found["rotation"] == 0  # the pixels are upright; no flag is written again
    image = found["image"]
    top_right = image.getpixel((image.width - 5, 5))
    top_left = image.getpixel((5, 5))
    assert all(abs(a - b) < 40 for a, b in zip(top_right, RED, strict=True)), top_right
    assert not all(abs(a - b) < 40 for a, b in zip(top_left, RED, strict=True)), top_left


def test_a_compliant_h264_aac_mp4_is_not_converted(
    editor, jobs_inline, stored_files, django_capture_on_commit_callbacks
):
    asset = upload(editor, mp4(320, 240, seconds=3), "fine.mp4", django_capture_on_commit_callbacks)

    assert asset.status == "ready"
    assert asset.transcode_status == ""
    assert asset.video_rendition.name == ""
    assert services.asset_video_file(asset=asset) == (asset.file.name, "video/mp4")
    assert len(stored_files()) == 2  # the video and its poster
    assert tasks.video_transcode.apply((asset.pk,)).get() is None  # nothing to convert


def test_a_compliant_video_in_a_mov_is_converted_to_mp4(
    editor, jobs_inline, django_capture_on_commit_callbacks
):
    asset = upload(
        editor,
        mp4(320, 240, seconds=3, container="mov"),
        "clip.mov",
        django_capture_on_commit_callbacks,
    )

    assert asset.content_type == "video/quicktime"
    assert asset.transcode_status == "done"
    assert probe_file(asset.video_rendition.name)["format"].startswith("mov,mp4")
    assert services.asset_video_file(asset=asset) == (asset.video_rendition.name, "video/mp4")


def test_running_the_job_again_changes_nothing(
    editor, jobs_inline, stored_files, django_capture_on_commit_callbacks
):
    source = mp4(320, 240, seconds=3, codec="mpeg4")
    asset = upload(editor, source, "clip.mp4", django_capture_on_commit_callbacks)
    files = stored_files()
    rendition = asset.video_rendition.name

    assert tasks.video_transcode.apply((asset.pk,)).get() is None

    asset.refresh_from_db()
    assert asset.transcode_status == "done"
    assert asset.video_rendition.name == rendition
    assert stored_files() == files


def test_progress_is_written_as_the_job_goes_in_steps(
    editor, jobs_inline, monkeypatch, django_capture_on_commit_callbacks
):
    seen: list[int] = []
    real = videos.transcode
    ids: list[int] = []

    def watched(source, destination, *, all_rules, on_progress):
        def progress(percent):
            on_progress(percent)
            seen.append(BrandAsset.objects.get(pk=ids[0]).transcode_progress)

        return real(source, destination, all_rules=all_rules, on_progress=progress)

    monkeypatch.setattr(videos, "transcode", watched)
    source = mp4(320, 240, seconds=4, codec="mpeg4")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        asset = services.asset_upload_file(
            actor=editor, file=io.BytesIO(source), size=len(source), filename="clip.mp4"
        ).asset
    ids.append(asset.pk)
    for callback in queued:
        with django_capture_on_commit_callbacks(execute=True):
            callback()

    asset.refresh_from_db()
    assert asset.transcode_status == "done"
    assert asset.transcode_progress == 100
    assert seen == sorted(seen)  # it only moves forward
    middle = sorted(set(seen) - {0, 100})
    assert len(middle) >= 5  # it moved through the conversion
    assert all(b - a >= services.PROGRESS_STEP for a, b in itertools.pairwise(middle))


def test_the_page_and_the_grid_show_the_conversion_then_what_is_sent(
    client_for, editor, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.video_probe, "delay", lambda pk: tasks.video_probe.apply((pk,)))
    converting: list[int] = []
    monkeypatch.setattr(tasks.video_transcode, "delay", converting.append)  # held back
    source = mp4(320, 240, seconds=3, codec="mpeg4")
    asset = upload(editor, source, "clip.mp4", django_capture_on_commit_callbacks)
    BrandAsset.objects.filter(pk=asset.pk).update(transcode_progress=40)
    client = client_for(editor.user)

    grid = client.get(reverse("assets:library")).content.decode()
    page = client.get(reverse("assets:detail", args=[asset.pk])).content.decode()
    assert "Converting for Facebook and Instagram… 40 %" in grid
    assert "Converting for Facebook and Instagram… 40 %" in page
    assert '<meta http-equiv="refresh"' in page
    assert "needs H.264" not in page  # what the conversion fixes is not warned about meanwhile

    assert converting == [asset.pk]
    tasks.video_transcode.apply((asset.pk,))

    page = client.get(reverse("assets:detail", args=[asset.pk])).content.decode()
    assert "Converting" not in page
    assert '<meta http-equiv="refresh"' not in page
    assert f"MP4 converted for the networks: 320{X}240 px, h264/aac, 25 fps" in page


def test_a_video_that_cannot_be_converted_is_marked_failed_and_says_why(
    client_for, editor, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.video_probe, "delay", lambda pk: tasks.video_probe.apply((pk,)))
    held: list[int] = []
    monkeypatch.setattr(tasks.video_transcode, "delay", held.append)
    source = mp4(320, 240, seconds=3, codec="mpeg4")
    asset = upload(editor, source, "clip.mp4", django_capture_on_commit_callbacks)
    # The stored bytes go bad between the probe and the conversion.
    path = Path(default_storage.path(asset.file.name))
    path.write_bytes(source[:40] + bytes(len(source) - 40))

    assert tasks.video_transcode.apply((asset.pk,)).get() == "failed"

    asset.refresh_from_db()
    assert asset.status == "ready"  # the video stays in the library, as uploaded
    assert asset.transcode_status == "failed"
    assert asset.transcode_failure_reason.startswith("The video could not be converted:")
    assert asset.video_rendition.name == ""
    assert services.asset_video_file(asset=asset) == (asset.file.name, "video/mp4")
    assert any("needs H.264" in w for w in services.asset_video_warnings(asset=asset))
    grid = client_for(editor.user).get(reverse("assets:library")).content.decode()
    assert "Conversion failed: The video could not be converted:" in grid


def test_storage_errors_are_retried_a_bounded_number_of_times_then_marked_failed(
    editor, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.video_probe, "delay", lambda pk: tasks.video_probe.apply((pk,)))
    monkeypatch.setattr(tasks.video_transcode, "delay", lambda pk: None)
    asset = upload(
        editor, mp4(160, 120, seconds=1, codec="mpeg4"), "c.mp4", django_capture_on_commit_callbacks
    )
    runs: list[int] = []

    def storage_down(*args, **kwargs):
        runs.append(1)
        raise OSError("the object store is unreachable")

    monkeypatch.setattr(videos, "transcode", storage_down)

    assert tasks.video_transcode.apply((asset.pk,)).get() == "failed"

    asset.refresh_from_db()
    assert len(runs) == tasks.TRANSCODE_RETRIES + 1
    assert asset.transcode_status == "failed"
    assert asset.transcode_failure_reason.startswith("The converted video could not be stored.")


def test_an_interrupted_run_leaves_nothing_visible_and_the_next_run_finishes(
    editor, monkeypatch, stored_files, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.video_probe, "delay", lambda pk: tasks.video_probe.apply((pk,)))
    monkeypatch.setattr(tasks.video_transcode, "delay", lambda pk: None)
    asset = upload(
        editor, mp4(320, 240, seconds=3, codec="mpeg4"), "c.mp4", django_capture_on_commit_callbacks
    )
    before = stored_files()
    real = videos.transcode

    class Killed(BaseException):
        """Stands for the worker's process dying halfway (SIGKILL, out of memory)."""

    def dies_halfway(source, destination, *, all_rules, on_progress):
        def progress(percent):
            on_progress(percent)
            if percent >= 50:
                raise Killed

        return real(source, destination, all_rules=all_rules, on_progress=progress)

    monkeypatch.setattr(videos, "transcode", dies_halfway)
    with pytest.raises(Killed):
        services.asset_video_transcode(asset_id=asset.pk)

    asset.refresh_from_db()
    assert asset.transcode_status == "converting"
    assert asset.transcode_progress >= 45
    assert asset.video_rendition.name == ""
    assert stored_files() == before  # nothing half-written in storage
    # A crash while storing it left a partial file under the usual name: the redelivered job
    # stores a whole one and deletes the partial one.
    final = images.storage_name(
        asset.sha256, "mp4", namespace=f"t{asset.tenant_id}", variant="video"
    )
    default_storage.save(final, ContentFile(b"\x00\x00\x00\x18ftypisom partial"))
    monkeypatch.setattr(videos, "transcode", real)

    with django_capture_on_commit_callbacks(execute=True):
        services.asset_video_transcode(asset_id=asset.pk)

    asset.refresh_from_db()
    assert asset.transcode_status == "done"
    assert probe_file(asset.video_rendition.name)["video"] == "h264"
    assert not default_storage.exists(final) or asset.video_rendition.name == final
    assert len(stored_files()) == len(before) + 1  # the partial file is gone


def test_a_conversion_interrupted_too_often_is_given_up(
    editor, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.video_probe, "delay", lambda pk: tasks.video_probe.apply((pk,)))
    monkeypatch.setattr(tasks.video_transcode, "delay", lambda pk: None)
    asset = upload(
        editor, mp4(160, 120, seconds=1, codec="mpeg4"), "c.mp4", django_capture_on_commit_callbacks
    )
    BrandAsset.objects.filter(pk=asset.pk).update(
        transcode_attempts=services.TRANSCODE_MAX_ATTEMPTS
    )

    assert tasks.video_transcode.apply((asset.pk,)).get() == "failed"

    asset.refresh_from_db()
    assert "interrupted" in asset.transcode_failure_reason


def test_deleting_a_converted_video_deletes_its_rendition(
    editor, jobs_inline, stored_files, django_capture_on_commit_callbacks
):
    asset = upload(
        editor, mp4(160, 120, seconds=1, codec="mpeg4"), "c.mp4", django_capture_on_commit_callbacks
    )
    assert len(stored_files()) == 3  # the video, its poster, its rendition

    with django_capture_on_commit_callbacks(execute=True):
        services.asset_delete(actor=editor, asset=asset)

    assert stored_files() == []


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_probes_then_converts_the_uploaded_video(
    editor, media_root: Path, monkeypatch
):
    worker = CeleryWorker("test-video-transcode", MEDIA_ROOT=str(media_root)).start()
    for task in (tasks.video_probe, tasks.video_transcode):
        monkeypatch.setattr(
            task,
            "delay",
            lambda asset_id, task=task: task.apply_async((asset_id,), queue=worker.queue),
        )
    source = mp4(320, 240, seconds=2, container="mov", codec="mpeg4", audio_codec="pcm_s16le")
    try:
        asset = services.asset_upload_file(
            actor=editor, file=io.BytesIO(source), size=len(source), filename="c.mov"
        ).asset  # autocommit: the probe is queued at once, the conversion by the probe

        assert wait_until(
            lambda: BrandAsset.objects.get(pk=asset.pk).transcode_status in ("done", "failed"),
            timeout=90,
        )
    finally:
        worker.stop()
    asset.refresh_from_db()
    assert asset.transcode_status == "done", asset.transcode_failure_reason
    found = probe_file(asset.video_rendition.name)
    assert (found["video"], found["audio"], found["size"]) == ("h264", "aac", (320, 240))

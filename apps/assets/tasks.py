from celery import Task, shared_task

from apps.assets import services, uploads

TRANSCODE_RETRIES = 3


@shared_task(name="assets.video_probe")
def video_probe(asset_id: int) -> str | None:
    """Probe one uploaded video (queued on commit by ``asset_video_upload``); safe to run twice:
    a video already ready or failed is left alone."""
    asset = services.asset_video_probe(asset_id=asset_id)
    return asset.status if asset is not None else None


@shared_task(name="assets.video_transcode", bind=True, max_retries=TRANSCODE_RETRIES)
def video_transcode(self: Task, asset_id: int) -> str | None:
    """Convert one probed video to its H.264/AAC rendition (queued on commit by the probe);
    safe to run twice: a video no longer converting is left alone. A storage error is retried
    with exponential backoff (30 s, 60 s, 120 s), then the conversion is marked failed."""
    try:
        asset = services.asset_video_transcode(asset_id=asset_id)
    except OSError as exc:
        if self.request.retries >= TRANSCODE_RETRIES:
            asset = services.asset_video_transcode_failed(
                asset_id=asset_id,
                reason="The converted video could not be stored. Upload the video again later.",
            )
        else:
            raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
    return asset.transcode_status if asset is not None else None


@shared_task(name="assets.upload_sessions_expire")
def upload_sessions_expire() -> int:
    """Hourly: expire unfinished resumable uploads and delete their temporary files."""
    return uploads.upload_sessions_expire()

from celery import shared_task

from apps.assets import services, uploads


@shared_task(name="assets.video_probe")
def video_probe(asset_id: int) -> str | None:
    """Probe one uploaded video (queued on commit by ``asset_video_upload``); safe to run twice:
    a video already ready or failed is left alone."""
    asset = services.asset_video_probe(asset_id=asset_id)
    return asset.status if asset is not None else None


@shared_task(name="assets.upload_sessions_expire")
def upload_sessions_expire() -> int:
    """Hourly: expire unfinished resumable uploads and delete their temporary files."""
    return uploads.upload_sessions_expire()

"""Signed, expiring public URLs for the files Meta must fetch (SPEC 5.3).

With local storage the URL points at this site (``PUBLIC_BASE_URL``) and carries a signed token
naming the asset and the variant; with an S3-compatible store it is the store's own presigned URL.
A wrong or expired token answers 403 and reveals nothing.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.urls import reverse

from apps.assets.models import BrandAsset

SALT = "apps.assets.public-media"
# "video": the file a network is sent for a video (its H.264/AAC rendition once converted, the
# original until then; services.asset_video_file).
VIDEO_VARIANT = "video"
VARIANTS = ("original", "instagram", VIDEO_VARIANT)


@dataclass(frozen=True)
class MediaToken:
    asset_id: int
    variant: str


def uses_presigned_urls() -> bool:
    return hasattr(default_storage, "bucket_name")


def public_url(*, asset: BrandAsset, variant: str = "original") -> str:
    """An absolute URL that an anonymous client (Meta) can fetch until it expires."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown media variant {variant!r}")
    if variant == "instagram":
        from apps.assets.services import asset_instagram_rendition

        name = asset_instagram_rendition(asset=asset)
    elif variant == VIDEO_VARIANT:
        from apps.assets.services import asset_video_file

        name, _ = asset_video_file(asset=asset)
    else:
        name = asset.file.name
    if uses_presigned_urls():
        return default_storage.url(name)
    token = signing.dumps({"a": asset.pk, "v": variant}, salt=SALT, compress=True)
    extension = "jpg" if variant == "instagram" else name.rsplit(".", 1)[-1]
    base = "video" if asset.is_video else "image"
    path = reverse("media:public", kwargs={"token": token, "filename": f"{base}.{extension}"})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def read_token(token: str) -> MediaToken | None:
    """The asset and variant a token names, or None when it is forged, altered or expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.SIGNED_MEDIA_URL_TTL_SECONDS)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if (
        not isinstance(data, dict)
        or data.get("v") not in VARIANTS
        or not isinstance(data.get("a"), int)
    ):
        return None
    return MediaToken(asset_id=data["a"], variant=data["v"])

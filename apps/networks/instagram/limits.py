"""Instagram's feed limits (Meta: "Content Publishing", image specifications), written once:
validation, the compose page, AI captions and the asset pipeline read them from here."""

from apps.networks.base import ImageRules, Limits

IMAGE_RULES = ImageRules(
    network="Instagram",
    min_aspect=4 / 5,  # portrait limit, 0.8
    min_aspect_label="4:5",
    max_aspect=1.91,  # landscape limit, 1.91:1
    max_aspect_label="1.91:1",
    aspect_tolerance=0.005,  # rounding of pixel sizes, e.g. 1080 x 565
    min_width=320,
    max_width=1440,  # Meta scales wider images down; we send at most this
    max_height=round(1440 / (4 / 5)),  # 1800
    max_bytes=8 * 1024 * 1024,
    formats=("image/jpeg",),
    jpeg_quality=90,
    min_jpeg_quality=60,
    rendition="instagram",  # BrandAsset.instagram_rendition, made on first use
)

LIMITS = Limits(
    caption_chars=2200,
    caption_shown=125,  # the feed shows about this much before "… more"
    hashtags=30,
    mentions=20,
    media_min=1,
    media_max=10,  # a carousel: 2 to 10
    supports_link=False,  # links in captions are not clickable
    suggested_hashtags=30,
    image=IMAGE_RULES,
)

"""Threads' limits (Meta: Threads API, "Posts" and "Media specifications"), written once:
validation, the compose page, AI captions and the asset pipeline read them from here."""

from apps.networks.base import ImageRules, Limits

TEXT_CHARS = 500
CAROUSEL_MIN = 2
CAROUSEL_MAX = 20

IMAGE_RULES = ImageRules(
    network="Threads",
    min_aspect=1 / 10,  # Threads takes up to 10:1 either way
    min_aspect_label="1:10",
    max_aspect=10.0,
    max_aspect_label="10:1",
    aspect_tolerance=0.005,
    min_width=320,
    max_width=1440,
    max_height=14400,
    max_bytes=8 * 1024 * 1024,
    formats=("image/jpeg", "image/png"),
    rendition="",  # the original is sent: Threads takes JPEG and PNG as they are
)

LIMITS = Limits(
    caption_chars=TEXT_CHARS,
    caption_shown=TEXT_CHARS,  # Threads shows the whole post
    hashtags=None,  # one topic tag shows as a tag; more are plain text, not refused
    mentions=None,
    media_min=0,
    media_max=CAROUSEL_MAX,
    supports_link=True,  # a link in the text is clickable (and gets a preview card)
    suggested_hashtags=1,
    image=IMAGE_RULES,
)

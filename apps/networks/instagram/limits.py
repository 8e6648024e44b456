"""Instagram's feed limits (Meta: "Content Publishing", image specifications), written once:
validation, the compose page, AI captions and the asset pipeline read them from here."""

from apps.networks.base import FEED, REEL, STORY, ImageRules, Limits, VideoRules

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

# A Story photo: as the feed's, but as tall as a phone's screen (Meta: 9:16 recommended for
# Stories); the same JPEG rendition is sent (at most 1440 x 1800, the ratio kept).
STORY_IMAGE_RULES = ImageRules(
    network="Instagram",
    min_aspect=9 / 16,
    min_aspect_label="9:16",
    max_aspect=IMAGE_RULES.max_aspect,
    max_aspect_label=IMAGE_RULES.max_aspect_label,
    aspect_tolerance=IMAGE_RULES.aspect_tolerance,
    min_width=IMAGE_RULES.min_width,
    max_width=IMAGE_RULES.max_width,
    max_height=IMAGE_RULES.max_height,
    max_bytes=IMAGE_RULES.max_bytes,
    formats=IMAGE_RULES.formats,
    rendition=IMAGE_RULES.rendition,
)

# Meta, "IG User Media", Reel specifications
# (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#reel-specifications):
# MOV or MP4, HEVC or H.264, AAC audio, 23-60 fps, 3 s to 15 min, at most 300 MB, 9:16
# recommended (other ratios are cropped or letterboxed).
REEL_RULES = VideoRules(
    network="Instagram",
    format="Reel",
    min_seconds=3,
    max_seconds=15 * 60,
    max_bytes=300 * 1024 * 1024,
    max_fps=60,
    aspect_required=False,
)
# The same page, Story specifications: 3 to 60 s, at most 100 MB, 9:16 recommended.
STORY_RULES = VideoRules(
    network="Instagram",
    format="Story",
    min_seconds=3,
    max_seconds=60,
    max_bytes=100 * 1024 * 1024,
    max_fps=60,
    aspect_required=False,
)

# The same page, carousel specifications: a carousel holds 2 to 10 images and videos; a video
# item (media_type=VIDEO, is_carousel_item=true) is 3 to 60 s, at most 100 MB, with the Reel's
# codecs and frame rates; Meta crops the items to the carousel's first item's ratio (1:1 or 4:5
# recommended). The sandbox checks the same (sandbox/video.py, IG_CAROUSEL_VIDEO).
CAROUSEL_VIDEO_RULES = VideoRules(
    network="Instagram",
    format="carousel video",
    min_seconds=3,
    max_seconds=60,
    max_bytes=100 * 1024 * 1024,
    max_fps=60,
    aspect=1.0,
    aspect_label="1:1",
    aspect_required=False,
)
CAROUSEL_MIN = 2
# Meta: "collaborators: up to 3 usernames" on images, carousels and Reels (not Stories).
COLLABORATORS_MAX = 3

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
    videos=(REEL_RULES, STORY_RULES),  # the library's warnings; carousel items: validate
    formats=(FEED, REEL, STORY),
    first_comment=True,
    collaborators_max=COLLABORATORS_MAX,
    location=True,
    alt_text=True,
)

"""Facebook Pages' video rules, written once: the asset library's warnings read them from here
(nothing publishes video yet)."""

from apps.networks.base import VideoRules

# Meta, "Reels Publishing API", video specifications
# (https://developers.facebook.com/docs/video-api/guides/reels-publishing): MP4 (H.264/HEVC,
# AAC), 3 to 90 s, 9:16, at least 540 x 960 (1080 x 1920 recommended), 24-60 fps.
REEL_RULES = VideoRules(
    network="Facebook",
    format="Reel",
    min_seconds=3,
    max_seconds=90,
    max_fps=60,
    min_width=540,
    min_height=960,
    aspect_required=True,
)
# Meta, "Page Stories API" (https://developers.facebook.com/docs/page-stories-api): a video
# story is 3 to 60 s, 9:16 recommended, at least 540 x 960.
STORY_RULES = VideoRules(
    network="Facebook",
    format="Story",
    min_seconds=3,
    max_seconds=60,
    max_fps=60,
    min_width=540,
    min_height=960,
    aspect_required=False,
)
VIDEO_RULES = (REEL_RULES, STORY_RULES)

"""What Instagram refuses of a post, per format (a feed post, a Reel, a Story), and what the
preview notes about it. Whether the format, a first comment, collaborators or a location are
taken at all is checked generically from ``LIMITS`` by the posts app: not repeated here."""

import dataclasses
import math
from typing import TYPE_CHECKING

from apps.assets.images import image_check
from apps.assets.videos import asset_video_check
from apps.networks.base import REEL, STORY, ImageRules, PostContent, Problem, VideoRules
from apps.networks.instagram.limits import (
    CAROUSEL_MIN,
    CAROUSEL_VIDEO_RULES,
    IMAGE_RULES,
    LIMITS,
    REEL_RULES,
    STORY_IMAGE_RULES,
    STORY_RULES,
)
from apps.networks.text import hashtags, mentions

if TYPE_CHECKING:
    from apps.assets.models import BrandAsset


def _name(asset: "BrandAsset") -> str:
    return f"“{asset.original_filename}”"


def _image_problems(
    asset: "BrandAsset", what: str = "", rules: ImageRules = IMAGE_RULES
) -> list[Problem]:
    return [
        Problem("image_unfit", f"{what}{_name(asset)}: {reason}", "assets")
        for reason in image_check(
            rules=rules,
            width=asset.width,
            height=asset.height,
            size=asset.size,
            content_type=asset.content_type,
        )
    ]


def _video_problems(asset: "BrandAsset", rules: VideoRules) -> list[Problem]:
    """The video against ``rules``; its ratio is only recommended (Meta crops or letterboxes),
    so it is the preview's note, not a problem."""
    if asset.status == "failed":
        return [Problem("video_unfit", f"{_name(asset)} could not be read as a video.", "assets")]
    if asset.duration is None or not asset.width:
        return [
            Problem(
                "video_processing",
                f"{_name(asset)} is still being processed; wait until it is ready.",
                "assets",
            )
        ]
    any_ratio = dataclasses.replace(rules, aspect_tolerance=math.inf)
    return [
        Problem("video_unfit", f"{_name(asset)}: {reason}.", "assets")
        for reason in asset_video_check(rules=any_ratio, asset=asset)
    ]


def _caption_problems(caption: str) -> list[Problem]:
    problems = []
    if len(caption) > LIMITS.caption_chars:
        problems.append(
            Problem(
                "caption_too_long",
                f"The caption is {len(caption)} characters; Instagram allows "
                f"{LIMITS.caption_chars}.",
                "caption",
            )
        )
    if LIMITS.hashtags is not None and len(hashtags(caption)) > LIMITS.hashtags:
        problems.append(
            Problem(
                "too_many_hashtags",
                f"{len(hashtags(caption))} hashtags; Instagram allows {LIMITS.hashtags}.",
                "caption",
            )
        )
    if LIMITS.mentions is not None and len(mentions(caption)) > LIMITS.mentions:
        problems.append(
            Problem(
                "too_many_mentions",
                f"{len(mentions(caption))} mentions; Instagram allows {LIMITS.mentions}.",
                "caption",
            )
        )
    return problems


def _reel_problems(content: PostContent) -> list[Problem]:
    assets = content.assets
    if len(assets) != 1 or not assets[0].is_video:
        return [Problem("reel_one_video", "An Instagram Reel is exactly one video.", "assets")]
    problems = _video_problems(assets[0], REEL_RULES)
    cover = content.options.cover
    if cover is not None:
        if cover.is_video:
            problems.append(
                Problem("cover_not_image", f"The Reel's cover {_name(cover)} is a video.", "cover")
            )
        else:
            problems += [
                dataclasses.replace(p, field="cover")
                for p in _image_problems(cover, "The Reel's cover ")
            ]
    offset = content.options.cover_offset_ms
    duration = assets[0].duration
    if offset is not None and duration is not None and offset >= duration * 1000:
        problems.append(
            Problem(
                "cover_offset",
                f"The cover frame at {offset / 1000:g} s is past the end of the video "
                f"({duration:g} s).",
                "cover_offset_ms",
            )
        )
    return problems


def _story_problems(content: PostContent) -> list[Problem]:
    problems = []
    assets = content.assets
    if len(assets) != 1:
        problems.append(
            Problem(
                "story_one_item",
                f"An Instagram Story is exactly one photo or video ({len(assets)} chosen).",
                "assets",
            )
        )
    elif assets[0].is_video:
        problems += _video_problems(assets[0], STORY_RULES)
    else:
        problems += _image_problems(assets[0], rules=STORY_IMAGE_RULES)
    if content.caption.strip():
        problems.append(
            Problem(
                "story_caption",
                "Instagram Stories carry no caption: remove it for Instagram (or write the "
                "text into the image).",
                "caption",
            )
        )
    options = content.options
    if options.collaborators:
        problems.append(
            Problem(
                "story_collaborators",
                "Instagram Stories cannot invite collaborators.",
                "collaborators",
            )
        )
    if options.location_id:
        problems.append(
            Problem("story_location", "Instagram Stories cannot tag a location.", "location_id")
        )
    return problems


def _feed_problems(content: PostContent) -> list[Problem]:
    assets = content.assets
    problems = []
    if len(assets) < LIMITS.media_min:
        problems.append(
            # The words the posts app's tests and forms know (a video counts too).
            Problem("image_required", "An Instagram post needs at least one image.", "assets")
        )
    if len(assets) > LIMITS.media_max:
        problems.append(
            Problem(
                "too_many_images",
                f"A carousel holds at most {LIMITS.media_max} photos and videos "
                f"({len(assets)} chosen).",
                "assets",
            )
        )
    carousel = len(assets) >= CAROUSEL_MIN
    for asset in assets:
        if not asset.is_video:
            problems += _image_problems(asset)
        else:
            problems += _video_problems(asset, CAROUSEL_VIDEO_RULES if carousel else REEL_RULES)
    return problems


def content_problems(content: PostContent) -> list[Problem]:
    """Everything Instagram would refuse of ``content`` in its format."""
    if content.format == STORY:
        return _story_problems(content)
    problems = _caption_problems(content.caption)
    if content.format == REEL:
        return problems + _reel_problems(content)
    return problems + _feed_problems(content)


def single_video(content: PostContent) -> bool:
    """A feed post of one video: Meta retired feed VIDEO, so it goes out as a Reel shared to
    the feed."""
    return len(content.assets) == 1 and content.assets[0].is_video


def goes_as_reel(content: PostContent) -> bool:
    return content.format == REEL or (content.format != STORY and single_video(content))


def preview_layout(content: PostContent) -> str:
    if content.format == STORY:
        return "story"
    if goes_as_reel(content):
        return "reel"
    return "carousel" if len(content.assets) > 1 else "photo"


def preview_notes(content: PostContent) -> list[str]:
    notes = []
    if content.link:
        notes.append("Instagram does not make links in captions clickable.")
    if content.format == STORY:
        notes.append("Stories disappear after 24 hours.")
    elif content.format != REEL and single_video(content):
        notes.append(
            "A single video goes out as a Reel, also shared to the feed grid (Instagram no "
            "longer publishes plain feed videos)."
        )
    elif content.format == REEL:
        if content.options.share_to_feed:
            notes.append("Also shared to the feed grid.")
        else:
            notes.append("Shown in the Reels tab only, not in the feed grid.")
    if content.format in (REEL, STORY) or single_video(content):
        video = next((a for a in content.assets if a.is_video), None)
        if video is not None and video.width and video.height:
            ratio = video.width / video.height
            if not math.isclose(ratio, 9 / 16, abs_tol=REEL_RULES.aspect_tolerance):
                shape = "16:9" if math.isclose(ratio, 16 / 9, abs_tol=0.01) else f"{ratio:.2f}:1"
                notes.append(f"Shown 9:16; the video is {shape}, Instagram letterboxes it.")
    if content.options.collaborators and content.format != STORY:
        invited = ", ".join("@" + name.lstrip("@") for name in content.options.collaborators)
        notes.append(f"{invited} will be invited as collaborators.")
    return notes

"""Facebook Pages' video and Stories (issue 15): what a post is (a Reel, a Page video, a photo
or video Story), the rules a video must meet, and the publishing steps and reconciliation of
each. ``network.FacebookPage`` dispatches here; text and photo posts stay there.

Progress in the publication's row: ``container_id`` is the video's id (a Reel, a video Story,
a Page video) or the unpublished photo's (a photo Story), recorded as soon as Facebook gives
it; ``child_ids`` holds the video's id once its finish call was answered, so a finish is never
sent twice (the video's status says so too).
"""

import math
import re
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from apps.assets.media_urls import VIDEO_VARIANT, public_url
from apps.networks.base import (
    FEED,
    REEL,
    STORY,
    Fail,
    Journal,
    Outcome,
    PostContent,
    Problem,
    Published,
    VideoRules,
    Wait,
    Window,
)
from apps.networks.errors import OutcomeUnknown
from apps.networks.meta import neutral, outcome_for
from apps.networks.meta_facebook.limits import REEL_RULES, STORY_RULES
from apps.networks.steps import quota_full, unclaimed
from apps.social import graph

if TYPE_CHECKING:
    from apps.assets.models import BrandAsset
    from apps.posts.models import Publication

# What one post is on Facebook; "" for a text, link or photo post (network.py's own).
KIND_REEL = "reel"
KIND_PAGE_VIDEO = "page_video"
KIND_PHOTO_STORY = "photo_story"
KIND_VIDEO_STORY = "video_story"
PHASED: dict[str, graph.VideoEdge] = {KIND_REEL: "video_reels", KIND_VIDEO_STORY: "video_stories"}
WHAT = {
    KIND_REEL: "Reel",
    KIND_VIDEO_STORY: "video Story",
    KIND_PAGE_VIDEO: "video",
    KIND_PHOTO_STORY: "Story",
}
STATUS_CALL = "GET /{id}?fields=status"
# Facebook lists a Page video only once it is processed: a video posted this recently and not
# listed yet may still come, so reconciliation says "cannot tell yet" rather than "not there".
PAGE_VIDEO_LISTING_GRACE = timedelta(minutes=10)
_REELS_LIMIT = re.compile(r"limit of (\d+)\D+Reels", re.IGNORECASE)


def kind_of(content: PostContent) -> str:
    """Which video or Story post this is; "" for the text, link and photo posts of the feed."""
    videos = [a for a in content.assets if a.is_video]
    if content.format == REEL:
        return KIND_REEL
    if content.format == STORY:
        return KIND_VIDEO_STORY if videos else KIND_PHOTO_STORY
    if content.format == FEED and videos:
        return KIND_PAGE_VIDEO
    return ""


# --- validation ------------------------------------------------------------------------------


def _name(asset: "BrandAsset") -> str:
    return f"“{asset.original_filename}”"


def _video_problems(asset: "BrandAsset", rules: VideoRules, code: str) -> list[Problem]:
    """What ``rules`` refuse of the video (a recommended, not required, aspect is no refusal:
    Facebook crops or letterboxes)."""
    from apps.assets.videos import asset_video_check  # imports PyAV: only here

    if asset.status != asset.Status.READY:
        return [
            Problem(
                "video_not_ready",
                f"{_name(asset)} is still being processed in the library (or could not be "
                "read): choose it once it is ready.",
                "assets",
            )
        ]
    if not rules.aspect_required:
        rules = replace(rules, aspect_tolerance=math.inf)
    found = asset_video_check(rules=rules, asset=asset)
    return [Problem(code, f"{_name(asset)}: {message}.", "assets") for message in found]


def validate(content: PostContent) -> list[Problem]:
    """The rules of Reels, Stories and video posts; [] for a text or photo post (checked by
    ``network.FacebookPage``)."""
    assets = list(content.assets)
    videos = [a for a in assets if a.is_video]
    photos = [a for a in assets if not a.is_video]
    problems: list[Problem] = []
    if content.format == REEL:
        if len(assets) != 1 or not videos:
            problems.append(
                Problem(
                    "reel_one_video",
                    "A Facebook Reel is exactly one video: choose one video and no photos.",
                    "assets",
                )
            )
        else:
            problems += _video_problems(videos[0], REEL_RULES, "reel_video")
    elif content.format == STORY:
        if len(assets) != 1:
            problems.append(
                Problem(
                    "story_one_media",
                    "A Facebook Story is one photo or one video: choose exactly one.",
                    "assets",
                )
            )
        elif videos:
            problems += _video_problems(videos[0], STORY_RULES, "story_video")
        if content.caption.strip() or content.link:
            problems.append(
                Problem(
                    "story_no_text",
                    "Facebook Stories carry no text or link: leave the text for Facebook empty "
                    "(put the words on the image or video itself).",
                    "caption",
                )
            )
        if content.options.first_comment.strip():
            problems.append(
                Problem(
                    "story_no_comment",
                    "Facebook Stories take no comments: remove the first comment.",
                    "first_comment",
                )
            )
    elif videos and photos:
        problems.append(
            Problem(
                "video_with_photos",
                f"A Facebook post holds photos or one video, not both: {_name(videos[0])} is a "
                "video. Post it on its own, or choose photos only.",
                "assets",
            )
        )
    elif len(videos) > 1:
        problems.append(
            Problem(
                "one_video",
                f"A Facebook post holds one video; {len(videos)} are chosen "
                f"({', '.join(_name(v) for v in videos)}).",
                "assets",
            )
        )
    elif videos and videos[0].status != videos[0].Status.READY:
        problems += _video_problems(videos[0], REEL_RULES, "video")[:1]
    return problems


# --- publishing ----------------------------------------------------------------------------------


def publishes_first(publication: "Publication", content: PostContent) -> bool:
    kind = kind_of(content)
    if kind == KIND_PAGE_VIDEO:
        return not publication.container_id  # the first call is the post itself
    if kind == KIND_PHOTO_STORY:
        return bool(publication.container_id)  # the photo is uploaded: next is the Story
    return False  # a Reel, a video Story: start, upload, or a look at the status come first


def _message(content: PostContent) -> str:
    if content.link and content.link not in content.caption:
        return f"{content.caption}\n\n{content.link}".strip()
    return content.caption


def _processing(kind: str, call: str) -> Wait:
    return Wait(
        settings.FACEBOOK_VIDEO_POLL_SECONDS,
        f"Facebook is processing the {WHAT[kind]}; it goes live once that is done.",
        call=call,
        answer="ok",
    )


def _video_failed(kind: str, status: graph.VideoStatus) -> Fail:
    said = "; ".join(status.errors) or "no reason given"
    return Fail(
        f"Facebook could not process the {WHAT[kind]} ({said}). Check the video against "
        "Facebook's rules (MP4, length, 9:16 for Reels and Stories), then retry.",
        call=STATUS_CALL,
        answer="error",
    )


def _live(kind: str, status: graph.VideoStatus) -> Published:
    post_id = status.video_id
    if kind == KIND_VIDEO_STORY and status.post_id:
        post_id = status.post_id  # a Story is a post of the Page; a Reel is its video
    return Published(post_id, status.permalink_url or "", call=STATUS_CALL, answer="ok")


def _reels_quota(exc: graph.GraphError) -> Wait | None:
    """Facebook's limit of API-published Reels per Page in 24 hours (30), said by its answer
    to the finish call: wait until a slot frees up."""
    if not isinstance(exc, graph.GraphRateLimitError):
        return None
    said = exc.meta_message or exc.detail or ""
    match = _REELS_LIMIT.search(said)
    if match is None:
        return None
    return quota_full(
        network="Facebook's Reels",
        used_up=True,
        total=int(match.group(1)),
        duration=86_400,
        call="POST /{id}/video_reels",
    )


def _upload_refused(exc: graph.GraphError, kind: str, attempt: int) -> Outcome:
    outcome = outcome_for(exc, attempt=attempt, sent_publish_call=False)
    if isinstance(outcome, Fail):
        return replace(
            outcome,
            error=f"Facebook could not take the video for the {WHAT[kind]}: {exc.user_message}",
        )
    return outcome


def step(
    publication: "Publication", content: PostContent, journal: Journal, *, kind: str, token: str
) -> Outcome:
    page_id = publication.account.platform_id
    if kind in PHASED:
        return _phased_step(publication, content, journal, kind=kind, token=token)
    sent = False
    try:
        if kind == KIND_PAGE_VIDEO:
            if not publication.container_id:
                journal.about_to_publish()
                sent = True
                video_id = graph.publish_page_video(
                    page_id=page_id,
                    page_token=token,
                    file_url=public_url(asset=content.assets[0], variant=VIDEO_VARIANT),
                    description=_message(content),
                )
                journal.record(container_id=video_id)
                return _processing(kind, "POST /{id}/videos")
            return _poll(kind, publication.container_id, token)
        # A photo Story: the photo uploaded unpublished (invisible), then shown as a Story.
        photo_id = publication.container_id
        if not photo_id:
            photo = graph.upload_page_photo(
                page_id=page_id,
                page_token=token,
                url=public_url(asset=content.assets[0], variant="original"),
                published=False,
            )
            photo_id = photo.id
            journal.record(container_id=photo_id)
        journal.about_to_publish()
        sent = True
        post_id = graph.publish_photo_story(page_id=page_id, page_token=token, photo_id=photo_id)
        return Published(post_id, "", call="POST /{id}/photo_stories", answer="ok")
    except graph.GraphError as exc:
        return outcome_for(exc, attempt=publication.attempts, sent_publish_call=sent)


def _poll(kind: str, video_id: str, token: str) -> Outcome:
    status = graph.get_video_status(video_id=video_id, token=token)
    if status.failed:
        return _video_failed(kind, status)
    if status.live:
        return _live(kind, status)
    return _processing(kind, STATUS_CALL)


def _phased_step(
    publication: "Publication", content: PostContent, journal: Journal, *, kind: str, token: str
) -> Outcome:
    """A Reel or a video Story: start (the video id recorded at once) → upload by `file_url`
    → finish with `video_state=PUBLISHED` (the call that makes it visible) → its status polled
    until it is live."""
    page_id = publication.account.platform_id
    edge = PHASED[kind]
    video_id = publication.container_id
    stage = "start"
    try:
        status = None
        if not video_id:
            session = graph.start_video_upload(page_id=page_id, page_token=token, edge=edge)
            video_id = session.video_id
            journal.record(container_id=video_id)
        else:
            status = graph.get_video_status(video_id=video_id, token=token)
            if status.failed:
                return _video_failed(kind, status)
            if video_id in publication.child_ids or status.finished:
                return _live(kind, status) if status.live else _processing(kind, STATUS_CALL)
        if status is None or not status.uploaded:
            stage = "upload"
            graph.upload_video_from_url(
                video_id=video_id,
                page_token=token,
                file_url=public_url(asset=content.assets[0], variant=VIDEO_VARIANT),
            )
        stage = "finish"
        journal.about_to_publish()
        finished = graph.finish_video_upload(
            page_id=page_id,
            page_token=token,
            edge=edge,
            video_id=video_id,
            description=_message(content) if kind == KIND_REEL else "",
        )
        if not finished.success:
            return Fail(
                f"Facebook did not accept the {WHAT[kind]} for publishing. Retry; if it keeps "
                "failing, check the video in the Page's Meta Business Suite.",
                call=f"POST /{{id}}/{edge}",
                answer="not success",
            )
        journal.record(child_ids=[video_id])
        return _processing(kind, f"POST /{{id}}/{edge}")
    except graph.GraphError as exc:
        if stage == "finish":
            quota = _reels_quota(exc) if kind == KIND_REEL else None
            return quota or outcome_for(exc, attempt=publication.attempts, sent_publish_call=True)
        if stage == "upload":
            return _upload_refused(exc, kind, publication.attempts)
        return outcome_for(exc, attempt=publication.attempts, sent_publish_call=False)


# --- reconciliation ----------------------------------------------------------------------------


def reconcile(
    publication: "Publication", content: PostContent, window: Window, *, kind: str, token: str
) -> Published | None:
    """Whether the call whose outcome is unknown made the post: a video by its recorded id's
    status (live → published; not live yet → None, and the step goes on from where the video
    stands, never finishing it twice); a Page video not recorded yet by the Page's videos
    since the attempt; a photo Story by the Page's Stories showing the recorded photo."""
    page_id = publication.account.platform_id
    try:
        if kind in PHASED or (kind == KIND_PAGE_VIDEO and publication.container_id):
            if not publication.container_id:
                return None  # nothing was started: nothing can be live
            status = graph.get_video_status(video_id=publication.container_id, token=token)
            if status.live:
                found = _live(kind, status)
                return replace(found, answer="found")
            return None
        if kind == KIND_PAGE_VIDEO:
            return _page_video_found(publication, content, window, token)
        if not publication.container_id:
            return None  # the photo was never uploaded: no Story can show it
        stories = graph.list_page_stories(page_id=page_id, page_token=token, since=window.since)
    except graph.GraphError as exc:
        raise neutral(exc, reading=True) from exc
    showing = [s for s in stories if s.media_id == publication.container_id]
    story = unclaimed(showing, lambda s: s.post_id, window)
    if story is None:
        return None
    return Published(story.post_id, story.url or "", call="GET /{id}/stories", answer="found")


def _page_video_found(
    publication: "Publication", content: PostContent, window: Window, token: str
) -> Published | None:
    videos = graph.list_page_videos(
        page_id=publication.account.platform_id, page_token=token, since=window.since
    )
    text = _message(content).strip()
    same = [v for v in videos if (v.description or "").strip() == text]
    found = unclaimed(same, lambda v: v.id, window)
    if found is not None:
        return Published(
            found.id, found.permalink_url or "", call="GET /{id}/videos", answer="found"
        )
    if timezone.now() - window.since < PAGE_VIDEO_LISTING_GRACE:
        raise OutcomeUnknown(
            "Facebook lists a video only once it is processed: we look again shortly before "
            "posting it again.",
            call="GET /{id}/videos",
            answer="not listed yet",
        )
    return None

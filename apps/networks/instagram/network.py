"""Instagram business accounts: a container per post — an image, a Reel, a Story, a carousel
(its image and video items first) —, polled until Meta has processed it, then published within
the 24-hour publishing limit; then, if the post has one, its first comment."""

import dataclasses
import functools
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import structlog
from django.conf import settings
from django.utils import timezone

from apps.assets.media_urls import VIDEO_VARIANT, public_url
from apps.networks.base import (
    REEL,
    STORY,
    AccountDay,
    Engagement,
    Fail,
    Journal,
    Outcome,
    PostContent,
    PostMetrics,
    Preview,
    Problem,
    Published,
    Retry,
    Wait,
    Window,
)
from apps.networks.errors import OutcomeUnknown, Permanent
from apps.networks.instagram import checks, insights
from apps.networks.instagram.limits import IMAGE_RULES, LIMITS
from apps.networks.instagram.media_errors import (
    MEDIA_REASONS,
    NOT_READY_SUBCODE,
    RETRY_HINT,
    subcode_in,
)
from apps.networks.meta import MetaTokens, neutral, outcome_for, profile_url
from apps.networks.meta_facebook.insights import read_posts
from apps.networks.steps import backoff, quota_full, unclaimed
from apps.networks.text import hashtags, mentions
from apps.networks.tokens import account_token
from apps.social import graph
from apps.social.models import ConnectedAccount, Platform

if TYPE_CHECKING:
    from apps.assets.models import BrandAsset
    from apps.posts.models import Publication

KNOWN_STATUSES = frozenset(
    {graph.IG_IN_PROGRESS, graph.IG_FINISHED, graph.IG_ERROR, graph.IG_EXPIRED, graph.IG_PUBLISHED}
)
CREATE_OK = {"call": "POST /{id}/media", "answer": "ok"}
PUBLISH_OK = {"call": "POST /{id}/media_publish", "answer": "ok"}
STATUS_CALL = "GET /{id}?fields=status_code"
LIMIT_CALL = "GET /{id}/content_publishing_limit"
PROCESSING_VIDEO = "Instagram is processing the video."
REELS, STORIES, VIDEO = "REELS", "STORIES", "VIDEO"  # container media types

logger = structlog.get_logger(__name__)


class InstagramPublishing:
    """Compose rules, preview, publishing, reconciliation and engagement of an Instagram
    professional account: the same whether it is reached through its Facebook Page
    (graph.facebook.com, the Page's token) or with Instagram Login (graph.instagram.com, the
    account's own token) — only ``_graph`` and ``_blocked`` differ."""

    label: str
    site = "Instagram"
    limits = LIMITS
    caption_guidance = "Instagram: at most 2,200 characters, up to 30 hashtags, emojis welcome."

    def _graph(self) -> graph.GraphClient | None:
        """The client of the host the account is reached on (None: graph.facebook.com's)."""
        return None

    def _blocked(self, publication: "Publication") -> Outcome | None:
        """An outcome decided before anything is sent (e.g. the token is past its expiry)."""
        return None

    def validate(self, content: PostContent) -> list[Problem]:
        return checks.content_problems(content)

    def preview(self, content: PostContent) -> Preview:
        caption = "" if content.format == STORY else content.caption
        return Preview(
            network=self.label,
            caption=caption,
            caption_shown=caption[: LIMITS.caption_shown],
            truncated=len(caption) > LIMITS.caption_shown,
            hashtags=hashtags(caption),
            mentions=mentions(caption),
            asset_ids=[a.pk for a in content.assets],
            link="",
            layout=checks.preview_layout(content),
            notes=checks.preview_notes(content),
        )

    def publishes_first(self, publication: "Publication", content: PostContent) -> bool:
        return False  # a step reads the container's status before it publishes

    def step(self, publication: "Publication", content: PostContent, journal: Journal) -> Outcome:
        blocked = self._blocked(publication)
        if blocked is not None:
            return blocked
        account = publication.account
        token = account_token(account)
        video = _has_video(content)
        what = "video" if video else "image"
        poll = (
            settings.INSTAGRAM_VIDEO_POLL_SECONDS
            if video
            else settings.INSTAGRAM_CONTAINER_POLL_SECONDS
        )
        processing = PROCESSING_VIDEO if video else "Instagram is processing the image."
        sent = False
        try:
            if not publication.container_id:
                self._create_container(publication, content, token, journal)
                return Wait(poll, processing, **CREATE_OK)
            status = graph.get_ig_container_status(
                client=self._graph(), container_id=publication.container_id, token=token
            )
            if status.is_published:
                return self._live(publication, content, token, Window.for_publication(publication))
            if status.is_failed:
                return Fail(
                    _failed_reason(what, status.status or status.status_code),
                    call=STATUS_CALL,
                    answer=status.status_code,
                    subcode=subcode_in(status.status),
                )
            if status.status_code not in KNOWN_STATUSES:
                logger.warning(
                    "ig_container_status_unknown",
                    publication_id=publication.pk,
                    status_code=status.status_code[:40],
                )
                return Retry(
                    backoff(publication.attempts),
                    f"Instagram reported a container status we do not know "
                    f"({status.status_code[:40]}); nothing was published, checking again.",
                    call=STATUS_CALL,
                    answer=status.status_code[:40],
                )
            if not status.is_ready:
                return Wait(
                    poll,
                    PROCESSING_VIDEO if video else "Instagram is still processing the image.",
                    call=STATUS_CALL,
                    answer=status.status_code,
                )
            limit = graph.get_ig_publishing_limit(
                client=self._graph(), ig_user_id=account.platform_id, token=token
            )
            full = quota_full(
                network="Instagram's",
                used_up=limit.remaining <= 0,
                total=limit.quota_total,
                duration=limit.quota_duration,
                call=LIMIT_CALL,
            )
            if full:
                return full
            journal.about_to_publish()
            sent = True
            media = graph.publish_ig_container(
                client=self._graph(),
                ig_user_id=account.platform_id,
                token=token,
                creation_id=publication.container_id,
            )
            return Published(media.id, self._permalink(media.id, token), **PUBLISH_OK)
        except graph.GraphError as exc:
            outcome = outcome_for(exc, attempt=publication.attempts, sent_publish_call=sent)
            return _explained(outcome, exc, what=what, poll=poll)

    def _create_container(
        self, publication: "Publication", content: PostContent, token: str, journal: Journal
    ) -> None:
        ig_id = publication.account.platform_id
        options = content.options
        caption = content.caption or None
        create = functools.partial(
            graph.create_ig_container, client=self._graph(), ig_user_id=ig_id, token=token
        )
        collaborators = tuple(c.lstrip("@") for c in options.collaborators)
        location_id = options.location_id or None
        if content.format == STORY:
            [asset] = content.assets
            if asset.is_video:
                container = create(media_type=STORIES, video_url=_video_url(asset))
            else:
                container = create(media_type=STORIES, image_url=_image_url(asset))
        elif checks.goes_as_reel(content):
            [asset] = content.assets
            cover = options.cover
            container = create(
                media_type=REELS,
                video_url=_video_url(asset),
                caption=caption,
                cover_url=_image_url(cover) if cover is not None else None,
                thumb_offset_ms=options.cover_offset_ms if cover is None else None,
                # A feed video is a Reel shared to the feed (Meta retired feed VIDEO).
                share_to_feed=options.share_to_feed if content.format == REEL else True,
                audio_name=options.audio_name or None,
                collaborators=collaborators,
                location_id=location_id,
            )
        elif len(content.assets) == 1:
            [asset] = content.assets
            container = create(
                image_url=_image_url(asset),
                caption=caption,
                alt_text=asset.alt_text or None,
                collaborators=collaborators,
                location_id=location_id,
            )
        else:
            children = list(publication.child_ids)
            for asset in content.assets[len(children) :]:
                if asset.is_video:
                    child = create(
                        is_carousel_item=True, media_type=VIDEO, video_url=_video_url(asset)
                    )
                else:
                    child = create(
                        is_carousel_item=True,
                        image_url=_image_url(asset),
                        alt_text=asset.alt_text or None,
                    )
                children.append(child.id)
                journal.record(child_ids=children)
            container = create(
                children=children,
                caption=caption,
                collaborators=collaborators,
                location_id=location_id,
            )
        journal.record(container_id=container.id)

    def _permalink(self, media_id: str, token: str) -> str:
        try:
            return (
                graph.get_ig_media_engagement(
                    client=self._graph(), media_id=media_id, token=token
                ).permalink
                or ""
            )
        except graph.GraphError:
            return ""

    def reconcile(
        self, publication: "Publication", content: PostContent, window: Window
    ) -> Published | None:
        """The container this publication created says whether it went out: PUBLISHED is live
        (then the media is looked up among what the account got in ``window``); FINISHED,
        IN_PROGRESS, ERROR and EXPIRED were not published."""
        if not publication.container_id:
            return None  # nothing was ever sent to publish
        token = account_token(publication.account)
        try:
            status = graph.get_ig_container_status(
                client=self._graph(), container_id=publication.container_id, token=token
            )
        except graph.GraphError as exc:
            raise neutral(exc, reading=True) from exc
        if status.is_published:
            return self._live(publication, content, token, window)
        if status.status_code in KNOWN_STATUSES:
            return None
        logger.warning(
            "ig_container_status_unknown",
            publication_id=publication.pk,
            status_code=status.status_code[:40],
        )
        raise OutcomeUnknown("Instagram reported a container status we do not know.")

    def _live(
        self, publication: "Publication", content: PostContent, token: str, window: Window
    ) -> Published:
        """The container is PUBLISHED: the post is live. Its media is the one with this caption
        and kind that the account got in the window (a Story: among its Stories) and no other
        publication recorded."""
        caption = "" if content.format == STORY else (content.caption or "").strip()
        kind, product = _kind_of(content)
        listing = graph.list_ig_stories if content.format == STORY else graph.list_ig_media
        try:
            media = listing(
                client=self._graph(),
                ig_user_id=publication.account.platform_id,
                token=token,
                since=window.since,
            )
        except graph.GraphError as exc:
            logger.warning(
                "ig_media_lookup_failed",
                publication_id=publication.pk,
                error=exc.technical_summary,
            )
            media = ()
        matches = [
            m
            for m in media
            if (m.caption or "").strip() == caption
            and m.media_type in (None, kind)
            and m.media_product_type in (None, product)
        ]
        found = unclaimed(matches, lambda m: m.id, window)
        if found is None:
            return Published(
                "",
                note="Instagram reports the post as published; its link is not listed yet.",
                call=STATUS_CALL,
                answer="PUBLISHED",
            )
        return Published(found.id, found.permalink or "", call=STATUS_CALL, answer="PUBLISHED")

    def fetch_engagement(self, publication: "Publication") -> Engagement:
        token = account_token(publication.account)
        try:
            counts = graph.get_ig_media_engagement(
                client=self._graph(), media_id=publication.platform_post_id, token=token
            )
        except graph.GraphError as exc:
            raise neutral(exc) from exc
        return Engagement(
            likes=counts.like_count,
            comments=counts.comments_count,
            shares=None,
            reactions=None,
            permalink=counts.permalink or "",
        )

    # --- the first comment (FirstComments) ---------------------------------------------------

    def first_comment_post(self, publication: "Publication", message: str) -> str:
        media_id = _media_id(publication)
        token = account_token(publication.account)
        try:
            return graph.post_comment(
                client=self._graph(), object_id=media_id, token=token, message=message
            )
        except graph.GraphError as exc:
            raise neutral(exc) from exc

    def first_comment_find(self, publication: "Publication", message: str) -> str | None:
        media_id = _media_id(publication)
        account = publication.account
        token = account_token(account)
        try:
            comments = graph.list_ig_comments(client=self._graph(), media_id=media_id, token=token)
        except graph.GraphError as exc:
            raise neutral(exc, reading=True) from exc
        wanted = message.strip()
        for comment in comments:
            ours = comment.from_id == account.platform_id or (
                bool(account.username) and comment.username == account.username
            )
            if ours and comment.text.strip() == wanted:
                return comment.id
        return None

    # --- insights (InsightsReader) -------------------------------------------------------------

    def insights_posts(
        self, account: ConnectedAccount, publications: Sequence["Publication"]
    ) -> dict[int, PostMetrics]:
        """Each media's lifetime insights (``GET /{ig-media-id}/insights``), on the metrics of
        its kind; a Story past its 24 hours is ``EXPIRED`` without a call."""
        token = account_token(account)
        client = self._graph() or graph.get_client()
        asks, known = insights.ig_asks(
            publications, version=client.config.version, at=timezone.now()
        )

        def read_one(object_id: str, metrics: tuple[str, ...]) -> graph.Insights:
            return graph.get_ig_media_insights(
                client=client, media_id=object_id, token=token, metrics=metrics
            )

        return known | read_posts(asks, read_one=read_one, to_metrics=insights.media_metrics)

    def insights_account(
        self, account: ConnectedAccount, *, since: date, until: date
    ) -> list[AccountDay]:
        """The account's days (``GET /{ig-user-id}/insights``: a totals call a day and a
        daily series; docs/insights.md says why)."""
        return insights.account_days(
            client=self._graph() or graph.get_client(),
            ig_user_id=account.platform_id,
            token=account_token(account),
            since=since,
            until=until,
            at=timezone.now(),
        )


def _has_video(content: PostContent) -> bool:
    return any(asset.is_video for asset in content.assets)


def _image_url(asset: "BrandAsset") -> str:
    return public_url(asset=asset, variant=IMAGE_RULES.rendition)


def _video_url(asset: "BrandAsset") -> str:
    return public_url(asset=asset, variant=VIDEO_VARIANT)


def _kind_of(content: PostContent) -> tuple[str, str]:
    """The ``media_type`` and ``media_product_type`` Instagram lists the post with."""
    if content.format == STORY:
        return ("VIDEO" if _has_video(content) else "IMAGE"), "STORY"
    if checks.goes_as_reel(content):
        return "VIDEO", "REELS"
    return ("CAROUSEL_ALBUM" if len(content.assets) > 1 else "IMAGE"), "FEED"


def _media_id(publication: "Publication") -> str:
    if not publication.platform_post_id:
        raise Permanent(
            "Instagram reports the post as published but has not listed it yet, so there is "
            "nothing to comment on."
        )
    return publication.platform_post_id


def _failed_reason(what: str, said: str) -> str:
    """Why a container ended in ERROR / EXPIRED: the table's words for the subcode Meta names,
    else Meta's own status text."""
    reason = MEDIA_REASONS.get(subcode_in(said) or 0)
    if reason:
        return f"Instagram could not process the {what}. {reason}{RETRY_HINT}"
    return f"Instagram could not process the {what} ({said}).{RETRY_HINT}"


def _explained(outcome: Outcome, exc: graph.GraphError, *, what: str, poll: int) -> Outcome:
    """A Graph error's outcome, with Instagram's media subcodes said clearly: "not ready" is a
    wait (never a failure), the others keep their class with the table's reason."""
    if isinstance(outcome, Retry) and exc.subcode == NOT_READY_SUBCODE:
        return Wait(
            poll,
            PROCESSING_VIDEO if what == "video" else exc.user_message,
            call=outcome.call,
            answer=outcome.answer,
        )
    reason = MEDIA_REASONS.get(exc.subcode or 0)
    if not reason:
        return outcome
    if isinstance(outcome, Fail):
        return dataclasses.replace(
            outcome, error=f"Instagram refused the {what}. {reason}{RETRY_HINT}"
        )
    if isinstance(outcome, Retry):
        return dataclasses.replace(outcome, error=f"{reason} Trying again.")
    return outcome


class InstagramBusiness(InstagramPublishing, MetaTokens):
    """An Instagram business account reached through its Facebook Page (Facebook Login)."""

    id = Platform.INSTAGRAM_BUSINESS.value
    label = "Instagram"
    slug = "instagram"

    def account_url(self, publication: "Publication") -> str:
        account = publication.account
        public = (
            f"https://www.instagram.com/{account.username}/"
            if account.username
            else f"https://www.facebook.com/{account.platform_id}"
        )
        return profile_url(account, public)

"""Instagram business accounts: a container per image (carousel: children, then the carousel),
polled until Meta has processed it, then published — within the 24-hour publishing limit."""

from typing import TYPE_CHECKING

import structlog
from django.conf import settings

from apps.assets.images import image_check
from apps.assets.media_urls import public_url
from apps.networks.base import (
    Engagement,
    Fail,
    Journal,
    Outcome,
    PostContent,
    Preview,
    Problem,
    Published,
    Retry,
    Wait,
    Window,
)
from apps.networks.errors import OutcomeUnknown
from apps.networks.instagram.limits import IMAGE_RULES, LIMITS
from apps.networks.meta import MetaTokens, neutral, outcome_for, profile_url
from apps.networks.steps import backoff, quota_full, unclaimed
from apps.networks.text import hashtags, mentions
from apps.networks.tokens import account_token
from apps.social import graph
from apps.social.models import Platform

if TYPE_CHECKING:
    from apps.posts.models import Publication

KNOWN_STATUSES = frozenset(
    {graph.IG_IN_PROGRESS, graph.IG_FINISHED, graph.IG_ERROR, graph.IG_EXPIRED, graph.IG_PUBLISHED}
)
CREATE_OK = {"call": "POST /{id}/media", "answer": "ok"}
PUBLISH_OK = {"call": "POST /{id}/media_publish", "answer": "ok"}
STATUS_CALL = "GET /{id}?fields=status_code"
LIMIT_CALL = "GET /{id}/content_publishing_limit"

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
        problems = []
        caption = content.caption
        if len(content.assets) < LIMITS.media_min:
            problems.append(
                Problem("image_required", "An Instagram post needs at least one image.", "assets")
            )
        if len(content.assets) > LIMITS.media_max:
            problems.append(
                Problem(
                    "too_many_images",
                    f"A carousel holds at most {LIMITS.media_max} images.",
                    "assets",
                )
            )
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
        for asset in content.assets:
            for reason in image_check(
                rules=IMAGE_RULES,
                width=asset.width,
                height=asset.height,
                size=asset.size,
                content_type=asset.content_type,
            ):
                problems.append(
                    Problem("image_unfit", f"“{asset.original_filename}”: {reason}", "assets")
                )
        return problems

    def preview(self, content: PostContent) -> Preview:
        caption = content.caption
        notes = []
        if content.link:
            notes.append("Instagram does not make links in captions clickable.")
        return Preview(
            network=self.label,
            caption=caption,
            caption_shown=caption[: LIMITS.caption_shown],
            truncated=len(caption) > LIMITS.caption_shown,
            hashtags=hashtags(caption),
            mentions=mentions(caption),
            asset_ids=[a.pk for a in content.assets],
            link="",
            layout="carousel" if len(content.assets) > 1 else "photo",
            notes=notes,
        )

    def publishes_first(self, publication: "Publication", content: PostContent) -> bool:
        return False  # a step reads the container's status before it publishes

    def step(self, publication: "Publication", content: PostContent, journal: Journal) -> Outcome:
        blocked = self._blocked(publication)
        if blocked is not None:
            return blocked
        account = publication.account
        token = account_token(account)
        poll = settings.INSTAGRAM_CONTAINER_POLL_SECONDS
        sent = False
        try:
            if not publication.container_id:
                self._create_container(publication, content, token, journal)
                return Wait(poll, "Instagram is processing the image.", **CREATE_OK)
            status = graph.get_ig_container_status(
                client=self._graph(), container_id=publication.container_id, token=token
            )
            if status.is_published:
                return self._live(publication, content, token, Window.for_publication(publication))
            if status.is_failed:
                reason = status.status or status.status_code
                return Fail(
                    f"Instagram could not process the image ({reason}). Retry to send it again.",
                    call=STATUS_CALL,
                    answer=status.status_code,
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
                    "Instagram is still processing the image.",
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
            return outcome_for(exc, attempt=publication.attempts, sent_publish_call=sent)

    def _create_container(
        self, publication: "Publication", content: PostContent, token: str, journal: Journal
    ) -> None:
        ig_id = publication.account.platform_id
        if len(content.assets) == 1:
            container = graph.create_ig_container(
                client=self._graph(),
                ig_user_id=ig_id,
                token=token,
                image_url=public_url(asset=content.assets[0], variant=IMAGE_RULES.rendition),
                caption=content.caption or None,
            )
            journal.record(container_id=container.id)
            return
        children = list(publication.child_ids)
        for asset in content.assets[len(children) :]:
            child = graph.create_ig_container(
                client=self._graph(),
                ig_user_id=ig_id,
                token=token,
                is_carousel_item=True,
                image_url=public_url(asset=asset, variant=IMAGE_RULES.rendition),
            )
            children.append(child.id)
            journal.record(child_ids=children)
        carousel = graph.create_ig_container(
            client=self._graph(),
            ig_user_id=ig_id,
            token=token,
            children=children,
            caption=content.caption or None,
        )
        journal.record(container_id=carousel.id)

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
        and kind that the account got in the window and no other publication recorded."""
        caption = (content.caption or "").strip()
        kind = "CAROUSEL_ALBUM" if len(content.assets) > 1 else "IMAGE"
        try:
            media = graph.list_ig_media(
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
            if (m.caption or "").strip() == caption and m.media_type in (None, kind)
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

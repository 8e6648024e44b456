"""Instagram business accounts: a container per image (carousel: children, then the carousel),
polled until Meta has processed it, then published — within the 24-hour publishing limit."""

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings

from apps.assets.images import instagram_check
from apps.assets.media_urls import public_url
from apps.posts.platforms.base import (
    Engagement,
    Fail,
    Journal,
    Outcome,
    PostContent,
    Preview,
    Problem,
    Published,
    Wait,
)
from apps.posts.platforms.meta import hashtags, mentions, outcome_for, page_token
from apps.social import graph

if TYPE_CHECKING:
    from apps.posts.models import Publication

MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_CAROUSEL = 10
SHOWN_CHARS = 125  # the feed shows about this much before "… more"


class InstagramAdapter:
    platform = "instagram_business"
    label = "Instagram"

    def validate(self, content: PostContent) -> list[Problem]:
        problems = []
        caption = content.caption
        if not content.assets:
            problems.append(
                Problem("image_required", "An Instagram post needs at least one image.", "assets")
            )
        if len(content.assets) > MAX_CAROUSEL:
            problems.append(
                Problem(
                    "too_many_images", f"A carousel holds at most {MAX_CAROUSEL} images.", "assets"
                )
            )
        if len(caption) > MAX_CAPTION:
            problems.append(
                Problem(
                    "caption_too_long",
                    f"The caption is {len(caption)} characters; Instagram allows {MAX_CAPTION}.",
                    "caption",
                )
            )
        if len(hashtags(caption)) > MAX_HASHTAGS:
            problems.append(
                Problem(
                    "too_many_hashtags",
                    f"{len(hashtags(caption))} hashtags; Instagram allows {MAX_HASHTAGS}.",
                    "caption",
                )
            )
        if len(mentions(caption)) > MAX_MENTIONS:
            problems.append(
                Problem(
                    "too_many_mentions",
                    f"{len(mentions(caption))} mentions; Instagram allows {MAX_MENTIONS}.",
                    "caption",
                )
            )
        for asset in content.assets:
            for reason in instagram_check(
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
            caption_shown=caption[:SHOWN_CHARS],
            truncated=len(caption) > SHOWN_CHARS,
            hashtags=hashtags(caption),
            mentions=mentions(caption),
            asset_ids=[a.pk for a in content.assets],
            link="",
            layout="carousel" if len(content.assets) > 1 else "photo",
            notes=notes,
        )

    def step(self, publication: "Publication", content: PostContent, journal: Journal) -> Outcome:
        account = publication.account
        token = page_token(account)
        poll = settings.INSTAGRAM_CONTAINER_POLL_SECONDS
        sent = False
        try:
            if not publication.container_id:
                self._create_container(publication, content, token, journal)
                return Wait(poll, "Instagram is processing the image.")
            status = graph.get_ig_container_status(
                container_id=publication.container_id, token=token
            )
            if status.is_published:
                found = self.reconcile(publication, content, since=publication.created_at)
                return found or Fail(
                    "Instagram reports this post as published, but it is not on the account."
                )
            if status.is_failed:
                reason = status.status or status.status_code
                return Fail(
                    f"Instagram could not process the image ({reason}). Retry to send it again."
                )
            if not status.is_ready:
                return Wait(poll, "Instagram is still processing the image.")
            limit = graph.get_ig_publishing_limit(ig_user_id=account.platform_id, token=token)
            if limit.remaining <= 0:
                hours = max(1, limit.quota_duration // 3600)
                return Wait(
                    settings.INSTAGRAM_QUOTA_RETRY_SECONDS,
                    f"Instagram's limit of {limit.quota_total} posts in {hours} hours is reached; "
                    "the post goes out when a slot frees up.",
                )
            journal.about_to_publish()
            sent = True
            media = graph.publish_ig_container(
                ig_user_id=account.platform_id, token=token, creation_id=publication.container_id
            )
            return Published(media.id, self._permalink(media.id, token))
        except graph.GraphError as exc:
            return outcome_for(exc, attempt=publication.attempts, sent_publish_call=sent)

    def _create_container(
        self, publication: "Publication", content: PostContent, token: str, journal: Journal
    ) -> None:
        ig_id = publication.account.platform_id
        if len(content.assets) == 1:
            container = graph.create_ig_container(
                ig_user_id=ig_id,
                token=token,
                image_url=public_url(asset=content.assets[0], variant="instagram"),
                caption=content.caption or None,
            )
            journal.record(container_id=container.id)
            return
        children = list(publication.child_ids)
        for asset in content.assets[len(children) :]:
            child = graph.create_ig_container(
                ig_user_id=ig_id,
                token=token,
                is_carousel_item=True,
                image_url=public_url(asset=asset, variant="instagram"),
            )
            children.append(child.id)
            journal.record(child_ids=children)
        carousel = graph.create_ig_container(
            ig_user_id=ig_id, token=token, children=children, caption=content.caption or None
        )
        journal.record(container_id=carousel.id)

    def _permalink(self, media_id: str, token: str) -> str:
        try:
            return graph.get_ig_media_engagement(media_id=media_id, token=token).permalink or ""
        except graph.GraphError:
            return ""

    def reconcile(
        self, publication: "Publication", content: PostContent, since: datetime
    ) -> Published | None:
        if not publication.container_id:
            return None  # nothing was ever sent to publish
        token = page_token(publication.account)
        status = graph.get_ig_container_status(container_id=publication.container_id, token=token)
        if not status.is_published:
            return None
        caption = (content.caption or "").strip()
        for media in graph.list_ig_media(
            ig_user_id=publication.account.platform_id, token=token, limit=25
        ):
            if (media.caption or "").strip() == caption and (
                media.timestamp is None or media.timestamp >= since
            ):
                return Published(media.id, media.permalink or "")
        return None

    def fetch_engagement(self, publication: "Publication") -> Engagement:
        counts = graph.get_ig_media_engagement(
            media_id=publication.platform_post_id, token=page_token(publication.account)
        )
        return Engagement(
            likes=counts.like_count,
            comments=counts.comments_count,
            shares=None,
            reactions=None,
            permalink=counts.permalink or "",
        )

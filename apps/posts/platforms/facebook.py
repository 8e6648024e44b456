"""Facebook Pages: text and link posts to the feed, one photo, or several photos attached to one
feed post (uploaded unpublished first)."""

from datetime import datetime
from typing import TYPE_CHECKING

from apps.assets.media_urls import public_url
from apps.posts.platforms.base import (
    Engagement,
    Journal,
    Outcome,
    PostContent,
    Preview,
    Problem,
    Published,
)
from apps.posts.platforms.meta import hashtags, mentions, outcome_for, page_token
from apps.social import graph

if TYPE_CHECKING:
    from apps.posts.models import Publication

MAX_CAPTION = 63206
MAX_PHOTOS = 10
SHOWN_CHARS = 480  # Facebook folds long posts behind "See more"


class FacebookPageAdapter:
    platform = "facebook_page"
    label = "Facebook"

    def validate(self, content: PostContent) -> list[Problem]:
        problems = []
        if len(content.caption) > MAX_CAPTION:
            problems.append(
                Problem(
                    "caption_too_long",
                    f"The text is {len(content.caption)} characters; the limit is {MAX_CAPTION}.",
                    "caption",
                )
            )
        if len(content.assets) > MAX_PHOTOS:
            problems.append(
                Problem("too_many_photos", f"At most {MAX_PHOTOS} photos per post.", "assets")
            )
        if not (content.caption.strip() or content.link or content.assets):
            problems.append(
                Problem("empty", "A Facebook post needs text, a link or a photo.", "caption")
            )
        return problems

    def preview(self, content: PostContent) -> Preview:
        caption = content.caption
        if len(content.assets) > 1:
            layout = "multi_photo"
        elif content.assets:
            layout = "photo"
        else:
            layout = "link" if content.link else "text"
        notes = []
        if content.link and content.assets:
            notes.append("With photos, the link appears in the text rather than as a link preview.")
        return Preview(
            network=self.label,
            caption=caption,
            caption_shown=caption[:SHOWN_CHARS],
            truncated=len(caption) > SHOWN_CHARS,
            hashtags=hashtags(caption),
            mentions=mentions(caption),
            asset_ids=[a.pk for a in content.assets],
            link=content.link,
            layout=layout,
            notes=notes,
        )

    def _message(self, content: PostContent) -> str:
        if content.link and content.assets and content.link not in content.caption:
            return f"{content.caption}\n\n{content.link}".strip()
        return content.caption

    def step(self, publication: "Publication", content: PostContent, journal: Journal) -> Outcome:
        account = publication.account
        token = page_token(account)
        sent = False
        try:
            if not content.assets:
                journal.about_to_publish()
                sent = True
                post = graph.publish_page_post(
                    page_id=account.platform_id,
                    page_token=token,
                    message=content.caption,
                    link=content.link or None,
                )
                return Published(post.id, self._permalink(post.id, token))
            if len(content.assets) == 1:
                journal.about_to_publish()
                sent = True
                photo = graph.upload_page_photo(
                    page_id=account.platform_id,
                    page_token=token,
                    url=public_url(asset=content.assets[0], variant="original"),
                    caption=self._message(content),
                    published=True,
                )
                post_id = photo.post_id or photo.id
                return Published(post_id, self._permalink(post_id, token))
            # Several photos: upload each unpublished (invisible, safe to repeat), then one post.
            uploaded = list(publication.child_ids)
            for asset in content.assets[len(uploaded) :]:
                photo = graph.upload_page_photo(
                    page_id=account.platform_id,
                    page_token=token,
                    url=public_url(asset=asset, variant="original"),
                    published=False,
                )
                uploaded.append(photo.id)
                journal.record(child_ids=uploaded)
            journal.about_to_publish()
            sent = True
            post = graph.publish_page_post(
                page_id=account.platform_id,
                page_token=token,
                message=self._message(content),
                attached_media_ids=uploaded,
            )
            return Published(post.id, self._permalink(post.id, token))
        except graph.GraphError as exc:
            return outcome_for(exc, attempt=publication.attempts, sent_publish_call=sent)

    def _permalink(self, post_id: str, token: str) -> str:
        try:
            return graph.get_page_post_engagement(post_id=post_id, token=token).permalink_url or ""
        except graph.GraphError:
            return ""  # filled in by the engagement sync

    def reconcile(
        self, publication: "Publication", content: PostContent, since: datetime
    ) -> Published | None:
        account = publication.account
        message = self._message(content).strip()
        posts = graph.list_page_posts(
            page_id=account.platform_id, page_token=page_token(account), since=since
        )
        for post in posts:
            if (post.message or "").strip() == message:
                return Published(post.id, post.permalink_url or "")
        return None

    def fetch_engagement(self, publication: "Publication") -> Engagement:
        counts = graph.get_page_post_engagement(
            post_id=publication.platform_post_id, token=page_token(publication.account)
        )
        return Engagement(
            likes=counts.likes,
            comments=counts.comments,
            shares=counts.shares,
            reactions=counts.reactions,
            permalink=counts.permalink_url or "",
        )

"""Facebook Pages: text and link posts to the feed, one photo, or several photos attached to one
feed post (uploaded unpublished first); a video, a Reel, a photo or video Story (``video.py``);
a first comment under the published post."""

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from django.utils import timezone

from apps.assets.media_urls import public_url
from apps.networks.base import (
    FEED,
    REEL,
    STORY,
    AccountDay,
    Engagement,
    Journal,
    Limits,
    Outcome,
    PostContent,
    PostMetrics,
    Preview,
    Problem,
    Published,
    Window,
)
from apps.networks.meta import MetaTokens, neutral, outcome_for, profile_url
from apps.networks.meta_facebook import insights, video
from apps.networks.meta_facebook.limits import VIDEO_RULES
from apps.networks.steps import unclaimed
from apps.networks.text import hashtags, mentions
from apps.networks.tokens import account_token
from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount, Platform

if TYPE_CHECKING:
    from apps.posts.models import Publication

LIMITS = Limits(
    caption_chars=63206,
    caption_shown=480,  # Facebook folds long posts behind "See more"
    media_max=10,
    supports_link=True,
    suggested_hashtags=3,  # more reads as spam on a Page
    videos=VIDEO_RULES,
    formats=(FEED, REEL, STORY),
    first_comment=True,
)
FEED_OK = {"call": "POST /{id}/feed", "answer": "ok"}
PHOTO_OK = {"call": "POST /{id}/photos", "answer": "ok"}
LIST_CALL = "GET /{id}/posts"


class FacebookPage(MetaTokens):
    id = Platform.FACEBOOK_PAGE.value
    label = "Facebook"
    site = "Facebook"
    slug = "facebook"
    limits = LIMITS
    caption_guidance = "Facebook Page: conversational, at most 3 hashtags."
    # The Page token, and the connecting person's long-lived user token (the Facebook login).
    token_kinds = frozenset({AccessToken.Kind.PAGE, AccessToken.Kind.USER_LONG_LIVED})

    def validate(self, content: PostContent) -> list[Problem]:
        problems = []
        limit = LIMITS.caption_chars
        if len(content.caption) > limit:
            problems.append(
                Problem(
                    "caption_too_long",
                    f"The text is {len(content.caption)} characters; the limit is {limit}.",
                    "caption",
                )
            )
        if content.format != FEED or any(a.is_video for a in content.assets):
            return problems + video.validate(content)
        if len(content.assets) > LIMITS.media_max:
            problems.append(
                Problem("too_many_photos", f"At most {LIMITS.media_max} photos per post.", "assets")
            )
        if not (content.caption.strip() or content.link or content.assets):
            problems.append(
                Problem("empty", "A Facebook post needs text, a link or a photo.", "caption")
            )
        return problems

    def preview(self, content: PostContent) -> Preview:
        caption = content.caption
        kind = video.kind_of(content)
        notes = []
        if kind == video.KIND_REEL:
            layout = "reel"
            notes.append("Facebook Reels need 9:16 (vertical) video, 3 to 90 seconds long.")
        elif kind in (video.KIND_PHOTO_STORY, video.KIND_VIDEO_STORY):
            layout = "story"
            caption = ""  # a Story carries no text
            notes.append("Stories disappear after 24 hours.")
        elif kind == video.KIND_PAGE_VIDEO:
            layout = "video"
        elif len(content.assets) > 1:
            layout = "multi_photo"
        elif content.assets:
            layout = "photo"
        else:
            layout = "link" if content.link else "text"
        if content.link and content.assets and layout not in ("story", "reel"):
            notes.append("With photos, the link appears in the text rather than as a link preview.")
        return Preview(
            network=self.label,
            caption=caption,
            caption_shown=caption[: LIMITS.caption_shown],
            truncated=len(caption) > LIMITS.caption_shown,
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

    def publishes_first(self, publication: "Publication", content: PostContent) -> bool:
        if video.kind_of(content):
            return video.publishes_first(publication, content)
        # Text and one photo: the first call is the post. Several: once every photo is uploaded.
        return len(content.assets) <= 1 or len(publication.child_ids) >= len(content.assets)

    def step(self, publication: "Publication", content: PostContent, journal: Journal) -> Outcome:
        account = publication.account
        token = account_token(account)
        kind = video.kind_of(content)
        if kind:
            return video.step(publication, content, journal, kind=kind, token=token)
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
                return Published(post.id, self._permalink(post.id, token), **FEED_OK)
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
                return Published(post_id, self._permalink(post_id, token), **PHOTO_OK)
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
            return Published(post.id, self._permalink(post.id, token), **FEED_OK)
        except graph.GraphError as exc:
            return outcome_for(exc, attempt=publication.attempts, sent_publish_call=sent)

    def _permalink(self, post_id: str, token: str) -> str:
        try:
            return graph.get_page_post_engagement(post_id=post_id, token=token).permalink_url or ""
        except graph.GraphError:
            return ""  # filled in by the engagement sync

    def reconcile(
        self, publication: "Publication", content: PostContent, window: Window
    ) -> Published | None:
        """Every post the Page got since the attempt began, matched on what this publication
        sends: the same text, and the same photos (the ids of the photos it uploaded for a
        multi-photo post; one photo; none)."""
        account = publication.account
        token = account_token(account)
        kind = video.kind_of(content)
        if kind:
            return video.reconcile(publication, content, window, kind=kind, token=token)
        try:
            posts = graph.list_page_posts(
                page_id=account.platform_id, page_token=token, since=window.since
            )
        except graph.GraphError as exc:
            raise neutral(exc, reading=True) from exc
        message = self._message(content).strip()
        uploaded = set(publication.child_ids)
        wanted = len(content.assets)

        def fits(post: graph.PagePost) -> bool:
            if (post.message or "").strip() != message:
                return False
            if wanted > 1 and post.photo_ids:
                return set(post.photo_ids) == uploaded
            return post.photo_count == wanted

        found = unclaimed([p for p in posts if fits(p)], lambda p: p.id, window)
        if found is None:
            return None
        return Published(found.id, found.permalink_url or "", call=LIST_CALL, answer="found")

    def account_url(self, publication: "Publication") -> str:
        account = publication.account
        return profile_url(account, f"https://www.facebook.com/{account.platform_id}")

    def fetch_engagement(self, publication: "Publication") -> Engagement:
        token = account_token(publication.account)
        post_id = publication.platform_post_id
        try:
            if "_" in post_id:  # a Page post ("{page-id}_{post-id}")
                counts = graph.get_page_post_engagement(post_id=post_id, token=token)
            else:  # a Reel or a Page video: the video itself
                counts = graph.get_video_engagement(video_id=post_id, token=token)
        except graph.GraphError as exc:
            raise neutral(exc) from exc
        return Engagement(
            likes=counts.likes,
            comments=counts.comments,
            shares=counts.shares,
            reactions=counts.reactions,
            permalink=counts.permalink_url or "",
        )

    # --- the first comment (FirstComments) ------------------------------------------------------

    def first_comment_post(self, publication: "Publication", message: str) -> str:
        """Comment under the published post as the Page (``POST /{post-id}/comments``)."""
        token = account_token(publication.account)
        try:
            return graph.post_comment(
                object_id=publication.platform_post_id, token=token, message=message
            )
        except graph.GraphError as exc:
            raise neutral(exc) from exc

    def first_comment_find(self, publication: "Publication", message: str) -> str | None:
        """The Page's own comment with ``message`` under the post, reading every page of its
        comments; None when there is none."""
        account = publication.account
        token = account_token(account)
        wanted = message.strip()
        try:
            for comment in graph.iter_comments(object_id=publication.platform_post_id, token=token):
                if comment.from_id == account.platform_id and (comment.message or "").strip() == (
                    wanted
                ):
                    return comment.id
        except graph.GraphError as exc:
            raise neutral(exc, reading=True) from exc
        return None

    # --- insights (InsightsReader) ---------------------------------------------------------------

    def insights_posts(
        self, account: ConnectedAccount, publications: Sequence["Publication"]
    ) -> dict[int, PostMetrics]:
        """Each Page post's lifetime insights (``GET /{post-id}/insights``, the Page token);
        Stories, Reels and videos are gaps decided without a call."""
        token = account_token(account)
        client = graph.get_client()
        asks, known = insights.fb_asks(
            publications, version=client.config.version, at=timezone.now()
        )

        def read_one(object_id: str, metrics: tuple[str, ...]) -> graph.Insights:
            return graph.get_page_post_insights(post_id=object_id, token=token, metrics=metrics)

        return known | insights.read_posts(
            asks, read_one=read_one, to_metrics=insights.fb_post_metrics
        )

    def insights_account(
        self, account: ConnectedAccount, *, since: date, until: date
    ) -> list[AccountDay]:
        """The Page's days (``GET /{page-id}/insights``, daily series, 90 days a call)."""
        return insights.fb_account_days(
            page_id=account.platform_id, token=account_token(account), since=since, until=until
        )

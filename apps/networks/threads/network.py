"""Threads profiles: a container per post (a carousel: a container per image, then the
carousel), polled until Threads has processed it, then `threads_publish` — within the 24-hour
publishing limit. Tokens are long-lived Threads user tokens (60 days), refreshed with
`th_refresh_token` once they are a day old (``LongLivedUserTokens``). Connected with the
generic OAuth connect flow."""

from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from django.conf import settings

from apps.assets.images import image_check
from apps.assets.media_urls import public_url
from apps.networks.base import (
    ConnectedProfile,
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
from apps.networks.errors import OutcomeUnknown, Permanent
from apps.networks.meta import neutral, outcome_for
from apps.networks.steps import backoff, quota_full, unclaimed
from apps.networks.text import hashtags, mentions
from apps.networks.threads import client as threads
from apps.networks.threads.limits import CAROUSEL_MIN, IMAGE_RULES, LIMITS
from apps.networks.tokens import account_token
from apps.networks.user_tokens import LongLivedUserTokens
from apps.social import graph
from apps.social.models import AccessToken, Platform

if TYPE_CHECKING:
    from apps.posts.models import Publication

logger = structlog.get_logger(__name__)

CREATE_OK = {"call": "POST /{id}/threads", "answer": "ok"}
PUBLISH_OK = {"call": "POST /{id}/threads_publish", "answer": "ok"}
STATUS_CALL = "GET /{id}?fields=status"
LIMIT_CALL = "GET /{id}/threads_publishing_limit"


def post_text(content: PostContent) -> str:
    """What goes out as the thread's text: the caption, and the link when it is not in it."""
    text = content.caption.strip()
    if content.link and content.link not in text:
        text = f"{text}\n\n{content.link}".strip()
    return text


class Threads(LongLivedUserTokens):
    id = Platform.THREADS.value
    label = "Threads"
    site = "Threads"
    slug = "threads"
    limits = LIMITS
    caption_guidance = "Threads: at most 500 characters, conversational, one topic tag at most."
    token_kind = AccessToken.Kind.THREADS_LONG_LIVED
    token_kinds: frozenset[str] = frozenset({token_kind})

    # --- compose -------------------------------------------------------------------------------

    def validate(self, content: PostContent) -> list[Problem]:
        problems = []
        text = post_text(content)
        if len(text) > LIMITS.caption_chars:
            with_link = " with the link" if text != content.caption.strip() else ""
            problems.append(
                Problem(
                    "caption_too_long",
                    f"The text{with_link} is {len(text)} characters; Threads allows "
                    f"{LIMITS.caption_chars}.",
                    "caption",
                )
            )
        count = len(content.assets)
        if not text and count == 0:
            problems.append(Problem("text_required", "A thread needs text or an image.", "caption"))
        if count > LIMITS.media_max:
            problems.append(
                Problem(
                    "too_many_images",
                    f"A Threads carousel holds at most {LIMITS.media_max} images ({count} chosen).",
                    "assets",
                )
            )
        for asset in content.assets:
            name = asset.original_filename
            if asset.content_type not in IMAGE_RULES.formats:
                problems.append(
                    Problem("image_unfit", f"“{name}”: Threads takes JPEG or PNG.", "assets")
                )
            if asset.size > IMAGE_RULES.max_bytes:
                problems.append(
                    Problem("image_unfit", f"“{name}”: Threads takes images up to 8 MB.", "assets")
                )
            for reason in image_check(
                rules=IMAGE_RULES,
                width=asset.width,
                height=asset.height,
                size=asset.size,
                content_type=asset.content_type,
            ):
                problems.append(Problem("image_unfit", f"“{name}”: {reason}", "assets"))
        return problems

    def preview(self, content: PostContent) -> Preview:
        text = post_text(content)
        count = len(content.assets)
        layout = "carousel" if count >= CAROUSEL_MIN else "photo" if count else "text"
        if layout == "text" and content.link:
            layout = "link"
        notes = []
        if len(hashtags(text)) > 1:
            notes.append("Threads shows only the first hashtag as a topic tag.")
        return Preview(
            network=self.label,
            caption=text,
            caption_shown=text[: LIMITS.caption_shown],
            truncated=len(text) > LIMITS.caption_shown,
            hashtags=hashtags(text),
            mentions=mentions(text),
            asset_ids=[a.pk for a in content.assets],
            link=content.link,
            layout=layout,
            notes=notes,
        )

    # --- publishing ----------------------------------------------------------------------------

    def publishes_first(self, publication: "Publication", content: PostContent) -> bool:
        return False  # a step reads the container's status before it publishes

    def step(self, publication: "Publication", content: PostContent, journal: Journal) -> Outcome:
        expired = self.expired(publication)
        if expired is not None:
            return expired  # nothing is sent with a token Threads no longer accepts
        account = publication.account
        token = account_token(account)
        poll = settings.THREADS_CONTAINER_POLL_SECONDS
        sent = False
        try:
            if not publication.container_id:
                self._create_container(publication, content, token, journal)
                return Wait(poll, "Threads is processing the post.", **CREATE_OK)
            status = threads.container_status(container_id=publication.container_id, token=token)
            if status.status == threads.PUBLISHED:
                return self._live(publication, content, token, Window.for_publication(publication))
            if status.status in (threads.ERROR, threads.EXPIRED):
                reason = status.error_message or status.status
                return Fail(
                    f"Threads could not process the post ({reason}). Retry to send it again.",
                    call=STATUS_CALL,
                    answer=status.status,
                )
            if status.status not in threads.STATUSES:
                logger.warning(
                    "threads_container_status_unknown",
                    publication_id=publication.pk,
                    status=status.status[:40],
                )
                return Retry(
                    backoff(publication.attempts),
                    f"Threads reported a container status we do not know "
                    f"({status.status[:40]}); nothing was published, checking again.",
                    call=STATUS_CALL,
                    answer=status.status[:40],
                )
            if status.status == threads.IN_PROGRESS:
                return Wait(
                    poll, "Threads is still processing the post.", call=STATUS_CALL, answer="ok"
                )
            limit = threads.publishing_limit(user_id=account.platform_id, token=token)
            full = quota_full(
                network="Threads'",
                used_up=limit.remaining <= 0,
                total=limit.quota_total,
                duration=limit.quota_duration,
                call=LIMIT_CALL,
            )
            if full:
                return full
            journal.about_to_publish()
            sent = True
            media_id = threads.publish_container(
                user_id=account.platform_id, token=token, creation_id=publication.container_id
            )
            link = threads.permalink(media_id=media_id, token=token)
            return Published(media_id, link, **PUBLISH_OK)
        except graph.GraphError as exc:
            return outcome_for(exc, attempt=publication.attempts, sent_publish_call=sent)

    def _create_container(
        self, publication: "Publication", content: PostContent, token: str, journal: Journal
    ) -> None:
        user_id = publication.account.platform_id
        text = post_text(content) or None
        assets = list(content.assets)
        if not assets:
            container = threads.create_container(
                user_id=user_id, token=token, media_type=threads.TEXT, text=text
            )
        elif len(assets) == 1:
            container = threads.create_container(
                user_id=user_id,
                token=token,
                media_type=threads.IMAGE,
                text=text,
                image_url=public_url(asset=assets[0]),
            )
        else:
            children = list(publication.child_ids)
            for asset in assets[len(children) :]:
                children.append(
                    threads.create_container(
                        user_id=user_id,
                        token=token,
                        media_type=threads.IMAGE,
                        image_url=public_url(asset=asset),
                        is_carousel_item=True,
                    )
                )
                journal.record(child_ids=children)
            container = threads.create_container(
                user_id=user_id,
                token=token,
                media_type=threads.CAROUSEL,
                text=text,
                children=children,
            )
        journal.record(container_id=container)

    def reconcile(
        self, publication: "Publication", content: PostContent, window: Window
    ) -> Published | None:
        """The container this publication created says whether it went out: PUBLISHED is live
        (its thread is then looked up in ``window``); any other known status was not."""
        if not publication.container_id:
            return None
        token = account_token(publication.account)
        try:
            status = threads.container_status(container_id=publication.container_id, token=token)
        except graph.GraphError as exc:
            raise neutral(exc, reading=True) from exc
        if status.status == threads.PUBLISHED:
            return self._live(publication, content, token, window)
        if status.status in threads.STATUSES:
            return None
        raise OutcomeUnknown("Threads reported a container status we do not know.")

    def _live(
        self, publication: "Publication", content: PostContent, token: str, window: Window
    ) -> Published:
        text = post_text(content)
        kinds = {0: "TEXT_POST", 1: "IMAGE"}
        kind = kinds.get(len(content.assets), "CAROUSEL_ALBUM")
        try:
            posts = threads.list_threads(
                user_id=publication.account.platform_id, token=token, since=window.since
            )
        except graph.GraphError as exc:
            logger.warning(
                "threads_lookup_failed", publication_id=publication.pk, error=exc.technical_summary
            )
            posts = []
        matches = [p for p in posts if p.text.strip() == text and p.media_type in ("", kind)]
        found = unclaimed(matches, lambda p: p.id, window)
        if found is None:
            return Published(
                "",
                note="Threads reports the post as published; its link is not listed yet.",
                call=STATUS_CALL,
                answer="PUBLISHED",
            )
        return Published(found.id, found.permalink, call=STATUS_CALL, answer="PUBLISHED")

    def account_url(self, publication: "Publication") -> str:
        account = publication.account
        if settings.THREADS_SANDBOX:
            return f"{settings.SANDBOX_GRAPH_URL.rstrip('/')}/"
        return f"https://www.threads.net/@{account.username or account.platform_id}"

    def fetch_engagement(self, publication: "Publication") -> Engagement:
        token = account_token(publication.account)
        try:
            counts = threads.insights(media_id=publication.platform_post_id, token=token)
        except graph.GraphError as exc:
            raise neutral(exc) from exc
        reposts = counts.get("reposts")
        quotes = counts.get("quotes")
        shares = None if reposts is None and quotes is None else (reposts or 0) + (quotes or 0)
        link = publication.permalink or threads.permalink(
            media_id=publication.platform_post_id, token=token
        )
        return Engagement(
            likes=counts.get("likes"),
            comments=counts.get("replies"),
            shares=shares,
            reactions=None,
            permalink=link,
        )

    # --- tokens (LongLivedUserTokens) ---------------------------------------------------------

    def _profile_read(self, token: str) -> None:
        threads.get_profile(token=token)

    def _token_renew(self, token: str) -> tuple[str, datetime | None]:
        fresh = threads.refresh_long_lived(token=token)
        return fresh.access_token, fresh.expires_at

    # --- connecting (its own login) -------------------------------------------------------------

    def connect_authorize_url(self, *, redirect_uri: str, state: str) -> str:
        return threads.authorize_url(redirect_uri=redirect_uri, state=state)

    def connect_complete(self, *, code: str, redirect_uri: str) -> ConnectedProfile:
        """The code for a short-lived token, that for a long-lived one, then the profile."""
        try:
            short = threads.exchange_code(code=code, redirect_uri=redirect_uri)
            long = threads.exchange_long_lived(short_token=short.access_token)
            profile = threads.get_profile(token=long.access_token)
        except graph.GraphError as exc:
            raise neutral(exc) from exc
        if short.user_id and short.user_id != profile.id:
            raise Permanent("Threads answered for another profile than the one that consented.")
        return ConnectedProfile(
            platform_id=profile.id,
            name=profile.name or profile.username,
            username=profile.username,
            picture_url=profile.picture_url,
            user_id=profile.id,
            token=long.access_token,
            token_kind=AccessToken.Kind.THREADS_LONG_LIVED,
            expires_at=long.expires_at,
            scopes=tuple(settings.THREADS_SCOPES),
        )

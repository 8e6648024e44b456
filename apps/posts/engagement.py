"""Engagement sync (SPEC 5.3): counts of publications published in the last N days."""

from datetime import timedelta

import structlog
from django.conf import settings
from django.utils import timezone

from apps.networks.errors import NeedsReconnection, NetworkError
from apps.networks.registry import network_for
from apps.posts.models import Post, Publication
from apps.social.models import ConnectedAccount
from apps.social.services import accounts_mark_needs_reauth

logger = structlog.get_logger(__name__)


def engagement_sync_publication(*, publication: Publication) -> bool:
    """Fetch and store one publication's counts. False when the network could not answer."""
    network = network_for(publication.account.platform)
    try:
        counts = network.fetch_engagement(publication)
    except NetworkError as exc:
        if isinstance(exc, NeedsReconnection):
            if exc.token_missing:  # disconnected: the account already says so
                return False
            accounts_mark_needs_reauth(
                accounts=[publication.account],
                reason=str(exc),
                graph_code=exc.code,
                graph_subcode=exc.subcode,
            )
        logger.info("engagement_sync_failed", publication_id=publication.pk, error=exc.detail)
        return False
    Publication.objects.filter(pk=publication.pk).update(
        likes=counts.likes,
        comments=counts.comments,
        shares=counts.shares,
        reactions=counts.reactions,
        permalink=counts.permalink or publication.permalink,
        engagement_synced_at=timezone.now(),
    )
    return True


def engagement_sync_recent(*, days: int | None = None) -> int:
    """Sync every publication published in the last ``days`` (ENGAGEMENT_SYNC_DAYS) on an
    active account. Returns how many were updated. Stories are left out: they have no likes or
    comments to read, and are gone after 24 hours (asking would only earn errors)."""
    since = timezone.now() - timedelta(days=days or settings.ENGAGEMENT_SYNC_DAYS)
    recent = (
        Publication.objects.filter(
            status=Publication.Status.PUBLISHED,
            published_at__gte=since,
            account__status=ConnectedAccount.Status.ACTIVE,
        )
        .exclude(post__format=Post.Format.STORY_POST)
        .select_related("account")
    )
    return sum(engagement_sync_publication(publication=p) for p in recent.iterator())

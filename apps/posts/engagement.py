"""Engagement sync (SPEC 5.3): counts of publications published in the last N days."""

from datetime import timedelta

import structlog
from django.conf import settings
from django.utils import timezone

from apps.posts.models import Publication
from apps.posts.platforms import adapter_for
from apps.posts.platforms.meta import TokenMissing
from apps.social import graph
from apps.social.models import ConnectedAccount
from apps.social.services import accounts_mark_needs_reauth

logger = structlog.get_logger(__name__)


def engagement_sync_publication(*, publication: Publication) -> bool:
    """Fetch and store one publication's counts. False when the network could not answer."""
    adapter = adapter_for(publication.account.platform)
    try:
        counts = adapter.fetch_engagement(publication)
    except TokenMissing:
        return False
    except graph.GraphError as exc:
        if exc.needs_reconnect:
            accounts_mark_needs_reauth(
                accounts=[publication.account],
                reason=exc.user_message,
                graph_code=exc.code,
                graph_subcode=exc.subcode,
            )
        logger.info(
            "engagement_sync_failed", publication_id=publication.pk, error=exc.technical_summary
        )
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
    active account. Returns how many were updated."""
    since = timezone.now() - timedelta(days=days or settings.ENGAGEMENT_SYNC_DAYS)
    recent = Publication.objects.filter(
        status=Publication.Status.PUBLISHED,
        published_at__gte=since,
        account__status=ConnectedAccount.Status.ACTIVE,
    ).select_related("account")
    return sum(engagement_sync_publication(publication=p) for p in recent.iterator())

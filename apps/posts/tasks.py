"""Celery tasks of the publishing engine: thin, ids in, idempotent (see publishing.py)."""

from celery import shared_task
from django.conf import settings

from apps.posts import engagement, first_comments, publishing


@shared_task(name="posts.publications_dispatch_due")
def publications_dispatch_due() -> int:
    """Every minute (and right after a post is approved): claim due publications and queue one
    step each."""
    claims = publishing.publications_claim_due()
    # A full batch: more may be due. The next claim is queued halfway through this batch's
    # steps, so it runs while the second half is still queued: a burst of due posts drains at
    # the workers' pace instead of a batch per beat tick, with no gap between batches, and no
    # claim waits in the queue longer than about one and a half batches.
    more = len(claims) >= settings.PUBLISHING_BATCH_SIZE
    for index, claim in enumerate(claims):
        publication_step.delay(claim.publication_id, claim.token)
        if more and index == len(claims) // 2:
            publications_dispatch_due.delay()
    # First comments that are due, or whose run died (each run claims its row).
    for publication_id in first_comments.first_comments_due():
        first_comment_post.delay(publication_id)
    return len(claims)


@shared_task(name="posts.instagram_containers_poll")
def instagram_containers_poll() -> int:
    """Every minute: advance publications waiting on an Instagram container."""
    claims = publishing.publications_claim_due(containers_only=True)
    for claim in claims:
        publication_step.delay(claim.publication_id, claim.token)
    return len(claims)


@shared_task(name="posts.publication_step", acks_late=True)
def publication_step(publication_id: int, token: str) -> str | None:
    """One step of one claimed publication. A second delivery of the same message does nothing."""
    return publishing.publication_run(claim=publishing.Claim(publication_id, token))


@shared_task(name="posts.publication_follow_up")
def publication_follow_up(publication_id: int) -> str | None:
    """The next step of a publication that was told to wait a little (a container processing)."""
    for claim in publishing.publications_claim_due(ids=[publication_id]):
        return publishing.publication_run(claim=claim)
    return None


@shared_task(name=first_comments.TASK)
def first_comment_post(publication_id: int) -> str | None:
    """Post a published publication's first comment, exactly once (first_comments.py)."""
    return first_comments.first_comment_run(publication_id=publication_id)


@shared_task(name="posts.engagement_sync")
def engagement_sync() -> int:
    """Hourly: likes, comments and shares of recently published posts."""
    return engagement.engagement_sync_recent()

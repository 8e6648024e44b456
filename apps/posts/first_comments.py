"""A post's first comment, posted under each publication once it is published (issue 15):
exactly once, like the publication itself.

The comment has its own small state machine on the publication's row (``comment_status``):
``pending`` (to post, due at ``comment_next_at``) → ``sending`` (committed *before* the call,
with ``comment_next_at`` the moment it was sent) → ``posted`` | ``failed``. A run holds the
row's lock only while it moves it to ``sending``; the call is made outside any transaction and
its result is written only if the row still carries this run's ``comment_next_at`` stamp.

A ``sending`` row older than the lease is a run that died, or whose call went unanswered: before
anything is posted again, the network reads every comment under the post for this message from
this account (``first_comment_find``). Found: posted. Not there: posted now. The network cannot
say: checked again later, and after ``PUBLISHING_MAX_ATTEMPTS`` the comment fails with the
post's link to look at. A failed first comment never touches the publication's status: the post
is live either way.
"""

from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.queueing import task_queue
from apps.networks.base import FirstComments
from apps.networks.errors import NeedsReconnection, NetworkError, OutcomeUnknown, RetryLater
from apps.networks.registry import network_for
from apps.posts.models import Publication, PublicationEvent
from apps.posts.publication_states import Step, publication_event

logger = structlog.get_logger(__name__)
C = Publication.CommentStatus
K = PublicationEvent.Kind
TASK = "posts.first_comment_post"
CALL = "POST /{id}/comments"


def first_comment_fields(
    *, post_first_comment: str, platform: str, now: datetime
) -> dict[str, object]:
    """The fields a publication becoming published gets: its first comment due at once when
    the post has one and the network takes it, else none."""
    network = network_for(platform)
    if (
        not post_first_comment.strip()
        or not network.limits.first_comment
        or not isinstance(network, FirstComments)
    ):
        return {}
    return {"comment_status": C.PENDING, "comment_next_at": now, "comment_attempts": 0}


def _lease() -> timedelta:
    return timedelta(seconds=settings.PUBLISHING_CLAIM_LEASE_SECONDS)


def _due(now: datetime) -> Q:
    return Q(comment_status=C.PENDING, comment_next_at__lte=now) | Q(
        comment_status=C.SENDING, comment_next_at__lt=now - _lease()
    )


def first_comments_due(*, limit: int | None = None) -> list[int]:
    """Publications whose first comment is due, or whose sending run died (the dispatcher's
    sweep; each id is then run by :func:`first_comment_run`, which claims it)."""
    now = timezone.now()
    return list(
        Publication.objects.filter(_due(now))
        .order_by("comment_next_at")
        .values_list("pk", flat=True)[: limit or settings.PUBLISHING_BATCH_SIZE]
    )


def _again(publication_id: int, seconds: int) -> None:
    """Look again in ``seconds`` (longer waits are left to the dispatcher's sweep)."""
    if seconds <= settings.PUBLISHING_FOLLOW_UP_MAX_SECONDS:
        task_queue(TASK, publication_id, countdown=seconds)


def first_comment_run(*, publication_id: int) -> str | None:
    """Post the publication's first comment if it is due (reconciling a run that died first).
    Returns the comment status it ended with, or None when there was nothing to do here (not
    due, or another run holds it)."""
    now = timezone.now()
    with transaction.atomic():
        publication = (
            Publication.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("account", "post")
            .filter(_due(now), pk=publication_id)
            .first()
        )
        if publication is None:
            return None
        was_sending = publication.comment_status == C.SENDING
        Publication.objects.filter(pk=publication.pk).update(
            comment_status=C.SENDING,
            comment_next_at=now,
            comment_attempts=F("comment_attempts") + 1,
        )
    attempt = publication.comment_attempts + 1
    message = publication.post.first_comment
    network = network_for(publication.account.platform)
    if not isinstance(network, FirstComments) or not message.strip():
        return _finish(publication, now, attempt, failed="This network takes no first comment.")
    if not publication.platform_post_id:
        # Published, but the network has not listed the post's id yet: nothing to comment on.
        return _finish(
            publication,
            now,
            attempt,
            failed="The network had not listed the post yet, so its first comment could not be "
            f"posted; add it by hand under the post: {network.account_url(publication)}",
        )
    try:
        if was_sending:
            found = network.first_comment_find(publication, message)
            if found:
                logger.info("first_comment_reconciled", publication_id=publication.pk)
                return _finish(publication, now, attempt, comment_id=found, reconciled=True)
        comment_id = network.first_comment_post(publication, message)
    except OutcomeUnknown as exc:
        # It may have gone through: stay "sending"; after the lease the next run looks first.
        if attempt >= settings.PUBLISHING_MAX_ATTEMPTS:
            return _finish(
                publication,
                now,
                attempt,
                failed=f"Could not confirm whether the first comment went out ({exc}). Look "
                f"under the post before adding it by hand: {publication.permalink}",
            )
        logger.warning("first_comment_outcome_unknown", publication_id=publication.pk)
        _again(publication.pk, round(_lease().total_seconds()) + 1)
        return C.SENDING
    except RetryLater as exc:
        if attempt >= settings.PUBLISHING_MAX_ATTEMPTS:
            return _finish(publication, now, attempt, failed=f"Gave up: {exc}")
        return _finish(publication, now, attempt, retry_in=exc.seconds, error=str(exc))
    except NeedsReconnection as exc:
        return _finish(publication, now, attempt, failed=str(exc))
    except NetworkError as exc:  # Permanent
        return _finish(publication, now, attempt, failed=str(exc))
    return _finish(publication, now, attempt, comment_id=comment_id)


def _finish(
    publication: Publication,
    stamp: datetime,
    attempt: int,
    *,
    comment_id: str = "",
    reconciled: bool = False,
    failed: str = "",
    retry_in: int | None = None,
    error: str = "",
) -> str | None:
    """Write the run's result if the row still carries this run's stamp (no takeover)."""
    mine = Publication.objects.filter(
        pk=publication.pk, comment_status=C.SENDING, comment_next_at=stamp
    )
    fields: dict[str, object]
    with transaction.atomic():
        if failed:
            status, fields = C.FAILED, {"comment_error": failed[:2000], "comment_next_at": None}
        elif retry_in is not None:
            due = timezone.now() + timedelta(seconds=retry_in)
            status, fields = C.PENDING, {"comment_error": error[:2000], "comment_next_at": due}
        else:
            status = C.POSTED
            fields = {"comment_id": comment_id, "comment_error": "", "comment_next_at": None}
        if not mine.update(comment_status=status, **fields):
            return None
        if status == C.POSTED:
            note = "Found already posted." if reconciled else ""
            step = Step(attempt=attempt, graph_call=CALL, answer="ok", note=note)
            publication_event(publication, kind=K.COMMENTED, step=step)
        elif status == C.FAILED:
            step = Step(attempt=attempt, graph_call=CALL, note=failed)
            publication_event(publication, kind=K.COMMENT_FAILED, step=step)
    if retry_in is not None:
        _again(publication.pk, retry_in)
    logger.info("first_comment_step", publication_id=publication.pk, status=status)
    return str(status)

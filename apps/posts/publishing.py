"""The publishing engine (SPEC 5.3): claims due publications, runs one adapter step each, and
records the outcome — exactly once.

- **Claim**: due work is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` in a short transaction
  (status ``publishing``, a fresh claim token, ``claimed_at``), so two dispatchers — or the beat
  ticking twice — never take the same publication.
- **Run**: a run first turns the claim token into a run token with a conditional UPDATE, so a
  message delivered twice runs once. The adapter step makes its Graph calls outside any
  transaction; it records progress (container ids) as it goes, and marks the publication
  ``outcome_unknown`` right before a call that would create something visible.
- **Record**: the outcome is written only if the run token still holds.
- **Recover**: a claim older than the lease (its worker died) is taken over; because
  ``outcome_unknown`` was committed before the risky call, the next run reconciles (reads the
  Page's posts / the container status) before it tries again. Nothing is published twice; nothing
  is left behind.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.metrics import publication_outcome_record
from apps.posts.models import Publication
from apps.posts.platforms import (
    Fail,
    NeedsReauth,
    Outcome,
    Published,
    Retry,
    Unknown,
    Wait,
    adapter_for,
)
from apps.posts.platforms.meta import TokenMissing
from apps.posts.services import post_content, post_refresh_status
from apps.social.models import ConnectedAccount
from apps.social.services import accounts_mark_needs_reauth

logger = structlog.get_logger(__name__)
P = Publication.Status
UNKNOWN_RECHECK_SECONDS = 30


@dataclass(frozen=True)
class Claim:
    publication_id: int
    token: str


def _due(now: datetime) -> Q:
    lease = timedelta(seconds=settings.PUBLISHING_CLAIM_LEASE_SECONDS)
    return Q(status__in=[P.PENDING, P.WAITING], next_attempt_at__lte=now) | Q(
        status=P.PUBLISHING, claimed_at__lt=now - lease
    )


def publications_claim_due(
    *, limit: int | None = None, ids: list[int] | None = None, containers_only: bool = False
) -> list[Claim]:
    """Claim due publications (or the given ones, if due; or only those waiting on a container)
    for this caller alone."""
    now = timezone.now()
    claims: list[Claim] = []
    with transaction.atomic():
        due = Publication.objects.select_for_update(skip_locked=True).filter(_due(now))
        if ids is not None:
            due = due.filter(pk__in=ids)
        if containers_only:
            due = due.exclude(container_id="")
        rows = list(
            due.order_by("next_attempt_at", "pk").values("pk", "status", "post_id")[
                : limit or settings.PUBLISHING_BATCH_SIZE
            ]
        )
        for row in rows:
            token = uuid.uuid4().hex
            if row["status"] == P.PUBLISHING:
                logger.warning("publication_claim_taken_over", publication_id=row["pk"])
            Publication.objects.filter(pk=row["pk"]).update(
                status=P.PUBLISHING, claim_token=token, claimed_at=now, wait_reason=""
            )
            claims.append(Claim(row["pk"], token))
    for post_id in {row["post_id"] for row in rows}:
        post_refresh_status(post_id=post_id)
    return claims


class _Journal:
    """Progress of a run, committed at once and only while the run still holds its claim."""

    def __init__(self, publication: Publication, run_token: str) -> None:
        self.publication = publication
        self.run_token = run_token

    def _write(self, **fields: Any) -> None:
        updated = Publication.objects.filter(
            pk=self.publication.pk, claim_token=self.run_token
        ).update(**fields)
        if not updated:
            raise ClaimLost
        for name, value in fields.items():
            setattr(self.publication, name, value)

    def record(self, *, container_id: str | None = None, child_ids: Any = None) -> None:
        fields: dict[str, Any] = {}
        if container_id is not None:
            fields["container_id"] = container_id
        if child_ids is not None:
            fields["child_ids"] = list(child_ids)
        self._write(**fields)

    def about_to_publish(self) -> None:
        self._write(outcome_unknown=True)


class ClaimLost(Exception):
    """Another run took this publication over; this one stops without writing anything."""


def publication_run(*, claim: Claim) -> str | None:
    """Run one step of a claimed publication and record its outcome. Returns the new status, or
    None when this claim is no longer ours (a duplicate delivery, or a takeover)."""
    run_token = f"run-{claim.token}"
    started = Publication.objects.filter(
        pk=claim.publication_id, status=P.PUBLISHING, claim_token=claim.token
    ).update(claim_token=run_token, attempts=F("attempts") + 1)
    if not started:
        return None
    publication = Publication.objects.select_related("account", "post").get(pk=claim.publication_id)
    adapter = adapter_for(publication.account.platform)
    content = post_content(publication.post, publication.account.platform)
    journal = _Journal(publication, run_token)
    outcome: Outcome
    try:
        if publication.account.status != ConnectedAccount.Status.ACTIVE:
            state = (
                "needs reconnecting"
                if publication.account.status == ConnectedAccount.Status.NEEDS_REAUTH
                else "is disconnected"
            )
            outcome = NeedsReauth(f"{publication.account} {state}: reconnect it, then retry.")
        elif publication.outcome_unknown:
            since = (publication.claimed_at or publication.created_at) - timedelta(hours=1)
            found = adapter.reconcile(publication, content, since)
            if found is not None:
                logger.info("publication_reconciled", publication_id=publication.pk)
                outcome = found
            else:
                journal._write(outcome_unknown=False)
                outcome = adapter.step(publication, content, journal)
        else:
            outcome = adapter.step(publication, content, journal)
    except ClaimLost:
        return None
    except TokenMissing:
        outcome = NeedsReauth(
            f"{publication.account} has no access token: reconnect it, then retry."
        )
    except Exception as exc:  # an unexpected failure must not lose the publication
        logger.exception("publication_step_crashed", publication_id=publication.pk)
        outcome = Retry(UNKNOWN_RECHECK_SECONDS, f"Unexpected error: {type(exc).__name__}")
    return _record(publication, run_token, outcome)


def _record(publication: Publication, run_token: str, outcome: Outcome) -> str | None:
    now = timezone.now()
    fields: dict[str, Any] = {"claim_token": "", "claimed_at": None}
    follow_up: int | None = None
    if isinstance(outcome, Published):
        fields.update(
            status=P.PUBLISHED,
            platform_post_id=outcome.platform_post_id,
            permalink=outcome.permalink,
            published_at=now,
            outcome_unknown=False,
            wait_reason="",
            last_error="",
            error_code=None,
            error_subcode=None,
            next_attempt_at=None,
        )
    elif isinstance(outcome, Wait):
        fields.update(
            status=P.WAITING,
            next_attempt_at=now + timedelta(seconds=outcome.seconds),
            wait_reason=outcome.reason[:300],
        )
        follow_up = outcome.seconds
    elif isinstance(outcome, Unknown) and publication.attempts >= settings.PUBLISHING_MAX_ATTEMPTS:
        fields.update(
            status=P.FAILED,
            next_attempt_at=None,
            last_error=f"Could not confirm whether the post went out ({outcome.error}). "
            "Check the account before retrying.",
        )
    elif isinstance(outcome, Unknown):
        # Keep outcome_unknown set: the next run reconciles first.
        fields.update(
            status=P.WAITING,
            outcome_unknown=True,
            last_error=outcome.error,
            next_attempt_at=now + timedelta(seconds=UNKNOWN_RECHECK_SECONDS),
            wait_reason="Checking with the network whether the post went out before trying again.",
        )
        follow_up = UNKNOWN_RECHECK_SECONDS
    elif isinstance(outcome, Retry):
        if publication.attempts >= settings.PUBLISHING_MAX_ATTEMPTS:
            fields.update(
                status=P.FAILED,
                last_error=f"Gave up after {publication.attempts} attempts: {outcome.error}",
                error_code=outcome.code,
                error_subcode=outcome.subcode,
                next_attempt_at=None,
            )
        else:
            at = now + timedelta(seconds=outcome.seconds)
            fields.update(
                status=P.WAITING,
                next_attempt_at=at,
                last_error=outcome.error,
                error_code=outcome.code,
                error_subcode=outcome.subcode,
                wait_reason=f"Retrying after a temporary error ({outcome.error})"[:300],
            )
            follow_up = outcome.seconds
    elif isinstance(outcome, Fail | NeedsReauth):
        fields.update(
            status=P.FAILED,
            last_error=outcome.error,
            error_code=outcome.code,
            error_subcode=outcome.subcode,
            next_attempt_at=None,
            wait_reason="",
        )
    updated = Publication.objects.filter(pk=publication.pk, claim_token=run_token).update(**fields)
    if not updated:
        return None
    publication_outcome_record(
        platform=publication.account.platform,
        status=str(fields["status"]),
        outcome=type(outcome).__name__,
    )
    if isinstance(outcome, NeedsReauth):
        accounts_mark_needs_reauth(
            accounts=[publication.account],
            reason=outcome.error,
            graph_code=outcome.code,
            graph_subcode=outcome.subcode,
        )
    logger.info(
        "publication_step",
        publication_id=publication.pk,
        outcome=type(outcome).__name__,
        status=fields["status"],
        attempt=publication.attempts,
    )
    post_refresh_status(post_id=publication.post_id)
    if follow_up is not None and follow_up <= settings.PUBLISHING_FOLLOW_UP_MAX_SECONDS:
        from apps.posts.tasks import publication_follow_up

        publication_follow_up.apply_async((publication.pk,), countdown=follow_up)
    return str(fields["status"])

"""The publishing engine (SPEC 5.3): claims due publications, runs one network step each, and
records the outcome — exactly once. Every status change goes through the publication state
machine (``apps.posts.publication_states``), which writes the publication's history.

- **Claim**: due work is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` in a short transaction
  (status ``publishing``, a claim token, ``claimed_at``), so two dispatchers — or the beat
  ticking twice — never take the same publication.
- **Run**: a run turns the claim token into a run token with a conditional UPDATE, so a message
  delivered twice runs once. When the step's first call creates something visible, the
  same UPDATE marks the publication ``outcome_unknown`` (with ``sent_at``): committed before the
  call. The network makes its calls outside any transaction and records progress
  (container ids, uploaded photos) as it goes.
- **Record**: the outcome is written only if the run token still holds, with its event, and the
  post's status when the publication is final, in one transaction.
- **Recover**: a claim older than the lease (its worker died) is taken over. A publication whose
  outcome is unknown is reconciled first: the network reads everything the account got since the
  call was sent (every result page, however many posts landed meanwhile) and matches what this
  publication sent. Found: published. Not there: the step runs again. The network cannot say:
  checked again later, and only after every attempt "could not confirm", with the account's
  page to look at. Nothing is published twice; nothing is left behind (docs/publishing.md).
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
from apps.core.queueing import task_queue
from apps.networks.base import (
    Fail,
    NeedsReauth,
    Network,
    Outcome,
    PostContent,
    Published,
    Retry,
    Unknown,
    Wait,
    Window,
)
from apps.networks.errors import NeedsReconnection, OutcomeUnknown
from apps.networks.registry import network_for
from apps.networks.tokens import LOADED_TOKEN, token_subquery
from apps.posts import first_comments
from apps.posts.first_comments import first_comment_fields
from apps.posts.models import Publication, PublicationEvent
from apps.posts.publication_states import Step, publication_move, publications_move
from apps.posts.services import post_content, post_refresh_status, posts_publishing_started
from apps.social.models import ConnectedAccount
from apps.social.services import accounts_mark_needs_reauth

logger = structlog.get_logger(__name__)
P = Publication.Status
K = PublicationEvent.Kind
ACTIVE = ConnectedAccount.Status.ACTIVE
# How often a publication whose outcome is open looks again at an account that lost its access.
ACCESS_RECHECK_SECONDS = 600
ACCESS_LOST = "access lost"


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
    for this caller alone: one claim token for the batch, one UPDATE and one INSERT of events."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = {"claim_token": token, "claimed_at": now, "wait_reason": ""}
    with transaction.atomic():
        due = Publication.objects.select_for_update(skip_locked=True).filter(_due(now))
        if ids is not None:
            due = due.filter(pk__in=ids)
        if containers_only:
            due = due.exclude(container_id="")
        rows = list(
            due.order_by("next_attempt_at", "pk").only("pk", "status", "post_id", "tenant_id")[
                : limit or settings.PUBLISHING_BATCH_SIZE
            ]
        )
        stale = [row for row in rows if row.status == P.PUBLISHING]
        for row in stale:
            logger.warning("publication_claim_taken_over", publication_id=row.pk)
        publications_move(
            [row for row in rows if row.status != P.PUBLISHING],
            P.PUBLISHING,
            kind=K.CLAIMED,
            fields=claimed,
        )
        publications_move(
            stale,
            P.PUBLISHING,
            kind=K.TAKEN_OVER,
            fields=claimed,
            step=Step(note="The worker running it stopped answering; another one took over."),
        )
    if rows:
        posts_publishing_started(post_ids={row.post_id for row in rows})
    return [Claim(row.pk, token) for row in rows]


class ClaimLost(Exception):
    """Another run took this publication over; this one stops without writing anything."""


class _Journal:
    """Progress of a run, committed at once and only while the run still holds its claim."""

    def __init__(self, publication: Publication, run_token: str, *, marked: bool) -> None:
        self.publication = publication
        self.run_token = run_token
        # The outcome is already marked unknown (by the run's start, or an earlier attempt whose
        # window reconciliation just read: that earlier `sent_at` keeps the window wide).
        self.marked = marked

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
        if not self.marked:
            self._write(outcome_unknown=True, sent_at=timezone.now())
            self.marked = True


def publication_run(*, claim: Claim) -> str | None:
    """Run one step of a claimed publication and record its outcome. Returns the new status, or
    None when this claim is no longer ours (a duplicate delivery, or a takeover)."""
    publication = (
        Publication.objects.select_related("account", "post", "post__cover")
        .annotate(account_token=token_subquery())  # one query less per step
        .filter(pk=claim.publication_id, status=P.PUBLISHING, claim_token=claim.token)
        .first()
    )
    if publication is None:
        return None
    account = publication.account
    setattr(account, LOADED_TOKEN, publication.account_token)
    network = network_for(account.platform)
    content = post_content(publication.post, account.platform)
    active = account.status == ACTIVE
    was_unknown = publication.outcome_unknown
    run_token = f"run-{claim.token}"
    start: dict[str, Any] = {"claim_token": run_token}
    if active and not was_unknown and network.publishes_first(publication, content):
        start.update(outcome_unknown=True, sent_at=timezone.now())
    started = Publication.objects.filter(
        pk=publication.pk, status=P.PUBLISHING, claim_token=claim.token
    ).update(attempts=F("attempts") + 1, **start)
    if not started:
        return None
    for name, value in start.items():
        setattr(publication, name, value)
    publication.attempts += 1
    journal = _Journal(publication, run_token, marked=publication.outcome_unknown)
    reconciled = False  # this run learned for sure that the earlier attempt did not go out
    outcome: Outcome
    try:
        # Reconnecting fixes a lost token, not a missing Page task (a Page admin does); without
        # the task the Page's posts can still be read.
        no_task = account.status == ConnectedAccount.Status.NO_PERMISSION
        refusal = account.publishing_refusal or f"{account} cannot be published to."
        if not active and was_unknown and not no_task:
            # An earlier attempt may be live, and without access nobody can check: wait for
            # the account to be fixed, never "failed" (the post may be out there).
            outcome = _awaiting_access(account)
        elif not active and not was_unknown:
            outcome = Fail(refusal) if no_task else NeedsReauth(refusal)
        elif was_unknown:
            found = _reconcile(publication, network, content)
            if found is None:
                reconciled = True
                outcome = network.step(publication, content, journal) if active else Fail(refusal)
            else:
                outcome = found
        else:
            outcome = network.step(publication, content, journal)
    except ClaimLost:
        return None
    except NeedsReconnection as exc:  # no token to call the network with
        outcome = (
            _awaiting_access(account)
            if was_unknown
            else NeedsReauth(str(exc), exc.code, exc.subcode, call=exc.call, answer=exc.answer)
        )
    except Exception as exc:  # an unexpected failure must not lose the publication
        logger.exception("publication_step_crashed", publication_id=publication.pk)
        error = f"Unexpected error: {type(exc).__name__}"
        recheck = settings.PUBLISHING_UNKNOWN_RECHECK_SECONDS
        # Past the mark, the call may have gone out: the outcome is unknown, not a failure.
        outcome = Unknown(error) if journal.marked else Retry(recheck, error)
    if reconciled and isinstance(outcome, Unknown) and outcome.refusal_if_absent:
        # The account has no such post since the attempt began, yet the network refuses it as
        # a duplicate: an older identical post. The refusal stands.
        outcome = Fail(outcome.refusal_if_absent, call=outcome.call, answer=outcome.answer)
    # A run that never got to look (the account is not active) leaves an open outcome open.
    still_unknown = was_unknown and not reconciled and not isinstance(outcome, Published)
    return _record(publication, run_token, outcome, network, still_unknown=still_unknown)


def _awaiting_access(account: ConnectedAccount, *, call: str = "") -> Wait:
    """The outcome is open and the account cannot be read: look again every few minutes; the
    first look once the account works again reconciles. Such a run is not an attempt."""
    return Wait(
        ACCESS_RECHECK_SECONDS,
        f"Reconnect {account}: an earlier attempt may have gone out, and only with access can "
        "we check. Once it is reconnected we check first, so nothing is posted twice.",
        call=call,
        answer=ACCESS_LOST,
    )


def _reconcile(
    publication: Publication, network: Network, content: PostContent
) -> Published | Unknown | Wait | None:
    """Whether the attempt whose outcome is unknown went out: Published, None (it did not),
    Unknown (the network cannot say now), or Wait (the account lost its access)."""
    window = Window.for_publication(publication)
    taken = frozenset(
        Publication.objects.filter(
            account_id=publication.account_id, status=P.PUBLISHED, published_at__gte=window.since
        )
        .exclude(pk=publication.pk)
        .exclude(platform_post_id="")
        .values_list("platform_post_id", flat=True)
    )
    try:
        found = network.reconcile(publication, content, Window(window.since, taken))
    except NeedsReconnection as exc:
        if exc.token_missing:
            raise
        # The access is gone while the outcome is open: say so on the account (owners are
        # told), and wait for it to be fixed rather than guess.
        accounts_mark_needs_reauth(
            accounts=[publication.account],
            reason=str(exc),
            graph_code=exc.code,
            graph_subcode=exc.subcode,
        )
        publication.account.refresh_from_db(fields=["status", "status_reason"])
        if publication.account.status != ACTIVE:
            return _awaiting_access(publication.account, call=exc.call)
        return Unknown(str(exc), answer="CannotTell")
    except OutcomeUnknown as exc:
        return Unknown(str(exc), answer="CannotTell")
    if found is not None:
        logger.info("publication_reconciled", publication_id=publication.pk)
    return found


def _record(
    publication: Publication,
    run_token: str,
    outcome: Outcome,
    network: Network,
    *,
    still_unknown: bool,
) -> str | None:
    if isinstance(outcome, NeedsReauth) and publication.account.status == ACTIVE:
        # Before the outcome is written: a refusal the Page's tasks explain (a Graph call, so not
        # inside the transaction below) is said as such, not as "reconnect".
        accounts_mark_needs_reauth(
            accounts=[publication.account],
            reason=outcome.error,
            graph_code=outcome.code,
            graph_subcode=outcome.subcode,
        )
        account = publication.account
        account.refresh_from_db(fields=["status", "status_reason"])
        if account.status == ConnectedAccount.Status.NO_PERMISSION:
            outcome = Fail(
                account.publishing_refusal or outcome.error,
                outcome.code,
                outcome.subcode,
                call=outcome.call,
                answer=outcome.answer,
            )
    now = timezone.now()
    fields: dict[str, Any] = {
        "claim_token": "",
        "claimed_at": None,
        # Only an Unknown leaves the outcome open, or a run that never got to look.
        "outcome_unknown": isinstance(outcome, Unknown) or still_unknown,
    }
    follow_up: int | None = None
    note = ""
    if isinstance(outcome, Published):
        to = P.PUBLISHED
        kind = K.RECONCILED if outcome.answer in ("found", "PUBLISHED") else K.PUBLISHED
        fields.update(
            platform_post_id=outcome.platform_post_id,
            permalink=outcome.permalink,
            published_at=now,
            wait_reason="",
            last_error="",
            error_code=None,
            error_subcode=None,
            next_attempt_at=None,
        )
        note = outcome.note
        fields.update(
            first_comment_fields(
                post_first_comment=publication.post.first_comment,
                platform=publication.account.platform,
                now=now,
            )
        )
    elif isinstance(outcome, Wait):
        to, kind = P.WAITING, K.WAITING
        # Waiting is not failing: a lost access (nothing was tried), a container or a video
        # Meta is still processing, a quota, a rate limit. Only failed tries count towards
        # PUBLISHING_MAX_ATTEMPTS, so a Reel polled twenty times still has its retries.
        fields["attempts"] = publication.attempts - 1
        fields.update(
            next_attempt_at=now + timedelta(seconds=outcome.seconds),
            wait_reason=outcome.reason[:300],
        )
        follow_up = outcome.seconds
    elif isinstance(outcome, Unknown) and publication.attempts >= settings.PUBLISHING_MAX_ATTEMPTS:
        to, kind = P.FAILED, K.FAILED
        fields.update(
            next_attempt_at=None,
            last_error=f"Could not confirm whether the post went out ({outcome.error}). Look at "
            f"the account's recent posts before retrying: {network.account_url(publication)}",
        )
    elif isinstance(outcome, Unknown):
        to, kind = P.WAITING, K.CHECKING
        note = outcome.error
        fields.update(
            last_error=outcome.error,
            next_attempt_at=now + timedelta(seconds=settings.PUBLISHING_UNKNOWN_RECHECK_SECONDS),
            wait_reason="Checking with the network whether the post went out before trying again.",
        )
        follow_up = settings.PUBLISHING_UNKNOWN_RECHECK_SECONDS
    elif isinstance(outcome, Retry) and publication.attempts >= settings.PUBLISHING_MAX_ATTEMPTS:
        to, kind = P.FAILED, K.FAILED
        fields.update(
            last_error=f"Gave up after {publication.attempts} attempts: {outcome.error}",
            error_code=outcome.code,
            error_subcode=outcome.subcode,
            next_attempt_at=None,
        )
    elif isinstance(outcome, Retry):
        to, kind = P.WAITING, K.RETRYING
        fields.update(
            next_attempt_at=now + timedelta(seconds=outcome.seconds),
            last_error=outcome.error,
            error_code=outcome.code,
            error_subcode=outcome.subcode,
            wait_reason=f"Retrying after a temporary error ({outcome.error})"[:300],
        )
        follow_up = outcome.seconds
    else:  # Fail | NeedsReauth
        to, kind = P.FAILED, K.FAILED
        fields.update(
            last_error=outcome.error,
            error_code=outcome.code,
            error_subcode=outcome.subcode,
            next_attempt_at=None,
            wait_reason="",
        )
    step = Step(
        attempt=publication.attempts,
        graph_call=outcome.call,
        answer=outcome.answer,
        error_code=fields.get("error_code"),
        error_subcode=fields.get("error_subcode"),
        note=note or str(fields.get("wait_reason") or fields.get("last_error") or ""),
    )
    with transaction.atomic():
        moved = publication_move(
            publication, to, kind=kind, guard={"claim_token": run_token}, fields=fields, step=step
        )
        if moved and to in (P.PUBLISHED, P.FAILED):
            post_refresh_status(post_id=publication.post_id)
    if not moved:
        return None
    publication_outcome_record(
        platform=publication.account.platform, status=str(to), outcome=type(outcome).__name__
    )
    logger.info(
        "publication_step",
        publication_id=publication.pk,
        outcome=type(outcome).__name__,
        status=to,
        attempt=publication.attempts,
    )
    if follow_up is not None and follow_up <= settings.PUBLISHING_FOLLOW_UP_MAX_SECONDS:
        task_queue("posts.publication_follow_up", publication.pk, countdown=follow_up)
    if fields.get("comment_status") == Publication.CommentStatus.PENDING:
        task_queue(first_comments.TASK, publication.pk)
    return str(to)

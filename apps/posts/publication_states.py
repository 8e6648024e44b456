"""The publication state machine: every status change of a :class:`Publication` goes through
:func:`publication_move` (one row) or :func:`publications_move` (rows the caller has locked), which
check the move against :data:`TRANSITIONS` and write one :class:`PublicationEvent` per move.

pending → publishing (claimed) → waiting → publishing → … → published | failed;
publishing → publishing (a stale claim taken over); failed → pending (retried);
pending / waiting / publishing → cancelled (the post or the business went away);
cancelled → pending (scheduled again).

The engine (``apps.posts.publishing``) moves rows with conditional UPDATEs instead of row locks
(the claim token is the guard), so a move here is an ``UPDATE … WHERE status = <from> AND
<guard>``: when it matches nothing, someone else moved the row first and nothing is written.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from django.utils import timezone

from apps.accounts.models import User
from apps.core.exceptions import ApplicationError
from apps.posts.models import Publication, PublicationEvent

logger = structlog.get_logger(__name__)

P = Publication.Status
K = PublicationEvent.Kind

TRANSITIONS: dict[str, frozenset[str]] = {
    P.PENDING: frozenset({P.PUBLISHING, P.CANCELLED}),
    P.WAITING: frozenset({P.PUBLISHING, P.CANCELLED}),
    P.PUBLISHING: frozenset({P.PUBLISHING, P.WAITING, P.PUBLISHED, P.FAILED, P.CANCELLED}),
    P.PUBLISHED: frozenset(),
    P.FAILED: frozenset({P.PENDING}),
    P.CANCELLED: frozenset({P.PENDING}),
}


class IllegalPublicationTransition(ApplicationError):
    default_code = "illegal_transition"


@dataclass(frozen=True)
class Step:
    """What the event of a move says besides the statuses: the attempt, the Graph call that
    decided it ("POST /{id}/feed"), its answer ("ok" or the error class), Meta's codes, and a
    note (the error, the wait reason, who retried)."""

    attempt: int = 0
    graph_call: str = ""
    answer: str = ""
    error_code: int | None = None
    error_subcode: int | None = None
    note: str = ""
    actor: User | None = None


def check_move(from_status: str, to: str) -> None:
    if to not in TRANSITIONS[from_status]:
        raise IllegalPublicationTransition(
            f"A publication that is {P(from_status).label.lower()} cannot become "
            f"{P(to).label.lower()}."
        )


def _event(publication: Publication, from_status: str, to: str, kind: str, step: Step) -> Any:
    return PublicationEvent(
        tenant_id=publication.tenant_id,
        publication_id=publication.pk,
        kind=kind,
        from_status=from_status,
        to_status=to,
        attempt=step.attempt,
        graph_call=step.graph_call[:80],
        answer=step.answer[:64],
        error_code=step.error_code,
        error_subcode=step.error_subcode,
        note=step.note,
        actor=step.actor,
        created_at=timezone.now(),
    )


def publication_move(
    publication: Publication,
    to: str,
    *,
    kind: str,
    guard: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
    step: Step = Step(),
) -> bool:
    """Move ``publication`` from the status it has in memory to ``to``, writing ``fields`` with
    it, if the row still has that status (and matches ``guard``). Returns False, writing
    nothing, when it no longer does. Illegal moves raise."""
    from_status = publication.status
    check_move(from_status, to)
    fields = fields or {}
    updated = Publication.objects.filter(
        pk=publication.pk, status=from_status, **(guard or {})
    ).update(status=to, **fields)
    if not updated:
        return False
    _event(publication, from_status, to, kind, step).save()
    publication.status = to
    for name, value in fields.items():
        if not hasattr(value, "resolve_expression"):
            setattr(publication, name, value)
    logger.info(
        "publication_transition",
        publication_id=publication.pk,
        from_status=from_status,
        to_status=to,
        kind=kind,
    )
    return True


def publication_event(publication: Publication, *, kind: str, step: Step = Step()) -> None:
    """An event that moves nothing: what happened to the publication's first comment
    (``apps.posts.first_comments``), in the same history as its moves."""
    _event(publication, publication.status, publication.status, kind, step).save()


def publications_move(
    publications: Sequence[Publication],
    to: str,
    *,
    kind: str,
    fields: dict[str, Any] | None = None,
    step: Step = Step(),
) -> int:
    """Move rows that the caller holds locked (``select_for_update``) to ``to``: one UPDATE and
    one INSERT of events for all of them. Illegal moves raise before anything is written."""
    if not publications:
        return 0
    for publication in publications:
        check_move(publication.status, to)
    Publication.objects.filter(pk__in=[p.pk for p in publications]).update(
        status=to, **(fields or {})
    )
    PublicationEvent.objects.bulk_create(
        [_event(p, p.status, to, kind, step) for p in publications]
    )
    for publication in publications:
        publication.status = to
    return len(publications)


def publications_create(*, post: Any, account_ids: Sequence[int], due: Any) -> None:
    """New pending publications of ``post`` to these accounts, due at ``due``, each with its
    first event."""
    if not account_ids:
        return
    created = Publication.objects.bulk_create(
        Publication(tenant_id=post.tenant_id, post=post, account_id=pk, next_attempt_at=due)
        for pk in account_ids
    )
    PublicationEvent.objects.bulk_create(
        _event(p, "", P.PENDING, K.SCHEDULED, Step(note=f"for {due:%Y-%m-%d %H:%M} UTC"))
        for p in created
    )

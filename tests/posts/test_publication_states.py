"""The publication state machine (apps/posts/publication_states.py): one table of moves, illegal
moves refused, one PublicationEvent per move, and no status written anywhere else."""

import ast
from pathlib import Path

import pytest
from django.utils import timezone

from apps.posts import publishing
from apps.posts.models import Publication, PublicationEvent
from apps.posts.publication_states import (
    TRANSITIONS,
    IllegalPublicationTransition,
    publication_move,
)
from apps.posts.services import post_cancel, publication_retry
from tests.posts.test_publishing import drive, make_post

P = Publication.Status
K = PublicationEvent.Kind
APPS = Path(__file__).resolve().parents[2] / "apps"


def kinds(publication: Publication) -> list[str]:
    return list(publication.events.order_by("created_at", "id").values_list("kind", flat=True))


def test_every_status_has_its_moves_and_final_ones_lead_nowhere_but_a_retry():
    assert set(TRANSITIONS) == set(P.values)
    assert TRANSITIONS[P.PUBLISHED] == frozenset()
    assert TRANSITIONS[P.FAILED] == {P.PENDING}


def test_an_illegal_move_raises_and_writes_nothing(owner, accounts, sandbox, no_media_fetch):
    post = make_post(owner, [accounts["facebook"]])
    drive()
    publication = post.publications.get()
    assert publication.status == P.PUBLISHED
    events = publication.events.count()

    with pytest.raises(IllegalPublicationTransition, match="published cannot become scheduled"):
        publication_move(publication, P.PENDING, kind=K.RETRIED)

    publication.refresh_from_db()
    assert publication.status == P.PUBLISHED
    assert publication.events.count() == events


def test_a_move_that_lost_the_race_writes_nothing(owner, accounts, sandbox, no_media_fetch):
    post = make_post(owner, [accounts["facebook"]])
    publication = post.publications.get()
    stale = Publication.objects.get(pk=publication.pk)
    assert publication_move(publication, P.CANCELLED, kind=K.CANCELLED)

    # `stale` still believes it is pending: the row is not, so nothing happens.
    assert not publication_move(stale, P.PUBLISHING, kind=K.CLAIMED, guard={"claim_token": ""})
    assert Publication.objects.get(pk=publication.pk).status == P.CANCELLED
    assert kinds(publication) == [K.SCHEDULED, K.CANCELLED]


def test_a_published_text_post_has_its_whole_history(owner, accounts, sandbox, no_media_fetch):
    post = make_post(owner, [accounts["facebook"]])
    drive()
    publication = post.publications.get()

    events = list(publication.events.order_by("created_at", "id"))
    assert [e.kind for e in events] == [K.SCHEDULED, K.CLAIMED, K.PUBLISHED]
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", P.PENDING),
        (P.PENDING, P.PUBLISHING),
        (P.PUBLISHING, P.PUBLISHED),
    ]
    last = events[-1]
    assert (last.attempt, last.graph_call, last.answer) == (1, "POST /{id}/feed", "ok")
    assert all(e.tenant_id == owner.tenant_id for e in events)


def test_a_wait_for_a_rate_limit_is_in_the_history(
    owner, accounts, sandbox, control, no_media_fetch
):
    control("faults", {"kind": "rate_limit", "match": "POST /*/feed", "code": 32, "minutes": 1})
    post = make_post(owner, [accounts["facebook"]])
    drive()
    publication = post.publications.get()

    assert kinds(publication) == [K.SCHEDULED, K.CLAIMED, K.WAITING, K.CLAIMED, K.PUBLISHED]
    waiting = publication.events.get(kind=K.WAITING)
    assert (waiting.attempt, waiting.graph_call, waiting.answer) == (
        1,
        "POST /{id}/feed",
        "GraphRateLimitError",
    )
    assert "limiting" in waiting.note


def test_a_staff_retry_and_a_cancel_are_moves_with_their_actor(
    owner, accounts, sandbox, control, staff, no_media_fetch
):
    control("faults", {"kind": "error", "match": "POST /*/feed", "code": 100, "message": "Bad"})
    post = make_post(owner, [accounts["facebook"]])
    drive()
    publication = post.publications.get()
    assert publication.status == P.FAILED

    publication_retry(reviewer=staff, publication=publication)
    retried = publication.events.get(kind=K.RETRIED)
    assert (retried.from_status, retried.to_status, retried.actor) == (
        P.FAILED,
        P.PENDING,
        staff,
    )

    later = make_post(
        owner, [accounts["facebook"]], scheduled_for=timezone.now() + timezone.timedelta(days=1)
    )
    post_cancel(actor=owner, post=later)
    cancelled = later.publications.get().events.get(kind=K.CANCELLED)
    assert (cancelled.from_status, cancelled.actor) == (P.PENDING, owner.user)


def test_a_stale_claim_taken_over_is_in_the_history(
    owner, accounts, sandbox, settings, no_media_fetch
):
    post = make_post(owner, [accounts["facebook"]])
    (claim,) = publishing.publications_claim_due()
    Publication.objects.filter(pk=claim.publication_id).update(
        claimed_at=timezone.now()
        - timezone.timedelta(seconds=settings.PUBLISHING_CLAIM_LEASE_SECONDS + 1)
    )

    (again,) = publishing.publications_claim_due()
    assert publishing.publication_run(claim=claim) is None  # the old claim is no longer valid
    assert publishing.publication_run(claim=again) == P.PUBLISHED

    publication = post.publications.get()
    assert kinds(publication) == [K.SCHEDULED, K.CLAIMED, K.TAKEN_OVER, K.PUBLISHED]
    taken = publication.events.get(kind=K.TAKEN_OVER)
    assert (taken.from_status, taken.to_status) == (P.PUBLISHING, P.PUBLISHING)


def _status_writes(path: Path) -> list[str]:
    """`….update(status=…)` / `.status = …` on a publication outside the state machine."""
    tree = ast.parse(path.read_text())
    source = path.read_text()
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("update", "bulk_update")
            and any(k.arg == "status" for k in node.keywords)
        ):
            text = ast.get_source_segment(source, node.func.value) or ""
            if "ublication" in text:
                found.append(f"{path.name}:{node.lineno}")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if not (isinstance(target, ast.Attribute) and target.attr == "status"):
                    continue
                text = ast.get_source_segment(source, target) or ""
                if "ublication" in text:
                    found.append(f"{path.name}:{node.lineno}")
    return sorted(found)


def test_no_publication_status_is_written_outside_the_state_machine():
    offenders = [
        hit
        for path in APPS.rglob("*.py")
        if path.name != "publication_states.py" and "migrations" not in path.parts
        for hit in _status_writes(path)
    ]
    assert offenders == []


def test_the_status_scan_finds_a_raw_write(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "def f(post):\n"
        "    post.publications.filter(status='pending').update(status='cancelled')\n"
        "    publication.status = 'failed'\n"
    )
    assert _status_writes(planted) == ["planted.py:2", "planted.py:3"]

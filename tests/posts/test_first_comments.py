"""The first comment (issue 15) against the sandbox over HTTP, through Celery's task machinery:
posted under each published post exactly once — when the task runs twice, when the call's answer
is lost, when the run that sent it died — and a refusal fails the comment, never the post."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.posts.models import Publication, PublicationEvent
from apps.posts.tasks import first_comment_post, publications_dispatch_due
from tests.posts.test_publishing import drive, make_post

pytestmark = pytest.mark.django_db

C = Publication.CommentStatus
COMMENT = "Book a table: 01 23 45 67 89 #bistro"


def comments(sandbox, prefix: str) -> list[dict]:
    return httpx.get(f"{sandbox.base_url}/_sandbox/published").json()[f"{prefix}_comments"]


def run(publication: Publication) -> str | None:
    """The task as a worker runs it (Celery's own call path, no broker)."""
    return first_comment_post.apply(args=[publication.pk]).get()


@pytest.mark.parametrize(
    ("target", "prefix"), [("instagram", "instagram"), ("facebook", "facebook")]
)
def test_the_first_comment_is_posted_once_under_the_published_post(
    owner, accounts, sandbox, no_media_fetch, target, prefix
):
    post = make_post(owner, [accounts[target]], images=1, first_comment=COMMENT)

    drive()
    publication = post.publications.get()
    assert (publication.status, publication.comment_status) == ("published", C.PENDING)

    assert run(publication) == C.POSTED
    assert run(publication) is None  # a second delivery finds nothing to do
    publication.refresh_from_db()
    posted = comments(sandbox, prefix)
    assert [(c["target_id"], c["message"]) for c in posted] == [
        (publication.platform_post_id, COMMENT)
    ]
    assert publication.comment_id == posted[0]["id"]
    assert publication.events.filter(kind=PublicationEvent.Kind.COMMENTED).count() == 1


def test_a_post_without_a_first_comment_has_none_to_post(owner, accounts, sandbox, no_media_fetch):
    post = make_post(owner, [accounts["instagram"]], images=1)

    drive()

    publication = post.publications.get()
    assert (publication.status, publication.comment_status) == ("published", C.NONE)
    assert run(publication) is None
    assert comments(sandbox, "instagram") == []


def test_a_lost_answer_is_reconciled_before_anything_is_posted_again(
    owner, accounts, sandbox, control, no_media_fetch, settings
):
    post = make_post(owner, [accounts["instagram"]], images=1, first_comment=COMMENT)
    drive()
    publication = post.publications.get()
    # The sandbox posts the comment, then holds the answer past the client's timeout.
    control("faults", {"kind": "timeout_after_effect", "match": "POST /*/comments", "seconds": 5})

    assert run(publication) == C.SENDING
    publication.refresh_from_db()
    assert publication.comment_status == C.SENDING
    assert run(publication) is None  # still within the lease: the run may be alive
    # The lease runs out (the worker that sent it is presumed dead): the next run looks first.
    Publication.objects.filter(pk=publication.pk).update(
        comment_next_at=timezone.now()
        - timedelta(seconds=settings.PUBLISHING_CLAIM_LEASE_SECONDS + 1)
    )
    control("faults", None, method="DELETE")

    assert run(publication) == C.POSTED
    publication.refresh_from_db()
    posted = comments(sandbox, "instagram")
    assert len(posted) == 1
    assert publication.comment_id == posted[0]["id"]
    assert publication.events.get(kind=PublicationEvent.Kind.COMMENTED).note == (
        "Found already posted."
    )


def test_a_run_that_died_after_sending_is_found_by_the_dispatchers_sweep(
    owner, accounts, sandbox, control, no_media_fetch, settings, monkeypatch
):
    post = make_post(owner, [accounts["facebook"]], images=1, first_comment=COMMENT)
    drive()
    publication = post.publications.get()
    control("faults", {"kind": "timeout_after_effect", "match": "POST /*/comments", "seconds": 5})
    run(publication)
    control("faults", None, method="DELETE")
    Publication.objects.filter(pk=publication.pk).update(
        comment_next_at=timezone.now()
        - timedelta(seconds=settings.PUBLISHING_CLAIM_LEASE_SECONDS + 1)
    )
    swept: list[int] = []
    monkeypatch.setattr(first_comment_post, "delay", lambda pk: swept.append(pk))

    publications_dispatch_due.apply()

    assert swept == [publication.pk]
    assert run(publication) == C.POSTED
    assert len(comments(sandbox, "facebook")) == 1


def test_a_refused_comment_fails_with_the_reason_and_the_post_stays_published(
    owner, accounts, sandbox, control, no_media_fetch
):
    post = make_post(owner, [accounts["instagram"]], images=1, first_comment=COMMENT)
    drive()
    publication = post.publications.get()
    control(
        "faults",
        {
            "kind": "error",
            "match": "POST /*/comments",
            "status": 400,
            "code": 100,
            "message": "(#100) Comments are turned off for this media",
        },
    )

    assert run(publication) == C.FAILED

    publication.refresh_from_db()
    assert publication.status == "published"
    assert "turned off" in publication.comment_error
    assert publication.events.filter(kind=PublicationEvent.Kind.COMMENT_FAILED).exists()
    assert comments(sandbox, "instagram") == []

"""Bad Graph answers while reconciling (issue 12): missing or extra fields, an empty page with a
`next` link, a `next` link to another host, a container status the product does not know. Each
has a clear, logged outcome: never a crash, never a second post."""

import logging

import pytest
import respx
from django.conf import settings
from django.utils import timezone

from apps.posts import publishing
from apps.posts.models import Publication, PublicationEvent
from tests.posts.test_publishing import drive, make_post, page_posts

K = PublicationEvent.Kind
PAGE = "101000000000001"


def lost_answer(control) -> None:
    """The next Page post takes effect, and its answer never arrives in time."""
    control("faults", {"kind": "timeout_after_effect", "match": "POST /*/feed", "seconds": 4})


def listing_answers(control, body: dict, times: int = 1) -> None:
    control(
        "faults",
        {"kind": "malformed", "match": "GET /*/posts", "body": body, "times": times},
    )


def only_once(sandbox, caption: str) -> Publication:
    assert [p["message"] for p in page_posts(sandbox)].count(caption) == 1
    publication = Publication.objects.get(post__caption=caption)
    assert publication.status == Publication.Status.PUBLISHED
    assert publication.platform_post_id == next(
        p["id"] for p in page_posts(sandbox) if p["message"] == caption
    )
    return publication


def test_a_listing_item_without_an_id_is_checked_again_not_posted_again(
    owner, accounts, sandbox, control, no_media_fetch, settings
):
    settings.PUBLISHING_UNKNOWN_RECHECK_SECONDS = 0
    lost_answer(control)
    listing_answers(control, {"data": [{"message": "Soup tonight", "created_time": "x"}]}, 2)

    make_post(owner, [accounts["facebook"]], caption="Soup tonight")
    drive()

    publication = only_once(sandbox, "Soup tonight")
    checking = publication.events.filter(kind=K.CHECKING)
    assert [e.answer for e in checking] == ["GraphTimeoutError", "CannotTell", "CannotTell"]
    assert "could not understand" in checking[1].note
    assert publication.events.filter(kind=K.RECONCILED).count() == 1


def test_extra_fields_in_the_listing_are_ignored(
    owner, accounts, sandbox, control, no_media_fetch, settings
):
    settings.PUBLISHING_UNKNOWN_RECHECK_SECONDS = 0
    lost_answer(control)
    make_post(owner, [accounts["facebook"]], caption="Extra fields")
    drive(rounds=1)  # the feed call went out; its answer was lost
    posted = next(p for p in page_posts(sandbox) if p["message"] == "Extra fields")
    listing_answers(
        control,
        {
            "data": [
                {
                    "id": posted["id"],
                    "message": "Extra fields",
                    "created_time": posted["created_time"],
                    "is_hidden": False,
                    "promotion_status": "ineligible",
                    "attachments": {"data": [], "summary": {"whatever": 1}},
                }
            ],
            "paging": {"cursors": {"before": "a", "after": "b"}},
            "__debug__": {"messages": []},
        },
    )

    drive()

    publication = only_once(sandbox, "Extra fields")
    assert publication.events.filter(kind=K.RECONCILED).count() == 1


def test_an_empty_page_with_a_next_link_is_followed(
    owner, accounts, sandbox, control, no_media_fetch, settings
):
    settings.PUBLISHING_UNKNOWN_RECHECK_SECONDS = 0
    lost_answer(control)
    make_post(owner, [accounts["facebook"]], caption="Empty first page")
    drive(rounds=1)
    listing_answers(
        control,
        {"data": [], "paging": {"next": f"{sandbox.base_url}/v25.0/{PAGE}/posts?since=0"}},
    )

    drive()

    publication = only_once(sandbox, "Empty first page")
    assert publication.events.filter(kind=K.RECONCILED).count() == 1


def test_a_next_link_to_another_host_is_followed_only_on_the_configured_one(
    owner, accounts, sandbox, control, no_media_fetch, settings, caplog
):
    settings.PUBLISHING_UNKNOWN_RECHECK_SECONDS = 0
    lost_answer(control)
    make_post(owner, [accounts["facebook"]], caption="Foreign next")
    drive(rounds=1)
    listing_answers(
        control,
        {
            "data": [],
            "paging": {
                "next": f"https://graph.evil.example/v25.0/{PAGE}/posts?since=0&access_token=x"
            },
        },
    )

    with caplog.at_level(logging.WARNING):
        drive()

    publication = only_once(sandbox, "Foreign next")
    assert publication.events.filter(kind=K.RECONCILED).count() == 1
    assert "graph_paging_foreign_host" in caplog.text
    assert "access_token=x" not in caplog.text


def test_a_listing_that_never_ends_cannot_tell_and_fails_only_as_could_not_confirm(
    owner, accounts, sandbox, control, no_media_fetch, settings
):
    settings.PUBLISHING_UNKNOWN_RECHECK_SECONDS = 0
    lost_answer(control)
    # Every listing answers an empty page that links to itself: a loop.
    loop = {"data": [], "paging": {"next": f"{sandbox.base_url}/v25.0/{PAGE}/posts?after=z"}}
    listing_answers(control, loop, times=None)

    make_post(owner, [accounts["facebook"]], caption="Never ending")
    drive()

    publication = Publication.objects.get(post__caption="Never ending")
    assert [p["message"] for p in page_posts(sandbox)].count("Never ending") == 1
    assert publication.status == Publication.Status.FAILED
    assert publication.last_error.startswith("Could not confirm whether the post went out")
    assert f"_sandbox/view/{PAGE}" in publication.last_error  # where to look
    assert publication.outcome_unknown  # a retry reconciles first


def _step_with_container_status(publication: Publication, status_code: str) -> bool:
    """One step of `publication` while Meta answers its container's status with
    `status_code`; whether media_publish was called."""
    with respx.mock(base_url=settings.FACEBOOK_GRAPH_URL, assert_all_called=False) as meta:
        meta.get(path__regex=rf"/{publication.container_id}$").respond(
            json={"id": publication.container_id, "status_code": status_code}
        )
        publish = meta.post(path__regex=r"/media_publish$")
        meta.route().pass_through()
        Publication.objects.filter(pk=publication.pk).update(next_attempt_at=timezone.now())
        for claim in publishing.publications_claim_due(ids=[publication.pk]):
            publishing.publication_run(claim=claim)
    publication.refresh_from_db()
    return publish.called


@pytest.mark.parametrize("status_code", ["SCHEDULED", "finished"])
def test_a_container_status_we_do_not_know_is_checked_again_never_published_blindly(
    owner, accounts, sandbox, no_media_fetch, status_code
):
    make_post(owner, [accounts["instagram"]], images=1)
    drive(rounds=1)  # the container is created
    publication = Publication.objects.get()

    assert not _step_with_container_status(publication, status_code)

    assert publication.status == Publication.Status.WAITING
    assert f"container status we do not know ({status_code})" in publication.last_error
    assert publication.events.order_by("-id")[0].answer == status_code
    drive()  # Meta answers properly again: it goes out, once
    publication.refresh_from_db()
    assert publication.status == Publication.Status.PUBLISHED


def test_a_container_status_that_is_not_text_fails_clearly(
    owner, accounts, sandbox, no_media_fetch
):
    make_post(owner, [accounts["instagram"]], images=1)
    drive(rounds=1)
    publication = Publication.objects.get()

    assert not _step_with_container_status(publication, "")

    assert publication.status == Publication.Status.FAILED
    assert "could not understand" in publication.last_error

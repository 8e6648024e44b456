"""The publishing engine against the sandbox Graph API over HTTP: each publication goes out
exactly once, whatever the network does (SPEC 5.3)."""

import io
import threading
from datetime import timedelta

import httpx
import pytest
from django.core import mail
from django.utils import timezone
from PIL import Image

from apps.assets.services import asset_upload
from apps.posts import engagement, publishing
from apps.posts.models import Post, Publication, ReviewEvent
from apps.posts.services import PostInput, post_create, post_submit
from apps.social.models import ConnectedAccount

DEMO_BISTRO_PAGE = "101000000000001"


def jpeg(width: int = 1080, height: int = 1080, colour: str = "tomato") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def make_post(
    owner,
    targets,
    *,
    caption="Tonight: bouillabaisse 🐟 #bistro",
    images=0,
    approval=False,
    **extra,
):
    owner.tenant.requires_approval = approval
    owner.tenant.save()
    asset_ids = [
        asset_upload(actor=owner, data=jpeg(colour=c), filename=f"{c}.jpg").asset.pk
        for c in ["tomato", "navy", "gold", "teal"][:images]
    ]
    post = post_create(
        actor=owner,
        data=PostInput(
            caption=caption, target_ids=[t.pk for t in targets], asset_ids=asset_ids, **extra
        ),
    )
    return post_submit(actor=owner, post=post)


def drive(*, rounds: int = 30) -> None:
    """Run the engine as the beat and the workers would, with waits fast-forwarded."""
    for _ in range(rounds):
        Publication.objects.filter(status__in=["pending", "waiting"]).update(
            next_attempt_at=timezone.now()
        )
        claims = publishing.publications_claim_due()
        if (
            not claims
            and not Publication.objects.filter(
                status__in=["pending", "waiting", "publishing"]
            ).exists()
        ):
            return
        for claim in claims:
            publishing.publication_run(claim=claim)


def published(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/published").json()


def page_posts(sandbox) -> list[dict]:
    return published(sandbox)["page_posts"]


# --- Happy paths ---------------------------------------------------------------------------------


def test_a_text_post_goes_out_to_the_page_once(owner, accounts, sandbox, no_media_fetch):
    post = make_post(owner, [accounts["facebook"]], caption="Open tonight until 23:00")

    drive()

    post.refresh_from_db()
    publication = post.publications.get()
    assert post.status == Post.Status.PUBLISHED
    assert publication.status == "published"
    assert publication.platform_post_id.startswith(DEMO_BISTRO_PAGE + "_")
    assert [p["message"] for p in page_posts(sandbox)] == ["Open tonight until 23:00"]
    kinds = list(post.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["scheduled", "publishing", "published"]


def test_photos_and_a_carousel_go_out_to_facebook_and_instagram(
    owner, accounts, sandbox, no_media_fetch
):
    single = make_post(
        owner, [accounts["facebook"], accounts["instagram"]], images=1, caption="Plat du jour"
    )
    carousel = make_post(
        owner, [accounts["facebook"], accounts["instagram"]], images=3, caption="Our desserts"
    )

    drive()

    for post in (single, carousel):
        post.refresh_from_db()
        assert post.status == Post.Status.PUBLISHED, list(
            post.publications.values("status", "last_error")
        )
    out = published(sandbox)
    assert out["summary"]["containers_published_twice"] == []
    media = {m["caption"]: m for m in out["instagram_media"]}
    assert set(media) == {"Plat du jour", "Our desserts"}
    assert len(media["Our desserts"]["children"]) == 3
    fb = {p["message"]: p for p in out["page_posts"]}
    assert set(fb) == {"Plat du jour", "Our desserts"}


def test_a_scheduled_post_waits_for_its_time(owner, accounts, sandbox, no_media_fetch):
    post = make_post(
        owner, [accounts["facebook"]], scheduled_for=timezone.now() + timedelta(hours=2)
    )

    assert publishing.publications_claim_due() == []

    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED
    assert page_posts(sandbox) == []


# --- The network misbehaves: the right final state, never a duplicate --------------------------


def test_graph_500s_are_retried_and_the_post_goes_out_once(
    owner, accounts, sandbox, control, no_media_fetch
):
    control(
        "faults", {"kind": "error", "match": "POST /*/feed", "status": 500, "code": 2, "times": 2}
    )
    post = make_post(owner, [accounts["facebook"]])

    drive()

    publication = post.publications.get()
    assert publication.status == "published"
    assert publication.attempts == 3
    assert len(page_posts(sandbox)) == 1


def test_a_timeout_after_the_post_was_made_is_reconciled_without_a_duplicate(
    owner, accounts, sandbox, control, no_media_fetch
):
    # The sandbox publishes, then holds the answer past the client's timeout.
    control("faults", {"kind": "timeout_after_effect", "match": "POST /*/feed", "seconds": 5})
    post = make_post(owner, [accounts["facebook"]], caption="Reconcile me")

    drive()

    publication = post.publications.get()
    assert publication.status == "published"
    assert len(page_posts(sandbox)) == 1
    assert publication.platform_post_id == page_posts(sandbox)[0]["id"]


@pytest.mark.parametrize("access_lost", ["marked before the check", "found by the check"])
def test_a_live_post_whose_account_lost_its_access_waits_never_fails(
    owner, accounts, sandbox, control, no_media_fetch, access_lost
):
    # Meta published, the answer never came, and the Page's access goes before the check.
    control("faults", {"kind": "timeout_after_effect", "match": "POST /*/feed", "seconds": 5})
    post = make_post(owner, [accounts["facebook"]], caption="Live, unconfirmed")
    drive(rounds=1)
    page = accounts["facebook"]
    if access_lost == "marked before the check":
        ConnectedAccount.objects.filter(pk=page.pk).update(status="needs_reauth")
    else:  # the listing itself answers that the token is dead
        control(
            "faults",
            {"kind": "error", "match": "GET /*/posts", "code": 190, "subcode": 463, "times": None},
        )

    drive(rounds=3)

    publication = post.publications.get()
    assert publication.status == "waiting"
    assert publication.outcome_unknown
    assert publication.wait_reason.startswith("Reconnect Demo Bistro")
    assert publication.attempts == 1  # looking without access is no attempt
    page.refresh_from_db()
    assert page.status == ConnectedAccount.Status.NEEDS_REAUTH
    assert [p["message"] for p in page_posts(sandbox)] == ["Live, unconfirmed"]

    # The account is reconnected: the first look finds the post, nothing is sent again.
    control("faults", None, method="DELETE")
    ConnectedAccount.objects.filter(pk=page.pk).update(status="active")
    drive()

    publication.refresh_from_db()
    assert publication.status == "published"
    assert publication.platform_post_id == page_posts(sandbox)[0]["id"]
    assert len(page_posts(sandbox)) == 1
    assert publication.events.filter(kind="reconciled").count() == 1
    assert not publication.events.filter(kind="failed").exists()


def test_a_rate_limit_waits_with_the_reason_then_publishes(
    owner, accounts, sandbox, control, no_media_fetch
):
    control("faults", {"kind": "rate_limit", "match": "POST /*/feed", "code": 32, "minutes": 5})
    post = make_post(owner, [accounts["facebook"]])
    claim = publishing.publications_claim_due()[0]

    publishing.publication_run(claim=claim)

    publication = post.publications.get()
    assert publication.status == "waiting"
    assert publication.next_attempt_at > timezone.now() + timedelta(minutes=4)
    assert publication.wait_reason
    drive()
    assert post.publications.get().status == "published"
    assert len(page_posts(sandbox)) == 1


def test_an_expired_token_fails_and_asks_for_reconnection(
    owner, accounts, sandbox, control, no_media_fetch, django_capture_on_commit_callbacks
):
    control(
        "faults",
        {
            "kind": "error",
            "match": "POST /*/feed",
            "status": 400,
            "code": 190,
            "subcode": 463,
            "times": None,
        },
    )
    post = make_post(owner, [accounts["facebook"]])

    with django_capture_on_commit_callbacks(execute=True):
        drive()

    post.refresh_from_db()
    publication = post.publications.get()
    assert post.status == Post.Status.FAILED
    assert publication.status == "failed"
    assert "Reconnect" in publication.last_error or "reconnect" in publication.last_error
    accounts["facebook"].refresh_from_db()
    assert accounts["facebook"].status == ConnectedAccount.Status.NEEDS_REAUTH
    assert any("could not be published" in m.subject for m in mail.outbox)
    assert page_posts(sandbox) == []


def test_media_not_ready_is_waited_for_and_published_once(
    owner, accounts, sandbox, control, no_media_fetch
):
    control("config", {"processing_seconds": 0})
    control(
        "faults",
        {
            "kind": "error",
            "match": "POST /*/media_publish",
            "status": 400,
            "code": 9007,
            "subcode": 2207027,
            "times": 2,
        },
    )
    post = make_post(owner, [accounts["instagram"]], images=1)

    drive()

    assert post.publications.get().status == "published"
    out = published(sandbox)
    assert len(out["instagram_media"]) == 1
    assert out["summary"]["containers_published_twice"] == []


def test_waiting_while_meta_processes_spends_no_attempt(
    owner, accounts, sandbox, control, no_media_fetch, settings
):
    # Two tries in all; the container takes a while, so the step waits on it many times.
    settings.PUBLISHING_MAX_ATTEMPTS = 2
    control("config", {"processing_seconds": 1.5})
    control(
        "faults",
        {"kind": "error", "match": "POST /*/media_publish", "status": 500, "code": 2, "times": 1},
    )
    post = make_post(owner, [accounts["instagram"]], images=1)

    drive(rounds=400)

    publication = post.publications.get()
    waits = publication.events.filter(kind="waiting").count()
    assert waits > 2  # more waits than the whole attempt budget
    assert publication.status == "published", publication.last_error
    assert publication.attempts == 2  # the try that met the 500, and the one that published
    assert len(published(sandbox)["instagram_media"]) == 1


def test_a_container_error_fails_with_the_reason(owner, accounts, sandbox, control, no_media_fetch):
    control("faults", {"kind": "container_error", "times": None})
    post = make_post(owner, [accounts["instagram"]], images=1)

    drive()

    publication = post.publications.get()
    assert publication.status == "failed"
    assert "could not process the image" in publication.last_error


def test_the_instagram_limit_makes_the_post_wait_with_the_reason(
    owner, accounts, sandbox, control, no_media_fetch
):
    control("config", {"quota_total": 0, "processing_seconds": 0})
    post = make_post(owner, [accounts["instagram"]], images=1)

    for _ in range(3):
        Publication.objects.filter(status__in=["pending", "waiting"]).update(
            next_attempt_at=timezone.now()
        )
        for claim in publishing.publications_claim_due():
            publishing.publication_run(claim=claim)

    publication = post.publications.get()
    assert publication.status == "waiting"
    assert "limit" in publication.wait_reason
    assert published(sandbox)["instagram_media"] == []


def test_one_target_failing_makes_the_post_partially_published(
    owner, accounts, sandbox, control, no_media_fetch, django_capture_on_commit_callbacks
):
    control(
        "faults",
        {
            "kind": "error",
            "match": "POST /*/media",
            "status": 400,
            "code": 100,
            "message": "Invalid parameter",
            "times": None,
        },
    )
    post = make_post(owner, [accounts["facebook"], accounts["instagram"]], images=1)

    with django_capture_on_commit_callbacks(execute=True):
        drive()

    post.refresh_from_db()
    assert post.status == Post.Status.PARTIALLY_PUBLISHED
    statuses = dict(post.publications.values_list("account__platform", "status"))
    assert statuses == {"facebook_page": "published", "instagram_business": "failed"}
    assert any("some accounts only" in m.subject for m in mail.outbox)


# --- Concurrency ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_claim_each_publication_once(
    owner, accounts, sandbox, no_media_fetch
):
    posts = [make_post(owner, [accounts["facebook"]], caption=f"Race {i}") for i in range(20)]
    claims: list[list[publishing.Claim]] = [[], []]
    barrier = threading.Barrier(2)

    def dispatcher(slot: int) -> None:
        from django.db import connection

        barrier.wait()
        claims[slot] = publishing.publications_claim_due(limit=15)
        connection.close()

    threads = [threading.Thread(target=dispatcher, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    first, second = ({c.publication_id for c in batch} for batch in claims)
    assert not first & second
    assert len(first | second) == 20
    for claim in claims[0] + claims[1]:
        publishing.publication_run(claim=claim)
    assert sorted(p["message"] for p in page_posts(sandbox)) == sorted(p.caption for p in posts)


def test_a_message_delivered_twice_runs_once(owner, accounts, sandbox, no_media_fetch):
    post = make_post(owner, [accounts["facebook"]])
    claim = publishing.publications_claim_due()[0]

    assert publishing.publication_run(claim=claim) == "published"
    assert publishing.publication_run(claim=claim) is None
    assert len(page_posts(sandbox)) == 1
    assert post.publications.get().attempts == 1


# --- Engagement ---------------------------------------------------------------------------------


def test_engagement_is_synced_and_grows(owner, accounts, sandbox, control, no_media_fetch):
    post = make_post(owner, [accounts["facebook"], accounts["instagram"]], images=1)
    drive()
    control("clock", {"advance_seconds": 6 * 3600})

    assert engagement.engagement_sync_recent() == 2

    for publication in post.publications.all():
        assert publication.engagement_synced_at is not None
        assert publication.likes is not None
        assert publication.comments is not None
        assert publication.permalink
    first = {p.pk: p.likes for p in post.publications.all()}
    control("clock", {"advance_seconds": 24 * 3600})
    engagement.engagement_sync_recent()
    assert all(p.likes >= first[p.pk] for p in post.publications.all())
    assert any(p.likes > first[p.pk] for p in post.publications.all())


def test_stories_are_left_out_of_the_engagement_sync(
    owner, accounts, sandbox, control, no_media_fetch
):
    story = make_post(owner, [accounts["facebook"]], images=1, caption="", format="story")
    feed = make_post(owner, [accounts["facebook"]], images=1, caption="Soup")
    drive()
    assert {p.status for p in Publication.objects.all()} == {"published"}

    assert engagement.engagement_sync_recent() == 1

    assert story.publications.get().engagement_synced_at is None
    assert feed.publications.get().engagement_synced_at is not None
    accounts["facebook"].refresh_from_db()
    assert accounts["facebook"].status == "active"


def test_review_events_record_every_step(owner, accounts, sandbox, no_media_fetch):
    post = make_post(owner, [accounts["facebook"]], approval=False)
    drive()

    kinds = list(ReviewEvent.objects.filter(post=post).values_list("kind", flat=True))
    assert kinds == ["created", "approved", "scheduled", "publishing", "published"]

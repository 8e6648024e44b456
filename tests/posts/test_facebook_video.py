"""Facebook Reels, Page videos and Stories through the publishing engine, against the sandbox
Graph API over HTTP, which fetches the videos from this site's signed URLs as Meta does
(issue 15): each goes out once, published (never a draft), whatever the network does."""

import io
import time

import httpx
import pytest
from django.utils import timezone

from apps.assets import tasks as asset_tasks
from apps.assets.services import asset_upload, asset_video_probe, asset_video_upload
from apps.networks.base import FEED, REEL, STORY
from apps.networks.registry import network_for
from apps.posts import publishing
from apps.posts.models import Post, PostAsset, Publication
from apps.posts.publication_states import publications_create
from apps.posts.services import PostInput, post_content, post_create
from apps.posts.tasks import publications_dispatch_due
from apps.social.models import AccessToken
from tests.conftest import wait_until
from tests.posts.conftest import DEMO_BISTRO_PAGE
from tests.posts.test_publishing import jpeg
from tests.posts.test_worker import queue, worker_env, workers  # noqa: F401 - fixtures
from tests.videos import mp4

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def served(live_server, settings, monkeypatch):
    """The sandbox fetches the videos from this site (its signed media URLs), and checks them."""
    settings.PUBLIC_BASE_URL = live_server.url
    # The probe runs here, in the test (not queued to a worker nobody runs).
    monkeypatch.setattr(asset_tasks.video_probe, "delay", lambda asset_id: None)
    return live_server


@pytest.fixture
def instant(control):
    """Facebook processes videos at once (the processing tests set their own time)."""
    control("config", {"video_processing_seconds": 0})


def video(owner, *, width=540, height=960, seconds=3.5, name="reel.mp4"):
    data = mp4(width, height, seconds=seconds, fps=10)
    result = asset_video_upload(actor=owner, file=io.BytesIO(data), size=len(data), filename=name)
    asset = asset_video_probe(asset_id=result.asset.pk)
    assert asset is not None
    assert asset.status == "ready", asset.failure_reason
    return asset


def photo(owner, colour="tomato"):
    return asset_upload(actor=owner, data=jpeg(colour=colour), filename=f"{colour}.jpg").asset


def scheduled(owner, account, *, fmt, assets, caption=""):
    """A post of ``fmt`` with ``assets``, scheduled now to ``account``: its publication pending.
    (The compose services take videos once the posts app does, issue 15; the engine, the
    content and the network are what is tested here.)"""
    post = post_create(actor=owner, data=PostInput(caption=caption, target_ids=[account.pk]))
    PostAsset.objects.bulk_create(
        PostAsset(post=post, asset=asset, position=i) for i, asset in enumerate(assets)
    )
    Post.objects.filter(pk=post.pk).update(format=fmt, status=Post.Status.SCHEDULED)
    post.refresh_from_db()
    content = post_content(post, account.platform)
    assert network_for(account.platform).validate(content) == []
    publications_create(post=post, account_ids=[account.pk], due=timezone.now())
    return post


def run_once() -> list[str | None]:
    """One pass of the engine over what is due now (waits fast-forwarded)."""
    Publication.objects.filter(status__in=["pending", "waiting"]).update(
        next_attempt_at=timezone.now()
    )
    return [publishing.publication_run(claim=c) for c in publishing.publications_claim_due()]


def drive(*, seconds: float = 30) -> None:
    """Run the engine until nothing is left to do (bounded), as the beat and workers would."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Publication.objects.filter(status__in=["pending", "waiting", "publishing"]).exists():
            return
        run_once()
        time.sleep(0.1)


def published(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/_sandbox/published").json()


def reels(sandbox) -> list[dict]:
    return published(sandbox)["facebook_reels"]


# --- Reels -------------------------------------------------------------------------------------


def test_a_reel_goes_out_published_not_a_draft(owner, accounts, sandbox, instant, live_server):
    post = scheduled(
        owner, accounts["facebook"], fmt=REEL, assets=[video(owner)], caption="Our kitchen 🎬"
    )

    drive()

    publication = post.publications.get()
    assert publication.status == "published", (publication.wait_reason, publication.last_error)
    out = published(sandbox)
    [reel] = out["facebook_reels"]
    assert reel["target_id"] == DEMO_BISTRO_PAGE
    assert reel["video_state"] == "PUBLISHED"
    assert reel["live"]
    assert reel["description"] == "Our kitchen 🎬"
    assert reel["publish_count"] == 1
    assert reel["publish_attempts"] == 1
    # Facebook fetched the video from this site's signed URL: an MP4 it could read.
    assert reel["source"]["url"].startswith(f"{live_server.url}/m/")
    assert reel["source"]["video_format"] == "mp4"
    assert out["summary"]["facebook_reels"] == 1
    assert out["summary"]["facebook_reels_draft"] == 0
    assert out["summary"]["reels_published_twice"] == []
    assert publication.platform_post_id == reel["id"] == publication.container_id
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED


def test_a_reel_waits_while_facebook_processes_it(owner, accounts, sandbox, control):
    control("config", {"video_processing_seconds": 8})
    post = scheduled(owner, accounts["facebook"], fmt=REEL, assets=[video(owner)], caption="Soon")

    assert run_once() == ["waiting"]  # started, uploaded, finished: now processing

    publication = post.publications.get()
    assert publication.wait_reason.startswith("Facebook is processing the Reel")
    assert not publication.outcome_unknown
    [reel] = reels(sandbox)
    assert reel["video_state"] == "PUBLISHED"
    assert not reel["live"]
    assert run_once() == ["waiting"]  # looked again: still processing, nothing sent again

    drive()

    publication.refresh_from_db()
    assert publication.status == "published"
    [reel] = reels(sandbox)
    assert reel["live"]
    assert reel["publish_attempts"] == 1
    kinds = list(publication.events.values_list("kind", flat=True))
    assert "waiting" in kinds
    assert kinds[-1] == "published"


def test_the_reels_daily_limit_makes_the_reel_wait_then_go_out(
    owner, accounts, sandbox, control, instant
):
    control("config", {"fb_reels_quota_total": 0})
    post = scheduled(owner, accounts["facebook"], fmt=REEL, assets=[video(owner)], caption="Later")

    assert run_once() == ["waiting"]

    publication = post.publications.get()
    assert publication.wait_reason == (
        "Facebook's Reels limit of 0 posts in 24 hours is reached; the post goes out when a slot "
        "frees up."
    )
    assert not publication.outcome_unknown
    assert published(sandbox)["summary"]["facebook_reels"] == 0

    control("config", {"fb_reels_quota_total": 30})  # a slot frees up
    drive()

    publication.refresh_from_db()
    assert publication.status == "published"
    [reel] = reels(sandbox)
    assert reel["publish_count"] == 1
    assert reel["live"]


def test_a_reel_facebook_refuses_fails_with_its_reason(owner, accounts, sandbox, instant):
    # 16:9 is not a Reel (the compose check says so first; here Facebook is the one to refuse).
    wide = video(owner, width=960, height=540, name="wide.mp4")
    post = scheduled(owner, accounts["facebook"], fmt=FEED, assets=[wide], caption="x")
    Post.objects.filter(pk=post.pk).update(format=REEL)

    drive()

    publication = post.publications.get()
    assert publication.status == "failed"
    assert publication.last_error.startswith("Facebook could not process the Reel (")
    assert "aspect ratio 960x540 is not supported for Facebook Reels" in publication.last_error
    out = published(sandbox)
    assert out["summary"]["facebook_reels"] == 0
    assert not out["facebook_reels"][0]["live"]


def test_a_video_facebook_cannot_fetch_fails_with_a_clear_reason(
    owner, accounts, sandbox, instant, settings
):
    post = scheduled(owner, accounts["facebook"], fmt=REEL, assets=[video(owner)], caption="x")
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing answers there

    drive()

    publication = post.publications.get()
    assert publication.status == "failed"
    assert publication.last_error.startswith("Facebook could not take the video for the Reel: ")
    assert published(sandbox)["summary"]["facebook_reels"] == 0


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "timeout_after_effect", "seconds": 5},
        {"kind": "error", "effect": "after", "status": 500, "code": 2},
    ],
    ids=["timeout after the effect", "a 500 after the effect"],
)
def test_a_finish_whose_outcome_is_unknown_is_reconciled_never_sent_twice(
    owner, accounts, sandbox, control, instant, fault
):
    # The first pass stops after the start (the upload is throttled once); then the finish
    # goes through at Facebook while its answer is lost.
    control("faults", {"kind": "rate_limit", "match": "POST /video-upload/*"})
    post = scheduled(owner, accounts["facebook"], fmt=REEL, assets=[video(owner)], caption="Once")
    assert run_once() == ["waiting"]
    publication = post.publications.get()
    assert publication.container_id  # the video id, recorded at once
    control("faults", {**fault, "match": "POST /*/video_reels"})

    assert run_once() == ["waiting"]

    publication.refresh_from_db()
    assert publication.outcome_unknown
    [reel] = reels(sandbox)
    assert reel["publish_count"] == 1  # it went through

    drive()

    publication.refresh_from_db()
    assert publication.status == "published"
    assert publication.platform_post_id == reel["id"]
    [reel] = reels(sandbox)
    assert reel["publish_attempts"] == 1  # the finish was never sent again
    assert published(sandbox)["summary"]["reels_published_twice"] == []
    assert "reconciled" in list(publication.events.values_list("kind", flat=True))


def test_a_finish_that_never_reached_facebook_is_sent_after_the_check(
    owner, accounts, sandbox, control, instant
):
    # The finish times out before Facebook acts: reconciliation sees the video uploaded but
    # not finished (not live), and the step goes on from there and finishes it.
    control("faults", {"kind": "rate_limit", "match": "POST /video-upload/*"})
    post = scheduled(owner, accounts["facebook"], fmt=REEL, assets=[video(owner)], caption="Go")
    assert run_once() == ["waiting"]
    control("faults", {"kind": "timeout", "match": "POST /*/video_reels", "seconds": 5})
    assert run_once() == ["waiting"]
    publication = post.publications.get()
    assert publication.outcome_unknown
    [reel] = reels(sandbox)
    assert reel["video_state"] is None
    assert reel["publish_attempts"] == 0

    drive()

    publication.refresh_from_db()
    assert publication.status == "published"
    [reel] = reels(sandbox)
    assert reel["publish_count"] == 1
    assert reel["publish_attempts"] == 1
    assert publication.platform_post_id == reel["id"]


def test_a_published_reel_has_engagement_and_takes_its_first_comment(
    owner, accounts, sandbox, control, instant
):
    scopes = ["pages_show_list", "pages_read_engagement", "pages_manage_posts"]
    minted = control(
        "tokens",
        {
            "kind": "page",
            "page_id": DEMO_BISTRO_PAGE,
            "scopes": [*scopes, "pages_manage_engagement"],
        },
    )
    token = AccessToken.objects.get(account=accounts["facebook"])
    token.token = minted["access_token"]
    token.save()
    post = scheduled(owner, accounts["facebook"], fmt=REEL, assets=[video(owner)], caption="Hi")
    drive()
    publication = post.publications.get()
    network = network_for(accounts["facebook"].platform)

    counts = network.fetch_engagement(publication)
    comment_id = network.first_comment_post(publication, "Recipe in the bio")

    assert counts.likes is not None
    assert counts.reactions is not None
    assert counts.shares == 0
    assert counts.permalink
    [comment] = published(sandbox)["facebook_comments"]
    assert comment["id"] == comment_id
    assert comment["target_id"] == publication.platform_post_id  # the Reel's video
    assert network.first_comment_find(publication, "Recipe in the bio") == comment_id


# --- A Page video post ---------------------------------------------------------------------------


def test_a_video_goes_out_as_a_page_video_post(owner, accounts, sandbox, instant):
    wide = video(owner, width=960, height=540, seconds=3, name="tour.mp4")
    post = scheduled(owner, accounts["facebook"], fmt=FEED, assets=[wide], caption="A tour")

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    out = published(sandbox)
    [posted] = out["facebook_videos"]
    assert posted["description"] == "A tour"
    assert posted["live"]
    assert posted["publish_count"] == 1
    assert publication.platform_post_id == posted["id"]
    assert out["summary"]["videos_published_twice"] == []
    assert out["facebook_reels"] == []
    assert out["page_posts"] == []


def test_a_page_video_whose_answer_is_lost_is_found_among_the_page_videos(
    owner, accounts, sandbox, control, instant
):
    control("faults", {"kind": "timeout_after_effect", "match": "POST /*/videos", "seconds": 5})
    wide = video(owner, width=960, height=540, seconds=3, name="tour.mp4")
    post = scheduled(owner, accounts["facebook"], fmt=FEED, assets=[wide], caption="Found me")

    drive()

    publication = post.publications.get()
    assert publication.status == "published"
    out = published(sandbox)
    [posted] = out["facebook_videos"]
    assert publication.platform_post_id == posted["id"]
    assert out["summary"]["facebook_videos"] == 1


# --- Stories ----------------------------------------------------------------------------------


def test_a_photo_story_goes_out_once(owner, accounts, sandbox, instant):
    post = scheduled(owner, accounts["facebook"], fmt=STORY, assets=[photo(owner)])

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    out = published(sandbox)
    [story] = out["facebook_stories"]
    assert story["media_type"] == "photo"
    assert story["live"]
    assert story["media_id"] == publication.container_id
    assert publication.platform_post_id == story["post_id"]
    assert out["summary"]["stories_published_twice"] == []
    assert out["page_posts"] == []  # the photo is no feed post


def test_a_photo_story_whose_answer_is_lost_is_found_among_the_stories(
    owner, accounts, sandbox, control, instant
):
    control(
        "faults", {"kind": "timeout_after_effect", "match": "POST /*/photo_stories", "seconds": 5}
    )
    post = scheduled(owner, accounts["facebook"], fmt=STORY, assets=[photo(owner)])

    drive()

    publication = post.publications.get()
    assert publication.status == "published"
    [story] = published(sandbox)["facebook_stories"]
    assert publication.platform_post_id == story["post_id"]


def test_a_video_story_goes_out_once(owner, accounts, sandbox, instant):
    post = scheduled(owner, accounts["facebook"], fmt=STORY, assets=[video(owner)])

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    out = published(sandbox)
    [story] = out["facebook_stories"]
    assert story["media_type"] == "video"
    assert story["live"]
    [video_story] = out["facebook_video_stories"]
    assert video_story["publish_count"] == 1
    assert video_story["id"] == story["media_id"]
    assert publication.platform_post_id == story["post_id"]
    assert out["summary"]["stories_published_twice"] == []


# --- A real worker killed mid-upload ------------------------------------------------------------


def test_a_worker_killed_during_the_video_upload_leaves_one_published_reel(
    owner,
    accounts,
    sandbox,
    control,
    instant,
    workers,  # noqa: F811 - the fixture
):
    # Facebook takes 4 s to fetch the video; the worker dies while it waits for the answer.
    control("latency", {"ms": 0, "paths": {"POST /video-upload/*": 4000}})
    doomed = workers()
    post = scheduled(owner, accounts["facebook"], fmt=REEL, assets=[video(owner)], caption="Kill")
    publication = post.publications.get()
    publications_dispatch_due.delay()

    def upload_in_flight() -> bool:
        stats = httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()
        started = Publication.objects.get(pk=publication.pk).container_id
        return bool(started) and stats["in_flight"] > 0

    assert wait_until(upload_in_flight, timeout=30)
    doomed.kill()
    control("latency", {"ms": 0, "paths": {}})
    stuck = Publication.objects.get(pk=publication.pk)
    assert stuck.status == "publishing"
    assert not stuck.outcome_unknown  # nothing visible was asked for yet

    # A new worker with a short lease takes the stale claim over and goes on from the video.
    workers(PUBLISHING_CLAIM_LEASE_SECONDS="1")
    time.sleep(1.5)
    publications_dispatch_due.delay()

    assert wait_until(
        lambda: Publication.objects.get(pk=publication.pk).status == "published", timeout=60
    ), Publication.objects.filter(pk=publication.pk).values("status", "wait_reason", "last_error")
    out = published(sandbox)
    [reel] = out["facebook_reels"]
    assert reel["id"] == stuck.container_id
    assert reel["live"]
    assert reel["publish_count"] == 1
    assert reel["publish_attempts"] == 1
    assert out["summary"]["reels_published_twice"] == []
    assert Publication.objects.get(pk=publication.pk).platform_post_id == reel["id"]

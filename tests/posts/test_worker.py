"""The publishing engine through real Celery workers (Redis), the sandbox Graph API over HTTP,
and this site serving the images Meta fetches: published once, even when a worker is killed or
several race."""

import time

import httpx
import pytest

from apps.posts.models import Post, Publication
from apps.posts.tasks import publications_dispatch_due
from tests.conftest import CeleryWorker, wait_until
from tests.posts.test_publishing import make_post, page_posts, published

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_env(live_server, settings, monkeypatch, tmp_path):
    """What a worker process needs to share this test's world: the media it serves to the
    sandbox, and the site the sandbox fetches them from."""
    settings.PUBLIC_BASE_URL = live_server.url
    return {"PUBLIC_BASE_URL": live_server.url, "MEDIA_ROOT": str(settings.MEDIA_ROOT)}


@pytest.fixture
def queue(monkeypatch):
    """A private queue; the dispatch this process queues on commit (after a submit) goes there
    too. Workers queue their own follow-ups on it (it is their default queue)."""
    name = f"test-{time.monotonic_ns()}"
    monkeypatch.setattr(
        publications_dispatch_due,
        "delay",
        lambda: publications_dispatch_due.apply_async(queue=name),
    )
    return name


@pytest.fixture
def workers(queue, worker_env):
    started: list[CeleryWorker] = []

    def start(**env: str) -> CeleryWorker:
        worker = CeleryWorker(queue, **worker_env, **env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_a_post_goes_out_to_every_target_through_a_real_worker(
    owner, accounts, sandbox, control, workers, settings
):
    control("config", {"processing_seconds": 1})
    workers()

    post = make_post(
        owner,
        [accounts["facebook"], accounts["instagram"]],
        images=1,
        caption="Live from the worker",
    )

    assert wait_until(lambda: Post.objects.get(pk=post.pk).status == "published", timeout=60), list(
        Publication.objects.values("status", "wait_reason", "last_error")
    )
    out = published(sandbox)
    assert [p["message"] for p in out["page_posts"]] == ["Live from the worker"]
    [media] = out["instagram_media"]
    assert media["caption"] == "Live from the worker"
    # Meta fetched the image from this site's signed URL, and got a JPEG.
    source = media["image_sources"][0]
    assert source["content_type"] == "image/jpeg"
    assert source["url"].startswith(f"{settings.PUBLIC_BASE_URL}/m/")


def test_a_worker_killed_mid_publish_is_reconciled_without_a_duplicate(
    owner, accounts, sandbox, control, workers
):
    # The feed call takes 4 s at "Facebook"; the worker dies while waiting for the answer.
    control("latency", {"ms": 0, "paths": {"POST /*/feed": 4000}})
    doomed = workers()
    post = make_post(owner, [accounts["facebook"]], caption="Survives a crash")
    publication = post.publications.get()

    def feed_call_in_flight() -> bool:
        stats = httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()
        return Publication.objects.get(pk=publication.pk).outcome_unknown and stats["in_flight"] > 0

    assert wait_until(feed_call_in_flight, timeout=30)
    doomed.kill()
    # Facebook completes the post although nobody hears the answer.
    assert wait_until(lambda: len(page_posts(sandbox)) == 1, timeout=15)
    assert Publication.objects.get(pk=publication.pk).status == "publishing"

    # A new worker with a short lease takes the stale claim over and reconciles first.
    workers(PUBLISHING_CLAIM_LEASE_SECONDS="1")
    time.sleep(1.5)
    publications_dispatch_due.delay()

    assert wait_until(
        lambda: Publication.objects.get(pk=publication.pk).status == "published", timeout=30
    )
    assert len(page_posts(sandbox)) == 1
    assert (
        Publication.objects.get(pk=publication.pk).platform_post_id == page_posts(sandbox)[0]["id"]
    )


def test_two_workers_and_a_double_beat_publish_each_post_once(
    owner, accounts, sandbox, control, workers
):
    control("latency", {"ms": 50})
    captions = [f"Special #{i}" for i in range(24)]
    posts = [
        make_post(owner, [accounts["facebook"]], caption=c, scheduled_for=None) for c in captions
    ]
    workers()
    workers()
    for _ in range(3):  # the beat ticking more than once
        publications_dispatch_due.delay()

    assert wait_until(
        lambda: (
            Post.objects.filter(pk__in=[p.pk for p in posts], status="published").count()
            == len(posts)
        ),
        timeout=90,
    )
    assert sorted(p["message"] for p in page_posts(sandbox)) == sorted(captions)
    assert httpx.get(f"{sandbox.base_url}/_sandbox/published").json()["summary"][
        "posts_with_repeated_content"
    ] in (0, [])

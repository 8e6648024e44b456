"""An Instagram Reel through real Celery workers (Redis), the sandbox over HTTP and this site
serving the video: a worker killed while Meta is still processing the video loses nothing and
publishes nothing twice."""

import time

import httpx
import pytest

from apps.networks.base import REEL
from apps.posts.models import Publication
from apps.posts.tasks import publications_dispatch_due
from tests.conftest import wait_until
from tests.posts.test_instagram_video import scheduled_post, video
from tests.posts.test_publishing import published
from tests.posts.test_worker import queue, worker_env, workers  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_while_the_reel_is_processing_publishes_once(
    owner,
    accounts,
    sandbox,
    control,
    workers,  # noqa: F811
):
    # Meta takes 20 s with the video; each status check takes 2 s to answer.
    control("config", {"video_processing_seconds": 20})
    control("latency", {"ms": 0, "paths": {"GET /1790*": 2000}})
    post = scheduled_post(owner, accounts["instagram"], [video(owner)], format=REEL, caption="Hi")
    publication = post.publications.get()
    doomed = workers()
    publications_dispatch_due.delay()

    def polling_in_progress() -> bool:
        row = Publication.objects.get(pk=publication.pk)
        containers = published(sandbox)["containers"]
        stats = httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()
        return (
            bool(row.container_id)
            and [c["status_code"] for c in containers] == ["IN_PROGRESS"]
            and stats["in_flight"] > 0
        )

    assert wait_until(polling_in_progress, timeout=180), list(
        Publication.objects.values("status", "wait_reason", "last_error")
    )
    doomed.kill()  # SIGKILL while its status check of the container is in flight
    assert Publication.objects.get(pk=publication.pk).status in ("publishing", "waiting")

    workers(PUBLISHING_CLAIM_LEASE_SECONDS="1")
    time.sleep(1.5)
    publications_dispatch_due.delay()

    assert wait_until(
        lambda: Publication.objects.get(pk=publication.pk).status == "published", timeout=180
    ), list(Publication.objects.values("status", "wait_reason", "last_error"))
    out = published(sandbox)
    [container] = out["containers"]  # the recorded container was polled on, never remade
    assert container["publish_count"] == 1
    [media] = out["instagram_media"]
    assert media["media_product_type"] == "REELS"
    assert Publication.objects.get(pk=publication.pk).platform_post_id == media["id"]
    assert out["summary"]["containers_published_twice"] == []

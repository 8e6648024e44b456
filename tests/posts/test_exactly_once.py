"""Exactly once against a Graph API that pages like Meta (issue 12): for Facebook text, photo and
multi-photo posts and Instagram images and carousels, 40 posts of each kind to one account (more
than a result page of 25 lands on the account while earlier attempts wait to be reconciled),
with after-effect 500s and timeouts on every publishing call, claims taken over when their lease
runs out, and a worker SIGKILLed mid-run. Real Celery workers, the sandbox over HTTP.

Each (post, account) must be on the network exactly once, with the id the database holds, and no
publication may be marked failed while it is live. Nothing here is timed: the polling bound is a
liveness bound."""

import io
import time
from collections import Counter

import httpx
import pytest
from django.db import close_old_connections
from PIL import Image

from apps.assets.services import asset_upload
from apps.posts.models import Publication, PublicationEvent
from apps.posts.services import PostInput, post_create, post_submit
from apps.posts.tasks import publications_dispatch_due
from tests.conftest import CeleryWorker

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

PER_KIND = 40
# (target account, images): three kinds on the Page, two on its Instagram account.
KINDS = {
    "facebook text": ("facebook", 0),
    "facebook photo": ("facebook", 1),
    "facebook multi-photo": ("facebook", 3),
    "instagram image": ("instagram", 1),
    "instagram carousel": ("instagram", 3),
}
PUBLISHING_CALLS = ("POST /*/feed", "POST /*/photos", "POST /*/media_publish")
LIVENESS_BOUND = 420.0
LEASE_SECONDS = 4
ENGINE = {
    "PUBLISHING_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
    # Long enough for more than a result page of posts to land before the check runs.
    "PUBLISHING_UNKNOWN_RECHECK_SECONDS": "6",
    "PUBLISHING_RETRY_BASE_SECONDS": "1",
    "PUBLISHING_BATCH_SIZE": "12",
    "INSTAGRAM_CONTAINER_POLL_SECONDS": "1",
    "GRAPH_TIMEOUT_SECONDS": "2",
    # Reconciliation reads result pages of Meta's default size, 25.
    "GRAPH_PAGE_SIZE": "25",
}


def jpeg(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1080, 1080), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def faults() -> list[dict]:
    """On every publishing call: Meta acts, then answers 500 (3 times), or acts and answers
    nothing in time (2 times; the client gives up after 2 s, the sandbox holds 3 s)."""
    found = []
    for match in PUBLISHING_CALLS:
        found.append(
            {
                "kind": "error",
                "effect": "after",
                "match": match,
                "status": 500,
                "code": 2,
                "is_transient": True,
                "message": "An unexpected error has occurred. Please retry your request later.",
                "times": 3,
            }
        )
        found.append({"kind": "timeout_after_effect", "match": match, "seconds": 3, "times": 2})
    return found


def test_every_kind_goes_out_exactly_once_past_a_page_of_results(
    owner, accounts, sandbox, control, settings, monkeypatch, tmp_path
):
    for name, value in ENGINE.items():
        setattr(settings, name, int(value))
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # the sandbox does not fetch media here
    control("config", {"fetch_media": False, "processing_seconds": 0})
    queue = f"test-{time.monotonic_ns()}"
    env = {
        **ENGINE,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
    }

    # Given 200 approved posts, 40 of each kind, none dispatched yet.
    monkeypatch.setattr(publications_dispatch_due, "delay", lambda: None)
    owner.tenant.requires_approval = False
    owner.tenant.save()
    images = [
        asset_upload(actor=owner, data=jpeg(c), filename=f"{c}.jpg").asset.pk
        for c in ("tomato", "navy", "gold")
    ]
    expected: dict[str, str] = {}  # caption -> kind
    for kind, (target, count) in KINDS.items():
        for i in range(PER_KIND):
            caption = f"{kind} #{i:02d}: tonight's special"
            post = post_create(
                actor=owner,
                data=PostInput(
                    caption=caption,
                    target_ids=[accounts[target].pk],
                    asset_ids=images[:count],
                ),
            )
            post_submit(actor=owner, post=post)
            expected[caption] = kind
    assert Publication.objects.filter(status="pending").count() == len(expected)
    control("faults", {"faults": faults()})

    # When two workers publish them, one is SIGKILLed mid-run and replaced, and the beat
    # dispatches every second with a lease short enough for claims to be taken over.
    workers = [CeleryWorker(queue, **env).start() for _ in range(2)]
    killed = False
    try:
        deadline = time.monotonic() + LIVENESS_BOUND
        while time.monotonic() < deadline:
            publications_dispatch_due.apply_async(queue=queue)
            close_old_connections()
            open_ = Publication.objects.exclude(status__in=Publication.FINAL).count()
            done = Publication.objects.filter(status="published").count()
            if not killed and done >= 0.3 * len(expected):
                workers[0].kill()
                workers.append(CeleryWorker(queue, **env).start())
                killed = True
            if not open_:
                break
            time.sleep(1)
    finally:
        for worker in workers:
            worker.stop()

    # Then every publication is published, exactly once, with the id the sandbox gave it.
    states = Counter(Publication.objects.values_list("status", flat=True))
    assert killed
    assert states == {"published": len(expected)}, states
    out = httpx.get(f"{sandbox.base_url}/_sandbox/published").json()
    live: dict[str, list[str]] = {}
    for post in out["page_posts"]:
        if post["message"] in expected:
            live.setdefault(post["message"], []).append(post["id"])
    for media in out["instagram_media"]:
        if media["caption"] in expected:
            live.setdefault(media["caption"], []).append(media["id"])
    twice = {caption: ids for caption, ids in live.items() if len(ids) > 1}
    assert twice == {}
    assert set(live) == set(expected)
    recorded = dict(Publication.objects.values_list("post__caption", "platform_post_id"))
    assert {caption: ids[0] for caption, ids in live.items()} == recorded
    assert out["summary"]["containers_published_twice"] == []

    # And every fault fired, claims were taken over and live posts were found, not re-sent.
    fired = httpx.get(f"{sandbox.base_url}/_sandbox/faults").json()["faults"]
    assert all(f["remaining"] == 0 for f in fired), fired
    events = Counter(PublicationEvent.objects.values_list("kind", flat=True))
    # Each after-effect fault left a live post to find: 5 per publishing call.
    assert events[PublicationEvent.Kind.RECONCILED] >= 5 * len(PUBLISHING_CALLS) - 5
    assert events[PublicationEvent.Kind.TAKEN_OVER] >= 1
    assert events[PublicationEvent.Kind.FAILED] == 0

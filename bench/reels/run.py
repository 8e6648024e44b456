# A command-line script: it prints its report and runs its own fixed subprocesses.
# ruff: noqa: T201, S603
"""Reels benchmark (issue 15): 100 Reels — half Instagram, half Facebook — each with a first
comment, through real Celery workers against the sandbox, with video processing that takes
time, timeouts after the publishing call acted (Instagram `media_publish`, Facebook's
`video_reels` finish) and after a comment was posted, and a worker SIGKILLed mid-run. Then the
verdict from the sandbox's own record: every Reel live once (never a draft), every first comment
once, nothing lost. Exit status 1 on any duplicate, loss or timeout.

    .venv/bin/python bench/reels/run.py [--reels 100 --pages 5 --processing-seconds 3
        --latency-ms 50 --workers 2 --concurrency 8 --timeout 600]

Reuses bench/publish/run.py (database, sandbox, workers, the beat loop); its own database
(sa_bench_reels) and Redis db 12. Raw numbers: bench/results/reels-<ts>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.publish import run as publish  # noqa: E402

FAULTS: list[dict[str, Any]] = [
    # The Reel goes live but the answer is lost: outcome unknown, reconciled, never twice.
    {"kind": "timeout_after_effect", "match": "POST /*/media_publish", "seconds": 3, "times": 4},
    {"kind": "timeout_after_effect", "match": "POST /*/video_reels", "seconds": 3, "times": 4},
    # Transient 500s before anything happened: retried.
    {
        "kind": "error",
        "match": "POST /*/media_publish",
        "status": 500,
        "code": 2,
        "is_transient": True,
        "times": 3,
    },
    # A first comment posted whose answer is lost: found under the post, never posted twice.
    {"kind": "timeout_after_effect", "match": "POST /*/comments", "seconds": 3, "times": 4},
]


def vertical_video(seconds: float = 4) -> bytes:
    """A 540 x 960 H.264/AAC video: what both networks take as a Reel (the smallest 9:16)."""
    from tests.videos import mp4

    return mp4(540, 960, seconds=seconds, fps=25)


def seed(cfg: publish.Config, reels: int) -> dict[str, Any]:
    """Pages with their Instagram accounts, one probed vertical video in the library, and
    `reels` Reel posts with distinct captions and first comments, alternating Instagram and
    Facebook, spread over the Pages (at most 30 Facebook Reels per Page a day: Meta's quota)."""
    import io

    from apps.accounts.models import Membership, Role, Tenant, User
    from apps.assets.services import asset_video_probe, asset_video_upload
    from apps.posts import services
    from apps.posts.tasks import publications_dispatch_due

    pages = control_pages(cfg)
    tenant = Tenant.objects.create(
        name="Reels Bistro", slug="reels-bistro", requires_approval=False
    )
    user = User.objects.create_user("reels@example.com", "bench-password-not-secret")
    membership = Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    targets = []
    for page in pages:
        token = publish.control(cfg, "POST", "tokens", {"kind": "page", "page_id": page["id"]})
        fb = publish.connect(
            tenant,
            platform=publish.FACEBOOK_PAGE,
            platform_id=page["id"],
            name=page["name"],
            token=token["access_token"],
        )
        ig = page["instagram_business_account"]
        targets.append(
            (
                fb,
                publish.connect(
                    tenant,
                    platform=publish.INSTAGRAM,
                    platform_id=ig["id"],
                    name=ig["username"],
                    token=token["access_token"],
                    parent=fb,
                ),
            )
        )
    data = vertical_video()
    uploaded = asset_video_upload(
        actor=membership, file=io.BytesIO(data), size=len(data), filename="reel.mp4"
    )
    probed = asset_video_probe(asset_id=uploaded.asset.pk)  # here, before the timed run
    if probed is None or probed.status != "ready":
        raise RuntimeError("the benchmark's video could not be probed")
    publications_dispatch_due.delay = lambda *a, **k: None  # type: ignore[method-assign,assignment]
    for i in range(reels):
        fb, ig = targets[(i // 2) % len(targets)]
        account = ig if i % 2 == 0 else fb
        post = services.post_create(
            actor=membership,
            data=services.PostInput(
                caption=f"Bench reel #{i:04d} ({secrets.token_hex(3)})",
                target_ids=[account.pk],
                asset_ids=[uploaded.asset.pk],
                format="reel",
                first_comment=f"First comment of reel #{i:04d}",
            ),
        )
        services.post_submit(actor=membership, post=post)
    return {"pages": len(pages), "video_asset": uploaded.asset.pk}


def control_pages(cfg: publish.Config) -> list[dict[str, Any]]:
    return publish.control(cfg, "POST", "pages", {"count": cfg.pages, "instagram": True})["pages"]


def verify(cfg: publish.Config) -> dict[str, Any]:
    """Each publication against the sandbox's record: its Reel once (live, not a draft), with
    the id the database holds, and its first comment once under it."""
    from apps.posts.models import Publication

    out = publish.control(cfg, "GET", "published")
    ig_reels = [
        m
        for m in out.get("instagram_media", [])
        if m.get("media_product_type") == "REELS" and (m.get("caption") or "").startswith("Bench")
    ]
    fb_reels = [
        r
        for r in out.get("facebook_reels", [])
        if r.get("publish_count") and (r.get("description") or "").startswith("Bench")
    ]
    live = Counter(m["caption"] for m in ig_reels) + Counter(r["description"] for r in fb_reels)
    ids = {m["caption"]: m["id"] for m in ig_reels} | {r["description"]: r["id"] for r in fb_reels}
    comments = out.get("instagram_comments", []) + out.get("facebook_comments", [])
    comment_count = Counter(c["message"] for c in comments)
    pubs = list(
        Publication.objects.select_related("post", "account").values(
            "pk",
            "status",
            "last_error",
            "platform_post_id",
            "comment_status",
            "comment_id",
            "post__caption",
            "post__first_comment",
            "account__platform",
            "attempts",
        )
    )
    published = [p for p in pubs if p["status"] == "published"]
    return {
        "publications": len(pubs),
        "published": len(published),
        "failed": sum(1 for p in pubs if p["status"] == "failed"),
        "failed_reasons": dict(
            Counter(p["last_error"][:120] for p in pubs if p["status"] == "failed")
        ),
        "duplicates": sum(1 for n in live.values() if n > 1),
        "lost": sum(1 for p in pubs if p["status"] not in ("published", "failed"))
        + sum(1 for p in published if p["post__caption"] not in live),
        "platform_id_mismatch": sum(
            1
            for p in published
            if p["post__caption"] in ids and ids[p["post__caption"]] != p["platform_post_id"]
        ),
        "facebook_reels_left_draft": out.get("summary", {}).get("facebook_reels_draft"),
        "orphans_at_sandbox": sum(
            1 for caption in live if caption not in {p["post__caption"] for p in published}
        ),
        "comments_posted": sum(1 for p in published if p["comment_status"] == "posted"),
        "comments_not_posted": dict(
            Counter(p["comment_status"] for p in published if p["comment_status"] != "posted")
        ),
        "comment_duplicates": sum(1 for n in comment_count.values() if n > 1),
        "comments_lost": sum(
            1
            for p in published
            if p["comment_status"] == "posted" and comment_count[p["post__first_comment"]] != 1
        ),
        "attempts": dict(Counter(p["attempts"] for p in pubs)),
        "by_network": dict(Counter(p["account__platform"] for p in published)),
    }


def comments_settled() -> bool:
    from apps.posts.models import Publication

    return not Publication.objects.filter(comment_status__in=["pending", "sending"]).exists()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reels", type=int, default=100)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--processing-seconds", type=float, default=3.0)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/sa_bench_reels"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    cfg = publish.Config(
        publications=args.reels,
        pages=args.pages,
        latency_ms=args.latency_ms,
        workers=args.workers,
        concurrency=args.concurrency,
        faults=True,
        kill_worker=True,
        kill_at=0.3,
        lease_seconds=10,
        timeout=args.timeout,
        database_url=args.database_url,
        redis_url=args.redis_url,
        kinds=("instagram image",),
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = publish.RESULTS / f"reels-{stamp}-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    cfg.media_root = str(log_dir / "media")
    # The sandbox fetches each video as Meta does (and checks it): from this site, served here.
    web_port = publish.free_port()
    cfg.extra_env = {
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }
    print(f"database {cfg.database_url}: recreate + migrate", flush=True)
    publish.recreate_database(cfg.database_url)
    publish.migrate(cfg)
    os.environ.update(cfg.env())
    import django

    django.setup()

    web = start_web(cfg, web_port, log_dir / "web.log")
    sandbox = publish.start_sandbox(cfg, log_dir / "sandbox.log")
    try:
        publish.control(
            cfg, "POST", "config", {"video_processing_seconds": args.processing_seconds}
        )
        seeding = seed(cfg, args.reels)
        print(f"seeded {args.reels} Reels on {seeding['pages']} Pages; running", flush=True)
        measured = publish.run(
            cfg,
            log_dir,
            # The run ends when every publication is final; the comments then need their turn.
            on_tick=None,
            faults=FAULTS,
        )
        if not comments_settled():
            extra = publish.Config(**{**cfg.__dict__, "publications": 0, "kill_worker": False})
            extra.faults = False
            settle(extra, log_dir)
        checked = verify(cfg)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        web.terminate()
        web.wait(timeout=10)
    result = {
        "timestamp": stamp,
        "config": {
            "reels": args.reels,
            "pages": args.pages,
            "processing_seconds": args.processing_seconds,
            "latency_ms": args.latency_ms,
            "workers": args.workers,
            "threads_per_worker": args.concurrency,
            "faults": FAULTS,
            "kill_worker": True,
            "lease_seconds": cfg.lease_seconds,
            "cpus": os.cpu_count(),
        },
        **measured,
        **checked,
    }
    path = publish.RESULTS / f"reels-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print()
    print(
        "| reels | published | failed | dup | lost | comments posted | comment dup | "
        "comment lost | drafts left | drain s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {checked['publications']} | {checked['published']} | {checked['failed']} "
        f"| {checked['duplicates']} | {checked['lost']} | {checked['comments_posted']} "
        f"| {checked['comment_duplicates']} | {checked['comments_lost']} "
        f"| {checked['facebook_reels_left_draft']} | {measured['drain_seconds']} |"
    )
    print(f"\nby network: {checked['by_network']}; attempts: {checked['attempts']}")
    print(f"failed reasons: {checked['failed_reasons']}")
    print(f"comments not posted: {checked['comments_not_posted']}")
    print(f"events: {measured['events']}")
    print(f"raw: {path.relative_to(ROOT)}")
    ok = (
        checked["duplicates"] == 0
        and checked["lost"] == 0
        and checked["comment_duplicates"] == 0
        and checked["comments_lost"] == 0
        and not checked["comments_not_posted"]
        and not measured["timed_out"]
    )
    return 0 if ok else 1


def start_web(cfg: publish.Config, port: int, log: Path) -> subprocess.Popen[bytes]:
    """The site (gunicorn, production settings) serving the signed media URLs Meta fetches."""
    import httpx

    proc = subprocess.Popen(
        [
            str(Path(publish.PYTHON).parent / "gunicorn"),
            *("config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"),
            *("--log-level", "warning", "--no-control-socket"),
        ],
        cwd=ROOT,
        env=cfg.env(),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the site did not start")


def settle(cfg: publish.Config, log_dir: Path, seconds: float = 120) -> None:
    """Workers and the beat until every first comment is posted or failed (a comment whose
    answer was lost is looked for after the lease)."""
    from django.db import close_old_connections

    from apps.posts.tasks import publications_dispatch_due

    workers = [publish.Worker(cfg, f"s{i}", log_dir) for i in range(cfg.workers)]
    try:
        publish.wait_for_workers([f"s{i}" for i in range(cfg.workers)])
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            publications_dispatch_due.apply_async(queue=cfg.queue)
            close_old_connections()
            if comments_settled():
                return
            time.sleep(1)
    finally:
        for worker in workers:
            worker.stop()


if __name__ == "__main__":
    sys.exit(main())

# A command-line script: it prints its report and runs its own fixed subprocesses.
# ruff: noqa: T201
"""Reliability run (issues 8, 12 and 14, SPEC 13): the publishing benchmark's machinery with
every kind the product publishes — Facebook text, photo and multi-photo posts, Instagram images
and carousels, Threads text posts, images and carousels, images and carousels of Instagram
accounts without a Page (Instagram with Instagram Login) — under every fault at once: on every
publishing call Graph 500s before and after the call acted, timeouts after it acted and rate
limits; Page tokens (and Threads and Instagram-Login tokens) expiring mid-run; a worker
SIGKILLed mid-run. Each
account gets enough posts that more than a result page of 25 lands on it while an earlier
attempt waits to be reconciled, and reconciliation reads pages of 25 (GRAPH_PAGE_SIZE=25 in the
workers, Meta's default). Then a verdict per kind: duplicates 0,
lost 0, live-but-failed 0, every publication in an allowed end state
(bench/reliability/scenario.py `ALLOWED_STATES`). Exit status 1 on any violation.

Usage (from the repository root; PostgreSQL and Redis must answer, see bin/ensure-services):

    .venv/bin/python bench/reliability/run.py [--publications 1000 --pages 5
        --expiring-pages 1 --expire-at 0.5 --kill-at 0.3 --latency-ms 100 --graph-page-size 25]

Reuses bench/publish/run.py (database, sandbox, workers, seeding, the beat loop); its own
database (sa_reliability) and Redis db 13. Raw numbers: bench/results/reliability-<ts>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.publish import run as publish  # noqa: E402
from bench.reliability import scenario  # noqa: E402


class CallLog:
    """The sandbox keeps its last 5,000 calls and a run makes more: read them as it goes."""

    def __init__(self, cfg: publish.Config) -> None:
        self.cfg = cfg
        self.seq = 0
        self.calls: list[dict[str, Any]] = []
        self.read_at = 0.0

    def read(self) -> None:
        answer = publish.control(self.cfg, "GET", f"calls?since={self.seq}")
        self.calls.extend(answer["calls"])
        self.seq = int(answer["last_seq"])
        self.read_at = time.monotonic()


def print_verdict(verdict: scenario.Verdict, depths: dict[str, Any], drain: float) -> None:
    print()
    print(
        "| kind | publications | published | failed (token expired) | duplicates | lost "
        "| live but failed | found by reconciliation (beyond page 1, deepest) | attempts |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for kind, kv in verdict.by_kind.items():
        depth = depths.get(kind, {})
        found = (
            f"{kv.reconciled} ({depth.get('beyond_first_page', 0)}, {depth.get('deepest', '-')})"
        )
        attempts = ", ".join(f"{n}x{a}" for a, n in sorted(kv.attempts.items()))
        print(
            f"| {kind} | {kv.publications} | {kv.states['published']} "
            f"| {kv.states['failed (token expired)']} | {kv.duplicates} | {kv.lost} "
            f"| {kv.live_but_failed} | {found} | {attempts} |"
        )
    states = ", ".join(f"{k} {n}" for k, n in sorted(verdict.states.items()))
    print(
        f"| all | {verdict.publications} | {states} | | {verdict.duplicates} | {verdict.lost} "
        f"| {verdict.live_but_failed} | drain {drain} s | {'OK' if verdict.ok else 'VIOLATION'} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--publications", type=int, default=1000)
    parser.add_argument(
        "--pages",
        type=int,
        default=5,
        help="Facebook Pages, each with its Instagram account; as many Threads profiles and "
        "Instagram-Login accounts",
    )
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--expiring-pages",
        type=int,
        default=1,
        help="Pages whose Page token expires mid-run (with their Instagram account), and as many "
        "Threads profiles and Instagram-Login accounts whose own token does",
    )
    parser.add_argument("--expire-at", type=float, default=0.5, help="fraction published")
    parser.add_argument("--kill-at", type=float, default=0.3, help="fraction published")
    parser.add_argument("--lease-seconds", type=int, default=10)
    parser.add_argument("--graph-page-size", type=int, default=scenario.RESULT_PAGE)
    parser.add_argument(
        "--fault-probability",
        type=float,
        default=0.05,
        help="chance that a publishing call meets a one-shot fault while any is left",
    )
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/sa_reliability"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = publish.RESULTS / f"reliability-{stamp}-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    cfg = publish.Config(
        publications=args.publications,
        pages=args.pages,
        latency_ms=args.latency_ms,
        workers=args.workers,
        concurrency=args.concurrency,
        faults=True,
        kill_worker=True,
        kill_at=args.kill_at,
        lease_seconds=args.lease_seconds,
        timeout=args.timeout,
        database_url=args.database_url,
        redis_url=args.redis_url,
        kinds=tuple(publish.KINDS),
        media_root=str(log_dir / "media"),
        # Reconciliation reads result pages of Meta's default size.
        extra_env={"GRAPH_PAGE_SIZE": str(args.graph_page_size)},
        # No web server serves the images: the sandbox takes any URL, and containers are ready
        # at once (the engine still polls them: a step each).
        sandbox_args=("--no-fetch-media", "--processing-seconds", "0"),
    )
    faults = scenario.fault_mix(scenario.LONG_RUN, probability=args.fault_probability)
    print(f"database {cfg.database_url}: recreate + migrate", flush=True)
    publish.recreate_database(cfg.database_url)
    publish.migrate(cfg)
    os.environ.update(cfg.env())
    import django

    django.setup()
    from django.utils import timezone

    from apps.social.models import ConnectedAccount

    def post(path: str, payload: object) -> Any:
        return publish.control(cfg, "POST", path, payload)

    started = time.monotonic()
    sandbox = publish.start_sandbox(cfg, log_dir / "sandbox.log")
    calls = CallLog(cfg)
    try:
        print(f"sandbox {cfg.sandbox_url} ({cfg.latency_ms} ms per call); seeding", flush=True)
        seeding = publish.seed(cfg)
        n = args.expiring_pages
        accounts = ConnectedAccount.objects.order_by("pk")
        expiring = scenario.connect_expiring_tokens(
            post,
            accounts.filter(platform=publish.FACEBOOK_PAGE)[:n],
            now=timezone.now(),
            own_login=[
                *accounts.filter(platform=publish.THREADS)[:n],
                *accounts.filter(platform=publish.INSTAGRAM_LOGIN)[:n],
            ],
        )
        # Instagram's rolling 24-hour limit (either login's) must not be what stops a post here.
        quota = int(publish.control(cfg, "GET", "config")["quota_total"])
        quota_raised = seeding["instagram_per_account_max"] >= quota
        if quota_raised:
            quota = seeding["instagram_per_account_max"] + 10
            post("config", {"quota_total": quota})
        print(
            f"seeded in {seeding['seconds']} s: {seeding['by_kind']} on {seeding['accounts']} "
            f"accounts ({seeding['per_account']['min']}-{seeding['per_account']['max']} each; "
            f"Instagram at most {seeding['instagram_per_account_max']} of a quota of {quota}"
            f"{', raised' if quota_raised else ''}); {len(expiring)} expiring accounts",
            flush=True,
        )
        expired_at: datetime | None = None
        loads: list[float] = []

        def on_tick(elapsed: float, counts: Counter[str]) -> str | None:
            nonlocal expired_at
            if time.monotonic() - calls.read_at >= 2.0:
                calls.read()
                loads.append(os.getloadavg()[0])
            if expired_at is None and counts["published"] >= args.expire_at * cfg.publications:
                expired_at = timezone.now()
                scenario.expire_tokens(post)
                return f"tokens of {len(expiring)} accounts expired"
            return None

        publish.control(cfg, "DELETE", "calls")
        measured = publish.run(cfg, log_dir, on_tick=on_tick, faults=faults)
        calls.read()
        out = publish.control(cfg, "GET", "published")
        rows = scenario.publication_rows()
        found = scenario.reconciled_at()
        verdict = scenario.judge(
            publications=rows,
            sandbox_published=out,
            expiring_account_ids=expiring,
            account_status=scenario.account_statuses(),
            now=timezone.now(),
            # Only at a timeout: then a publication may still wait, for a stated reason.
            allow_waiting=measured["timed_out"],
            reconciled_ids=found,
        )

        def sandbox_offset(at: datetime) -> float:
            jumped = expired_at is not None and at >= expired_at
            return scenario.EXPIRY_CLOCK_JUMP_SECONDS if jumped else 0.0

        depths = scenario.reconciliation_depths(
            publications=rows,
            sandbox_published=out,
            reconciled_at=found,
            sandbox_offset=sandbox_offset,
        )
        offenders = sorted({pk for pks in verdict.offenders.values() for pk in pks})[:20]
        histories = scenario.history(offenders, out)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)

    fired = scenario.faults_fired(calls.calls)
    result = {
        "timestamp": stamp,
        "config": {
            "publications": cfg.publications,
            "pages": cfg.pages,
            "accounts": seeding["accounts"],
            "kinds": list(cfg.kinds),
            "latency_ms": cfg.latency_ms,
            "workers": cfg.workers,
            "threads_per_worker": cfg.concurrency,
            "lease_seconds": cfg.lease_seconds,
            "graph_page_size": args.graph_page_size,
            "instagram_quota_total": quota,
            "instagram_quota_raised": quota_raised,
            "sandbox_args": list(cfg.sandbox_args),
            "faults": [*faults, scenario.expiry_fault_summary(len(expiring))],
            "kill_at": cfg.kill_at,
            "expire_at": args.expire_at,
            "cpus": os.cpu_count(),
            "load_average_during_run": {
                "min": min(loads, default=None),
                "max": max(loads, default=None),
                "mean": round(sum(loads) / len(loads), 2) if loads else None,
            },
        },
        "seeding": seeding,
        "faults_fired": fired,
        "total_seconds": round(time.monotonic() - started, 1),
        **{k: v for k, v in measured.items() if k != "published_over_time"},
        "verdict": verdict.as_dict(),
        "reconciliation_depths": depths,
        "violating_publications": histories,
        "allowed_states": scenario.ALLOWED_STATES,
    }
    path = publish.RESULTS / f"reliability-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))

    print_verdict(verdict, depths, measured["drain_seconds"])
    print(f"\nfaults fired (sandbox call log): {fired}")
    print(f"events: {measured['events']}")
    print(f"attempts: {verdict.attempts}")
    print(f"failed reasons: {verdict.failed_reasons}")
    if verdict.waiting_reasons:
        print(f"waiting reasons: {verdict.waiting_reasons}")
    violations = {k: n for k, n in verdict.violations.items() if n}
    if violations:
        print(f"VIOLATIONS: {violations}")
        print(f"offending publications: {offenders} (histories in the raw file)")
    print(f"raw: {path.relative_to(ROOT)}")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())

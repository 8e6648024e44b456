# A command-line script: it prints its report and runs its own fixed subprocesses.
# ruff: noqa: T201
"""Reliability run (issue 8, SPEC 13): the publishing benchmark under every fault at once —
Graph 500s, timeouts after the call took effect, rate limits, Page tokens expiring mid-run and a
worker SIGKILLed mid-run — then a verdict: duplicates 0, lost 0, every publication in an allowed
end state (bench/reliability/scenario.py `ALLOWED_STATES`). Exit status 1 on any violation.

Usage (from the repository root; PostgreSQL and Redis must answer, see bin/ensure-services):

    .venv/bin/python bench/reliability/run.py [--publications 1000 --accounts 100
        --expiring-accounts 3 --expire-at 0.5 --kill-at 0.3 --latency-ms 100]

Reuses bench/publish/run.py (database, sandbox, workers, seeding, the beat loop, the fault mix);
its own database (sa_reliability) and Redis db 13. Raw numbers: bench/results/reliability-<ts>.json.
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


def injected_faults(calls: list[dict[str, Any]]) -> dict[str, int]:
    """What the sandbox's call log says it did: faults by kind, and expired-token answers."""
    seen: Counter[str] = Counter(c["fault"] for c in calls if c.get("fault"))
    seen["token_expired (190/463)"] = sum(
        1 for c in calls if (c.get("code"), c.get("subcode")) == scenario.TOKEN_EXPIRED
    )
    seen["graph_calls"] = len(calls)
    return dict(seen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--publications", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--expiring-accounts", type=int, default=3)
    parser.add_argument("--expire-at", type=float, default=0.5, help="fraction published")
    parser.add_argument("--kill-at", type=float, default=0.3, help="fraction published")
    parser.add_argument("--lease-seconds", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/sa_reliability"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    cfg = publish.Config(
        publications=args.publications,
        accounts=args.accounts,
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
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = publish.RESULTS / f"reliability-{stamp}-logs"
    log_dir.mkdir(parents=True, exist_ok=True)

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
    try:
        print(f"sandbox {cfg.sandbox_url} ({cfg.latency_ms} ms per call); seeding", flush=True)
        seeding = publish.seed(cfg)
        expiring = scenario.connect_expiring_tokens(
            post,
            ConnectedAccount.objects.order_by("pk")[: args.expiring_accounts],
            now=timezone.now(),
        )
        print(f"seeded in {seeding['seconds']} s; {len(expiring)} expiring accounts", flush=True)
        expired = False

        def on_tick(elapsed: float, counts: Counter[str]) -> str | None:
            nonlocal expired
            if not expired and counts["published"] >= args.expire_at * cfg.publications:
                scenario.expire_tokens(post)
                expired = True
                return f"tokens of {len(expiring)} accounts expired"
            return None

        publish.control(cfg, "DELETE", "calls")
        measured = publish.run(cfg, log_dir, on_tick=on_tick)
        verdict = scenario.judge(
            publications=scenario.publication_rows(),
            sandbox_published=publish.control(cfg, "GET", "published"),
            expiring_account_ids=expiring,
            account_status=scenario.account_statuses(),
            now=timezone.now(),
            # Only at a timeout: then a publication may still wait, for a stated reason.
            allow_waiting=measured["timed_out"],
        )
        calls = publish.control(cfg, "GET", "calls")["calls"]
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)

    injected = injected_faults(calls)
    result = {
        "timestamp": stamp,
        "config": {
            "publications": cfg.publications,
            "accounts": cfg.accounts,
            "latency_ms": cfg.latency_ms,
            "workers": cfg.workers,
            "threads_per_worker": cfg.concurrency,
            "lease_seconds": cfg.lease_seconds,
            "faults": [*publish.FAULTS, scenario.expiry_fault_summary(len(expiring))],
            "kill_at": cfg.kill_at,
            "expire_at": args.expire_at,
            "cpus": os.cpu_count(),
        },
        "seeding": seeding,
        "faults_injected": injected,
        "total_seconds": round(time.monotonic() - started, 1),
        **{k: v for k, v in measured.items() if k != "published_over_time"},
        "verdict": verdict.as_dict(),
        "allowed_states": scenario.ALLOWED_STATES,
    }
    path = publish.RESULTS / f"reliability-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))

    print()
    print("| publications | duplicates | lost | end states | drain s | verdict |")
    print("|---|---|---|---|---|---|")
    states = ", ".join(f"{k} {n}" for k, n in sorted(verdict.states.items()))
    print(
        f"| {verdict.publications} | {verdict.duplicates} | {verdict.lost} | {states} "
        f"| {measured['drain_seconds']} | {'OK' if verdict.ok else 'VIOLATION'} |"
    )
    print(f"\nfaults injected (sandbox hits): {injected}")
    print(f"events: {measured['events']}")
    print(f"attempts: {verdict.attempts}")
    print(f"failed reasons: {verdict.failed_reasons}")
    if verdict.waiting_reasons:
        print(f"waiting reasons: {verdict.waiting_reasons}")
    violations = {k: n for k, n in verdict.violations.items() if n}
    if violations:
        print(f"VIOLATIONS: {violations}")
    print(f"raw: {path.relative_to(ROOT)}")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())

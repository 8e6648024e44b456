# A command-line script: it prints its report and runs its own fixed subprocesses.
# ruff: noqa: T201, S603, S608, S311, S101, RUF001
"""REST API benchmark (SPEC 13): with 100,000 posts in PostgreSQL, the posts list and detail
under gunicorn at 32 connections, against a bare Django view (``bench/api/views.py``) doing the
same query and returning the same JSON, measured in the same run, alternating order.

Usage (from the repository root; PostgreSQL and Redis must answer, see bin/ensure-services; wrk
must be installed, ``make bench-api`` does both):

    .venv/bin/python bench/api/run.py [--posts 100000 --duration 20 --warmup 5 --rounds 2
        --connections 32 --workers 2 --threads 4 --worker-class gthread --reuse]

It drops and recreates its own database (sa_bench_api; ``--reuse`` keeps it when it already holds
the posts), seeds one tenant with COPY, creates an API key through ``api_key_create``, counts the
queries of each endpoint in-process for several page sizes, profiles the DRF list in-process
(cProfile), starts gunicorn, checks both list bodies are the same JSON, runs wrk, and writes raw
numbers to bench/results/api-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")
SETTINGS = "bench.api.settings"
# The list endpoints measured: the bare view, the API, and the prototypes of bench/api/fast.py.
LIST_PATHS = {
    "bare_list": "/bench/posts/",
    "drf_list": "/api/v1/posts/",
    "drf_a": "/bench/drf-a/posts/",
    "drf_b": "/bench/drf-b/posts/",
    "drf_c": "/bench/drf-c/posts/",
}

WRK_SCRIPT = """
wrk.headers["Authorization"] = "Api-Key %(key)s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"p50_us":%%d,"p90_us":%%d,' ..
    '"p99_us":%%d,"max_us":%%d,"mean_us":%%f,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DJANGO_ENV_FILE": "",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        "FIELD_ENCRYPTION_KEY": FERNET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        "API_RATE_BASIC": "100000000/hour",
        "API_RATE_PRO": "100000000/hour",
        "API_RATE_ENTERPRISE": "100000000/hour",
        "PYTHONPATH": str(ROOT),
    }


FERNET_KEY = Fernet.generate_key().decode()


# --- Database and seed ---------------------------------------------------------------------------


def database_posts(url: str) -> int | None:
    """How many posts the bench database holds, or None when it does not exist (or is empty)."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute("SELECT count(*) FROM posts_post").fetchone()
            return int(row[0]) if row else None
    except psycopg.Error:
        return None


def recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )


def copy_rows(model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """COPY ``rows`` (attname -> value; missing: the field's default) into ``model``'s table."""
    from django.db import connection
    from django.db.models import JSONField
    from psycopg.types.json import Jsonb

    fields = model._meta.concrete_fields
    defaults = {f.attname: f.get_default() for f in fields}
    json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = []
            for f in fields:
                value = row.get(f.attname, defaults[f.attname])
                values.append(Jsonb(value) if f.attname in json_fields else value)
            copy.write_row(values)
            count += 1
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {quote(model._meta.db_table)}))",
            [model._meta.db_table],
        )
    return count


CAPTIONS = [
    "Tonight: live jazz from 8 pm 🎷 Book a table, the terrace is open.",
    "Fresh from the oven: sourdough, rye and our new seeded loaf. Come early, they go fast!",
    "Lunch menu this week — soup of the day, risotto ai funghi, tiramisù. 14 € with coffee.",
    "Thank you for 10 years with us ❤️ A glass of crémant on the house all weekend.",
    "New on the menu: grilled octopus, smoked paprika, lemon and potatoes crushed with olive oil.",
]


def seed(posts: int) -> dict[str, Any]:
    """One tenant (basic plan, no approval), its owner, 4 connected accounts, 200 library
    images, and ``posts`` posts spread over ~40 days: each with 1 target and 1 publication
    (published, scheduled or failed, as the status says), 30 % with 1-3 images."""
    from apps.accounts.models import Membership, Role, Tenant, User
    from apps.accounts.services import api_key_create
    from apps.assets.models import BrandAsset
    from apps.posts.models import Post, PostAsset, Publication
    from apps.social.models import ConnectedAccount

    rng = random.Random(42)
    started = time.monotonic()
    tenant = Tenant.objects.create(
        name="Bench Bistro", slug="bench-bistro", plan="basic", requires_approval=False
    )
    user = User.objects.create_user("owner@bench.example")
    owner = Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    accounts = [
        ConnectedAccount.objects.create(
            tenant=tenant,
            platform=platform,
            platform_id=f"{platform[:2]}{i}",
            name=f"Bench {platform} {i}",
            connected_by=user,
        )
        for i, platform in enumerate(
            ["facebook_page", "facebook_page", "instagram_business", "instagram_business"]
        )
    ]
    images = BrandAsset.objects.bulk_create(
        BrandAsset(
            tenant=tenant,
            file=f"assets/bench/{i}.jpg",
            thumbnail=f"assets/bench/{i}-thumb.jpg",
            original_filename=f"photo-{i}.jpg",
            content_type="image/jpeg",
            size=250_000,
            width=1080,
            height=1080,
            sha256=f"{i:064x}",
            uploaded_by=user,
        )
        for i in range(200)
    )
    now = datetime.now(UTC)
    post_rows: list[dict[str, Any]] = []
    target_rows: list[dict[str, Any]] = []
    asset_rows: list[dict[str, Any]] = []
    publication_rows: list[dict[str, Any]] = []
    for i in range(1, posts + 1):
        created = now - timedelta(seconds=37 * (posts - i) + rng.random())
        account = accounts[i % len(accounts)]
        roll = rng.random()
        caption = f"{CAPTIONS[i % len(CAPTIONS)]} #{i}"
        post: dict[str, Any] = {
            "id": i,
            "tenant_id": tenant.pk,
            "caption": caption,
            "caption_overrides": {"instagram_business": caption + " #bistro"} if i % 4 else {},
            "link": "https://bistro.example/menu" if i % 5 == 0 else "",
            "created_by_id": user.pk,
            "created_at": created,
            "updated_at": created + timedelta(minutes=5),
            "submitted_at": created + timedelta(minutes=1),
        }
        publication: dict[str, Any] = {
            "id": i,
            "tenant_id": tenant.pk,
            "post_id": i,
            "account_id": account.pk,
            "created_at": created + timedelta(minutes=1),
            "updated_at": created + timedelta(minutes=5),
        }
        if roll < 0.80:
            published = created + timedelta(hours=2)
            post.update(status="published", scheduled_for=published, published_at=published)
            publication.update(
                status="published",
                attempts=1,
                published_at=published,
                platform_post_id=f"{account.platform_id}_{i}",
                permalink=f"https://www.facebook.com/{account.platform_id}/posts/{i}",
                likes=rng.randint(0, 300),
                comments=rng.randint(0, 40),
                shares=rng.randint(0, 20),
                reactions=rng.randint(0, 400),
                engagement_synced_at=published + timedelta(hours=6),
            )
        elif roll < 0.95:
            due = now + timedelta(days=1 + i % 30)
            post.update(status="scheduled", scheduled_for=due)
            publication.update(status="pending", next_attempt_at=due)
        else:
            post.update(status="failed", scheduled_for=created + timedelta(hours=2))
            publication.update(
                status="failed",
                attempts=3,
                last_error="(#200) The user hasn't authorized the application.",
                error_code=200,
            )
        post_rows.append(post)
        publication_rows.append(publication)
        target_rows.append({"id": i, "post_id": i, "connectedaccount_id": account.pk})
        if rng.random() < 0.3:
            for position, image in enumerate(rng.sample(images, rng.randint(1, 3))):
                asset_rows.append(
                    {
                        "id": len(asset_rows) + 1,
                        "post_id": i,
                        "asset_id": image.pk,
                        "position": position,
                    }
                )
    counts = {
        "posts": copy_rows(Post, post_rows),
        "targets": copy_rows(Post.targets.through, target_rows),
        "post_assets": copy_rows(PostAsset, asset_rows),
        "publications": copy_rows(Publication, publication_rows),
    }
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    key = api_key_create(actor=owner, name="bench", scopes=["read"]).key
    return {"counts": counts, "seconds": round(time.monotonic() - started, 1), "key": key}


# The index the API's first page needs (tenant, newest first): without it PostgreSQL reads the
# tenant's every post (a parallel seq scan + top-N sort, ~50 ms at 100,000 posts). Proposed as a
# migration; --index creates it in the bench database only, --no-index drops it.
INDEX_NAME = "bench_post_tenant_newest"


def set_index(url: str, wanted: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if wanted:
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} "
                "ON posts_post (tenant_id, created_at DESC, id DESC)"
            )
        else:
            conn.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")
        conn.execute("ANALYZE posts_post")


def first_page_plan(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        tenant = conn.execute(
            "SELECT id FROM accounts_tenant WHERE slug = 'bench-bistro'"
        ).fetchone()
        rows = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM posts_post WHERE tenant_id = %s "
            "ORDER BY created_at DESC, id DESC LIMIT 51",
            [tenant[0] if tenant else 0],
        ).fetchone()
    plan = rows[0][0] if rows else {}
    top = plan.get("Plan", {})
    nodes = []
    stack = [top]
    while stack:
        node = stack.pop()
        nodes.append(node.get("Node Type"))
        stack.extend(node.get("Plans", []))
    return {"execution_ms": plan.get("Execution Time"), "nodes": nodes}


def bench_key() -> str:
    """A fresh read key of the bench tenant (on --reuse; only hashes are stored)."""
    from apps.accounts.models import Membership
    from apps.accounts.services import api_key_create

    owner = Membership.objects.get(tenant__slug="bench-bistro", role="owner")
    return api_key_create(actor=owner, name="bench", scopes=["read"]).key


# --- In-process: query counts and profile --------------------------------------------------------


def client(key: str) -> Any:
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_HOST="127.0.0.1")


def query_counts(key: str, detail_id: int) -> dict[str, dict[str, int]]:
    """Queries per request (after a warm-up request that fills the key cache), by page size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client(key)
    c.get("/api/v1/posts/?page_size=1")
    c.get("/bench/posts/?page_size=1")
    out: dict[str, dict[str, int]] = {name: {} for name in [*LIST_PATHS, "drf_detail"]}
    for size in (1, 10, 50, 100):
        for name, path in LIST_PATHS.items():
            with CaptureQueriesContext(connection) as captured:
                response = c.get(f"{path}?page_size={size}")
            assert response.status_code == 200, response.content[:300]
            assert len(response.json()["results"]) == size
            out[name][str(size)] = len(captured.captured_queries)
    with CaptureQueriesContext(connection) as captured:
        response = c.get(f"/api/v1/posts/{detail_id}/")
    assert response.status_code == 200, response.content[:300]
    out["drf_detail"]["1"] = len(captured.captured_queries)
    return out


# Where the time of an API request goes, by layer (cumulative ms per request in the profile).
FOCUS = (
    "(api_key_authenticate)",
    "(allow_request)",
    "(check_throttles)",
    "(perform_authentication)",
    "(get_queryset)",
    "(paginate_queryset)",
    "(prefetch_related_objects)",
    "(prefetch_one_level)",
    "(get_publications)",
    "(get_fields)",
    "serializers.py:816(data)",
    "(execute_sql)",
    "(as_sql)",
    "psycopg/cursor.py:100(execute)",
    "base.py:462(__init__)",
    "(from_db)",
    "(enforce_timezone)",
    "renderers.py:67(render)",
    "(finalize_response)",
    "(posts_page)",
    "(bare_posts)",
    "(to_representation)",
    "(_get_response)",
    "cache/backends/redis.py",
)


def profile(key: str, path: str, requests: int = 300) -> dict[str, Any]:
    """cProfile of ``requests`` in-process GETs (Django test client: the whole middleware and
    DRF stack, no HTTP server): the top functions by own time and by cumulative time."""
    c = client(key)
    for _ in range(20):
        c.get(path)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        c.get(path)
    profiler.disable()
    elapsed = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        rows.append({"function": f"{short}:{line}({func})", "calls": nc, "tottime": tt, "cum": ct})
    by_cum = sorted(rows, key=lambda r: r["cum"], reverse=True)[:60]
    focus = [r for r in rows if any(f in r["function"] for f in FOCUS)]
    by_own = sorted(rows, key=lambda r: r["tottime"], reverse=True)[:30]

    def per_request(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "function": r["function"],
                "calls_per_request": round(r["calls"] / requests, 1),
                "own_ms": round(1000 * r["tottime"] / requests, 3),
                "cum_ms": round(1000 * r["cum"] / requests, 3),
                "cum_share": round(r["cum"] / total, 3),
            }
            for r in items
        ]

    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
    return {
        "path": path,
        "requests": requests,
        "wall_ms_per_request_profiled": round(1000 * elapsed / requests, 2),
        "by_cumulative": per_request(by_cum),
        "by_own_time": per_request(by_own),
        "focus": per_request(sorted(focus, key=lambda r: r["cum"], reverse=True)),
        "text": text.getvalue(),
    }


def timed(key: str, path: str, requests: int = 300) -> float:
    """In-process ms per request, no profiler."""
    c = client(key)
    for _ in range(20):
        c.get(path)
    started = time.perf_counter()
    for _ in range(requests):
        c.get(path)
    return round(1000 * (time.perf_counter() - started) / requests, 3)


# --- gunicorn and wrk ----------------------------------------------------------------------------


def start_gunicorn(args: argparse.Namespace, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [
        *(GUNICORN, "config.wsgi:application", "--bind", f"127.0.0.1:{args.port}"),
        *("--workers", str(args.workers), "--worker-class", args.worker_class),
        *("--log-level", "warning", "--error-logfile", "-", "--keep-alive", "30"),
        "--no-control-socket",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def wait_ready(base: str, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/bench/posts/?page_size=1", headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer")


def wrk(url: str, script: Path, args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            *("wrk", "-t", str(args.wrk_threads), "-c", str(args.connections)),
            *("-d", f"{round(seconds)}s", "--timeout", "10s", "-s", str(script), url),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": errors,
        "raw": raw,
    }


def same_json(base: str, headers: dict[str, str], size: int) -> dict[str, Any]:
    """The bare view's body must be the API's (same JSON; the script reports whether the bytes
    are the same too); the prototypes' results must be the API's (their ``next`` links point
    at their own paths)."""
    bodies = {}
    for name, path in LIST_PATHS.items():
        response = httpx.get(f"{base}{path}?page_size={size}", headers=headers)
        response.raise_for_status()
        bodies[name] = response
    api, bare = bodies["drf_list"], bodies["bare_list"]
    assert api.json() == bare.json(), "the bare view's JSON differs from the API's"
    for name in ("drf_a", "drf_b", "drf_c"):
        assert bodies[name].json()["results"] == api.json()["results"], f"{name} differs"
    return {
        "equal_json": True,
        "equal_bytes": api.content == bare.content,
        "prototypes_equal_results": True,
        "bytes": len(api.content),
        "content_type": [api.headers["content-type"], bare.headers["content-type"]],
    }


# --- Report --------------------------------------------------------------------------------------


def summarise(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per endpoint: the median over rounds of req/s, p50, p99; errors summed."""
    out: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["endpoint"] for r in runs):
        mine = [r for r in runs if r["endpoint"] == name]
        out[name] = {
            "rps": round(statistics.median(r["rps"] for r in mine), 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in mine), 2),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in mine), 2),
            "errors": sum(r["errors"] for r in mine),
            "rounds_rps": [r["rps"] for r in mine],
        }
    return out


def markdown(summary: dict[str, dict[str, Any]], paths: dict[str, str]) -> str:
    bare = summary["bare_list"]["rps"]
    lines = [
        "| endpoint | req/s (median) | per round | p50 ms | p99 ms | errors | vs bare |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for name, s in summary.items():
        rounds = " / ".join(f"{x:.0f}" for x in s["rounds_rps"])
        lines.append(
            f"| {name} `{paths[name]}` | {s['rps']:.0f} | {rounds} | {s['p50_ms']:.1f} "
            f"| {s['p99_ms']:.1f} | {s['errors']} | {s['rps'] / bare:.2f}× |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--conn-max-age", type=int, default=600)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--endpoints",
        default="bare_list,drf_list,drf_detail,drf_a,drf_b,drf_c",
        help="comma-separated; bare_list and drf_list are required",
    )
    parser.add_argument("--reuse", action="store_true", help="keep a database already seeded")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--profile-only", action="store_true", help="the in-process part only: no gunicorn/wrk"
    )
    parser.add_argument(
        "--index",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="create (or, --no-index, drop) an index (tenant_id, created_at DESC, id DESC)",
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/sa_bench_api")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    args.port = args.port or free_port()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk (make bench-api does it)")
        return 2

    env = bench_env(args)
    os.environ.update(env)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "started_at": stamp,
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
        "config": {k: v for k, v in vars(args).items() if k not in ("database_url",)},
    }

    existing = database_posts(args.database_url) if args.reuse else None
    if existing != args.posts:
        print(f"database: recreating {args.database_url.rsplit('/', 1)[1]} and migrating")
        recreate_database(args.database_url)
        migrate(env)
    set_index(args.database_url, args.index)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    if existing != args.posts:
        seeded = seed(args.posts)
        key = seeded.pop("key")
        result["seed"] = seeded
        print(f"seeded {seeded['counts']} in {seeded['seconds']} s")
    else:
        key = bench_key()
        print(f"database: reusing {existing} posts")
    result["first_page_plan"] = plan = first_page_plan(args.database_url)
    print(f"first page query: {plan['execution_ms']} ms, plan {plan['nodes']}")
    from apps.posts.models import Post

    detail_id = Post.objects.order_by("-created_at", "-id").values_list("id", flat=True)[7]
    size = args.page_size
    paths = {name: f"{path}?page_size={size}" for name, path in LIST_PATHS.items()}
    paths["drf_detail"] = f"/api/v1/posts/{detail_id}/"
    paths = {name: paths[name] for name in args.endpoints.split(",")}

    result["queries"] = counts = query_counts(key, detail_id)
    print(f"queries per request by page size: {json.dumps(counts)}")
    result["in_process_ms"] = {
        name: timed(key, path, 60 if name in ("drf_list", "drf_a") else 200)
        for name, path in paths.items()
    }
    print(f"in-process ms per request (Django test client): {result['in_process_ms']}")
    if not args.no_profile:
        result["profile"] = {
            name: profile(key, paths[name], requests=100 if name in ("drf_list", "drf_a") else 300)
            for name in ("drf_list", "bare_list", "drf_a", "drf_b", "drf_c")
            if name in paths
        }
    from django.db import connections

    connections.close_all()
    if args.profile_only:
        path = RESULTS / f"api-{stamp}-profile.json"
        path.write_text(json.dumps(result, indent=2, default=str))
        for name, prof in result.get("profile", {}).items():
            print(f"\n{name}: ms per request (cProfile), by layer:")
            for row in prof["focus"]:
                print(f"  {row['cum_ms']:8.2f} {row['calls_per_request']:8.1f}  {row['function']}")
        print(f"Raw: {path.relative_to(ROOT)}")
        return 0

    base = f"http://127.0.0.1:{args.port}"
    headers = {"Authorization": f"Api-Key {key}"}
    log = RESULTS / f"api-{stamp}-gunicorn.log"
    server = start_gunicorn(args, env, log)
    runs: list[dict[str, Any]] = []
    try:
        wait_ready(base, headers)
        result["same_json"] = same_json(base, headers, size)
        print(f"bare view vs API body: {result['same_json']}")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(WRK_SCRIPT % {"key": key})
            script = Path(f.name)
        names = list(paths)
        for round_no in range(args.rounds):
            order = names if round_no % 2 == 0 else names[::-1]
            for name in order:
                url = base + paths[name]
                wrk(url, script, args, args.warmup)
                run = wrk(url, script, args, args.duration)
                run.update(endpoint=name, round=round_no, load=os.getloadavg()[0])
                runs.append(run)
                print(
                    f"round {round_no} {name:10} {run['rps']:8.1f} req/s  p50 "
                    f"{run['p50_ms']:6.1f} ms  p99 {run['p99_ms']:6.1f} ms  errors {run['errors']}"
                )
        script.unlink()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    result["runs"] = runs
    result["summary"] = summary = summarise(runs)
    bare = summary["bare_list"]["rps"]
    result["ratio_drf_list_vs_bare"] = round(summary["drf_list"]["rps"] / bare, 3)
    result["ratio_per_round"] = [
        round(d["rps"] / b["rps"], 3)
        for b, d in zip(
            (r for r in runs if r["endpoint"] == "bare_list"),
            (r for r in runs if r["endpoint"] == "drf_list"),
            strict=True,
        )
    ]
    path = RESULTS / f"api-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print()
    print(markdown(summary, paths))
    print()
    print(
        f"DRF list / bare: {result['ratio_drf_list_vs_bare']:.2f}× (per round "
        f"{result['ratio_per_round']}); target ≥ 0.80×. Raw: {path.relative_to(ROOT)}"
    )
    if "profile" in result:
        print("\nDRF list, top by cumulative time (ms per request, in-process, cProfile):")
        for row in result["profile"]["drf_list"]["by_cumulative"][:40]:
            print(f"  {row['cum_ms']:8.2f} {row['calls_per_request']:8.1f}  {row['function']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

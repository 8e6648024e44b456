"""Liveness and readiness probes, answered as JSON.

``/healthz`` says the process serves requests. ``/readyz`` says it can do its work: the database
answers, the Celery broker and the cache accept a connection, and no migration is waiting; its
``warnings`` list what an operator should act on without making the service unready (the apps'
``apps.core.hooks`` warnings, e.g. a Graph API version near its end of life).
"""

import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core import hooks
from config.celery import app as celery_app


def _check_database() -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def _check_migrations() -> str | None:
    # Every migration on disk, not only the path to the leaves: a hole counts too.
    loader = MigrationLoader(connections[DEFAULT_DB_ALIAS], ignore_no_migrations=True)
    unapplied = [key for key in loader.graph.nodes if key not in loader.applied_migrations]
    return f"{len(unapplied)} migration(s) not applied" if unapplied else None


def _check_broker() -> str | None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    return None


def _check_cache() -> str | None:
    cache.set("readyz", "ok", timeout=10)
    return None if cache.get("readyz") == "ok" else "cache did not return what was stored"


CHECKS: dict[str, Callable[[], str | None]] = {
    "database": _check_database,
    "migrations": _check_migrations,
    "broker": _check_broker,
    "cache": _check_cache,
}


def register_readiness_check(name: str, check: Callable[[], str | None]) -> None:
    """Apps add their own readiness checks (from ``AppConfig.ready``): a callable that returns
    None when ready, or a short reason; an exception counts as not ready too."""
    CHECKS[name] = check


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            problem = check()
        except Exception as exc:  # any failure of a dependency means "not ready"
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        results[name] = {
            "status": "ok" if problem is None else "error",
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            **({"error": problem} if problem else {}),
        }
    ready = all(r["status"] == "ok" for r in results.values())
    try:
        warnings = [{"code": w.code, "message": w.message} for w in hooks.system_warnings()]
    except Exception as exc:  # a broken warning must not make the probe fail
        warnings = [{"code": "warnings_failed", "message": type(exc).__name__}]
    return JsonResponse(
        {"status": "ok" if ready else "error", "checks": results, "warnings": warnings},
        status=200 if ready else 503,
    )

"""Serving the metrics: the web's ``/metrics`` view and the Celery worker's exporter port.

- Without ``PROMETHEUS_MULTIPROC_DIR`` a process serves its own in-memory metrics: right for
  ``manage.py runserver`` and a single-process worker pool (``solo``/``threads``).
- With it, every process on the host writes its metrics to files there and the exporter adds
  them up, so a gunicorn with several workers, or a prefork Celery pool, answers for all its
  processes whichever one serves the scrape.
- The web's ``/metrics`` adds the database gauges (``apps.core.metrics.database``).
"""

import os
import threading

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    start_http_server,
)

logger = structlog.get_logger(__name__)

_database_registry: CollectorRegistry | None = None
_exporter_lock = threading.Lock()
_exporter_port: int | None = None


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_registry() -> CollectorRegistry:
    """The metrics recorded by the processes this exporter answers for."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def database_registry() -> CollectorRegistry:
    # Built on first use: the collector imports models, and a Celery worker imports this module
    # (for its exporter) before Django's app registry is necessarily ready.
    global _database_registry
    if _database_registry is None:
        from .database import DatabaseCollector

        registry = CollectorRegistry(auto_describe=False)
        registry.register(DatabaseCollector())
        _database_registry = registry
    return _database_registry


def exposition(*, include_database: bool) -> bytes:
    """The Prometheus text format of the process metrics, plus the database gauges if asked."""
    text = generate_latest(process_registry())
    if include_database:
        text += generate_latest(database_registry())
    return text


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: with ``METRICS_TOKEN`` set, only with ``Authorization: Bearer <it>``;
    without one, only when ``METRICS_ALLOW_ANONYMOUS`` (development) — closed by default, since
    the metrics reveal business volumes (docs/security.md)."""
    token = settings.METRICS_TOKEN
    if not token and not settings.METRICS_ALLOW_ANONYMOUS:
        return HttpResponse(
            "Metrics are off: set METRICS_TOKEN (docs/operations.md, Access).\n",
            status=403,
            content_type="text/plain",
        )
    if token and not constant_time_compare(
        request.headers.get("Authorization", ""), f"Bearer {token}"
    ):
        return HttpResponse(
            "A bearer token is required (METRICS_TOKEN).\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(exposition(include_database=True), content_type=CONTENT_TYPE_LATEST)


def worker_exporter_start(*, port: int, address: str) -> int | None:
    """Serve this worker's metrics on ``address:port`` from a background thread (once per
    process). Returns the port, or None when it is taken: a busy port costs the metrics of this
    worker, never the worker itself."""
    global _exporter_port
    with _exporter_lock:
        if _exporter_port is not None:
            return _exporter_port
        try:
            start_http_server(port, addr=address, registry=process_registry())
        except OSError as exc:
            logger.warning("metrics_exporter_not_started", port=port, error=str(exc))
            return None
        _exporter_port = port
    logger.info("metrics_exporter_started", port=port, multiprocess=bool(multiprocess_dir()))
    return port

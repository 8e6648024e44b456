"""Celery task outcomes as metrics, from Celery's signals.

``worker_metrics_setup`` runs in a worker's main process at start (``config/celery.py``): it
connects the task signals (the pool's child processes are forked afterwards and inherit them) and,
with ``CELERY_METRICS_PORT`` set, starts the exporter that Prometheus scrapes.
"""

import threading
import time
from typing import Any

import structlog
from celery import signals
from django.conf import settings

from .exposition import multiprocess_dir, worker_exporter_start
from .instruments import CELERY_TASK_DURATION, CELERY_TASKS

logger = structlog.get_logger(__name__)

_started: dict[str, float] = {}
_started_lock = threading.Lock()


def _task_name(sender: Any, request: Any = None) -> str:
    name = getattr(sender, "name", None) or getattr(request, "task", None)
    return str(name) if name else "unknown"


def _on_prerun(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        with _started_lock:
            _started[task_id] = time.perf_counter()


def _on_postrun(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    with _started_lock:
        started = _started.pop(task_id, None) if task_id else None
    if started is not None:
        CELERY_TASK_DURATION.labels(_task_name(sender)).observe(time.perf_counter() - started)


def _on_success(sender: Any = None, **kwargs: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender), "succeeded").inc()


def _on_failure(sender: Any = None, **kwargs: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender), "failed").inc()


def _on_retry(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender, request), "retried").inc()


def _on_revoked(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    CELERY_TASKS.labels(_task_name(sender, request), "revoked").inc()


def _on_rejected(message: Any = None, **kwargs: Any) -> None:
    headers = getattr(message, "headers", None) or {}
    CELERY_TASKS.labels(str(headers.get("task") or "unknown"), "rejected").inc()


_RECEIVERS = (
    (signals.task_prerun, _on_prerun),
    (signals.task_postrun, _on_postrun),
    (signals.task_success, _on_success),
    (signals.task_failure, _on_failure),
    (signals.task_retry, _on_retry),
    (signals.task_revoked, _on_revoked),
    (signals.task_rejected, _on_rejected),
)


def task_signals_connect() -> None:
    """Count task outcomes in this process (and in the processes forked from it). Idempotent."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver, weak=False, dispatch_uid=f"sa_metrics{receiver.__name__}")


def task_signals_disconnect() -> None:
    for signal, receiver in _RECEIVERS:
        signal.disconnect(receiver, dispatch_uid=f"sa_metrics{receiver.__name__}")


def worker_metrics_setup(*, pool: str) -> None:
    """At worker start: count task outcomes; serve them when ``CELERY_METRICS_PORT`` is set."""
    task_signals_connect()
    port = settings.CELERY_METRICS_PORT
    if not port:
        return
    if "prefork" in pool and not multiprocess_dir():
        # The tasks run in child processes whose in-memory counters this exporter cannot see.
        logger.warning(
            "metrics_exporter_without_multiprocess_dir",
            detail="prefork pool: set PROMETHEUS_MULTIPROC_DIR, or the task metrics stay at 0",
        )
    worker_exporter_start(port=port, address=settings.CELERY_METRICS_ADDRESS)

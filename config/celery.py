"""The Celery application: configured from Django settings (``CELERY_*``), tasks autodiscovered."""

import os
from typing import Any

from celery import Celery, signals
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("social_automation")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Binds each task's id (and the id of the request that queued it) into the worker's log lines.
app.steps["worker"].add(DjangoStructLogInitStep)


@signals.worker_init.connect
def _worker_metrics(sender: object = None, **kwargs: object) -> None:
    """Task outcome metrics, and their exporter when CELERY_METRICS_PORT is set (in the worker's
    main process, before the pool forks; imported here because it needs the settings loaded)."""
    from apps.core.metrics.celery_signals import worker_metrics_setup

    pool = getattr(sender, "pool_cls", None)  # a class (celery.concurrency.prefork…) or a name
    worker_metrics_setup(pool=getattr(pool, "__module__", str(pool)))


@signals.task_prerun.connect
@signals.task_postrun.connect
def _recycle_database_connections(task: Any = None, **kwargs: object) -> None:
    """Around each task, what Django does around each request: close this thread's connections
    that are too old (CONN_MAX_AGE) or broke, keep the others (see CELERY_DB_REUSE_MAX). Not
    for a task run in the caller's process (eagerly): its connection is the caller's."""
    from django.db import close_old_connections

    if task is None or getattr(task.request, "is_eager", False):
        return
    close_old_connections()

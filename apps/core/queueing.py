"""Queueing Celery tasks by name, so that services never import tasks (tasks import services).

``task_queue("posts.publications_dispatch_due")`` looks the task up in the Celery app's
registry and calls its ``delay`` / ``apply_async``: the task's own options apply, as they would
with an import, and a test that replaces a task's ``delay`` (to send it to its private worker
queue) still sees every call. A web process does not import the tasks modules by itself, so the
first lookup of a name not yet registered runs Celery's autodiscovery; an unknown name is a
``KeyError`` at once, not a message no worker understands.
"""

from typing import Any

from celery import current_app
from django.db import transaction


def task_queue(name: str, *args: Any, countdown: float | None = None) -> None:
    """Send the task registered as ``name`` with positional ``args`` (after ``countdown``
    seconds when given). Use ``task_queue_on_commit`` inside a transaction."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()  # autodiscovery: every app's tasks.py
    task = current_app.tasks[name]
    if countdown is None:
        task.delay(*args)
    else:
        task.apply_async(args, countdown=countdown)


def task_queue_on_commit(name: str, *args: Any, countdown: float | None = None) -> None:
    """``task_queue`` once the current transaction commits (at once outside one): the task never
    runs before the rows it reads exist, and never for a write that was rolled back."""
    transaction.on_commit(lambda: task_queue(name, *args, countdown=countdown))

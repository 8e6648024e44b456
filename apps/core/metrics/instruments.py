"""The metrics each process records as things happen: Graph calls, publishing steps, token jobs,
Celery tasks.

They are plain prometheus_client counters, histograms and gauges. Under
``PROMETHEUS_MULTIPROC_DIR`` every process (gunicorn workers, Celery pool children) writes them to
its own file in that directory, and the exporter of the host adds them up (see
``apps.core.metrics.exposition``). Labels are bounded sets — endpoint templates, class names,
statuses — never ids, tokens or free text.
"""

import re
from collections.abc import Sequence
from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram


# What ``graph_call_observe`` reads of the Graph client's ``GraphCallRecord``, described here so
# core does not import the social app (the Graph client imports this module instead).
class _Stats(Protocol):
    @property
    def max_percent(self) -> int: ...


class _BusinessUsage(Protocol):
    @property
    def stats(self) -> _Stats: ...


class _Usage(Protocol):
    @property
    def app(self) -> _Stats | None: ...
    @property
    def page(self) -> _Stats | None: ...
    @property
    def business(self) -> Sequence[_BusinessUsage]: ...
    @property
    def is_empty(self) -> bool: ...


class GraphCall(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def duration_ms(self) -> float: ...
    @property
    def usage(self) -> _Usage | None: ...


GRAPH_REQUESTS = Counter(
    "sa_graph_requests",
    "Graph API HTTP attempts by method, endpoint template and outcome (ok or the error class).",
    ["method", "endpoint", "outcome"],
)
GRAPH_REQUEST_DURATION = Histogram(
    "sa_graph_request_duration_seconds",
    "Duration of Graph API HTTP attempts by method and endpoint template.",
    ["method", "endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0),
)
GRAPH_RATE_LIMIT_USAGE = Gauge(
    "sa_graph_rate_limit_usage_percent",
    "Latest rate-limit usage Meta reported, by usage header (app, page, business): the highest "
    "of call_count, total_cputime and total_time, in percent.",
    ["header"],
    multiprocess_mode="mostrecent",
)
PUBLICATION_OUTCOMES = Counter(
    "sa_publication_outcomes",
    "Recorded publishing steps by platform, resulting publication status and outcome.",
    ["platform", "status", "outcome"],
)
TOKEN_REFRESHES = Counter(
    "sa_token_refreshes",
    "Long-lived user token re-exchanges by outcome (refreshed, failed).",
    ["outcome"],
)
TOKEN_CHECKS = Counter(
    "sa_token_checks",
    "debug_token checks by outcome (valid, invalid, error: Facebook could not answer).",
    ["outcome"],
)
CELERY_TASKS = Counter(
    "sa_celery_tasks",
    "Celery task runs by task name and outcome (succeeded, failed, retried, revoked, rejected).",
    ["task", "outcome"],
)
CELERY_TASK_DURATION = Histogram(
    "sa_celery_task_duration_seconds",
    "Run time of Celery tasks by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def graph_call_observe(record: GraphCall) -> None:
    """The Graph client's metrics observer: one call of ``record_graph_call`` per HTTP attempt."""
    GRAPH_REQUESTS.labels(record.method, record.endpoint, record.outcome).inc()
    GRAPH_REQUEST_DURATION.labels(record.method, record.endpoint).observe(record.duration_ms / 1000)
    usage = record.usage
    if usage is None or usage.is_empty:
        return
    if usage.app is not None:
        GRAPH_RATE_LIMIT_USAGE.labels("app").set(usage.app.max_percent)
    if usage.page is not None:
        GRAPH_RATE_LIMIT_USAGE.labels("page").set(usage.page.max_percent)
    if usage.business:
        GRAPH_RATE_LIMIT_USAGE.labels("business").set(
            max(entry.stats.max_percent for entry in usage.business)
        )


def publication_outcome_record(*, platform: str, status: str, outcome: str) -> None:
    """One recorded publishing step: ``outcome`` is the adapter's outcome class (``Published``,
    ``Wait``, ``Retry``, ``Unknown``, ``Fail``, ``NeedsReauth``), ``status`` what it led to."""
    PUBLICATION_OUTCOMES.labels(platform, status, _snake(outcome)).inc()


def token_refresh_record(*, refreshed: bool) -> None:
    TOKEN_REFRESHES.labels("refreshed" if refreshed else "failed").inc()


def token_check_record(*, outcome: str) -> None:
    TOKEN_CHECKS.labels(outcome).inc()

"""The per-call metrics hook of the Graph client.

`record_graph_call` runs once per HTTP attempt. It keeps in-process counters (handy in tests and
for a quick look in a shell) and hands each record to the observers registered with
`add_graph_call_observer`, which is where the Prometheus exporter plugs in. An observer that
raises never breaks a Graph call.
"""

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from .usage import GraphUsage

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class GraphCallRecord:
    """One HTTP attempt against the Graph API, as metrics see it (no ids, no secrets)."""

    method: str
    endpoint: str  # the template, e.g. "/{id}/feed"
    status: int | None  # HTTP status; None when no response arrived
    outcome: str  # "ok" or the exception class name, e.g. "GraphRateLimitError"
    code: int | None
    subcode: int | None
    duration_ms: float
    attempt: int
    usage: GraphUsage | None


GraphCallObserver = Callable[[GraphCallRecord], None]

_lock = threading.Lock()
_counts: Counter[tuple[str, str, str]] = Counter()
_observers: list[GraphCallObserver] = []


def record_graph_call(record: GraphCallRecord) -> None:
    """Count one call by (method, endpoint, outcome) and notify the observers."""
    with _lock:
        _counts[(record.method, record.endpoint, record.outcome)] += 1
        observers = list(_observers)
    for observer in observers:
        try:
            observer(record)
        except Exception:
            logger.exception("graph_call_observer_failed", observer=repr(observer))


def add_graph_call_observer(observer: GraphCallObserver) -> None:
    with _lock:
        if observer not in _observers:
            _observers.append(observer)


def remove_graph_call_observer(observer: GraphCallObserver) -> None:
    with _lock:
        if observer in _observers:
            _observers.remove(observer)


def graph_call_counts() -> dict[tuple[str, str, str], int]:
    """A snapshot of the counters: {(method, endpoint, outcome): calls}."""
    with _lock:
        return dict(_counts)


def reset_graph_call_counts() -> None:
    with _lock:
        _counts.clear()


# The Prometheus exporter (apps.core.metrics) always observes: requests by endpoint template and
# outcome, their durations, and the latest rate-limit usage. Imported last: it needs the above.
from apps.core.metrics.instruments import graph_call_observe  # noqa: E402

add_graph_call_observer(graph_call_observe)

"""Gauges read from the database when Prometheus scrapes: true whatever process did the work.

Publications by status, the due-publication lag, accounts and tokens by health, token job
outcomes and the business counts (tenants, connections, posts per day) are facts about rows, so
they are computed at scrape time rather than counted in memory by whichever process happened to
change a row. Each app owns its gauges (``apps/<app>/metrics.py``, registered with
``apps.core.hooks``); this module runs them all and serves the result. Only the web's
``/metrics`` serves them (a worker's exporter does not), and the snapshot is kept in the cache
for ``METRICS_DATABASE_CACHE_SECONDS`` so several scrapers (or several web processes) cost one
set of queries. Every web instance reports the same values: aggregate them with ``max``, not
``sum``.
"""

import time
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from apps.core import hooks
from apps.core.hooks import Snapshot

logger = structlog.get_logger(__name__)

CACHE_KEY = "metrics:database:v1"


def counts(rows: Iterable[Any], *keys: str) -> dict[tuple[str, ...], float]:
    """``{(label values…): n}`` from ``.values(*keys).annotate(n=Count(…))`` rows."""
    return {tuple(str(row[k]) for k in keys): float(row["n"]) for row in rows}


def zeros(*dimensions: Iterable[Any]) -> dict[tuple[str, ...], float]:
    """Every combination of the label values at 0, so a series never disappears."""
    combos: list[tuple[str, ...]] = [()]
    for values in dimensions:
        combos = [(*c, str(v)) for c in combos for v in values]
    return dict.fromkeys(combos, 0.0)


def gauges() -> dict[str, tuple[str, tuple[str, ...]]]:
    """name -> (help, label names) of every app's database gauges."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for hook in hooks.metrics_hooks():
        out.update(hook.gauges)
    return out


def database_snapshot() -> Snapshot:
    """Run every app's queries (about a dozen small ones, mostly on indexed columns)."""
    snapshot: Snapshot = {}
    for hook in hooks.metrics_hooks():
        snapshot.update(hook.snapshot())
    return snapshot


class DatabaseCollector(Collector):
    """A prometheus_client collector over ``database_snapshot`` (cached briefly)."""

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        ttl = settings.METRICS_DATABASE_CACHE_SECONDS
        snapshot: Snapshot | None = cache.get(CACHE_KEY) if ttl > 0 else None
        up = 1.0
        if snapshot is None:
            try:
                snapshot = database_snapshot()
            except DatabaseError as exc:
                logger.warning("metrics_database_failed", error=type(exc).__name__)
                snapshot, up = {}, 0.0
            else:
                if ttl > 0:
                    cache.set(CACHE_KEY, snapshot, timeout=ttl)
        for name, (documentation, labels) in gauges().items():
            family = GaugeMetricFamily(name, documentation, labels=labels)
            for values, value in sorted(snapshot.get(name, {}).items()):
                family.add_metric(list(values), value)
            yield family
        yield GaugeMetricFamily(
            "sa_metrics_database_up",
            "1 when the database gauges could be read at this scrape, 0 when the queries failed.",
            value=up,
        )
        yield GaugeMetricFamily(
            "sa_metrics_database_seconds",
            "Time spent reading the database gauges for this scrape (0-ish when cached).",
            value=time.perf_counter() - started,
        )

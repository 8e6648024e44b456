"""What each domain app contributes to the cross-cutting jobs, collected without core (or
accounts) importing the apps: database gauges for ``/metrics``, its part of a tenant's export
and deletion, and warnings for ``/readyz`` and the admin.

An app registers its hooks in ``AppConfig.ready``::

    hooks.register(self.label, metrics=MetricsHook(...), tenant_data=TenantDataHook(...))

Hooks are returned in ``INSTALLED_APPS`` order, which lists the apps in dependency order (an app
after the apps it depends on): exports and counts run in that order, and a tenant's teardown
(``release``, ``rows_delete``) runs in the reverse order, dependents first.
"""

import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as django_apps
from django.db.models import F, QuerySet

# label values -> value, per gauge name
Snapshot = dict[str, dict[tuple[str, ...], float]]


@dataclass(frozen=True)
class MetricsHook:
    """Gauges read from the database at scrape time: ``gauges`` maps each name to its help text
    and label names; ``snapshot`` runs the queries and returns the values of those gauges."""

    gauges: Mapping[str, tuple[str, tuple[str, ...]]]
    snapshot: Callable[[], Snapshot]


@dataclass
class TenantExportContext:
    """One export being written: the tenant, the ZIP archive, and what an app's
    ``export_files`` step left for its ``export_sections`` (``state[app_label]``)."""

    tenant: Any
    export_id: int
    archive: zipfile.ZipFile
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class TenantReleaseReport:
    """What the teardown did before the rows went: counts by name (e.g.
    ``accounts_disconnected``) and problems for the log and the owner (no secrets)."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TenantDataHook:
    """An app's part of a tenant's data as a whole (every step optional):

    - ``export_files(context)``: copy files into ``context.archive`` (before ``data.json``);
    - ``export_sections(context)``: ``(key, value)`` pairs of ``data.json``; a value that is an
      iterator is streamed item by item;
    - ``holdings(tenant)``: what deleting the tenant would delete, ``{"posts": 3}``;
    - ``release(membership, report)``: outside any transaction, before the rows go (stop work,
      revoke grants at third parties); failures go into ``report.problems``;
    - ``rows_delete(tenant)``: inside the deletion's transaction, delete rows a cascade from the
      tenant would not (PROTECT edges); returns the number deleted.
    """

    export_files: Callable[[TenantExportContext], None] | None = None
    export_sections: Callable[[TenantExportContext], Iterable[tuple[str, Any]]] | None = None
    holdings: Callable[[Any], dict[str, int]] | None = None
    release: Callable[[Any, TenantReleaseReport], None] | None = None
    rows_delete: Callable[[Any], int] | None = None


@dataclass(frozen=True)
class SystemWarning:
    """Something an operator should act on that does not make the service unready."""

    code: str
    message: str


@dataclass(frozen=True)
class _AppHooks:
    metrics: MetricsHook | None = None
    tenant_data: TenantDataHook | None = None
    warnings: Callable[[], Iterable[SystemWarning]] | None = None


_registry: dict[str, _AppHooks] = {}


def register(
    app_label: str,
    *,
    metrics: MetricsHook | None = None,
    tenant_data: TenantDataHook | None = None,
    warnings: Callable[[], Iterable[SystemWarning]] | None = None,
) -> None:
    """Register an app's hooks (from its ``AppConfig.ready``). Registering again replaces them."""
    _registry[app_label] = _AppHooks(metrics=metrics, tenant_data=tenant_data, warnings=warnings)


def _in_app_order() -> list[_AppHooks]:
    order = [config.label for config in django_apps.get_app_configs()]
    return [_registry[label] for label in order if label in _registry]


def metrics_hooks() -> list[MetricsHook]:
    return [h.metrics for h in _in_app_order() if h.metrics is not None]


def tenant_data_hooks() -> list[TenantDataHook]:
    """In dependency order; reverse it for teardown."""
    return [h.tenant_data for h in _in_app_order() if h.tenant_data is not None]


def system_warnings() -> list[SystemWarning]:
    """Every app's current warnings, for ``/readyz`` and the admin's banner."""
    return [w for h in _in_app_order() if h.warnings is not None for w in h.warnings()]


def export_rows(
    queryset: "QuerySet[Any]", *fields: str, **related: str
) -> Iterator[dict[str, Any]]:
    """For ``export_sections``: the listed columns (and ``name=path__to__column`` of related
    rows) of each row, in id order, streamed. Columns are named one by one: nothing secret is
    exported by accident."""
    values = queryset.order_by("pk").values(*fields, **{k: F(v) for k, v in related.items()})
    return iter(values.iterator(chunk_size=500))

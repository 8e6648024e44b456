"""Meta's rate-limit usage headers, parsed so callers can slow down before they are throttled.

- `X-App-Usage` and `X-Page-Usage`: `{"call_count": 28, "total_cputime": 25, "total_time": 25}`
  (percentages of the limit; the Page header may carry `estimated_time_to_regain_access`).
- `X-Business-Use-Case-Usage`: `{"<business-object-id>": [{"type": "pages", "call_count": 100,
  "total_cputime": 25, "total_time": 25, "estimated_time_to_regain_access": 19}]}` where the
  estimate is in **minutes**.

The headers are advice: a header that does not parse is ignored, never an error.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

APP_USAGE_HEADER = "x-app-usage"
PAGE_USAGE_HEADER = "x-page-usage"
BUSINESS_USAGE_HEADER = "x-business-use-case-usage"


@dataclass(frozen=True, slots=True)
class UsageStats:
    """Percentages (0-100, may exceed 100 when throttled) of one rate limit."""

    call_count: int = 0
    total_cputime: int = 0
    total_time: int = 0
    # Minutes until a throttled caller may call again; 0 when not throttled.
    estimated_time_to_regain_access: int = 0

    @property
    def max_percent(self) -> int:
        return max(self.call_count, self.total_cputime, self.total_time)


@dataclass(frozen=True, slots=True)
class BusinessUseCaseUsage:
    """One entry of `X-Business-Use-Case-Usage`: the usage of one business object and use case."""

    object_id: str
    type: str
    stats: UsageStats


@dataclass(frozen=True, slots=True)
class GraphUsage:
    """Everything the usage headers of one response said."""

    app: UsageStats | None = None
    page: UsageStats | None = None
    business: tuple[BusinessUseCaseUsage, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self.app is None and self.page is None and not self.business

    @property
    def max_percent(self) -> int:
        """The highest usage percentage reported by any header (0 when none was sent)."""
        stats = [s for s in (self.app, self.page) if s is not None]
        stats.extend(b.stats for b in self.business)
        return max((s.max_percent for s in stats), default=0)

    @property
    def regain_access_seconds(self) -> int | None:
        """Meta's estimate of how long a throttled caller must wait, in seconds, if it gave one."""
        stats = [s for s in (self.app, self.page) if s is not None]
        stats.extend(b.stats for b in self.business)
        minutes = max((s.estimated_time_to_regain_access for s in stats), default=0)
        return minutes * 60 if minutes > 0 else None


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)


def _stats(raw: Any) -> UsageStats | None:
    if not isinstance(raw, Mapping):
        return None
    return UsageStats(
        call_count=_number(raw.get("call_count")),
        total_cputime=_number(raw.get("total_cputime")),
        total_time=_number(raw.get("total_time")),
        estimated_time_to_regain_access=_number(raw.get("estimated_time_to_regain_access")),
    )


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def parse_usage_headers(headers: Mapping[str, str]) -> GraphUsage:
    """Read the usage headers of a response (header names are case-insensitive in httpx)."""
    business: list[BusinessUseCaseUsage] = []
    raw_business = _json_header(headers, BUSINESS_USAGE_HEADER)
    if isinstance(raw_business, Mapping):
        for object_id, entries in raw_business.items():
            if not isinstance(entries, list):
                continue
            for entry in entries:
                stats = _stats(entry)
                if stats is None:
                    continue
                kind = entry.get("type")
                business.append(
                    BusinessUseCaseUsage(
                        object_id=str(object_id),
                        type=kind if isinstance(kind, str) else "",
                        stats=stats,
                    )
                )
    return GraphUsage(
        app=_stats(_json_header(headers, APP_USAGE_HEADER)),
        page=_stats(_json_header(headers, PAGE_USAGE_HEADER)),
        business=tuple(business),
    )

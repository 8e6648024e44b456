"""Reads of the insights snapshots: the one report every view of them is built from (the
insights page, the report e-mail with its CSV and PDF, the API). Constant queries whatever the
tenant's history (docs/insights.md)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.accounts.models import Tenant

# The account figures a report totals and compares with the previous period, in this order.
METRICS: tuple[tuple[str, str], ...] = (
    ("views", "Views"),
    ("reach", "Reach"),
    ("interactions", "Interactions"),
    ("follows", "New follows"),
)


@dataclass(frozen=True, slots=True)
class Period:
    """Days from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("A period ends on or after its first day.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @classmethod
    def ending(cls, end: date, *, days: int) -> "Period":
        return cls(end - timedelta(days=days - 1), end)


@dataclass(frozen=True, slots=True)
class Total:
    """One figure over the period and over the previous one (None: no data, not zero)."""

    metric: str
    label: str
    value: int | None
    previous: int | None

    @property
    def change_percent(self) -> float | None:
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) * 100.0 / self.previous


@dataclass(frozen=True, slots=True)
class DayPoint:
    day: date
    value: int | None  # None: no snapshot for the day (a gap), never drawn as zero


@dataclass(frozen=True, slots=True)
class Series:
    metric: str
    label: str
    points: tuple[DayPoint, ...]


@dataclass(frozen=True, slots=True)
class PostFigures:
    """A publication of the period with its latest snapshot (``as_of``; None: never read)."""

    publication_id: int
    post_id: int
    account_id: int
    account_name: str
    network: str  # the network's label ("Instagram")
    published_at: datetime
    caption: str  # the first words, for a table cell
    permalink: str
    as_of: date | None
    views: int | None
    reach: int | None
    interactions: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    gap: str  # apps.insights.models.Gap value ("" when figures are reported)
    gap_label: str


@dataclass(frozen=True, slots=True)
class AccountRef:
    id: int
    name: str
    network: str
    note: str  # what stood in the way of its latest sync, for people ("" when none)


@dataclass(frozen=True, slots=True)
class InsightsReport:
    tenant_name: str
    period: Period
    previous: Period
    accounts: tuple[AccountRef, ...]  # the accounts the report covers
    totals: tuple[Total, ...]  # one per METRICS entry
    series: tuple[Series, ...]  # one per METRICS entry, a point per day of the period
    posts_count: int  # publications published in the period
    best: tuple[PostFigures, ...]  # by interactions, then views; at most 5
    worst: tuple[PostFigures, ...]  # the lowest with figures, at most 5, none also in best
    missing_days: tuple[date, ...]  # days of the period without any account snapshot


def insights_report(
    *,
    tenant: "Tenant",
    period: Period,
    account_ids: list[int] | None = None,
    platform: str | None = None,
) -> InsightsReport:
    """The figures of ``tenant`` over ``period`` against the previous period, for the given
    accounts (all of the tenant's by default) or one network's (``platform``)."""
    raise NotImplementedError  # issue 16: being written (helper "insights page")

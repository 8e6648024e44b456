"""The overview's engagement chart: bar geometry for an inline SVG drawn by the template (no
JavaScript, so it works under the strict Content-Security-Policy)."""

from dataclasses import dataclass
from datetime import date

from apps.posts.selectors import EngagementSeries


@dataclass(frozen=True)
class ChartBar:
    x: str
    y: str
    width: str
    height: str
    label: str  # the bar's tooltip and accessible text
    tick: str  # the day under the bar, or "" (every seventh day is labelled)
    tick_x: str


@dataclass(frozen=True)
class ChartLine:
    y: str
    label: str


@dataclass(frozen=True)
class EngagementChart:
    width: int
    height: int
    left: int
    right: int
    baseline: str
    tick_y: str
    bars: list[ChartBar]
    gridlines: list[ChartLine]


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``: a readable axis top."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _day_label(day: date, *, weekday: bool = False) -> str:
    return f"{day:%a} {day.day} {day:%b}" if weekday else f"{day.day} {day:%b}"


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def engagement_chart(
    series: EngagementSeries, *, width: int = 640, height: int = 200
) -> EngagementChart:
    """Bar geometry of the daily series: one bar per day, the y axis from 0 to a round number."""
    left, right, top, bottom = 40, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_ceiling(max(series.peak, 1))
    slot = plot_w / max(len(series.days), 1)
    last = len(series.days) - 1
    bars = []
    for i, day in enumerate(series.days):
        h = plot_h * day.total / top_value
        x = left + i * slot + slot * 0.15
        bars.append(
            ChartBar(
                x=_fmt(x),
                y=_fmt(top + plot_h - h),
                width=_fmt(slot * 0.7),
                height=_fmt(h),
                label=(
                    f"{_day_label(day.day, weekday=True)}: {day.total} "
                    f"interaction{'s' if day.total != 1 else ''} ({day.likes} likes, "
                    f"{day.comments} comments, {day.shares} shares)"
                ),
                tick=_day_label(day.day) if (last - i) % 7 == 0 else "",
                tick_x=_fmt(x + slot * 0.35),
            )
        )
    gridlines = [
        ChartLine(y=_fmt(top + plot_h - plot_h * value / top_value), label=str(value))
        for value in (top_value // 2, top_value)
        if value
    ]
    return EngagementChart(
        width=width,
        height=height,
        left=left,
        right=width - right,
        baseline=_fmt(top + plot_h),
        tick_y=_fmt(height - 6),
        bars=bars,
        gridlines=gridlines,
    )

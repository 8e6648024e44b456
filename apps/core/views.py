from dataclasses import dataclass
from datetime import date

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from apps.accounts import selectors
from apps.accounts.middleware import TenantRequest
from apps.accounts.permissions import tenant_required
from apps.core.api.exceptions import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from apps.core.api.exceptions import problem_body
from apps.posts import selectors as post_selectors
from apps.social import selectors as social_selectors
from apps.social.models import ConnectedAccount

ENGAGEMENT_DAYS = 30


@tenant_required()
@require_GET
def overview(request: TenantRequest) -> HttpResponse:
    """The tenant's home page: account health, what goes out next, what went out, and 30 days
    of engagement. A constant number of queries whatever the amount of data."""
    tenant = request.tenant
    accounts = list(social_selectors.account_list(tenant=tenant, include_disconnected=False))
    engagement = post_selectors.engagement_daily(tenant=tenant, days=ENGAGEMENT_DAYS)
    return render(
        request,
        "core/overview.html",
        {
            "member_count": selectors.membership_list(tenant=tenant).count(),
            "open_invitation_count": selectors.invitation_list_open(tenant=tenant).count(),
            "accounts": accounts,
            "needs_reauth_count": sum(
                a.status == ConnectedAccount.Status.NEEDS_REAUTH for a in accounts
            ),
            "upcoming": post_selectors.post_list_upcoming(tenant=tenant),
            "results": post_selectors.publication_list_recent(tenant=tenant),
            "engagement": engagement,
            "chart": engagement_chart(engagement) if engagement.total else None,
            "engagement_days": ENGAGEMENT_DAYS,
        },
    )


# --- The engagement chart: an inline SVG drawn here (no JavaScript, works under a strict CSP) ----


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
    series: post_selectors.EngagementSeries, *, width: int = 640, height: int = 200
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


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for the whole site: problem+json under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(404, "not_found", "There is no API endpoint at this address.")
    return page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    """500 for the whole site: problem+json under /api/, the plain HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(
            500, "server_error", "Something went wrong on our side; it has been logged."
        )
    return django_server_error(request)


def _problem_response(status: int, code: str, detail: str) -> JsonResponse:
    # Outside DRF (no view matched, or the view crashed): the same document DRF's handler sends.
    return JsonResponse(
        problem_body(status, code, detail), status=status, content_type=PROBLEM_CONTENT_TYPE
    )

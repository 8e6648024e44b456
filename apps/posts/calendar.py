"""The calendar pages of the dashboard: a month view (the default) and a week view of the
tenant's posts, in the tenant's timezone, and a reschedule page (also reached from a small form on
the week view). Thin: the days are the selectors', what may be moved is ``post_reschedule``'s."""

import calendar as std_calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.middleware import TenantRequest
from apps.accounts.models import EDITING_ROLES, Tenant
from apps.accounts.permissions import tenant_required
from apps.core.exceptions import ApplicationError
from apps.core.localtime import localtime_or_utc
from apps.posts import selectors, services
from apps.posts.forms import local_to_utc
from apps.posts.models import Post
from apps.posts.selectors import CalendarEntry
from apps.posts.services import Action, PostInvalid

MONTH, WEEK = "month", "week"
LOCAL_INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Day:
    day: date
    entries: list[CalendarEntry]
    in_month: bool
    is_today: bool


def _today(tenant: Tenant) -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(tenant.timezone)).date()


def _parse_day(value: str | None, default: date) -> tuple[date, str]:
    """The ``date`` query value, or ``default`` and why it was not taken."""
    if not value:
        return default, ""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return default, "That is not a valid date (YYYY-MM-DD); showing today."
    if not selectors.date_filter_ok(day):
        return default, f"{selectors.DATE_FILTER_MESSAGE} Showing today."
    return day, ""


def _calendar_day(value: datetime, tenant: Tenant) -> date | None:
    """The day to show ``value`` on, if the calendar can show it."""
    day = localtime_or_utc(value, ZoneInfo(tenant.timezone)).date()
    return day if selectors.date_filter_ok(day) else None


def _calendar_url(view: str, day: date | None = None) -> str:
    query: dict[str, str] = {"view": view} if view == WEEK else {}
    if day is not None:
        query["date"] = day.isoformat()
    url = reverse("calendar:index")
    return f"{url}?{urlencode(query)}" if query else url


def _shift_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@tenant_required()
@require_GET
def calendar_view(request: TenantRequest) -> HttpResponse:
    """``?view=week&date=YYYY-MM-DD`` shows the week (Monday first) holding the date; otherwise
    the month holding it. Without a date: today in the tenant's timezone."""
    tenant = request.tenant
    today = _today(tenant)
    view = WEEK if request.GET.get("view") == WEEK else MONTH
    anchor, date_error = _parse_day(request.GET.get("date"), today)
    if view == WEEK:
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        prev_day, next_day = first - timedelta(days=7), first + timedelta(days=7)
        title = f"Week of {first.day} {first:%B %Y}"
    else:
        month_first = anchor.replace(day=1)
        month_last = month_first.replace(
            day=std_calendar.monthrange(month_first.year, month_first.month)[1]
        )
        first = month_first - timedelta(days=month_first.weekday())
        last = month_last + timedelta(days=6 - month_last.weekday())
        prev_day, next_day = _shift_month(month_first, -1), _shift_month(month_first, 1)
        title = f"{month_first:%B %Y}"
    entries = selectors.calendar_entries(tenant=tenant, first=first, last=last)
    days = [
        Day(
            day=d,
            entries=entries.get(d, []),
            in_month=view == WEEK or d.month == anchor.month,
            is_today=d == today,
        )
        for d in (first + timedelta(days=i) for i in range((last - first).days + 1))
    ]
    can_edit = request.membership.can_edit
    return render(
        request,
        "posts/calendar.html",
        {
            "view": view,
            "title": title,
            "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
            "days": days,
            "weekday_names": [std_calendar.day_name[i] for i in range(7)],
            "entry_count": sum(len(v) for v in entries.values()),
            "prev_url": _calendar_url(view, prev_day),
            "next_url": _calendar_url(view, next_day),
            "today_url": _calendar_url(view),
            "month_url": _calendar_url(MONTH, anchor),
            "week_url": _calendar_url(WEEK, anchor),
            "showing_today": first <= today <= last,
            "can_reschedule": can_edit,
            "reschedulable": services.ACTION_STATUSES[Action.RESCHEDULE] if can_edit else set(),
            "here": request.get_full_path(),
            "date_error": date_error,
        },
        status=400 if date_error else 200,
    )


# --- Reschedule ---------------------------------------------------------------------------------


class CalendarRescheduleForm(forms.Form):
    """A new date and time, typed in the tenant's timezone (``datetime-local``)."""

    scheduled_for = forms.CharField(
        label="New date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["scheduled_for"].help_text = f"In {tenant.timezone}."

    def clean_scheduled_for(self) -> datetime:
        raw = self.cleaned_data["scheduled_for"].strip()
        for fmt in LOCAL_INPUT_FORMATS:
            try:
                local = datetime.strptime(raw, fmt)  # noqa: DTZ007 - a wall-clock time, placed below
            except ValueError:
                continue
            # A time skipped when the clocks go forward is refused, not moved.
            return local_to_utc(local.date(), local.time(), self.tenant.timezone)
        raise ValidationError("Enter a date and a time, e.g. 2026-12-01 18:30.", code="invalid")

    @staticmethod
    def initial_for(post: Post, tenant: Tenant) -> dict[str, str]:
        if post.scheduled_for is None:
            return {}
        local = localtime_or_utc(post.scheduled_for, ZoneInfo(tenant.timezone))
        return {"scheduled_for": local.strftime("%Y-%m-%dT%H:%M")}


def _safe_next(request: TenantRequest, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


@tenant_required(roles=EDITING_ROLES)
@require_http_methods(["GET", "POST"])
def calendar_reschedule(request: TenantRequest, post_id: int) -> HttpResponse:
    """Move a post that has not gone out to another time. ``post_reschedule`` decides which
    posts may move and refuses past times; when it refuses, nothing changes and the page says
    why (status 400)."""
    tenant = request.tenant
    post = selectors.post_get(tenant=tenant, post_id=post_id)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    status = 200
    if request.method == "POST":
        form = CalendarRescheduleForm(request.POST, tenant=tenant)
        if form.is_valid():
            try:
                post = services.post_reschedule(
                    actor=request.membership,
                    post=post,
                    scheduled_for=form.cleaned_data["scheduled_for"],
                )
            except PostInvalid as exc:  # the time itself (in the past)
                form.add_error("scheduled_for", exc.message)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                local = timezone.localtime(
                    form.cleaned_data["scheduled_for"], ZoneInfo(tenant.timezone)
                )
                messages.success(
                    request,
                    f"Rescheduled: “{post}” goes out on {local:%a} {local.day} "
                    f"{local:%b %Y at %H:%M} ({tenant.timezone}).",
                )
                return redirect(next_url or _calendar_url(WEEK, local.date()))
        status = 400
    else:
        form = CalendarRescheduleForm(
            initial=CalendarRescheduleForm.initial_for(post, tenant), tenant=tenant
        )
    return render(
        request,
        "posts/calendar_reschedule.html",
        {
            "post": post,
            "form": form,
            "reschedulable": Action.RESCHEDULE
            in services.allowed_actions(post, actor=request.membership),
            "next_url": next_url,
            "back_url": next_url
            or _calendar_url(
                WEEK,
                _calendar_day(post.scheduled_for, tenant) if post.scheduled_for else None,
            ),
        },
        status=status,
    )

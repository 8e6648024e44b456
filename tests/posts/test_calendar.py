"""The calendar: month and week views in the tenant's timezone (posts on their local day, also
across midnight and month boundaries), navigation, and rescheduling from the calendar through
``post_reschedule`` (what it allows and what it refuses, with nothing changed)."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from model_bakery import baker

from apps.posts import selectors
from apps.posts.models import Post, Publication, ReviewEvent
from apps.social.models import ConnectedAccount

S = Post.Status
URL = reverse("calendar:index")


def reschedule_url(post: Post) -> str:
    return reverse("calendar:reschedule", kwargs={"post_id": post.pk})


def cell(html: str, day: str) -> str:
    """The markup of one day (a month cell or a week section)."""
    start = html.index(f'data-day="{day}"')
    following = html.find('data-day="', start + 1)
    return html[start : following if following != -1 else len(html)]


@pytest.fixture
def page(tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="facebook_page",
        platform_id="p1",
        name="Chez Test",
        status="active",
    )


@pytest.fixture
def tokyo(tenant):
    tenant.timezone = "Asia/Tokyo"
    tenant.save()
    return tenant


def scheduled(tenant, at: datetime, caption: str = "Soup of the day", **extra) -> Post:
    extra.setdefault("status", S.SCHEDULED)
    return baker.make(Post, tenant=tenant, caption=caption, scheduled_for=at, **extra)


# --- Placement ---------------------------------------------------------------------------------


def test_a_post_sits_on_its_local_day_across_midnight_and_the_month_end(client_for, viewer, tokyo):
    # 16:00 UTC on 30 November is 01:00 on 1 December in Tokyo.
    post = scheduled(tokyo, datetime(2026, 11, 30, 16, 0, tzinfo=UTC), "Advent menu")

    html = client_for(viewer.user).get(URL, {"date": "2026-12-10"}).content.decode()

    assert "December 2026" in html
    assert "Advent menu" in cell(html, "2026-12-01")
    assert "01:00" in cell(html, "2026-12-01")
    assert "Advent menu" not in cell(html, "2026-11-30")
    assert reverse("posts:detail", kwargs={"post_id": post.pk}) in cell(html, "2026-12-01")


def test_the_month_grid_runs_monday_to_sunday_and_shows_neighbouring_days(
    client_for, viewer, tokyo
):
    scheduled(tokyo, datetime(2026, 10, 26, 3, 0, tzinfo=UTC), "Late October")

    html = client_for(viewer.user).get(URL, {"date": "2026-11-05"}).content.decode()

    days = re.findall(r'<td class="[^"]*"[^>]*data-day="([\d-]+)"', html)
    assert days[0] == "2026-10-26"  # a Monday
    assert days[-1] == "2026-12-06"  # a Sunday
    assert len(days) == 42
    assert re.search(r'<td class="other-month[^"]*"[^>]*data-day="2026-10-26"', html)
    assert not re.search(r'<td class="other-month[^"]*"[^>]*data-day="2026-11-01"', html)
    assert "Late October" in cell(html, "2026-10-26")


def test_a_published_post_sits_on_the_day_it_went_out(client_for, viewer, tenant):
    scheduled(
        tenant,
        datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
        "Went out late",
        status=S.PUBLISHED,
        published_at=datetime(2026, 11, 12, 9, 5, tzinfo=UTC),
    )

    html = client_for(viewer.user).get(URL, {"date": "2026-11-01"}).content.decode()

    assert "Went out late" in cell(html, "2026-11-12")
    assert "Went out late" not in cell(html, "2026-11-10")


def test_the_week_view_holds_monday_to_sunday_in_the_tenant_timezone(client_for, viewer, tenant):
    tenant.timezone = "America/Los_Angeles"
    tenant.save()
    # 07:30 UTC on 7 December is 23:30 on Sunday 6 December in Los Angeles: in the week.
    scheduled(tenant, datetime(2026, 12, 7, 7, 30, tzinfo=UTC), "Sunday night")
    # 08:30 UTC is 00:30 on Monday 7 December: the next week.
    scheduled(tenant, datetime(2026, 12, 7, 8, 30, tzinfo=UTC), "Monday morning")
    # 07:30 UTC on 30 November is 23:30 on Sunday 29 November: the week before.
    scheduled(tenant, datetime(2026, 11, 30, 7, 30, tzinfo=UTC), "Previous Sunday")

    html = client_for(viewer.user).get(URL, {"view": "week", "date": "2026-12-03"}).content.decode()

    days = re.findall(r'<section class="[^"]*"[^>]*data-day="([\d-]+)"', html)
    assert days == [f"2026-{d}" for d in ("11-30", *(f"12-0{i}" for i in range(1, 7)))]
    assert "Sunday night" in cell(html, "2026-12-06")
    assert "23:30" in cell(html, "2026-12-06")
    assert "Monday morning" not in html
    assert "Previous Sunday" not in html


def test_cancelled_posts_posts_without_a_time_and_other_tenants_posts_are_left_out(
    client_for, viewer, tenant, other_tenant
):
    at = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    scheduled(tenant, at, "Kept", status=S.DRAFT)
    scheduled(tenant, at, "Called off", status=S.CANCELLED)
    scheduled(tenant, None, "Whenever", status=S.DRAFT)
    scheduled(other_tenant, at, "Someone else's")

    html = client_for(viewer.user).get(URL, {"date": "2026-11-18"}).content.decode()

    assert "Kept" in cell(html, "2026-11-18")
    for caption in ("Called off", "Whenever", "Someone else"):
        assert caption not in html


def test_the_default_is_this_month_in_the_tenant_timezone(client_for, viewer, tenant):
    tenant.timezone = "Pacific/Kiritimati"  # UTC+14: often a day ahead of UTC
    tenant.save()
    today = timezone.localtime(timezone.now(), ZoneInfo("Pacific/Kiritimati")).date()

    html = client_for(viewer.user).get(URL).content.decode()

    assert f"{today:%B %Y}" in html
    assert re.search(rf'aria-current="date"[^>]*data-day="{today.isoformat()}"', html)


def test_week_view_defaults_to_this_week(client_for, viewer, tenant):
    today = timezone.localtime(timezone.now(), ZoneInfo(tenant.timezone)).date()
    monday = today - timedelta(days=today.weekday())

    html = client_for(viewer.user).get(URL, {"view": "week"}).content.decode()

    assert f"Week of {monday.day} {monday:%B %Y}" in html


def test_navigation_links(client_for, viewer):
    client = client_for(viewer.user)

    month = client.get(URL, {"date": "2026-12-15"})
    week = client.get(URL, {"view": "week", "date": "2026-12-31"})

    assert month.context["prev_url"] == f"{URL}?date=2026-11-01"
    assert month.context["next_url"] == f"{URL}?date=2027-01-01"
    assert month.context["today_url"] == URL
    assert month.context["week_url"] == f"{URL}?view=week&date=2026-12-15"
    assert week.context["prev_url"] == f"{URL}?view=week&date=2026-12-21"
    assert week.context["next_url"] == f"{URL}?view=week&date=2027-01-04"
    assert week.context["title"] == "Week of 28 December 2026"


def test_an_unreadable_date_says_so_and_shows_today(client_for, viewer):
    response = client_for(viewer.user).get(URL, {"date": "2026-13-45", "view": "nonsense"})

    assert response.status_code == 400  # issue 13: a malformed date is an error, not a guess
    assert "not a valid date" in response.context["date_error"]
    assert response.context["view"] == "month"
    assert response.context["showing_today"]


def test_selector_boundaries_are_local_midnights(tokyo):
    inside = scheduled(tokyo, datetime(2026, 11, 30, 15, 0, tzinfo=UTC))  # 00:00 on 1 Dec
    scheduled(tokyo, datetime(2026, 11, 30, 14, 59, tzinfo=UTC))  # 23:59 on 30 Nov

    entries = selectors.calendar_entries(
        tenant=tokyo, first=date(2026, 12, 1), last=date(2026, 12, 1)
    )

    assert [e.post.pk for e in entries[date(2026, 12, 1)]] == [inside.pk]
    assert list(entries) == [date(2026, 12, 1)]


def test_the_month_view_query_count_does_not_grow(
    client_for, viewer, tenant, page, django_assert_max_num_queries
):
    client = client_for(viewer.user)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def add(n: int) -> None:
        for i in range(n):
            scheduled(tenant, start + timedelta(days=i % 28, hours=i)).targets.add(page)

    add(1)
    client.get(URL, {"date": "2026-11-01"})
    with django_assert_max_num_queries(10) as few:
        client.get(URL, {"date": "2026-11-01"})
    add(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL, {"date": "2026-11-01"})
    assert len(re.findall(r'class="calendar-entry', response.content.decode())) == 41


# --- Reschedule -------------------------------------------------------------------------------


@pytest.fixture
def paris(tenant):
    tenant.timezone = "Europe/Paris"
    tenant.save()
    return tenant


@pytest.fixture
def upcoming(paris, page) -> Post:
    post = scheduled(paris, datetime(2099, 1, 1, 11, 0, tzinfo=UTC), "New year brunch")
    post.targets.add(page)
    baker.make(
        Publication,
        tenant=paris,
        post=post,
        account=page,
        status=Publication.Status.PENDING,
        next_attempt_at=post.scheduled_for,
    )
    return post


def test_editors_reschedule_in_the_tenant_timezone(client_for, editor, upcoming):
    here = f"{URL}?view=week&date=2099-01-01"

    response = client_for(editor.user).post(
        reschedule_url(upcoming), {"scheduled_for": "2099-01-02T09:30", "next": here}
    )

    assert response.status_code == 302
    assert response["Location"] == here
    upcoming.refresh_from_db()
    assert upcoming.scheduled_for == datetime(2099, 1, 2, 8, 30, tzinfo=UTC)  # Paris is UTC+1
    assert upcoming.status == S.SCHEDULED
    assert upcoming.publications.get().next_attempt_at == upcoming.scheduled_for
    assert upcoming.events.filter(kind=ReviewEvent.Kind.RESCHEDULED).count() == 1


def test_without_next_the_reschedule_goes_back_to_the_new_week(client_for, editor, upcoming):
    response = client_for(editor.user).post(
        reschedule_url(upcoming),
        {"scheduled_for": "2099-01-09T09:30", "next": "https://evil.example/"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"{URL}?view=week&date=2099-01-09"
    assert "Rescheduled: “New year brunch” goes out on Fri 9 Jan 2099 at 09:30" in (
        response.content.decode()
    )


def test_the_reschedule_page_shows_the_current_local_time(client_for, editor, upcoming):
    response = client_for(editor.user).get(reschedule_url(upcoming))

    assert response.status_code == 200
    assert 'value="2099-01-01T12:00"' in response.content.decode()  # 11:00 UTC in Paris
    assert 'type="datetime-local"' in response.content.decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2020-01-01T10:00", "The scheduled time is in the past"),
        ("2099-03-29T02:30", "does not exist on 29 Mar 2099 in Europe/Paris"),
        ("next tuesday", "Enter a date and a time"),
        ("", "This field is required"),
    ],
)
def test_a_refused_time_changes_nothing(client_for, editor, upcoming, value, message):
    response = client_for(editor.user).post(reschedule_url(upcoming), {"scheduled_for": value})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'id="id_scheduled_for_errors"' in response.content.decode()  # next to the field
    upcoming.refresh_from_db()
    assert upcoming.scheduled_for == datetime(2099, 1, 1, 11, 0, tzinfo=UTC)
    assert not upcoming.events.filter(kind=ReviewEvent.Kind.RESCHEDULED).exists()


def test_a_published_post_cannot_be_rescheduled(client_for, editor, paris):
    post = scheduled(
        paris,
        datetime(2026, 1, 1, 11, 0, tzinfo=UTC),
        status=S.PUBLISHED,
        published_at=datetime(2026, 1, 1, 11, 0, tzinfo=UTC),
    )
    client = client_for(editor.user)

    page = client.get(reschedule_url(post)).content.decode()
    response = client.post(reschedule_url(post), {"scheduled_for": "2099-01-02T09:30"})

    assert "can no longer be rescheduled" in page
    assert 'type="datetime-local"' not in page
    assert response.status_code == 400
    assert "A post that is published cannot be rescheduled." in response.content.decode()
    post.refresh_from_db()
    assert post.scheduled_for == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)


def test_viewers_cannot_reschedule(client_for, viewer, upcoming):
    client = client_for(viewer.user)

    assert client.get(reschedule_url(upcoming)).status_code == 403
    response = client.post(reschedule_url(upcoming), {"scheduled_for": "2099-01-02T09:30"})

    assert response.status_code == 403
    upcoming.refresh_from_db()
    assert upcoming.scheduled_for == datetime(2099, 1, 1, 11, 0, tzinfo=UTC)


def test_only_editors_see_reschedule_controls_and_only_on_posts_that_can_move(
    client_for, editor, viewer, upcoming
):
    scheduled(
        upcoming.tenant,
        datetime(2099, 1, 1, 15, 0, tzinfo=UTC),
        "Already out",
        status=S.PUBLISHED,
        published_at=datetime(2099, 1, 1, 15, 0, tzinfo=UTC),
    )
    params = {"view": "week", "date": "2099-01-01"}

    as_editor = client_for(editor.user).get(URL, params).content.decode()
    as_viewer = client_for(viewer.user).get(URL, params).content.decode()
    month = client_for(editor.user).get(URL, {"date": "2099-01-01"}).content.decode()

    assert as_editor.count('name="scheduled_for"') == 1  # the scheduled post, not the published
    assert 'value="2099-01-01T12:00"' in as_editor
    assert reschedule_url(upcoming) in as_editor
    assert 'name="scheduled_for"' not in as_viewer
    assert reschedule_url(upcoming) not in as_viewer
    assert f"{reschedule_url(upcoming)}?next=" in month

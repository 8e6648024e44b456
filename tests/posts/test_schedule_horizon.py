"""Far-future schedules and out-of-range dates (issue 13, defect 4): a schedule beyond the
horizon (``POSTS_SCHEDULE_HORIZON_DAYS``) is refused everywhere by the service's one check; date
filters out of range are a 400 / form error; a row already holding 9999-12-31T23:59:59Z still
renders on every page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from model_bakery import baker

from apps.posts import services
from apps.posts.models import Post
from apps.social.models import ConnectedAccount
from tests.api.helpers import assert_problem

FAR = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
def east(tenant):
    """A business east of UTC: 9999-12-31T23:59:59Z is in year 10000 there."""
    tenant.timezone = "Europe/Paris"
    tenant.save(update_fields=["timezone"])
    return tenant


@pytest.fixture
def page(east):
    return baker.make(
        ConnectedAccount,
        tenant=east,
        platform="facebook_page",
        name="Demo Bistro",
        status=ConnectedAccount.Status.ACTIVE,
    )


@pytest.fixture
def far_post(east, page, owner):
    """A post saved before the horizon existed, at the very end of the calendar."""
    post = baker.make(
        Post, tenant=east, status=Post.Status.SCHEDULED, caption="Far away", scheduled_for=FAR
    )
    post.targets.set([page])
    return post


@pytest.fixture
def api(owner):
    from django.test import Client

    from apps.accounts.services import api_key_create

    key = api_key_create(actor=owner, name="integration", scopes=["write"]).key
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


# --- The horizon, in the service ---------------------------------------------------------------


def test_the_service_refuses_a_schedule_beyond_the_horizon(owner, east, page, settings):
    settings.POSTS_SCHEDULE_HORIZON_DAYS = 30
    data = services.PostInput(
        caption="Soup", target_ids=[page.pk], scheduled_for=timezone.now() + timedelta(days=31)
    )

    with pytest.raises(services.PostInvalid) as refused:
        services.post_create(actor=owner, data=data)

    assert [p.code for p in refused.value.problems] == ["schedule_too_far"]
    assert "30 days" in refused.value.message
    assert not Post.objects.exists()
    ok = services.post_create(
        actor=owner,
        data=services.PostInput(
            caption="Soup", target_ids=[page.pk], scheduled_for=timezone.now() + timedelta(days=29)
        ),
    )
    assert ok.pk


def test_the_default_horizon_is_a_year(owner, page, settings):
    settings.POSTS_SCHEDULE_HORIZON_DAYS = 365
    too_far = timezone.now() + timedelta(days=366)

    problems = services.schedule_problems(too_far)

    assert [p.code for p in problems] == ["schedule_too_far"]
    assert services.schedule_problems(timezone.now() + timedelta(days=364)) == []


def test_submitting_and_rescheduling_a_far_post_is_refused(owner, far_post):
    far_post.status = Post.Status.DRAFT
    far_post.save(update_fields=["status"])

    with pytest.raises(services.PostInvalid):
        services.post_submit(actor=owner, post=far_post)
    with pytest.raises(services.PostInvalid):
        services.post_reschedule(actor=owner, post=far_post, scheduled_for=FAR)

    far_post.refresh_from_db()
    assert far_post.status == Post.Status.DRAFT


# --- API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-05:00"])
def test_the_api_refuses_a_far_schedule_with_a_problem(api, page, when):
    response = api.post(
        "/api/v1/posts/",
        {"caption": "Soup", "targets": [page.pk], "scheduled_for": when},
        content_type="application/json",
    )

    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["scheduled_for"]
    assert not Post.objects.exists()


def test_the_api_schedule_action_refuses_a_far_time(api, owner, page):
    post = services.post_create(
        actor=owner, data=services.PostInput(caption="Soup", target_ids=[page.pk])
    )

    response = api.post(
        f"/api/v1/posts/{post.pk}/schedule/",
        {"scheduled_for": "9999-12-31T23:59:59Z"},
        content_type="application/json",
    )

    assert_problem(response, 422, "post_invalid")
    post.refresh_from_db()
    assert post.scheduled_for is None


@pytest.mark.parametrize(
    "query",
    [
        "scheduled_after=9999-12-31T23:59:59-05:00",
        "scheduled_before=0001-01-01T00:00:00%2B05:00",
        "created_after=9999-12-31T23:59:59Z",
        "created_before=0001-01-01T00:00:00Z",
        "scheduled_after=not-a-date",
    ],
)
def test_api_date_filters_out_of_range_are_a_400(api, query):
    response = api.get(f"/api/v1/posts/?{query}")

    body = assert_problem(response, 400, "invalid")
    assert body["errors"][0]["field"] == query.split("=")[0]


def test_the_api_shows_a_far_post(api, far_post):
    assert api.get(f"/api/v1/posts/{far_post.pk}/").status_code == 200
    assert api.get("/api/v1/posts/").status_code == 200


# --- Dashboard --------------------------------------------------------------------------------


def test_compose_refuses_a_far_date_next_to_the_field(client_for, owner, page):
    response = client_for(owner.user).post(
        reverse("posts:create"),
        {
            "targets": [page.pk],
            "caption": "Soup",
            "scheduled_date": "9999-12-31",
            "scheduled_time": "23:59",
        },
    )

    assert response.status_code == 400
    assert "scheduled_date" in response.context["form"].errors
    assert not Post.objects.exists()


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Paris"])
def test_rescheduling_far_away_is_a_message_not_a_500(client_for, owner, east, page, zone):
    east.timezone = zone
    east.save(update_fields=["timezone"])
    post = services.post_create(
        actor=owner, data=services.PostInput(caption="Soup", target_ids=[page.pk])
    )
    client = client_for(owner.user)

    response = client.post(
        reverse("posts:reschedule", args=[post.pk]),
        {"scheduled_date": "9999-12-31", "scheduled_time": "23:59"},
        follow=True,
    )
    calendar = client.post(
        reverse("calendar:reschedule", args=[post.pk]),
        {"scheduled_for": "9999-12-31T23:59"},
    )

    assert response.status_code == 200
    assert "Not rescheduled" in response.content.decode()
    assert calendar.status_code == 400
    assert "scheduled_for" in calendar.context["form"].errors
    post.refresh_from_db()
    assert post.scheduled_for is None


@pytest.mark.parametrize(
    "query",
    [
        "date_field=scheduled&date_from=9999-12-01",
        "date_field=scheduled&date_to=9999-12-31",
        "date_field=created&date_from=0001-01-01",
        "date_from=99999-01-01",
    ],
)
def test_the_posts_list_refuses_out_of_range_dates_with_a_form_error(
    client_for, owner, east, query
):
    response = client_for(owner.user).get(f"{reverse('posts:list')}?{query}")

    assert response.status_code == 400
    assert response.context["form"].errors


@pytest.mark.parametrize(
    "query", ["date=9999-12-31", "view=week&date=9999-12-31", "view=week&date=0001-01-01", "date=x"]
)
def test_the_calendar_refuses_out_of_range_dates(client_for, owner, east, query):
    response = client_for(owner.user).get(f"{reverse('calendar:index')}?{query}")

    assert response.status_code == 400
    assert "between" in response.content.decode() or "valid date" in response.content.decode()


def test_pages_render_a_post_saved_at_the_end_of_the_calendar(client_for, owner, far_post):
    client = client_for(owner.user)

    for url in (
        reverse("posts:detail", args=[far_post.pk]),
        reverse("posts:edit", args=[far_post.pk]),
        reverse("posts:list"),
        reverse("calendar:reschedule", args=[far_post.pk]),
        reverse("dashboard:overview"),
        reverse("calendar:index"),
    ):
        assert client.get(url).status_code == 200, url


def test_admin_pages_render_a_far_post_and_refuse_bad_dates(client_for, staff, far_post):
    client = client_for(staff)

    assert client.get(reverse("admin:posts_post_change", args=[far_post.pk])).status_code == 200
    assert client.get(reverse("admin:posts_post_changelist")).status_code == 200
    for query in (
        "scheduled_for__year=9999&scheduled_for__month=12",
        "scheduled_for__year=9999&scheduled_for__month=12&scheduled_for__day=31",
        "scheduled_for__year=0",
        "created_at__year=9999&created_at__month=12",
    ):
        response = client.get(f"{reverse('admin:posts_post_changelist')}?{query}")
        assert response.status_code in (200, 302), query

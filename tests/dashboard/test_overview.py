"""The overview (tenant home): account health, upcoming posts, recent results, the 30-day
engagement chart and its totals, and a query count that does not grow with the data."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from model_bakery import baker

from apps.dashboard.charts import engagement_chart
from apps.posts import selectors
from apps.posts.models import Post, Publication
from apps.social.models import ConnectedAccount

S = Post.Status
URL = reverse("dashboard:overview")


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
def instagram(tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="instagram_business",
        platform_id="ig1",
        name="Chez IG",
        username="cheztest",
        status="needs_reauth",
        status_reason="The token was revoked.",
    )


def published(tenant, account, at: datetime, **counts) -> Publication:
    post = baker.make(Post, tenant=tenant, status=S.PUBLISHED, caption="Risotto", published_at=at)
    return baker.make(
        Publication,
        tenant=tenant,
        post=post,
        account=account,
        status=Publication.Status.PUBLISHED,
        published_at=at,
        permalink="https://facebook.example/p/1",
        engagement_synced_at=at,
        **counts,
    )


def test_account_health_shows_each_account_and_a_reconnect_link(
    client_for, manager, page, instagram
):
    response = client_for(manager.user).get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    health = html[html.index('id="account-health"') : html.index('id="upcoming"')]
    assert "Chez Test" in health
    assert "@cheztest" in health
    assert "Needs reconnection" in health
    assert "The token was revoked." in health
    assert reverse("connections:list") in health
    assert "Reconnect" in health


def test_viewers_are_told_to_ask_instead_of_getting_a_reconnect_link(client_for, viewer, instagram):
    html = client_for(viewer.user).get(URL).content.decode()

    health = html[html.index('id="account-health"') : html.index('id="upcoming"')]
    assert "Ask an owner or manager to reconnect." in health
    assert ">Reconnect<" not in health


def test_without_accounts_the_overview_offers_to_connect_one(client_for, owner):
    html = client_for(owner.user).get(URL).content.decode()

    assert "No Facebook Page or Instagram account is connected yet" in html
    assert "Connect an account" in html


def test_upcoming_posts_are_soonest_first_in_the_tenant_timezone(client_for, owner, tenant, page):
    tenant.timezone = "America/New_York"
    tenant.save()
    later = baker.make(
        Post,
        tenant=tenant,
        status=S.SCHEDULED,
        caption="Later post",
        scheduled_for=datetime(2099, 3, 2, 15, 0, tzinfo=UTC),
    )
    sooner = baker.make(
        Post,
        tenant=tenant,
        status=S.APPROVED,
        caption="Sooner post",
        scheduled_for=datetime(2099, 3, 1, 2, 30, tzinfo=UTC),
    )
    sooner.targets.add(page)
    baker.make(Post, tenant=tenant, status=S.DRAFT, caption="A draft")
    baker.make(Post, status=S.SCHEDULED, caption="Someone else's")

    html = client_for(owner.user).get(URL).content.decode()

    upcoming = html[html.index('id="upcoming"') : html.index('id="engagement"')]
    assert upcoming.index("Sooner post") < upcoming.index("Later post")
    # 02:30 UTC on 1 March is 21:30 on 28 February in New York.
    assert "Sat 28 Feb 2099, 21:30" in upcoming
    assert "Mon 2 Mar 2099, 10:00" in upcoming
    assert "A draft" not in upcoming
    assert "Someone else" not in upcoming
    assert f"/posts/{sooner.pk}/" in upcoming
    assert f"/posts/{later.pk}/" in upcoming


def test_recent_results_show_the_permalink_or_the_error(client_for, owner, tenant, page):
    ok = published(tenant, page, timezone.now() - timedelta(hours=2))
    failed_post = baker.make(Post, tenant=tenant, status=S.FAILED, caption="Broken one")
    baker.make(
        Publication,
        tenant=tenant,
        post=failed_post,
        account=page,
        status=Publication.Status.FAILED,
        last_error="The image is too small for Instagram.",
    )
    baker.make(Publication, tenant=tenant, account=page, status=Publication.Status.PENDING)

    html = client_for(owner.user).get(URL).content.decode()

    results = html[html.index('id="results"') : html.index("Getting started")]
    assert ok.permalink in results
    assert "Broken one" in results
    assert "The image is too small for Instagram." in results
    assert results.count("<li") == 2  # pending is not a result


def test_the_chart_sums_likes_comments_and_shares_per_local_day(tenant, page):
    tenant.timezone = "Europe/Paris"
    tenant.save()
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    # 23:30 UTC on the 18th is already the 19th in Paris.
    published(tenant, page, datetime(2026, 11, 18, 23, 30, tzinfo=UTC), likes=5, comments=2)
    published(tenant, page, datetime(2026, 11, 19, 10, 0, tzinfo=UTC), likes=1, shares=3)
    # Reactions are not added (on Facebook they include the likes); None counts as 0.
    published(tenant, page, datetime(2026, 11, 20, 8, 0, tzinfo=UTC), likes=None, reactions=50)
    # The window starts at midnight in Paris 29 days before today (still summer time then).
    published(tenant, page, datetime(2026, 10, 21, 22, 0, tzinfo=UTC), likes=4)
    # Outside the window, failed, or another tenant's: not counted.
    published(tenant, page, datetime(2026, 10, 21, 21, 59, tzinfo=UTC), likes=100)
    baker.make(
        Publication,
        tenant=tenant,
        account=page,
        status=Publication.Status.FAILED,
        published_at=now,
        likes=100,
    )
    published(baker.make("accounts.Tenant"), baker.make(ConnectedAccount), now, likes=100)

    series = selectors.engagement_daily(tenant=tenant, now=now)

    assert len(series.days) == 30
    assert series.days[0].day.isoformat() == "2026-10-22"
    assert series.days[-1].day.isoformat() == "2026-11-20"
    totals = {d.day.isoformat(): d.total for d in series.days if d.total}
    assert totals == {"2026-10-22": 4, "2026-11-19": 11}
    assert series.total == 15
    assert series.peak == 11
    assert series.publications == 4


def test_the_overview_renders_the_chart_with_a_data_table(client_for, owner, tenant, page):
    published(tenant, page, timezone.now() - timedelta(minutes=5), likes=7, comments=3, shares=2)

    html = client_for(owner.user).get(URL).content.decode()

    assert 'role="img"' in html
    assert 'aria-labelledby="chart-title chart-desc"' in html
    assert '<div class="stat-value" id="engagement-total">12</div>' in html
    table = html[
        html.index('id="engagement-table"') : html.index(
            "</table>", html.index('id="engagement-table"')
        )
    ]
    assert table.count("<tr>") == 31  # the header and one row per day
    assert "<td>7</td><td>3</td><td>2</td><td>12</td>" in table
    assert len(re.findall(r'<rect class="bar"', html)) == 30


def test_the_chart_has_an_empty_state(client_for, owner):
    html = client_for(owner.user).get(URL).content.decode()

    assert 'id="engagement-empty"' in html
    assert "Nothing was published in the last 30 days" in html
    assert 'role="img"' not in html


def test_chart_geometry_scales_to_a_round_top():
    series = selectors.EngagementSeries(
        days=[
            selectors.DailyEngagement(datetime(2026, 11, d, tzinfo=UTC).date(), likes=d)
            for d in (1, 2, 3)
        ],
        publications=3,
    )

    chart = engagement_chart(series, width=100, height=134)  # a 100-unit-high plot

    assert [line.label for line in chart.gridlines] == ["2", "5"]  # peak 3 → axis top 5
    assert [bar.height for bar in chart.bars] == ["20", "40", "60"]
    assert chart.bars[-1].tick  # the last day is labelled


def test_the_overview_query_count_does_not_grow_with_the_data(
    client_for, owner, tenant, page, instagram, django_assert_max_num_queries
):
    client = client_for(owner.user)

    def add_data(n: int) -> None:
        for i in range(n):
            post = baker.make(
                Post,
                tenant=tenant,
                status=S.SCHEDULED,
                scheduled_for=timezone.now() + timedelta(days=i + 1),
            )
            post.targets.add(page, instagram)
            published(tenant, page, timezone.now() - timedelta(days=i), likes=i)

    add_data(1)
    client.get(URL)  # warm the session
    with django_assert_max_num_queries(13) as few:
        client.get(URL)
    add_data(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/", "/calendar/", "/calendar/?view=week", "reschedule", "/brand/"],
)
def test_the_pages_need_no_inline_script_or_style(client_for, owner, tenant, page, path):
    # The CSP allows scripts and styles from our origin only.
    published(tenant, page, timezone.now() - timedelta(hours=1), likes=3)
    post = baker.make(
        Post, tenant=tenant, status=S.SCHEDULED, scheduled_for=timezone.now() + timedelta(hours=2)
    )
    if path == "reschedule":
        path = reverse("calendar:reschedule", kwargs={"post_id": post.pk})

    html = client_for(owner.user).get(path).content.decode()

    assert "<script>" not in html
    assert not re.search(r"\son[a-z]+=", html)
    assert ' style="' not in html

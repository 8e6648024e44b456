"""Issue 16's first slice joined: the product's Graph client asks the sandbox, over HTTP, for
exactly the metrics of the one table (``apps.networks.meta_insights``) on every subject it
publishes — an Instagram image, carousel, Reel and Story, the Instagram account, a Facebook
post and Page — and every request is answered (a retired name anywhere would refuse it whole)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.networks.meta_insights import InsightsSubject, ig_media_subject, metrics_for
from apps.social import graph
from tests.posts.conftest import DEMO_BISTRO_PAGE
from tests.posts.test_publishing import drive, make_post, published

pytestmark = pytest.mark.django_db

INSIGHT_SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "read_insights",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
]


@pytest.fixture
def insights_token(control) -> str:
    return control(
        "tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE, "scopes": INSIGHT_SCOPES}
    )["access_token"]


def wanted(subject: InsightsSubject) -> tuple[str, ...]:
    return metrics_for(subject, version=settings.FACEBOOK_GRAPH_VERSION)


def test_every_instagram_subject_answers_the_tables_metrics(
    owner, accounts, sandbox, control, no_media_fetch, insights_token
):
    make_post(owner, [accounts["instagram"]], images=1, caption="One photo")
    make_post(owner, [accounts["instagram"]], images=2, caption="Two photos")
    make_post(owner, [accounts["instagram"]], images=1, caption="", format="story")
    drive()
    control("clock", {"advance_seconds": 6 * 3600})

    media = published(sandbox)["instagram_media"]
    assert sorted(m["media_product_type"] or m["media_type"] for m in media) == [
        "FEED",
        "FEED",
        "STORY",
    ]
    for item in media:
        subject = ig_media_subject(item["media_type"], item["media_product_type"])
        answer = graph.get_ig_media_insights(
            media_id=item["id"], token=insights_token, metrics=wanted(subject)
        )
        assert {m.name for m in answer.metrics} == set(wanted(subject)), subject
        views, reach = answer.value("views"), answer.value("reach")
        assert isinstance(views, int)
        assert isinstance(reach, int)
        assert views >= reach > 0

    now = timezone.now()
    ig = accounts["instagram"].platform_id
    totals = graph.get_ig_account_insights(
        ig_user_id=ig,
        token=insights_token,
        metrics=wanted(InsightsSubject.IG_ACCOUNT_TOTALS),
        since=now - timedelta(days=2),
        until=now + timedelta(days=1),
    )
    assert {m.name for m in totals.metrics} == set(wanted(InsightsSubject.IG_ACCOUNT_TOTALS))
    series = graph.get_ig_account_insights(
        ig_user_id=ig,
        token=insights_token,
        metrics=wanted(InsightsSubject.IG_ACCOUNT_SERIES),
        since=now - timedelta(days=3),
        until=now + timedelta(days=1),
        metric_type=None,
    )
    assert all(m.values for m in series.metrics)


def test_the_facebook_post_and_page_answer_the_tables_metrics(
    owner, accounts, sandbox, control, no_media_fetch, insights_token
):
    post = make_post(owner, [accounts["facebook"]], caption="Soup tonight")
    drive()
    control("clock", {"advance_seconds": 6 * 3600})
    post_id = post.publications.get().platform_post_id

    answer = graph.get_page_post_insights(
        post_id=post_id, token=insights_token, metrics=wanted(InsightsSubject.FB_POST)
    )
    assert {m.name for m in answer.metrics} == set(wanted(InsightsSubject.FB_POST))
    views = answer.value("post_media_view")
    viewers = answer.value("post_total_media_view_unique")
    assert isinstance(views, int)
    assert isinstance(viewers, int)
    assert views >= viewers > 0

    now = timezone.now()
    page = graph.get_page_insights(
        page_id=DEMO_BISTRO_PAGE,
        token=insights_token,
        metrics=wanted(InsightsSubject.FB_PAGE),
        since=now - timedelta(days=3),
        until=now + timedelta(days=1),
    )
    assert {m.name for m in page.metrics} == set(wanted(InsightsSubject.FB_PAGE))
    assert all(m.values for m in page.metrics)

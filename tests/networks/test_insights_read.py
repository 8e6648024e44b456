"""The networks read insights (``InsightsReader``) from the sandbox over HTTP: every Instagram
kind on its own metrics, Facebook Page posts, the accounts' days, and each gap Meta answers —
too few viewers (#10), a post deleted on the network, a Story past its 24 hours, a connection
without the insights permission — and the errors that concern the whole account."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from model_bakery import baker

from apps.assets.models import BrandAsset
from apps.networks.base import InsightsGap
from apps.networks.errors import NeedsReconnection, Permanent, RetryLater
from apps.networks.instagram.insights import media_metrics, media_subject
from apps.networks.instagram.login_client import client as ig_login_client
from apps.networks.meta_insights import InsightsSubject
from apps.networks.registry import network_for
from apps.posts.models import Post, PostAsset, Publication
from apps.social import graph
from apps.social.models import AccessToken
from tests.posts.conftest import DEMO_BISTRO_IG_LOGIN, DEMO_BISTRO_PAGE

pytestmark = pytest.mark.django_db

IMAGE = "https://cdn.example/plate.jpg"
INSIGHT_SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "read_insights",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
]
NO_INSIGHTS = ["pages_show_list", "pages_read_engagement", "pages_manage_posts", "instagram_basic"]
NOT_ENOUGH_VIEWERS = "(#10) Not enough viewers for the media to show insights"


@pytest.fixture
def page_token(accounts, control):
    """The accounts' Page token, with the insights permissions."""
    token = control(
        "tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE, "scopes": INSIGHT_SCOPES}
    )["access_token"]
    AccessToken.objects.filter(account__in=[accounts["facebook"], accounts["instagram"]]).update(
        token=token
    )
    return token


def calls(sandbox) -> list[dict]:
    return httpx.get(f"{sandbox.base_url}/_sandbox/calls").json()["calls"]


def forget_calls(sandbox) -> None:
    httpx.delete(f"{sandbox.base_url}/_sandbox/calls").raise_for_status()


def publication(account, platform_post_id, *, fmt=Post.Format.FEED_POST, assets=(), age=None):
    """A published publication of ``account`` (``assets``: "image"/"video" per media)."""
    published_at = timezone.now() - (age or timedelta(hours=1))
    post = baker.make(
        Post, tenant=account.tenant, format=fmt, status="published", published_at=published_at
    )
    for position, kind in enumerate(assets):
        asset = baker.make(BrandAsset, tenant=account.tenant, kind=kind)
        PostAsset.objects.create(post=post, asset=asset, position=position)
    return baker.make(
        Publication,
        tenant=account.tenant,
        post=post,
        account=account,
        status="published",
        platform_post_id=platform_post_id,
        published_at=published_at,
    )


def ig_media(token, *, client=None, ig_user_id, **create) -> str:
    container = graph.create_ig_container(
        client=client, ig_user_id=ig_user_id, token=token, **create
    )
    return graph.publish_ig_container(
        client=client, ig_user_id=ig_user_id, token=token, creation_id=container.id
    ).id


def loaded(publications):
    """As the sync passes them: with their posts and media loaded."""
    ids = [p.pk for p in publications]
    return list(
        Publication.objects.filter(pk__in=ids)
        .select_related("post")
        .prefetch_related("post__post_assets__asset")
        .order_by("pk")
    )


# --- Instagram ----------------------------------------------------------------------------------


def test_instagram_reads_every_kind_on_its_metrics_and_says_each_gap(
    accounts, sandbox, control, no_media_fetch, page_token, django_assert_max_num_queries
):
    ig = accounts["instagram"]
    ig_id = ig.platform_id
    images = [
        publication(ig, ig_media(page_token, ig_user_id=ig_id, image_url=IMAGE), assets=["image"])
        for _ in range(30)
    ]
    children = [
        graph.create_ig_container(
            ig_user_id=ig_id, token=page_token, image_url=IMAGE, is_carousel_item=True
        ).id
        for _ in range(2)
    ]
    carousel = publication(
        ig, ig_media(page_token, ig_user_id=ig_id, children=children), assets=["image", "image"]
    )
    story = publication(
        ig,
        ig_media(page_token, ig_user_id=ig_id, media_type="STORIES", image_url=IMAGE),
        fmt=Post.Format.STORY_POST,
        assets=["image"],
    )
    old_story = publication(
        ig, "17900000000000999", fmt=Post.Format.STORY_POST, assets=["image"], age=timedelta(days=2)
    )
    deleted = images[3]
    few = images[7]
    control("deleted", {"id": deleted.platform_post_id})
    control(
        "faults",
        {
            "kind": "error",
            "match": f"GET /{few.platform_post_id}/insights",
            "code": 10,
            "message": NOT_ENOUGH_VIEWERS,
        },
    )
    control("clock", {"advance_seconds": 6 * 3600})
    forget_calls(sandbox)
    everything = loaded([*images, carousel, story, old_story])

    with django_assert_max_num_queries(1):  # the token; the posts are loaded
        read = network_for(ig.platform).insights_posts(ig, everything)

    assert set(read) == {p.pk for p in everything}
    assert read[deleted.pk].gap == InsightsGap.DELETED
    assert read[deleted.pk].views is None
    assert read[few.pk].gap == InsightsGap.NOT_ENOUGH_VIEWERS
    assert read[few.pk].views is None
    assert read[old_story.pk].gap == InsightsGap.EXPIRED
    reported = [p for p in images if p not in (deleted, few)] + [carousel]
    for item in reported:
        figures = read[item.pk]
        assert figures.gap is None
        assert figures.views >= figures.reach > 0
        assert figures.saves is not None
        assert figures.interactions == (
            figures.likes + figures.comments + figures.shares + figures.saves
        )
        assert figures.watch_time_ms is None
    assert read[story.pk].reach > 0
    assert read[story.pk].likes is None  # Stories have no likes: not reported, not 0
    paths = [c["path"] for c in calls(sandbox)]
    assert not any(old_story.platform_post_id in p for p in paths)  # expired: never asked
    assert not any(c in p for c in children for p in paths)  # album items: never asked


@pytest.mark.parametrize(
    ("fmt", "assets", "children", "subject"),
    [
        (Post.Format.FEED_POST, ["image"], [], InsightsSubject.IG_IMAGE),
        (Post.Format.FEED_POST, ["image", "video"], ["1", "2"], InsightsSubject.IG_CAROUSEL),
        (Post.Format.FEED_POST, ["video"], [], InsightsSubject.IG_REEL),
        (Post.Format.REEL_POST, ["video"], [], InsightsSubject.IG_REEL),
        (Post.Format.STORY_POST, ["video"], [], InsightsSubject.IG_STORY),
        (Post.Format.STORY_POST, ["image"], [], InsightsSubject.IG_STORY),
    ],
)
def test_the_media_subject_comes_from_what_was_published(tenant, fmt, assets, children, subject):
    account = baker.make("social.ConnectedAccount", tenant=tenant, platform="instagram_business")
    pub = publication(account, "17900000000000001", fmt=fmt, assets=assets)
    pub.child_ids = children

    assert media_subject(pub) == subject


def test_a_reels_watch_times_are_its_own_fields():
    answer = graph.Insights(
        object_id="1",
        metrics=tuple(
            graph.InsightMetric(name=n, period="lifetime", values=(graph.InsightPoint(v),))
            for n, v in [
                ("views", 40),
                ("reach", 30),
                ("saved", 2),
                ("total_interactions", 9),
                ("ig_reels_avg_watch_time", 2500),
                ("ig_reels_video_view_total_time", 100_000),
            ]
        ),
    )

    figures = media_metrics(answer)

    assert (figures.views, figures.reach, figures.saves, figures.interactions) == (40, 30, 2, 9)
    assert (figures.avg_watch_time_ms, figures.watch_time_ms) == (2500, 100_000)
    assert figures.likes is None  # not in the answer: not reported, not 0


def test_instagram_without_the_insights_permission_is_a_gap_on_every_post(
    accounts, sandbox, control, no_media_fetch, page_token
):
    ig = accounts["instagram"]
    pubs = [
        publication(
            ig, ig_media(page_token, ig_user_id=ig.platform_id, image_url=IMAGE), assets=["image"]
        )
        for _ in range(3)
    ]
    without = control(
        "tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE, "scopes": NO_INSIGHTS}
    )["access_token"]
    AccessToken.objects.filter(account=ig).update(token=without)
    forget_calls(sandbox)

    read = network_for(ig.platform).insights_posts(ig, loaded(pubs))

    assert {p.pk: read[p.pk].gap for p in pubs} == dict.fromkeys(
        [p.pk for p in pubs], InsightsGap.NO_PERMISSION
    )
    assert len(calls(sandbox)) == 1  # the first refusal stands for all


def test_a_revoked_token_needs_reconnection_and_a_rate_limit_retries_later(
    accounts, sandbox, control, no_media_fetch, page_token
):
    ig = accounts["instagram"]
    pubs = loaded(
        [
            publication(
                ig,
                ig_media(page_token, ig_user_id=ig.platform_id, image_url=IMAGE),
                assets=["image"],
            )
        ]
    )
    reader = network_for(ig.platform)

    control("faults", {"kind": "rate_limit", "match": "GET /*/insights", "code": 80002})
    with pytest.raises(RetryLater):
        reader.insights_posts(ig, pubs)

    control("faults", {"kind": "revoke_token", "scope": "token"})
    with pytest.raises(NeedsReconnection):
        reader.insights_posts(ig, pubs)


def test_instagram_account_days(accounts, sandbox, control, no_media_fetch, page_token):
    ig = accounts["instagram"]
    ig_media(page_token, ig_user_id=ig.platform_id, image_url=IMAGE)
    today = timezone.now().date()

    days = network_for(ig.platform).insights_account(
        ig, since=today - timedelta(days=2), until=today + timedelta(days=3)
    )

    assert [d.day for d in days] == [today - timedelta(days=n) for n in (2, 1, 0)]
    for day in days:
        assert day.views >= day.reach > 0
        assert day.interactions is not None
        assert day.follows is not None
        assert day.followers is None  # Instagram's daily metrics have no follower total


def test_instagram_login_reads_its_media_on_its_own_host(
    accounts, sandbox, control, no_media_fetch
):
    account = accounts["instagram_login"]
    token = AccessToken.objects.get(account=account).token
    media_id = ig_media(
        token, client=ig_login_client(), ig_user_id=DEMO_BISTRO_IG_LOGIN, image_url=IMAGE
    )
    pub = publication(account, media_id, assets=["image"])
    control("clock", {"advance_seconds": 6 * 3600})

    read = network_for(account.platform).insights_posts(account, loaded([pub]))

    assert read[pub.pk].gap is None
    assert read[pub.pk].views >= read[pub.pk].reach > 0


# --- Facebook -----------------------------------------------------------------------------------


def test_facebook_reads_page_posts_and_says_each_gap(
    accounts, sandbox, control, no_media_fetch, page_token
):
    page = accounts["facebook"]
    posts = [
        publication(
            page,
            graph.publish_page_post(
                page_id=DEMO_BISTRO_PAGE, page_token=page_token, message=f"Soup {n}"
            ).id,
        )
        for n in range(30)
    ]
    reel = publication(page, "1200000000000001", fmt=Post.Format.REEL_POST, assets=["video"])
    old_story = publication(
        page, f"{DEMO_BISTRO_PAGE}_9", fmt=Post.Format.STORY_POST, age=timedelta(days=2)
    )
    deleted, few = posts[2], posts[5]
    control("deleted", {"id": deleted.platform_post_id})
    control(
        "faults",
        {
            "kind": "error",
            "match": f"GET /{few.platform_post_id}/insights",
            "code": 10,
            "message": NOT_ENOUGH_VIEWERS,
        },
    )
    control("clock", {"advance_seconds": 6 * 3600})

    read = network_for(page.platform).insights_posts(page, loaded([*posts, reel, old_story]))

    assert read[deleted.pk].gap == InsightsGap.DELETED
    assert read[few.pk].gap == InsightsGap.NOT_ENOUGH_VIEWERS
    assert read[reel.pk].gap == InsightsGap.NOT_REPORTED
    assert read[old_story.pk].gap == InsightsGap.EXPIRED
    for item in posts:
        if item in (deleted, few):
            continue
        figures = read[item.pk]
        assert figures.views >= figures.reach > 0
        assert figures.likes is not None
        assert figures.saves is None  # Facebook has no saves: not reported, not 0


def test_facebook_page_days(accounts, sandbox, control, no_media_fetch, page_token):
    page = accounts["facebook"]
    graph.publish_page_post(page_id=DEMO_BISTRO_PAGE, page_token=page_token, message="Soup")
    today = timezone.now().date()

    days = network_for(page.platform).insights_account(
        page, since=today - timedelta(days=3), until=today
    )

    assert [d.day for d in days] == [today - timedelta(days=n) for n in (3, 2, 1, 0)]
    for day in days:
        assert day.views is not None
        assert day.reach is not None
        assert day.followers > 1000  # the demo Page's followers at the day's end
        assert day.follows is None  # Meta reports the total, not the day's new follows


def test_facebook_page_days_without_the_permission_is_not_a_reconnection(
    accounts, sandbox, control, no_media_fetch
):
    page = accounts["facebook"]
    without = control(
        "tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE, "scopes": NO_INSIGHTS}
    )["access_token"]
    AccessToken.objects.filter(account=page).update(token=without)
    today = timezone.now().date()

    with pytest.raises(Permanent) as raised:
        network_for(page.platform).insights_account(page, since=today, until=today)

    assert raised.value.code == 10

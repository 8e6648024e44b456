"""Posts and publications over the API: the main flow, the lifecycle's refusals, filters and
the list's query count."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from model_bakery import baker

from apps.assets.models import BrandAsset
from apps.posts.models import Post, PostAsset, Publication
from apps.posts.services import post_approve
from apps.social.models import ConnectedAccount
from tests.api.helpers import assert_problem, jpeg, upload


def _json(client, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(url, body or {}, content_type="application/json")


def test_the_main_flow(api, tenant, page, instagram, staff):
    tenant.requires_approval = True
    tenant.save()

    folder = _json(api, "post", "/api/v1/folders/", {"name": "Events"}).json()
    asset = api.post(
        "/api/v1/assets/", {"file": upload(jpeg(1080, 1080)), "folder": folder["id"]}
    ).json()
    accounts = api.get("/api/v1/accounts/").json()["results"]
    when = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    created = _json(
        api,
        "post",
        "/api/v1/posts/",
        {
            "caption": "Live jazz tonight",
            "caption_overrides": {"instagram_business": "Jazz 🎷 #live"},
            "targets": [a["id"] for a in accounts],
            "assets": [asset["id"]],
            "scheduled_for": when.astimezone(timezone.get_fixed_timezone(120)).isoformat(),
        },
    )
    assert created.status_code == 201, created.content
    post = created.json()
    assert post["status"] == "draft"
    assert sorted(post["targets"]) == sorted([page.pk, instagram.pk])
    assert post["assets"] == [asset["id"]]
    assert post["problems"] == []
    assert datetime.fromisoformat(post["scheduled_for"].replace("Z", "+00:00")) == when
    assert post["scheduled_for"].endswith("Z")

    submitted = _json(api, "post", f"/api/v1/posts/{post['id']}/submit/")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "pending_review"

    post_approve(reviewer=staff, post=Post.objects.get(pk=post["id"]))

    detail = api.get(f"/api/v1/posts/{post['id']}/").json()
    assert detail["status"] == "scheduled"
    assert {p["account"] for p in detail["publications"]} == {page.pk, instagram.pk}
    listed = api.get(f"/api/v1/publications/?post={post['id']}").json()["results"]
    assert {(p["platform"], p["status"]) for p in listed} == {
        ("facebook_page", "pending"),
        ("instagram_business", "pending"),
    }
    one = api.get(f"/api/v1/publications/{listed[0]['id']}/")
    assert one.status_code == 200
    assert one.json()["post"] == post["id"]


def test_without_approval_a_submitted_post_is_scheduled(api, tenant, page):
    tenant.requires_approval = False
    tenant.save()
    post = _json(api, "post", "/api/v1/posts/", {"caption": "Hello", "targets": [page.pk]}).json()

    response = _json(api, "post", f"/api/v1/posts/{post['id']}/submit/")

    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"
    assert len(response.json()["publications"]) == 1


def test_a_post_breaking_network_rules_is_a_422_listing_them(api, instagram):
    post = _json(
        api, "post", "/api/v1/posts/", {"caption": "No image", "targets": [instagram.pk]}
    ).json()
    assert post["problems"], "the detail lists the problems before submitting"

    response = _json(api, "post", f"/api/v1/posts/{post['id']}/submit/")

    body = assert_problem(response, 422, "post_invalid")
    assert body["errors"]
    assert all({"field", "code", "message"} <= set(e) for e in body["errors"])
    assert Post.objects.get(pk=post["id"]).status == Post.Status.DRAFT


def test_invalid_fields_are_listed(api, page):
    response = _json(
        api,
        "post",
        "/api/v1/posts/",
        {"caption": 5, "targets": "nope", "scheduled_for": "2026-06-01T10:00:00"},
    )

    body = assert_problem(response, 400, "invalid")
    fields = {e["field"] for e in body["errors"]}
    assert {"targets", "scheduled_for"} <= fields
    assert not Post.objects.exists()


def test_a_past_schedule_is_a_422(api, page):
    past = (timezone.now() - timedelta(hours=2)).isoformat()

    response = _json(
        api, "post", "/api/v1/posts/", {"caption": "x", "targets": [page.pk], "scheduled_for": past}
    )

    body = assert_problem(response, 422, "post_invalid")
    assert body["errors"][0]["code"] == "schedule_past"


def test_a_post_is_updated_partially_and_fully(api, tenant, page, instagram):
    post = _json(api, "post", "/api/v1/posts/", {"caption": "One", "targets": [page.pk]}).json()

    patched = _json(api, "patch", f"/api/v1/posts/{post['id']}/", {"caption": "Two"})
    put = _json(
        api, "put", f"/api/v1/posts/{post['id']}/", {"caption": "Three", "targets": [instagram.pk]}
    )

    assert patched.status_code == 200
    assert patched.json()["caption"] == "Two"
    assert patched.json()["targets"] == [page.pk]
    assert put.status_code == 200
    assert put.json()["targets"] == [instagram.pk]


def test_editing_a_publishing_post_is_a_409(api, tenant, page):
    post = baker.make(Post, tenant=tenant, status=Post.Status.PUBLISHING, caption="Live")

    response = _json(api, "patch", f"/api/v1/posts/{post.pk}/", {"caption": "Changed"})

    assert_problem(response, 409, "illegal_transition")
    post.refresh_from_db()
    assert post.caption == "Live"


def test_cancel_and_delete(api, tenant, page):
    scheduled = baker.make(Post, tenant=tenant, status=Post.Status.SCHEDULED)
    draft = baker.make(Post, tenant=tenant, status=Post.Status.DRAFT)

    refused = api.delete(f"/api/v1/posts/{scheduled.pk}/")
    cancelled = _json(api, "post", f"/api/v1/posts/{scheduled.pk}/cancel/")
    deleted = api.delete(f"/api/v1/posts/{draft.pk}/")
    again = _json(api, "post", f"/api/v1/posts/{scheduled.pk}/cancel/")

    assert_problem(refused, 409, "illegal_transition")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert deleted.status_code == 204
    draft.refresh_from_db()
    assert draft.status == Post.Status.CANCELLED
    assert_problem(again, 409, "illegal_transition")


def test_schedule_moves_the_time(api, tenant, page):
    post = _json(api, "post", "/api/v1/posts/", {"caption": "x", "targets": [page.pk]}).json()

    response = _json(
        api,
        "post",
        f"/api/v1/posts/{post['id']}/schedule/",
        {"scheduled_for": "2099-01-02T03:04:05+01:00"},
    )
    missing = _json(api, "post", f"/api/v1/posts/{post['id']}/schedule/", {})

    assert response.status_code == 200
    assert response.json()["scheduled_for"] == "2099-01-02T02:04:05Z"
    body = assert_problem(missing, 400, "invalid")
    assert body["errors"][0]["field"] == "scheduled_for"


def test_retry_a_failed_publication(api, tenant, page, django_capture_on_commit_callbacks):
    post = baker.make(Post, tenant=tenant, status=Post.Status.FAILED)
    failed = baker.make(
        Publication, tenant=tenant, post=post, account=page, status="failed", last_error="boom"
    )
    pending = baker.make(
        Publication, tenant=tenant, post=baker.make(Post, tenant=tenant), account=page
    )

    with django_capture_on_commit_callbacks(execute=False):
        response = _json(api, "post", f"/api/v1/publications/{failed.pk}/retry/")
    refused = _json(api, "post", f"/api/v1/publications/{pending.pk}/retry/")

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["last_error"] == ""
    assert_problem(refused, 409, "illegal_transition")


def test_posts_are_filtered(api, tenant, page, instagram):
    now = timezone.now()
    early = baker.make(Post, tenant=tenant, status="draft", scheduled_for=now + timedelta(days=1))
    late = baker.make(
        Post, tenant=tenant, status="scheduled", scheduled_for=now + timedelta(days=5)
    )
    early.targets.set([page])
    late.targets.set([instagram])

    def ids(query: str) -> set[int]:
        response = api.get("/api/v1/posts/", query)
        assert response.status_code == 200, response.content
        return {p["id"] for p in response.json()["results"]}

    assert ids({}) == {early.pk, late.pk}
    assert ids({"status": "scheduled"}) == {late.pk}
    assert ids({"account": page.pk}) == {early.pk}
    assert ids({"scheduled_after": (now + timedelta(days=2)).isoformat()}) == {late.pk}
    assert ids({"scheduled_before": (now + timedelta(days=2)).isoformat()}) == {early.pk}
    assert ids({"created_after": (now - timedelta(minutes=5)).isoformat()}) == {early.pk, late.pk}
    assert ids({"created_before": (now - timedelta(minutes=5)).isoformat()}) == set()
    assert_problem(api.get("/api/v1/posts/", {"status": "bogus"}), 400, "invalid")


def test_publications_are_filtered(api, tenant, page, instagram):
    post = baker.make(Post, tenant=tenant)
    a = baker.make(Publication, tenant=tenant, post=post, account=page, status="published")
    b = baker.make(Publication, tenant=tenant, post=post, account=instagram, status="failed")

    def ids(query: dict) -> set[int]:
        return {p["id"] for p in api.get("/api/v1/publications/", query).json()["results"]}

    assert ids({"status": "failed"}) == {b.pk}
    assert ids({"account": page.pk}) == {a.pk}
    assert ids({"platform": "instagram_business"}) == {b.pk}
    assert ids({"post": post.pk}) == {a.pk, b.pk}


def test_the_list_pages_with_cursors(api, tenant):
    baker.make(Post, tenant=tenant, _quantity=5)

    first = api.get("/api/v1/posts/?page_size=2").json()
    second = api.get(first["next"]).json()

    assert len(first["results"]) == len(second["results"]) == 2
    assert not {p["id"] for p in first["results"]} & {p["id"] for p in second["results"]}
    assert second["previous"]


def _many_posts(tenant, count: int) -> None:
    accounts = baker.make(ConnectedAccount, tenant=tenant, platform="facebook_page", _quantity=3)
    assets = baker.make(
        BrandAsset, tenant=tenant, _quantity=3, sha256=iter(f"{i:064x}" for i in range(3))
    )
    for i in range(count):
        post = baker.make(Post, tenant=tenant, caption=f"Post {i}")
        post.targets.set(accounts)
        for position, asset in enumerate(assets):
            PostAsset.objects.create(post=post, asset=asset, position=position)
        for account in accounts:
            baker.make(Publication, tenant=tenant, post=post, account=account)


def test_the_posts_list_takes_the_same_queries_whatever_the_page_size(
    api, tenant, django_assert_max_num_queries
):
    _many_posts(tenant, 50)
    api.get("/api/v1/posts/?page_size=1")  # warm-up: content types, first-use caches

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        response_small = api.get("/api/v1/posts/?page_size=2")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response_large = api.get("/api/v1/posts/?page_size=50")

    assert len(response_small.json()["results"]) == 2
    rows = response_large.json()["results"]
    assert len(rows) == 50
    assert all(len(r["targets"]) == 3 and len(r["assets"]) == 3 for r in rows)
    assert all(len(r["publications"]) == 3 for r in rows)
    assert len(small.captured_queries) <= 10


@pytest.mark.parametrize("field", ["targets", "assets"])
def test_another_tenants_accounts_and_images_are_refused(api, tenant, other_tenant, field):
    theirs = (
        baker.make(ConnectedAccount, tenant=other_tenant, platform="facebook_page")
        if field == "targets"
        else baker.make(BrandAsset, tenant=other_tenant)
    )
    mine = baker.make(Post, tenant=tenant, caption="Mine")

    created = _json(api, "post", "/api/v1/posts/", {"caption": "x", field: [theirs.pk]})
    updated = _json(api, "patch", f"/api/v1/posts/{mine.pk}/", {field: [theirs.pk]})

    body = assert_problem(created, 400, "invalid")
    assert body["errors"][0]["field"] == field
    assert_problem(updated, 400, "invalid")
    assert Post.objects.filter(tenant=tenant).count() == 1
    assert not mine.targets.exists()
    assert not mine.post_assets.exists()


def test_another_tenants_posts_and_publications_are_404(api, other_tenant):
    post = baker.make(Post, tenant=other_tenant, status="draft")
    publication = baker.make(Publication, tenant=other_tenant, post=post, status="failed")

    assert_problem(api.get(f"/api/v1/posts/{post.pk}/"), 404, "not_found")
    assert_problem(_json(api, "post", f"/api/v1/posts/{post.pk}/submit/"), 404, "not_found")
    assert_problem(
        _json(api, "post", f"/api/v1/publications/{publication.pk}/retry/"), 404, "not_found"
    )
    post.refresh_from_db()
    assert post.status == "draft"
    assert api.get("/api/v1/posts/").json()["results"] == []


def test_times_come_back_in_utc(api, page):
    response = _json(
        api,
        "post",
        "/api/v1/posts/",
        {"caption": "x", "scheduled_for": "2099-06-01T20:00:00+02:00"},
    )

    assert response.json()["scheduled_for"] == "2099-06-01T18:00:00Z"
    assert Post.objects.get().scheduled_for == datetime(2099, 6, 1, 18, tzinfo=UTC)


def test_the_fast_list_is_the_serializers_json_byte_for_byte(owner, tenant, client_for):
    """The list is built from .values() rows (apps/posts/api/listing.py); it must say exactly
    what PostSerializer says, for posts in every shape."""
    import json

    from django.utils import timezone
    from model_bakery import baker

    from apps.assets.models import BrandAsset
    from apps.posts import selectors
    from apps.posts.api.serializers import PostSerializer
    from apps.posts.models import Post, PostAsset, Publication
    from apps.social.models import ConnectedAccount

    fb = baker.make(
        ConnectedAccount, tenant=tenant, platform="facebook_page", platform_id="1", name="B"
    )
    ig = baker.make(
        ConnectedAccount, tenant=tenant, platform="instagram_business", platform_id="2", name="A"
    )
    images = baker.make(BrandAsset, tenant=tenant, _quantity=2, width=10, height=10, size=1)
    plain = baker.make(
        Post, tenant=tenant, caption="Plain", caption_overrides={"instagram_business": "Hi"}
    )
    rich = baker.make(
        Post,
        tenant=tenant,
        caption="Rich",
        link="https://example.com/x",
        scheduled_for=timezone.now(),
        published_at=timezone.now(),
        status="published",
    )
    rich.targets.set([fb, ig])
    PostAsset.objects.create(post=rich, asset=images[1], position=0)
    PostAsset.objects.create(post=rich, asset=images[0], position=1)
    baker.make(
        Publication,
        tenant=tenant,
        post=rich,
        account=fb,
        status="published",
        likes=3,
        permalink="p",
    )
    baker.make(
        Publication,
        tenant=tenant,
        post=rich,
        account=ig,
        status="waiting",
        wait_reason="quota",
        next_attempt_at=timezone.now(),
    )

    body = client_for(owner.user).get("/api/v1/posts/?page_size=10").json()["results"]

    expected = PostSerializer(
        selectors.post_list(tenant=tenant).order_by("-created_at", "-id"), many=True
    ).data
    assert json.dumps(body) == json.dumps(expected)
    assert {p["id"] for p in body} == {plain.pk, rich.pk}


def test_a_reel_is_created_with_its_options_and_read_back(api, tenant, page):
    video = baker.make(
        BrandAsset, tenant=tenant, kind="video", content_type="video/mp4", size=1000, duration=12
    )
    cover = baker.make(BrandAsset, tenant=tenant, content_type="image/jpeg", size=10)

    response = _json(
        api,
        "post",
        "/api/v1/posts/",
        {
            "caption": "Tonight",
            "targets": [page.pk],
            "assets": [video.pk],
            "format": "reel",
            "cover": cover.pk,
            "share_to_feed": False,
            "audio_name": "Kitchen",
            "collaborators": ["chef.anna"],
            "first_comment": "#coqauvin",
            "caption_ai_generated": True,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("format", "cover", "share_to_feed", "collaborators")} == {
        "format": "reel",
        "cover": cover.pk,
        "share_to_feed": False,
        "collaborators": ["chef.anna"],
    }
    assert (body["first_comment"], body["caption_ai_generated"]) == ("#coqauvin", True)
    patched = _json(api, "patch", f"/api/v1/posts/{body['id']}/", {"audio_name": "Grill"})
    assert patched.json()["cover"] == cover.pk
    assert patched.json()["audio_name"] == "Grill"


def test_four_collaborators_are_refused_and_nothing_is_created(api, page):
    response = _json(
        api,
        "post",
        "/api/v1/posts/",
        {"caption": "x", "targets": [page.pk], "collaborators": ["a", "b", "c", "d"]},
    )

    assert response.status_code == 400, response.content
    assert "collaborators" in response.content.decode()
    assert not Post.objects.exists()

"""Deleting images that posts use, over the API (issue 13, defect 3): a 409 problem naming the
posts in the way, nothing changed; removed from the library when only finished posts use it."""

from datetime import UTC, datetime

from model_bakery import baker

from apps.assets.models import BrandAsset, BrandFolder
from apps.posts.models import Post, PostAsset
from tests.api.helpers import assert_problem, jpeg, upload


def post_using(asset_id: int, status: str, **fields) -> Post:
    asset = BrandAsset.objects.get(pk=asset_id)
    post = baker.make(Post, tenant_id=asset.tenant_id, status=status, **fields)
    PostAsset.objects.create(post=post, asset=asset, position=0)
    return post


def test_deleting_an_image_a_scheduled_post_uses_is_a_409_listing_the_posts(api, stored_files):
    asset_id = api.post("/api/v1/assets/", {"file": upload()}).json()["id"]
    at = datetime(2030, 6, 1, 16, 0, tzinfo=UTC)
    post = post_using(asset_id, Post.Status.SCHEDULED, scheduled_for=at)
    files = stored_files()

    response = api.delete(f"/api/v1/assets/{asset_id}/")

    body = assert_problem(response, 409, "asset_in_use")
    assert body["posts"] == [
        {"id": post.pk, "status": "scheduled", "scheduled_for": "2030-06-01T16:00:00Z"}
    ]
    assert "Remove it from these posts first" in body["detail"]
    assert api.get(f"/api/v1/assets/{asset_id}/").status_code == 200
    assert stored_files() == files


def test_deleting_an_image_only_published_posts_use_removes_it_from_the_library(api, stored_files):
    asset_id = api.post("/api/v1/assets/", {"file": upload()}).json()["id"]
    post = post_using(asset_id, Post.Status.PUBLISHED)
    files = stored_files()

    response = api.delete(f"/api/v1/assets/{asset_id}/")

    assert response.status_code == 204
    assert api.get(f"/api/v1/assets/{asset_id}/").status_code == 404
    assert api.get("/api/v1/assets/").json()["results"] == []
    assert api.get(f"/api/v1/posts/{post.pk}/").json()["assets"] == [asset_id]
    assert stored_files() == files
    again = api.post("/api/v1/assets/", {"file": upload()})
    assert (again.status_code, again.json()["id"]) == (201, asset_id)


def test_deleting_a_folder_whose_image_is_in_use_is_a_409_and_nothing_changes(api, stored_files):
    folder_id = api.post(
        "/api/v1/folders/", {"name": "Old"}, content_type="application/json"
    ).json()["id"]
    free_id = api.post("/api/v1/assets/", {"file": upload(), "folder": folder_id}).json()["id"]
    busy_id = api.post(
        "/api/v1/assets/", {"file": upload(jpeg(colour="navy"), "navy.jpg"), "folder": folder_id}
    ).json()["id"]
    post = post_using(busy_id, Post.Status.DRAFT)
    files = stored_files()

    response = api.delete(f"/api/v1/folders/{folder_id}/?mode=delete_contents")

    body = assert_problem(response, 409, "folder_assets_in_use")
    assert body["assets"] == [
        {
            "id": busy_id,
            "name": "navy.jpg",
            "posts": [{"id": post.pk, "status": "draft", "scheduled_for": None}],
        }
    ]
    assert BrandFolder.objects.filter(pk=folder_id).exists()
    assert set(BrandAsset.objects.filter(folder_id=folder_id).values_list("pk", flat=True)) == {
        free_id,
        busy_id,
    }
    assert stored_files() == files

"""Deleting images that posts use (issue 13, defect 3): refused while a post can still go out
or be edited, removed from the library (row and files kept) when only finished posts use it,
and folder deletion refused as a whole. On a refusal nothing changes."""

import pytest
from django.urls import reverse
from model_bakery import baker

from apps.assets import selectors, services
from apps.assets.models import BrandAsset, BrandFolder
from apps.posts import selectors as post_selectors
from apps.posts import services as post_services
from apps.posts.models import Post, PostAsset
from tests.assets.conftest import jpeg

S = Post.Status
UNFINISHED = [S.DRAFT, S.PENDING_REVIEW, S.REJECTED, S.APPROVED, S.SCHEDULED, S.PUBLISHING]
FINISHED = [S.PUBLISHED, S.PARTIALLY_PUBLISHED, S.FAILED, S.CANCELLED]


def upload(member, colour="tomato", **kwargs) -> BrandAsset:
    return services.asset_upload(
        actor=member, data=jpeg(colour=colour), filename=f"{colour}.jpg", **kwargs
    ).asset


def post_using(asset: BrandAsset, status: str) -> Post:
    post = baker.make(Post, tenant_id=asset.tenant_id, status=status, caption="Soup of the day")
    PostAsset.objects.create(post=post, asset=asset, position=0)
    return post


def snapshot() -> list[tuple]:
    return sorted(BrandAsset.objects.values_list("pk", "folder_id", "removed_at")) + sorted(
        BrandFolder.objects.values_list("pk", "parent_id")
    )


@pytest.mark.parametrize("status", UNFINISHED)
def test_an_image_a_post_can_still_send_is_refused_naming_the_post(
    editor, status, stored_files, django_capture_on_commit_callbacks
):
    asset = upload(editor, tags=["soup"])
    post = post_using(asset, status)
    post_using(asset, S.PUBLISHED)  # not in the way
    before, files = snapshot(), stored_files()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.AssetInUse) as refused,
    ):
        services.asset_delete(actor=editor, asset=asset)

    assert refused.value.code == "asset_in_use"
    assert refused.value.extra["posts"] == [
        {"id": post.pk, "status": status, "scheduled_for": None}
    ]
    assert "Remove it from these posts first" in refused.value.message
    assert snapshot() == before
    assert stored_files() == files
    assert list(selectors.asset_list(tenant=editor.tenant)) == [asset]


@pytest.mark.parametrize("status", FINISHED)
def test_an_image_only_finished_posts_use_leaves_the_library_but_keeps_its_files(
    editor, status, stored_files, django_capture_on_commit_callbacks
):
    folder = services.folder_create(actor=editor, name="Menus", parent=None)
    asset = upload(editor, folder=folder, tags=["soup"])
    post = post_using(asset, status)
    files = stored_files()

    with django_capture_on_commit_callbacks(execute=True):
        result = services.asset_delete(actor=editor, asset=asset)

    assert result.kept_for_history
    asset.refresh_from_db()
    assert asset.removed_at is not None
    assert asset.folder is None
    assert stored_files() == files  # the post's history still shows it
    assert [pa.asset for pa in post.post_assets.all()] == [asset]
    tenant = editor.tenant
    assert not selectors.asset_list(tenant=tenant).exists()
    assert not selectors.asset_list(tenant=tenant, query="soup").exists()
    assert not selectors.tag_list(tenant=tenant).exists()
    assert [n.asset_count for n in selectors.folder_tree(tenant=tenant)] == [0]
    assert post_selectors.asset_choices(tenant=tenant, chosen_ids=[asset.pk]) == []
    with pytest.raises(post_services.PostInvalid):  # a new post cannot pick it
        post_services.post_create(actor=editor, data=post_services.PostInput(asset_ids=[asset.pk]))


def test_an_image_no_post_uses_is_deleted_with_its_files(
    editor, stored_files, django_capture_on_commit_callbacks
):
    asset = upload(editor)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.asset_delete(actor=editor, asset=asset)

    assert not result.kept_for_history
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_uploading_the_bytes_of_a_removed_image_brings_it_back(editor):
    asset = upload(editor)
    post_using(asset, S.PUBLISHED)
    services.asset_delete(actor=editor, asset=asset)
    folder = services.folder_create(actor=editor, name="Back", parent=None)

    result = services.asset_upload(
        actor=editor, data=jpeg(colour="tomato"), filename="again.jpg", folder=folder
    )

    assert (result.asset.pk, result.restored, result.duplicate) == (asset.pk, True, False)
    assert list(selectors.asset_list(tenant=editor.tenant, folder=folder)) == [asset]


def test_deleting_a_folder_with_an_image_in_use_is_refused_as_a_whole(
    editor, stored_files, django_capture_on_commit_callbacks
):
    folder = services.folder_create(actor=editor, name="Old", parent=None)
    sub = services.folder_create(actor=editor, name="Older", parent=folder)
    upload(editor, "navy", folder=folder)  # used by nothing: would be deleted
    history = upload(editor, "olive", folder=folder)
    post_using(history, S.PUBLISHED)
    busy = upload(editor, "gold", folder=sub)
    post = post_using(busy, S.SCHEDULED)
    before, files = snapshot(), stored_files()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.FolderAssetsInUse) as refused,
    ):
        services.folder_delete(
            actor=editor, folder=folder, mode=services.FolderDeleteMode.DELETE_CONTENTS
        )

    assert refused.value.extra["assets"] == [
        {
            "id": busy.pk,
            "name": "gold.jpg",
            "posts": [{"id": post.pk, "status": "scheduled", "scheduled_for": None}],
        }
    ]
    assert snapshot() == before
    assert stored_files() == files


def test_deleting_a_folder_keeps_history_images_outside_any_folder(
    editor, stored_files, django_capture_on_commit_callbacks
):
    folder = services.folder_create(actor=editor, name="Old", parent=None)
    sub = services.folder_create(actor=editor, name="Older", parent=folder)
    unused = upload(editor, "navy", folder=sub)
    history = upload(editor, "olive", folder=sub)
    post_using(history, S.CANCELLED)

    with django_capture_on_commit_callbacks(execute=True):
        deleted = services.folder_delete(
            actor=editor, folder=folder, mode=services.FolderDeleteMode.DELETE_CONTENTS
        )

    assert deleted == 2
    assert not BrandFolder.objects.exists()
    history.refresh_from_db()
    assert history.folder is None
    assert history.removed_at is not None
    assert not BrandAsset.objects.filter(pk=unused.pk).exists()
    assert history.file.name in stored_files()
    assert unused.file.name not in stored_files()


def test_a_folder_holding_only_removed_images_counts_as_empty(editor):
    folder = services.folder_create(actor=editor, name="Old", parent=None)
    history = upload(editor, "olive", folder=folder)
    post_using(history, S.PUBLISHED)
    services.asset_delete(actor=editor, asset=history)

    services.folder_delete(actor=editor, folder=folder, mode=services.FolderDeleteMode.REFUSE)

    assert not BrandFolder.objects.exists()
    assert BrandAsset.objects.filter(pk=history.pk).exists()


# --- Dashboard --------------------------------------------------------------------------------


def test_the_dashboard_says_which_posts_use_an_image_it_cannot_delete(client_for, editor):
    asset = upload(editor)
    post = post_using(asset, S.SCHEDULED)
    client = client_for(editor.user)

    response = client.post(reverse("assets:delete", args=[asset.pk]), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("assets:detail", args=[asset.pk])
    page = response.content.decode()
    assert "Remove it from these posts first" in page
    assert f'href="{reverse("posts:detail", args=[post.pk])}"' in page
    assert BrandAsset.objects.get(pk=asset.pk).removed_at is None


def test_the_dashboard_removes_a_published_image_and_its_post_still_shows_it(client_for, editor):
    asset = upload(editor)
    post = post_using(asset, S.PUBLISHED)
    client = client_for(editor.user)

    response = client.post(reverse("assets:delete", args=[asset.pk]), follow=True)

    assert "still show it" in response.content.decode()
    assert asset.original_filename not in client.get(reverse("assets:library")).content.decode()
    assert client.get(reverse("assets:detail", args=[asset.pk])).status_code == 404
    detail = client.get(reverse("posts:detail", args=[post.pk]))
    assert detail.status_code == 200
    assert reverse("assets:thumbnail", args=[asset.pk]) in detail.content.decode()
    assert client.get(reverse("assets:thumbnail", args=[asset.pk])).status_code == 200


def test_the_dashboard_folder_delete_names_the_images_and_posts_in_the_way(client_for, editor):
    folder = services.folder_create(actor=editor, name="Old", parent=None)
    busy = upload(editor, "gold", folder=folder)
    post = post_using(busy, S.PENDING_REVIEW)
    client = client_for(editor.user)

    response = client.post(
        reverse("assets:folder_delete", args=[folder.pk]),
        {"mode": services.FolderDeleteMode.DELETE_CONTENTS},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "was not deleted" in page
    assert "gold.jpg" in page
    assert f'href="{reverse("posts:detail", args=[post.pk])}"' in page
    assert BrandFolder.objects.filter(pk=folder.pk).exists()
    assert BrandAsset.objects.get(pk=busy.pk).folder_id == folder.pk

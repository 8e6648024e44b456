"""The asset library's services: uploads, duplicates, bad files, folders; rows and files alike."""

import pytest
from model_bakery import baker

from apps.assets import services
from apps.assets.images import ImageRejected
from apps.assets.models import BrandAsset, BrandFolder, Tag
from apps.core.exceptions import ApplicationError, NotPermitted
from tests.assets.conftest import jpeg
from tests.assets.test_images import png_with_header


def upload(member, data=None, filename="dish.jpg", **kwargs):
    return services.asset_upload(actor=member, data=data or jpeg(), filename=filename, **kwargs)


def test_an_upload_stores_a_clean_image_its_thumbnail_and_a_row(editor, stored_files):
    result = upload(
        editor, jpeg(1080, 1350), filename="../../Tarte Tatin.JPG", tags=["dessert", "#Autumn"]
    )

    asset = result.asset
    assert not result.duplicate
    assert (asset.width, asset.height, asset.content_type) == (1080, 1350, "image/jpeg")
    assert asset.original_filename == "Tarte Tatin.JPG"
    assert asset.uploaded_by == editor.user
    assert sorted(t.name for t in asset.tags.all()) == ["Autumn", "dessert"]
    assert stored_files() == sorted([asset.file.name, asset.thumbnail.name])
    assert asset.file.name.startswith(f"assets/t{editor.tenant_id}/")
    assert "Tarte" not in asset.file.name  # stored names never come from the user


def test_the_same_bytes_are_pointed_out_and_not_stored_twice(editor, stored_files):
    data = jpeg()
    first = upload(editor, data)
    files_before = stored_files()

    second = upload(editor, data, filename="copy.jpg")

    assert second.duplicate
    assert second.asset == first.asset
    assert BrandAsset.objects.count() == 1
    assert stored_files() == files_before


def test_another_tenant_may_upload_the_same_bytes(editor, other_tenant, make_member, stored_files):
    data = jpeg()
    mine = upload(editor, data).asset
    theirs = upload(make_member(other_tenant), data).asset

    assert mine.file.name != theirs.file.name
    services.asset_delete(actor=editor, asset=mine)
    assert theirs.file.name in stored_files()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"%PDF-1.7 not an image", "not_an_image"),
        (jpeg()[: len(jpeg()) // 2], "truncated"),
        (jpeg() + b"<script>alert(1)</script>", "trailing_content"),
        (png_with_header(30000, 30000), "too_many_pixels"),
    ],
    ids=["zero-bytes", "not-an-image", "truncated", "script-appended", "decompression-bomb"],
)
def test_bad_files_are_refused_and_leave_nothing_behind(editor, stored_files, data, code):
    with pytest.raises(ImageRejected) as exc:
        services.asset_upload(actor=editor, data=data, filename="x.jpg")

    assert exc.value.code == code
    assert exc.value.message
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_an_oversized_file_is_refused(editor, stored_files, settings):
    settings.ASSET_MAX_UPLOAD_BYTES = 1000

    with pytest.raises(ImageRejected, match="the limit is"):
        upload(editor, jpeg(400, 400))

    assert stored_files() == []


def test_a_failed_database_write_removes_the_stored_files(editor, stored_files, monkeypatch):
    def broken_create(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(BrandAsset.objects, "create", broken_create)

    with pytest.raises(RuntimeError):
        upload(editor)

    assert stored_files() == []


def test_a_duplicate_race_keeps_one_asset_and_no_stray_file(editor, stored_files, monkeypatch):
    data = jpeg()
    winner = upload(editor, data).asset
    files_before = stored_files()
    # The other request commits between our duplicate check and our insert: the check sees
    # nothing, the insert hits the unique constraint.
    real_for_tenant = BrandAsset.objects.for_tenant
    calls = iter([BrandAsset.objects.none()])
    monkeypatch.setattr(
        BrandAsset.objects,
        "for_tenant",
        lambda tenant: next(calls, None) or real_for_tenant(tenant),
    )

    result = upload(editor, data)

    assert result.duplicate
    assert result.asset == winner
    assert BrandAsset.objects.count() == 1
    assert stored_files() == files_before


def test_viewers_cannot_upload(viewer, stored_files):
    with pytest.raises(NotPermitted):
        upload(viewer)
    assert stored_files() == []


# --- Folders ----------------------------------------------------------------------------------


def test_folder_names_are_unique_among_siblings_ignoring_case(editor):
    menu = services.folder_create(actor=editor, name="Menu", parent=None)
    services.folder_create(actor=editor, name="Desserts", parent=menu)

    with pytest.raises(ApplicationError) as exc:
        services.folder_create(actor=editor, name="menu", parent=None)
    assert exc.value.code == "name_taken"
    with pytest.raises(ApplicationError):
        services.folder_create(actor=editor, name="DESSERTS", parent=menu)

    services.folder_create(actor=editor, name="Desserts", parent=None)  # another level: fine
    assert BrandFolder.objects.count() == 3


def test_renaming_into_a_sibling_name_is_refused(editor):
    services.folder_create(actor=editor, name="Drinks", parent=None)
    food = services.folder_create(actor=editor, name="Food", parent=None)

    with pytest.raises(ApplicationError):
        services.folder_rename(actor=editor, folder=food, name="drinks")

    food.refresh_from_db()
    assert food.name == "Food"


def test_a_folder_cannot_move_into_itself_or_its_descendants(editor):
    a = services.folder_create(actor=editor, name="A", parent=None)
    b = services.folder_create(actor=editor, name="B", parent=a)
    c = services.folder_create(actor=editor, name="C", parent=b)

    for target in (a, b, c):
        with pytest.raises(ApplicationError) as exc:
            services.folder_move(actor=editor, folder=a, parent=target)
        assert exc.value.code == "cycle"

    services.folder_move(actor=editor, folder=c, parent=None)
    c.refresh_from_db()
    assert c.parent is None


def test_deleting_a_non_empty_folder_needs_a_decision(editor):
    folder = services.folder_create(actor=editor, name="Summer", parent=None)
    upload(editor, folder=folder)

    with pytest.raises(ApplicationError) as exc:
        services.folder_delete(actor=editor, folder=folder, mode=services.FolderDeleteMode.REFUSE)

    assert exc.value.code == "not_empty"
    assert BrandFolder.objects.filter(pk=folder.pk).exists()


def test_deleting_a_folder_can_move_its_contents_up(editor, stored_files):
    parent = services.folder_create(actor=editor, name="Menu", parent=None)
    folder = services.folder_create(actor=editor, name="Summer", parent=parent)
    child = services.folder_create(actor=editor, name="Drinks", parent=folder)
    asset = upload(editor, folder=folder).asset

    services.folder_delete(
        actor=editor, folder=folder, mode=services.FolderDeleteMode.MOVE_TO_PARENT
    )

    asset.refresh_from_db()
    child.refresh_from_db()
    assert (asset.folder, child.parent) == (parent, parent)
    assert asset.file.name in stored_files()


def test_deleting_a_folder_with_its_contents_removes_rows_and_files(
    editor, stored_files, django_capture_on_commit_callbacks
):
    folder = services.folder_create(actor=editor, name="Old", parent=None)
    sub = services.folder_create(actor=editor, name="Older", parent=folder)
    upload(editor, jpeg(colour="navy"), folder=folder)
    upload(editor, jpeg(colour="gold"), folder=sub)
    kept = upload(editor, jpeg(colour="olive")).asset

    with django_capture_on_commit_callbacks(execute=True):
        deleted = services.folder_delete(
            actor=editor, folder=folder, mode=services.FolderDeleteMode.DELETE_CONTENTS
        )

    assert deleted == 2
    assert list(BrandAsset.objects.all()) == [kept]
    assert not BrandFolder.objects.exists()
    assert stored_files() == sorted([kept.file.name, kept.thumbnail.name])


def test_folders_of_another_tenant_are_out_of_reach(editor, other_tenant):
    foreign = baker.make(BrandFolder, tenant=other_tenant, name="Theirs")

    with pytest.raises(NotPermitted):
        services.folder_create(actor=editor, name="Mine", parent=foreign)
    with pytest.raises(NotPermitted):
        upload(editor, folder=foreign)


# --- Tags and edits ----------------------------------------------------------------------------


def test_tags_are_trimmed_deduplicated_and_limited():
    assert services.parse_tags(" #Dessert, dessert ,summer menu,, ") == ["Dessert", "summer menu"]
    with pytest.raises(ApplicationError):
        services.parse_tags([f"t{i}" for i in range(21)])


def test_editing_an_asset_reuses_the_tenants_tags(editor):
    asset = upload(editor, tags=["Dessert"]).asset
    other = upload(editor, jpeg(colour="plum")).asset

    services.asset_update(actor=editor, asset=other, tags="dessert, new", alt_text=" A plum tart ")

    assert Tag.objects.filter(tenant=editor.tenant).count() == 2
    assert other.alt_text == "A plum tart"
    assert {t.pk for t in asset.tags.all()} <= {t.pk for t in other.tags.all()}


def test_the_instagram_rendition_is_made_once_and_kept(editor, stored_files):
    asset = upload(editor, jpeg(3000, 3000)).asset

    name = services.asset_instagram_rendition(asset=asset)
    again = services.asset_instagram_rendition(asset=BrandAsset.objects.get(pk=asset.pk))

    assert name == again
    assert name.endswith(".instagram.jpg")
    assert name in stored_files()


def test_deleting_a_tenant_takes_its_files_along(
    editor, stored_files, django_capture_on_commit_callbacks
):
    upload(editor)
    assert stored_files()

    with django_capture_on_commit_callbacks(execute=True):
        editor.tenant.delete()

    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_a_rolled_back_deletion_keeps_the_files(editor, stored_files):
    from django.db import transaction

    asset = upload(editor).asset
    pk, name = asset.pk, asset.file.name

    def delete_then_fail() -> None:
        with transaction.atomic():
            asset.delete()
            raise RuntimeError("something later in the request failed")

    with pytest.raises(RuntimeError):
        delete_then_fail()

    assert BrandAsset.objects.filter(pk=pk).exists()
    assert name in stored_files()

"""The asset library through HTTP: upload with and without JavaScript, browse, search, edit,
serve files to members only, and signed public URLs for Meta."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.assets import media_urls, services
from apps.assets.models import BrandAsset, BrandFolder
from tests.assets.conftest import jpeg


def image_file(name="dish.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(**kwargs), content_type="image/jpeg")


def test_upload_one_file_as_the_page_script_does(client_for, editor, stored_files):
    client = client_for(editor.user)

    response = client.post(
        reverse("assets:upload"), {"files": image_file("Soupe.jpg")}, HTTP_ACCEPT="application/json"
    )

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "created"
    asset = BrandAsset.objects.get()
    assert body["asset"]["id"] == asset.pk
    assert client.get(body["asset"]["thumbnail"]).status_code == 200

    again = client.post(
        reverse("assets:upload"), {"files": image_file("again.jpg")}, HTTP_ACCEPT="application/json"
    )
    assert again.json()["status"] == "duplicate"
    assert "not stored twice" in again.json()["message"]


def test_a_bad_file_gets_a_clear_json_error(client_for, editor, stored_files):
    client = client_for(editor.user)
    fake = SimpleUploadedFile("menu.jpg", b"%PDF-1.4 this is a menu", content_type="image/jpeg")

    response = client.post(
        reverse("assets:upload"), {"files": fake}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 400
    assert response.json()["status"] == "rejected"
    assert "PDF" in response.json()["message"]
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_several_files_without_javascript_into_a_folder(client_for, editor, stored_files):
    client = client_for(editor.user)
    folder = services.folder_create(actor=editor, name="Brunch", parent=None)
    files = [
        image_file("a.jpg", colour="red"),
        image_file("b.jpg", colour="blue"),
        SimpleUploadedFile("empty.jpg", b""),
    ]

    response = client.post(
        reverse("assets:upload"), {"files": files, "folder": folder.pk}, follow=True
    )

    page = response.content.decode()
    assert BrandAsset.objects.filter(folder=folder).count() == 2
    assert "empty.jpg: The file is empty" in page
    assert response.redirect_chain[-1][0] == f"/assets/?folder={folder.pk}"


def test_uploading_into_another_tenants_folder_is_404(
    client_for, editor, other_tenant, stored_files
):
    foreign = BrandFolder.objects.create(tenant=other_tenant, name="Theirs")

    response = client_for(editor.user).post(
        reverse("assets:upload"), {"files": image_file(), "folder": foreign.pk}
    )

    assert response.status_code == 404
    assert stored_files() == []


def test_viewers_browse_but_cannot_upload_or_edit(client_for, editor, viewer, stored_files):
    asset = services.asset_upload(actor=editor, data=jpeg(), filename="x.jpg").asset
    client = client_for(viewer.user)

    assert client.get(reverse("assets:library")).status_code == 200
    assert client.get(reverse("assets:detail", args=[asset.pk])).status_code == 200
    assert (
        client.post(reverse("assets:upload"), {"files": image_file(colour="green")}).status_code
        == 403
    )
    assert client.post(reverse("assets:delete", args=[asset.pk])).status_code == 403
    client.post(
        reverse("assets:detail", args=[asset.pk]), {"name": "hacked", "alt_text": "", "tags": ""}
    )
    asset.refresh_from_db()
    assert asset.original_filename == "x.jpg"


def test_library_lists_searches_and_filters_with_a_fixed_number_of_queries(
    client_for, editor, django_assert_max_num_queries
):
    colours = ["red", "green", "blue", "navy", "gold", "teal"]
    for i, colour in enumerate(colours):
        services.asset_upload(
            actor=editor,
            data=jpeg(colour=colour),
            filename=f"{colour}.jpg",
            tags=["menu"] if i % 2 else ["drinks"],
        )
    client = client_for(editor.user)

    with django_assert_max_num_queries(12):
        page = client.get(reverse("assets:library"))
    assert len(page.context["page"].object_list) == 6

    by_name = client.get(reverse("assets:library"), {"q": "navy"})
    assert [a.original_filename for a in by_name.context["page"].object_list] == ["navy.jpg"]
    by_tag = client.get(reverse("assets:library"), {"tag": "menu"})
    assert len(by_tag.context["page"].object_list) == 3
    by_hashtag = client.get(reverse("assets:library"), {"q": "#drinks"})
    assert len(by_hashtag.context["page"].object_list) == 3


def test_edit_tags_alt_text_and_folder(client_for, editor):
    asset = services.asset_upload(actor=editor, data=jpeg(), filename="x.jpg").asset
    folder = services.folder_create(actor=editor, name="Mains", parent=None)

    response = client_for(editor.user).post(
        reverse("assets:detail", args=[asset.pk]),
        {
            "name": "Boeuf bourguignon.jpg",
            "alt_text": "A stew in a cast-iron pot",
            "tags": "mains, winter",
            "folder": folder.pk,
        },
    )

    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.original_filename, asset.alt_text, asset.folder) == (
        "Boeuf bourguignon.jpg",
        "A stew in a cast-iron pot",
        folder,
    )
    assert sorted(t.name for t in asset.tags.all()) == ["mains", "winter"]


def test_detail_shows_instagram_fit_and_reasons(client_for, editor):
    fits = services.asset_upload(actor=editor, data=jpeg(1080, 1350), filename="fits.jpg").asset
    too_wide = services.asset_upload(
        actor=editor, data=jpeg(2000, 500, colour="navy"), filename="wide.jpg"
    ).asset
    client = client_for(editor.user)

    assert (
        "Fits the feed rules"
        in client.get(reverse("assets:detail", args=[fits.pk])).content.decode()
    )
    page = client.get(reverse("assets:detail", args=[too_wide.pk])).content.decode()
    assert "Does not fit" in page
    assert "1.91" in page


def test_files_are_served_to_members_only(client_for, editor, other_tenant, make_member):
    asset = services.asset_upload(actor=editor, data=jpeg(), filename="x.jpg").asset

    mine = client_for(editor.user).get(reverse("assets:file", args=[asset.pk]))
    assert mine.status_code == 200
    assert mine["Content-Type"] == "image/jpeg"
    assert mine["X-Content-Type-Options"] == "nosniff"

    stranger = client_for(make_member(other_tenant).user)
    assert stranger.get(reverse("assets:file", args=[asset.pk])).status_code == 404
    assert Client().get(reverse("assets:file", args=[asset.pk])).status_code == 302  # to login


def test_a_signed_url_serves_the_instagram_jpeg_to_anyone_until_it_expires(editor, settings):
    asset = services.asset_upload(actor=editor, data=jpeg(1200, 1200), filename="x.jpg").asset
    url = media_urls.public_url(asset=asset, variant="instagram")
    assert url.startswith(settings.PUBLIC_BASE_URL + "/m/")
    path = url.removeprefix(settings.PUBLIC_BASE_URL)
    anonymous = Client()

    response = anonymous.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"

    token = path.split("/")[2]
    tampered = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    forged = anonymous.get(tampered)
    settings.SIGNED_MEDIA_URL_TTL_SECONDS = -1
    expired = anonymous.get(path)
    for refused in (forged, expired):
        assert refused.status_code == 403
        assert refused.content == b"This link is not valid or has expired."


@pytest.mark.parametrize("mode", ["move_to_parent", "delete_contents"])
def test_deleting_a_folder_asks_what_to_do(
    client_for, editor, mode, stored_files, django_capture_on_commit_callbacks
):
    folder = services.folder_create(actor=editor, name="Specials", parent=None)
    asset = services.asset_upload(actor=editor, data=jpeg(), filename="x.jpg", folder=folder).asset
    client = client_for(editor.user)

    question = client.get(reverse("assets:folder_delete", args=[folder.pk])).content.decode()
    assert "What happens to what is inside?" in question

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("assets:folder_delete", args=[folder.pk]), {"mode": mode})

    assert not BrandFolder.objects.exists()
    if mode == "move_to_parent":
        assert BrandAsset.objects.get(pk=asset.pk).folder is None
        assert asset.file.name in stored_files()
    else:
        assert not BrandAsset.objects.exists()
        assert stored_files() == []


def test_folder_cycle_and_name_clash_are_explained(client_for, editor):
    a = services.folder_create(actor=editor, name="A", parent=None)
    b = services.folder_create(actor=editor, name="B", parent=a)
    client = client_for(editor.user)

    moved = client.post(reverse("assets:folder_move", args=[a.pk]), {"parent": b.pk}, follow=True)
    assert "cannot be moved into itself" in moved.content.decode()
    clash = client.post(reverse("assets:folder_create"), {"name": "a"}, follow=True)
    assert "already exists" in clash.content.decode()
    assert BrandFolder.objects.count() == 2
    a.refresh_from_db()
    assert a.parent is None


def test_staff_browse_assets_with_thumbnails_in_admin(client_for, staff, editor):
    asset = services.asset_upload(actor=editor, data=jpeg(), filename="x.jpg").asset
    client = client_for(staff)

    listing = client.get("/admin/assets/brandasset/")
    assert listing.status_code == 200
    thumb_url = reverse("admin:assets_brandasset_thumbnail", args=[asset.pk])
    assert thumb_url in listing.content.decode()
    assert client.get(thumb_url).status_code == 200
    assert client.get(f"/admin/assets/brandasset/{asset.pk}/change/").status_code == 200

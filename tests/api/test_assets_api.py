"""Folders and the image library over the API."""

import pytest
from model_bakery import baker

from apps.assets.models import BrandAsset, BrandFolder
from tests.api.helpers import assert_problem, jpeg, upload


def test_folders_are_created_renamed_moved_and_listed(api, tenant):
    menus = api.post("/api/v1/folders/", {"name": "Menus"}, content_type="application/json")
    summer = api.post(
        "/api/v1/folders/",
        {"name": "Summer", "parent": menus.json()["id"]},
        content_type="application/json",
    )
    assert menus.status_code == summer.status_code == 201
    summer_id = summer.json()["id"]

    renamed = api.patch(
        f"/api/v1/folders/{summer_id}/",
        {"name": "Summer 2026", "parent": None},
        content_type="application/json",
    )

    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Summer 2026"
    assert renamed.json()["parent"] is None
    names = [f["name"] for f in api.get("/api/v1/folders/").json()["results"]]
    assert sorted(names) == ["Menus", "Summer 2026"]


def test_folder_name_taken_is_a_problem(api, tenant):
    api.post("/api/v1/folders/", {"name": "Menus"}, content_type="application/json")

    response = api.post("/api/v1/folders/", {"name": "menus"}, content_type="application/json")

    assert_problem(response, 400, "name_taken")


def test_a_folder_cannot_move_into_itself(api, owner):
    folder = baker.make(BrandFolder, tenant=owner.tenant, name="A")

    response = api.patch(
        f"/api/v1/folders/{folder.pk}/", {"parent": folder.pk}, content_type="application/json"
    )

    assert_problem(response, 400, "cycle")


def test_a_non_empty_folder_needs_a_mode(api, tenant):
    folder = api.post("/api/v1/folders/", {"name": "Menus"}, content_type="application/json")
    folder_id = folder.json()["id"]
    api.post("/api/v1/assets/", {"file": upload(), "folder": folder_id})

    refused = api.delete(f"/api/v1/folders/{folder_id}/")
    moved = api.delete(f"/api/v1/folders/{folder_id}/?mode=move_to_parent")

    assert_problem(refused, 400, "not_empty")
    assert moved.status_code == 204
    assert not BrandFolder.objects.filter(pk=folder_id).exists()
    assert BrandAsset.objects.get(tenant=tenant).folder is None


def test_delete_contents_deletes_the_files_too(
    api, tenant, stored_files, django_capture_on_commit_callbacks
):
    folder_id = api.post(
        "/api/v1/folders/", {"name": "Old"}, content_type="application/json"
    ).json()["id"]
    api.post("/api/v1/assets/", {"file": upload(), "folder": folder_id})
    assert stored_files()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/v1/folders/{folder_id}/?mode=delete_contents")

    assert response.status_code == 204
    assert not BrandAsset.objects.filter(tenant=tenant).exists()
    assert stored_files() == []


def test_upload_stores_a_cleaned_image_and_describes_it(api, tenant):
    folder = baker.make(BrandFolder, tenant=tenant, name="Menus")

    response = api.post(
        "/api/v1/assets/",
        {
            "file": upload(jpeg(1080, 1350)),
            "folder": folder.pk,
            "tags": "summer, #menu",
            "alt_text": "A plate",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["duplicate"] is False
    assert (body["width"], body["height"]) == (1080, 1350)
    assert body["content_type"] == "image/jpeg"
    assert body["folder"] == folder.pk
    assert body["tags"] == ["menu", "summer"]
    assert body["alt_text"] == "A plate"
    assert body["instagram_problems"] == []
    assert len(body["sha256"]) == 64
    assert body["thumbnail_url"] == f"http://testserver/assets/{body['id']}/thumbnail/"
    assert body["file_url"] == f"http://testserver/assets/{body['id']}/file/"


def test_the_same_bytes_twice_return_the_existing_asset(api, tenant):
    content = jpeg()
    first = api.post("/api/v1/assets/", {"file": upload(content)})

    second = api.post("/api/v1/assets/", {"file": upload(content, name="again.jpg")})

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["id"] == first.json()["id"]
    assert BrandAsset.objects.filter(tenant=tenant).count() == 1


def test_instagram_problems_are_listed(api):
    response = api.post("/api/v1/assets/", {"file": upload(jpeg(1200, 400))})

    assert response.status_code == 201
    assert "Too wide for Instagram" in response.json()["instagram_problems"][0]


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(api, tenant, stored_files):
    response = api.post("/api/v1/assets/", {"file": upload(b"%PDF-1.4 hello", name="menu.pdf")})

    assert_problem(response, 400, "not_an_image")
    assert not BrandAsset.objects.filter(tenant=tenant).exists()
    assert stored_files() == []


def test_a_file_over_the_limit_is_refused(api, settings, stored_files):
    settings.ASSET_MAX_UPLOAD_BYTES = 1000

    response = api.post("/api/v1/assets/", {"file": upload(jpeg())})

    assert_problem(response, 400, "too_large")
    assert stored_files() == []


def test_upload_without_a_file_lists_the_field(api):
    response = api.post("/api/v1/assets/", {"alt_text": "nothing"})

    body = assert_problem(response, 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["file"]


def test_assets_are_filtered_by_folder_tag_and_text(api, tenant):
    folder = baker.make(BrandFolder, tenant=tenant, name="Menus")
    a = api.post(
        "/api/v1/assets/", {"file": upload(jpeg(colour="red"), "pasta.jpg"), "folder": folder.pk}
    ).json()
    b = api.post(
        "/api/v1/assets/", {"file": upload(jpeg(colour="blue"), "sea.jpg"), "tags": "summer"}
    ).json()

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/assets/{query}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [b["id"], a["id"]]
    assert ids(f"?folder={folder.pk}") == [a["id"]]
    assert ids("?tag=Summer") == [b["id"]]
    assert ids("?q=pasta") == [a["id"]]


def test_an_asset_is_edited_and_deleted(api, tenant):
    folder = baker.make(BrandFolder, tenant=tenant, name="Menus")
    asset = api.post("/api/v1/assets/", {"file": upload()}).json()

    edited = api.patch(
        f"/api/v1/assets/{asset['id']}/",
        {"name": "Terrace", "alt_text": "Sunset", "tags": ["evening"], "folder": folder.pk},
        content_type="application/json",
    )
    deleted = api.delete(f"/api/v1/assets/{asset['id']}/")

    assert edited.status_code == 200
    assert edited.json()["name"] == "Terrace"
    assert edited.json()["alt_text"] == "Sunset"
    assert edited.json()["tags"] == ["evening"]
    assert edited.json()["folder"] == folder.pk
    assert deleted.status_code == 204
    assert not BrandAsset.objects.filter(pk=asset["id"]).exists()


def test_another_tenants_folder_is_refused_and_nothing_changes(
    api, tenant, other_tenant, stored_files
):
    theirs = baker.make(BrandFolder, tenant=other_tenant, name="Theirs")

    folder = api.post(
        "/api/v1/folders/", {"name": "Mine", "parent": theirs.pk}, content_type="application/json"
    )
    asset = api.post("/api/v1/assets/", {"file": upload(), "folder": theirs.pk})
    listed = api.get(f"/api/v1/assets/?folder={theirs.pk}")

    assert_problem(folder, 400, "invalid")
    assert_problem(asset, 400, "invalid")
    assert listed.status_code == 200
    assert listed.json()["results"] == []
    assert not BrandFolder.objects.filter(tenant=tenant).exists()
    assert not BrandAsset.objects.filter(tenant=tenant).exists()
    assert stored_files() == []


def test_text_filters_are_taken_as_they_are(api, owner):
    # Whitespace or control characters are a filter that matches nothing, not an error; an
    # empty value (schema: minLength 1) and a NUL character are a 400, as the schema says.
    created = api.post("/api/v1/assets/", {"file": upload(), "tags": "pasta"})
    assert created.status_code == 201
    assert len(api.get("/api/v1/assets/?tag=pasta").json()["results"]) == 1
    for query in ("tag=%1D", "q=%20%20", "tag=%20&q=%09"):
        response = api.get(f"/api/v1/assets/?{query}")
        assert response.status_code == 200, query
        assert response.json()["results"] == []
    response = api.get("/api/v1/assets/?tag=pasta&q=a%00b")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["q"]


def test_a_video_uploads_over_multipart_and_shows_its_state_and_facts(
    api, tenant, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.assets import tasks
    from tests.videos import mp4

    monkeypatch.setattr(tasks.video_probe, "delay", lambda i: tasks.video_probe.apply((i,)))
    clip = upload(mp4(320, 240, seconds=3), name="clip.mp4")

    with django_capture_on_commit_callbacks(execute=False) as queued:
        created = api.post("/api/v1/assets/", {"file": clip})

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["status"], body["content_type"]) == (
        "video",
        "processing",
        "video/mp4",
    )
    assert body["poster_url"] is None
    assert body["thumbnail_url"] is None
    assert body["duration"] == pytest.approx(3, abs=0.2)  # the header's, until probed

    for callback in queued:
        callback()
    probed = api.get(f"/api/v1/assets/{body['id']}/").json()

    assert probed["status"] == "ready"
    assert probed["failure_reason"] == ""
    assert (probed["width"], probed["height"], probed["frame_rate"]) == (320, 240, 25)
    assert (probed["video_codec"], probed["audio_codec"]) == ("h264", "aac")
    assert probed["bitrate"] > 0
    assert probed["poster_url"].endswith(f"/assets/{body['id']}/thumbnail/")
    assert (
        "Not 9:16 as a Facebook Reel must be (320 \N{MULTIPLICATION SIGN} 240 px)"
        in probed["network_warnings"]
    )
    assert probed["instagram_problems"] == []


def test_an_image_has_no_video_facts(api):
    body = api.post("/api/v1/assets/", {"file": upload()}).json()

    assert (body["kind"], body["status"], body["duration"], body["poster_url"]) == (
        "image",
        "ready",
        None,
        None,
    )
    assert body["network_warnings"] == []


def test_a_four_hour_video_is_a_too_long_problem_and_nothing_is_stored(api, stored_files):
    from tests.videos import long_mp4

    response = api.post("/api/v1/assets/", {"file": upload(long_mp4(), name="night.mp4")})

    body = assert_problem(response, 400, "too_long")
    assert "4 h 0 min" in body["detail"]
    assert body["duration"] == pytest.approx(4 * 3600, abs=2)
    assert not BrandAsset.objects.exists()
    assert stored_files() == []


def test_a_video_being_converted_says_so_with_its_progress(api, tenant):
    video = baker.make(
        BrandAsset,
        tenant=tenant,
        kind="video",
        content_type="video/quicktime",
        size=1000,
        original_filename="phone.mov",
        transcode_status="converting",
        transcode_progress=40,
    )

    body = api.get(f"/api/v1/assets/{video.pk}/").json()

    assert (body["transcode_status"], body["transcode_progress"]) == ("converting", 40)
    assert body["transcode_failure_reason"] == ""

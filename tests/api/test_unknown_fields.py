"""A request body takes the fields the schema lists and no other key: an unknown key (a typo
such as ``target_ids`` for ``targets``) or a read-only field echoed back is a 400 naming it, and
nothing is written (apps.core.api.serializers.BodySerializer; docs/api.md, "Unknown and
read-only fields"). Query parameters the API does not know are still ignored."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from model_bakery import baker

from apps.assets.models import BrandAsset, BrandFolder
from apps.posts.models import CaptionUsage, Post, PostAsset
from apps.webhooks.models import WebhookEndpoint
from tests.api.helpers import assert_problem, jpeg, upload

pytestmark = pytest.mark.django_db

POST_FIELDS = (
    "caption, caption_overrides, link, targets, assets, scheduled_for, format, first_comment, "
    "cover, cover_offset_ms, share_to_feed, audio_name, collaborators, location_id, "
    "caption_ai_generated"
)
# Every app whose rows an API write could touch, with the idempotency records.
WRITTEN_APPS = ("posts", "assets", "webhooks", "social", "core")


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row an API write could change, to compare before and after a refused request."""
    rows = {}
    for label in WRITTEN_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows


def send(client, method: str, path: str, body: Any):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def refused_fields(response) -> list[dict[str, str]]:
    return assert_problem(response, 400, "invalid")["errors"]


@pytest.fixture
def asset(tenant) -> BrandAsset:
    return baker.make(BrandAsset, tenant=tenant, original_filename="terrace.jpg", width=1080)


@pytest.fixture
def folder(tenant) -> BrandFolder:
    return baker.make(BrandFolder, tenant=tenant, name="Menus")


@pytest.fixture
def post(owner, page, asset) -> Post:
    post = baker.make(Post, tenant=owner.tenant, created_by=owner.user, caption="Jazz tonight")
    post.targets.add(page)
    PostAsset.objects.create(post=post, asset=asset, position=0)
    return post


@pytest.fixture
def endpoint(tenant) -> WebhookEndpoint:
    return baker.make(
        WebhookEndpoint, tenant=tenant, url="https://hooks.example.com/x", events=["post.failed"]
    )


def test_the_probe_a_typo_of_targets_and_assets_creates_nothing(api, page, asset):
    before = snapshot()

    response = send(
        api,
        "post",
        "/api/v1/posts/",
        {"caption": "Jazz tonight", "target_ids": [page.pk], "asset_ids": [asset.pk]},
    )

    assert refused_fields(response) == [
        {
            "field": "target_ids",
            "code": "unknown_field",
            "message": f"Unknown field. Allowed: {POST_FIELDS}.",
        },
        {
            "field": "asset_ids",
            "code": "unknown_field",
            "message": f"Unknown field. Allowed: {POST_FIELDS}.",
        },
    ]
    assert Post.objects.count() == 0
    assert snapshot() == before


# (method, path, a body that is valid without the unknown key, the fields it takes); the paths
# name the fixtures' ids as {post}, {folder}, {asset}, {endpoint}.
JSON_WRITES = [
    ("post", "/api/v1/posts/", {"caption": "Hi", "targets": ["{page}"]}, POST_FIELDS),
    ("put", "/api/v1/posts/{post}/", {"caption": "Hi", "targets": ["{page}"]}, POST_FIELDS),
    ("patch", "/api/v1/posts/{post}/", {"caption": "Hi"}, POST_FIELDS),
    (
        "post",
        "/api/v1/posts/{post}/schedule/",
        {"scheduled_for": "2099-01-01T09:00:00+00:00"},
        "scheduled_for",
    ),
    ("post", "/api/v1/folders/", {"name": "Events"}, "name, parent"),
    ("patch", "/api/v1/folders/{folder}/", {"name": "Events"}, "name, parent"),
    ("patch", "/api/v1/assets/{asset}/", {"alt_text": "Terrace"}, "name, alt_text, tags, folder"),
    (
        "post",
        "/api/v1/webhook-endpoints/",
        {"url": "https://hooks.example.com/new", "events": ["post.published"]},
        "url, description, events",
    ),
    (
        "patch",
        "/api/v1/webhook-endpoints/{endpoint}/",
        {"description": "Kitchen"},
        "events, description, is_active",
    ),
    (
        "post",
        "/api/v1/captions/suggestions/",
        {"item_details": "Truffle risotto"},
        "item_details, account_ids, platforms, avoid",
    ),
]


@pytest.fixture
def ids(post, folder, asset, endpoint, page) -> Callable[[Any], Any]:
    names = {
        "{post}": post.pk,
        "{folder}": folder.pk,
        "{asset}": asset.pk,
        "{endpoint}": endpoint.pk,
        "{page}": page.pk,
    }

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            if value in names:
                return names[value]
            for name, pk in names.items():
                value = value.replace(name, str(pk))
            return value
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    return fill


@pytest.mark.parametrize(("method", "path", "body", "allowed"), JSON_WRITES)
def test_an_unknown_key_is_refused_and_nothing_changes(api, ids, method, path, body, allowed):
    before = snapshot()

    response = send(api, method, ids(path), {**ids(body), "colour": "blue"})

    assert refused_fields(response) == [
        {
            "field": "colour",
            "code": "unknown_field",
            "message": f"Unknown field. Allowed: {allowed}.",
        }
    ]
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "body", "allowed"), JSON_WRITES)
def test_the_same_body_without_the_unknown_key_is_taken(api, ids, method, path, body, allowed):
    """The bodies above are valid: the 400 is the unknown key's alone."""
    response = send(api, method, ids(path), ids(body))

    assert response.status_code in {200, 201}, response.content


def test_an_upload_with_an_unknown_form_field_stores_nothing(api, stored_files):
    before = snapshot()

    response = api.post("/api/v1/assets/", {"file": upload(), "alt_txt": "Our terrace"})

    assert refused_fields(response) == [
        {
            "field": "alt_txt",
            "code": "unknown_field",
            "message": "Unknown field. Allowed: file, folder, tags, alt_text.",
        }
    ]
    assert snapshot() == before
    assert stored_files() == []


def test_an_upload_under_another_file_name_is_refused_with_both_problems(api, stored_files):
    response = api.post("/api/v1/assets/", {"image": upload()})

    errors = refused_fields(response)
    assert [(e["field"], e["code"]) for e in errors] == [
        ("image", "unknown_field"),
        ("file", "required"),
    ]
    assert BrandAsset.objects.count() == 0
    assert stored_files() == []


def test_an_upload_with_the_answers_fields_calls_them_read_only(api):
    response = api.post("/api/v1/assets/", {"file": upload(jpeg()), "duplicate": "false"})

    assert refused_fields(response) == [
        {
            "field": "duplicate",
            "code": "read_only",
            "message": "duplicate is read-only. Allowed: file, folder, tags, alt_text.",
        }
    ]
    assert BrandAsset.objects.count() == 0


def test_patching_a_post_with_what_was_read_names_each_read_only_field(api, post):
    read = api.get(f"/api/v1/posts/{post.pk}/").json()
    before = snapshot()

    response = send(api, "patch", f"/api/v1/posts/{post.pk}/", {**read, "caption": "Changed"})

    errors = refused_fields(response)
    assert {e["field"] for e in errors} == {
        "id",
        "status",
        "submitted_at",
        "reviewed_at",
        "review_note",
        "published_at",
        "created_at",
        "updated_at",
        "publications",
        "problems",
    }
    assert {e["code"] for e in errors} == {"read_only"}
    status = next(e for e in errors if e["field"] == "status")
    assert status["message"] == f"status is read-only. Allowed: {POST_FIELDS}."
    assert snapshot() == before
    assert Post.objects.get(pk=post.pk).caption == "Jazz tonight"


def test_a_folder_patch_echoing_id_and_created_at_is_refused(api, folder):
    response = send(
        api, "patch", f"/api/v1/folders/{folder.pk}/", {"id": folder.pk, "name": "Events"}
    )

    assert refused_fields(response) == [
        {"field": "id", "code": "read_only", "message": "id is read-only. Allowed: name, parent."}
    ]
    folder.refresh_from_db()
    assert folder.name == "Menus"


def test_a_webhook_endpoints_url_cannot_be_patched(api, endpoint):
    response = send(
        api,
        "patch",
        f"/api/v1/webhook-endpoints/{endpoint.pk}/",
        {"url": "https://elsewhere.example.com/", "is_active": False},
    )

    assert [(e["field"], e["code"]) for e in refused_fields(response)] == [("url", "read_only")]
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/x"
    assert endpoint.is_active


def test_the_schedule_action_calls_other_post_fields_unknown_not_read_only(api, post):
    """It takes only ``scheduled_for``: a caption is not read-only, just not taken here."""
    response = send(
        api,
        "post",
        f"/api/v1/posts/{post.pk}/schedule/",
        {"scheduled_for": "2099-01-01T09:00:00+00:00", "caption": "x"},
    )

    assert [(e["field"], e["code"]) for e in refused_fields(response)] == [
        ("caption", "unknown_field")
    ]


def test_unknown_keys_come_with_the_other_problems_of_the_body(api):
    response = send(api, "post", "/api/v1/folders/", {"nmae": "Events"})

    errors = refused_fields(response)
    assert [(e["field"], e["code"]) for e in errors] == [
        ("nmae", "unknown_field"),
        ("name", "required"),
    ]
    assert BrandFolder.objects.count() == 0


def test_a_body_of_many_unknown_keys_gets_a_bounded_answer(api):
    body = {f"k{i}": i for i in range(5000)}

    response = send(api, "post", "/api/v1/folders/", {"name": "Events", **body})

    errors = refused_fields(response)
    assert [e["field"] for e in errors[:20]] == [f"k{i}" for i in range(20)]
    assert errors[20:] == [
        {
            "field": "",
            "code": "unknown_field",
            "message": "And 4980 more fields that are not taken.",
        }
    ]
    assert BrandFolder.objects.count() == 0


def test_an_idempotent_create_refused_for_an_unknown_key_can_be_sent_again_corrected(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "4f8e3c1e-unknown-field"}

    refused = api.post(
        "/api/v1/folders/",
        json.dumps({"name": "Events", "colour": "blue"}),
        content_type="application/json",
        **headers,
    )
    created = api.post(
        "/api/v1/folders/",
        json.dumps({"name": "Events"}),
        content_type="application/json",
        **headers,
    )

    assert refused.status_code == 400
    assert created.status_code == 201, created.content
    assert BrandFolder.objects.count() == 1


def test_a_caption_request_with_an_unknown_key_is_not_counted(api, tenant):
    response = send(
        api, "post", "/api/v1/captions/suggestions/", {"item_details": "Risotto", "tone": "fun"}
    )

    assert [(e["field"], e["code"]) for e in refused_fields(response)] == [
        ("tone", "unknown_field")
    ]
    assert not CaptionUsage.objects.filter(tenant=tenant).exists()


def test_query_parameters_the_api_does_not_know_are_still_ignored(api, post):
    response = api.get("/api/v1/posts/?utm_source=newsletter&status=draft")

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [post.pk]


def test_the_schema_says_request_bodies_take_no_other_keys(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = document["components"]["schemas"]

    bodies = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if media["schema"] == {"type": "string", "format": "binary"}:
                    continue  # a resumable upload's chunk: bytes, not keys
                name = media["schema"]["$ref"].rsplit("/", 1)[-1]
                bodies.add(name)
                assert components[name]["additionalProperties"] is False, (method, path, name)

    assert {
        "PostWriteRequest",
        "PatchedPostWriteRequest",
        "PostScheduleRequest",
        "FolderRequest",
        "PatchedFolderRequest",
        "AssetUploadRequest",
        "AssetUploadCreateRequest",
        "PatchedAssetUpdateRequest",
        "WebhookEndpointRequest",
        "PatchedWebhookEndpointUpdateRequest",
        "CaptionSuggestionsRequestRequest",
    } <= bodies
    assert list(components["PostWriteRequest"]["properties"]) == POST_FIELDS.split(", ")
    # Answers are not closed: new fields may be added to them.
    assert "additionalProperties" not in components["PostDetail"]
    # The bases' docstrings are not the API's descriptions of its bodies.
    assert "description" not in components["FolderRequest"]
    assert "description" not in components["PostWriteRequest"]

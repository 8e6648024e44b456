"""Issue 13, defect 9: the server takes what the OpenAPI schema says, and nothing it does not.

An empty query filter is not "no filter" (the schema says an enum, an integer, a non-empty text);
a JSON value of another type than the schema's is a 400, not coerced (``0`` is not a string,
``"yes"`` not a boolean, ``"12"`` not an id); bodies are JSON (a form cannot say false or null);
the webhook URL is https, and the schema says so."""

import json

import pytest
from model_bakery import baker

from apps.assets.models import BrandAsset, BrandFolder
from apps.posts.models import Post
from apps.webhooks.models import WebhookEndpoint
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db


def send(client, method, path, body):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def fields_of(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.fixture
def endpoint(tenant):
    return baker.make(
        WebhookEndpoint, tenant=tenant, url="https://hooks.example.com/x", events=["post.failed"]
    )


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/posts/", "status"),
        ("/api/v1/posts/", "account"),
        ("/api/v1/posts/", "scheduled_after"),
        ("/api/v1/posts/", "created_before"),
        ("/api/v1/publications/", "status"),
        ("/api/v1/publications/", "platform"),
        ("/api/v1/publications/", "post"),
        ("/api/v1/publications/", "account"),
        ("/api/v1/assets/", "tag"),
        ("/api/v1/assets/", "q"),
        ("/api/v1/assets/", "folder"),
        ("/api/v1/accounts/", "platform"),
        ("/api/v1/accounts/", "status"),
        ("/api/v1/webhook-deliveries/", "status"),
        ("/api/v1/webhook-deliveries/", "event"),
        ("/api/v1/webhook-deliveries/", "endpoint"),
    ],
)
def test_an_empty_filter_is_a_400_not_no_filter(api, path, parameter):
    response = api.get(f"{path}?{parameter}=")

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == [
        {
            "field": parameter,
            "code": "blank",
            "message": "Give a value, or leave the parameter out.",
        }
    ]


def test_an_empty_delete_mode_is_a_400_and_deletes_nothing(api, tenant):
    folder = baker.make(BrandFolder, tenant=tenant, name="Menus")

    response = api.delete(f"/api/v1/folders/{folder.pk}/?mode=")

    assert_problem(response, 400, "invalid")
    assert fields_of(response) == ["mode"]
    assert BrandFolder.objects.filter(pk=folder.pk).exists()


def test_filters_with_values_still_filter(api, tenant):
    baker.make(Post, tenant=tenant, status=Post.Status.DRAFT)

    assert len(api.get("/api/v1/posts/?status=draft").json()["results"]) == 1
    assert api.get("/api/v1/posts/?status=failed").json()["results"] == []
    assert api.get("/api/v1/accounts/?platform=facebook_page").status_code == 200
    assert_problem(api.get("/api/v1/accounts/?platform=myspace"), 400, "invalid")


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "false", "on", None])
def test_is_active_takes_only_a_json_boolean(api, endpoint, value):
    path = f"/api/v1/webhook-endpoints/{endpoint.pk}/"

    response = send(api, "patch", path, {"is_active": value})

    assert_problem(response, 400, "invalid")
    assert fields_of(response) == ["is_active"]
    endpoint.refresh_from_db()
    assert endpoint.is_active is True


def test_is_active_false_turns_the_endpoint_off(api, endpoint):
    path = f"/api/v1/webhook-endpoints/{endpoint.pk}/"

    response = send(api, "patch", path, {"is_active": False})

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False


@pytest.mark.parametrize("value", [0, 1.5, True, ["text"], {"a": "b"}])
def test_a_string_field_takes_only_a_json_string(api, endpoint, value):
    path = f"/api/v1/webhook-endpoints/{endpoint.pk}/"

    response = send(api, "patch", path, {"description": value})

    assert_problem(response, 400, "invalid")
    assert fields_of(response) == ["description"]
    created = send(
        api,
        "post",
        "/api/v1/webhook-endpoints/",
        {"url": "https://hooks.example.com/y", "events": ["post.failed"], "description": value},
    )
    assert_problem(created, 400, "invalid")
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/folders/", {"name": 0}, "name"),
        ("post", "/api/v1/posts/", {"caption": 0}, "caption"),
        ("post", "/api/v1/posts/", {"link": 1}, "link"),
        (
            "post",
            "/api/v1/posts/",
            {"caption_overrides": {"facebook_page": 1}},
            "caption_overrides.facebook_page",
        ),
        ("post", "/api/v1/captions/suggestions/", {"item_details": 5}, "item_details"),
        ("post", "/api/v1/captions/suggestions/", {"item_details": "x", "avoid": [1]}, "avoid"),
    ],
)
def test_numbers_are_not_taken_for_text_anywhere(api, method, path, body, field):
    response = send(api, method, path, body)

    assert_problem(response, 400, "invalid")
    assert fields_of(response)[0].startswith(field)
    assert not Post.objects.exists()
    assert not BrandFolder.objects.exists()


def test_ids_are_json_integers_not_strings(api, page, tenant):
    folder = baker.make(BrandFolder, tenant=tenant, name="Menus")
    asset = baker.make(BrandAsset, tenant=tenant, original_filename="a.jpg")

    created = send(api, "post", "/api/v1/posts/", {"targets": [str(page.pk)]})
    assert_problem(created, 400, "invalid")
    assert fields_of(created)[0].startswith("targets")
    moved = send(api, "patch", f"/api/v1/assets/{asset.pk}/", {"folder": str(folder.pk)})
    assert_problem(moved, 400, "invalid")
    assert fields_of(moved) == ["folder"]
    asset.refresh_from_db()
    assert asset.folder_id is None

    # The same ids as JSON integers are taken.
    assert send(api, "post", "/api/v1/posts/", {"targets": [page.pk]}).status_code == 201
    assert send(api, "patch", f"/api/v1/assets/{asset.pk}/", {"folder": folder.pk}).json()[
        "folder"
    ] == (folder.pk)


def test_a_list_of_ids_is_a_json_array_and_an_empty_string_is_not_null(api, tenant):
    asset = baker.make(BrandAsset, tenant=tenant, original_filename="a.jpg")
    # DRF took any iterable as the list (an object's keys: {} was []) and "" as null.
    for path, body, field in [
        ("/api/v1/posts/", {"targets": {}}, "targets"),
        ("/api/v1/captions/suggestions/", {"item_details": "x", "account_ids": {}}, "account_ids"),
    ]:
        response = send(api, "post", path, body)
        assert_problem(response, 400, "invalid")
        assert fields_of(response) == [field]
    folder = baker.make(BrandFolder, tenant=tenant, name="Menus")
    BrandAsset.objects.filter(pk=asset.pk).update(folder=folder)

    response = send(api, "patch", f"/api/v1/assets/{asset.pk}/", {"folder": ""})

    assert_problem(response, 400, "invalid")
    asset.refresh_from_db()
    assert asset.folder_id == folder.pk
    assert not Post.objects.exists()


def test_bodies_are_json_a_form_is_refused_and_changes_nothing(api, endpoint):
    # A boolean missing from a form used to read as false: this turned the endpoint off.
    response = api.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/",
        "description=kitchen",
        content_type="application/x-www-form-urlencoded",
    )

    assert_problem(response, 415, "unsupported_media_type")
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.description) == (True, "")


def test_the_schema_says_the_webhook_url_is_https(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for name in ("WebhookEndpointRequest", "WebhookEndpoint"):
        url = document["components"]["schemas"][name]["properties"]["url"]
        assert url["pattern"] == "^https://"
        assert "https" in url["description"]
    for operation in document["paths"].values():
        for method in ("post", "put", "patch"):
            content = operation.get(method, {}).get("requestBody", {}).get("content", {})
            # A resumable upload's chunk is raw bytes (docs/api.md, "Resumable uploads").
            assert set(content) <= {
                "application/json",
                "multipart/form-data",
                "application/offset+octet-stream",
            }


def test_an_http_webhook_url_is_refused(api, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False

    response = send(
        api,
        "post",
        "/api/v1/webhook-endpoints/",
        {"url": "http://hooks.example.com/x", "events": ["post.failed"]},
    )

    assert_problem(response, 400, "url_invalid")
    assert not WebhookEndpoint.objects.exists()

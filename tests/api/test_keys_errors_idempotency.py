"""Key scopes and revocation, the one error shape, idempotent retries and throttling."""

import pytest
from django.core.cache import caches
from django.test import Client
from model_bakery import baker

from apps.accounts.services import api_key_create, api_key_revoke
from apps.assets.models import BrandAsset, BrandFolder
from apps.posts.models import Post
from tests.api.helpers import assert_problem, jpeg, upload

WRITES = [
    ("post", "/api/v1/folders/", {"name": "Menus"}),
    ("post", "/api/v1/posts/", {"caption": "Hello"}),
]


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_a_read_only_key_reads_but_cannot_write(owner, key_client, method, url, body):
    client = key_client(owner, scopes=("read",))

    listed = client.get(url)
    written = getattr(client, method)(url, body, content_type="application/json")

    assert listed.status_code == 200
    body = assert_problem(written, 403, "permission_denied")
    assert body["detail"] == "This API key can only read."
    assert not BrandFolder.objects.exists()
    assert not Post.objects.exists()


def test_a_read_only_key_cannot_upload_edit_or_delete(owner, key_client, tenant, stored_files):
    client = key_client(owner, scopes=("read",))
    folder = baker.make(BrandFolder, tenant=tenant, name="Menus")

    assert_problem(client.post("/api/v1/assets/", {"file": upload()}), 403, "permission_denied")
    assert_problem(
        client.patch(
            f"/api/v1/folders/{folder.pk}/", {"name": "X"}, content_type="application/json"
        ),
        403,
        "permission_denied",
    )
    assert_problem(client.delete(f"/api/v1/folders/{folder.pk}/"), 403, "permission_denied")
    assert stored_files() == []
    folder.refresh_from_db()
    assert folder.name == "Menus"


def test_a_revoked_key_is_refused(owner):
    issued = api_key_create(actor=owner, name="old", scopes=["write"])
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {issued.key}")
    assert client.get("/api/v1/posts/").status_code == 200

    api_key_revoke(actor=owner, api_key=issued.api_key)

    response = client.get("/api/v1/posts/")
    assert_problem(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize(
    "header", ["Api-Key sa_deadbeef_wrong", "Api-Key ", "Api-Key not-even-the-format"]
)
def test_a_wrong_key_is_refused(db, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/assets/")

    assert_problem(response, 401, "authentication_failed")


def test_no_key_is_refused(db):
    assert_problem(Client().get("/api/v1/publications/"), 401, "not_authenticated")


def test_an_unknown_id_is_a_404_problem(api):
    assert_problem(api.get("/api/v1/assets/999999/"), 404, "not_found")


def test_a_method_the_route_does_not_take_is_a_405_problem(api):
    assert_problem(
        api.put("/api/v1/folders/", {}, content_type="application/json"), 405, "method_not_allowed"
    )


def test_a_malformed_body_is_a_400_problem(api):
    response = api.post("/api/v1/posts/", "{not json", content_type="application/json")

    assert_problem(response, 400, "parse_error")


# --- Idempotency ------------------------------------------------------------------------------


def test_the_same_key_and_body_replay_the_first_answer(api, tenant):
    body = {"caption": "Once", "caption_overrides": {}}

    first = api.post(
        "/api/v1/posts/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    second = api.post(
        "/api/v1/posts/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Post.objects.filter(tenant=tenant).count() == 1


def test_the_same_key_with_another_body_is_refused(api, tenant):
    api.post(
        "/api/v1/folders/",
        {"name": "A"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    response = api.post(
        "/api/v1/folders/",
        {"name": "B"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert_problem(response, 422, "idempotency_key_reused")
    assert list(BrandFolder.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["A"]


def test_a_refused_request_is_not_recorded_so_its_key_can_be_retried(api, tenant):
    refused = api.post(
        "/api/v1/folders/",
        {"name": ""},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    fixed = api.post(
        "/api/v1/folders/",
        {"name": "A"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )

    assert_problem(refused, 400, "invalid")
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed


def test_upload_retried_with_the_same_key_and_file_stores_once(api, tenant, stored_files):
    content = jpeg()

    first = api.post(
        "/api/v1/assets/", {"file": upload(content), "tags": "a"}, HTTP_IDEMPOTENCY_KEY="u-1"
    )
    files_after_first = stored_files()
    second = api.post(
        "/api/v1/assets/", {"file": upload(content), "tags": "a"}, HTTP_IDEMPOTENCY_KEY="u-1"
    )
    other_file = api.post(
        "/api/v1/assets/",
        {"file": upload(jpeg(colour="navy")), "tags": "a"},
        HTTP_IDEMPOTENCY_KEY="u-1",
    )

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert_problem(other_file, 422, "idempotency_key_reused")
    assert BrandAsset.objects.filter(tenant=tenant).count() == 1
    assert stored_files() == files_after_first


def test_keys_are_per_tenant(api, other_owner, key_client):
    theirs = key_client(other_owner)

    mine = api.post(
        "/api/v1/folders/",
        {"name": "A"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    other = theirs.post(
        "/api/v1/folders/",
        {"name": "A"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="same",
    )

    assert mine.status_code == other.status_code == 201
    assert mine.json()["id"] != other.json()["id"]


# --- Throttling -------------------------------------------------------------------------------


def test_over_the_plan_limit_is_a_429_with_retry_after(api, settings, tenant):
    settings.API_THROTTLE_RATES = {"basic": "2/hour", "pro": "2/hour", "enterprise": "2/hour"}
    caches[settings.API_THROTTLE_CACHE].clear()

    statuses = [api.get("/api/v1/posts/").status_code for _ in range(2)]
    response = api.get("/api/v1/posts/")

    assert statuses == [200, 200]
    body = assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) == body["retry_after"] > 0

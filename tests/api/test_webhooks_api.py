"""Webhook endpoints and deliveries over the API: the secret shown once, signed test events that
reach a real receiver, redelivery, roles and bad input."""

import json

import pytest

from apps.webhooks import services, tasks
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.webhooks.services import webhook_delivery_attempt
from tests.webhooks.receiver import Receiver
from tests.webhooks.refused_urls import PUBLIC_URLS, REFUSED_URLS, refused_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_targets(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True  # the receiver is on 127.0.0.1 over http


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def sent_inline(monkeypatch):
    """Deliveries queued on commit run at once in this process."""
    monkeypatch.setattr(tasks.webhook_delivery_send, "delay", tasks.webhook_delivery_send)


def post_json(client, path, body=None, **headers):
    return client.post(path, json.dumps(body or {}), content_type="application/json", **headers)


def test_create_shows_the_secret_once_and_a_test_event_arrives_signed_with_it(
    api, receiver, sent_inline, django_capture_on_commit_callbacks
):
    response = post_json(
        api,
        "/api/v1/webhook-endpoints/",
        {"url": receiver.url, "events": ["post.published", "post.failed"], "description": "KDS"},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["post.failed", "post.published"]
    endpoint_id = created["id"]

    # Never again: not in the detail, not in the list.
    detail = api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/")
    assert "secret" not in detail.json()
    assert created["secret"] not in api.get("/api/v1/webhook-endpoints/").content.decode()

    receiver.secret = created["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(api, f"/api/v1/webhook-endpoints/{endpoint_id}/test/")
    assert response.status_code == 202
    [got] = receiver.verified
    assert got.payload["type"] == "webhook.test"

    deliveries = api.get(f"/api/v1/webhook-deliveries/?endpoint={endpoint_id}").json()
    [delivery] = deliveries["results"]
    assert (delivery["event"], delivery["status"], delivery["last_status_code"]) == (
        "webhook.test",
        "succeeded",
        200,
    )


def test_rotate_answers_a_new_secret_and_the_old_one_stops_verifying(
    api, receiver, sent_inline, django_capture_on_commit_callbacks
):
    created = post_json(
        api, "/api/v1/webhook-endpoints/", {"url": receiver.url, "events": ["post.failed"]}
    ).json()
    rotated = post_json(api, f"/api/v1/webhook-endpoints/{created['id']}/rotate-secret/").json()
    assert rotated["secret"] != created["secret"]
    assert rotated["secret_rotated_at"]

    receiver.secret = created["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        post_json(api, f"/api/v1/webhook-endpoints/{created['id']}/test/")
    assert receiver.received
    assert not receiver.verified


def test_update_turn_off_and_delete(api, receiver, tenant):
    created = post_json(
        api, "/api/v1/webhook-endpoints/", {"url": receiver.url, "events": ["post.failed"]}
    ).json()
    path = f"/api/v1/webhook-endpoints/{created['id']}/"

    response = api.patch(
        path,
        json.dumps({"events": ["account.needs_reauth"], "is_active": False}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["events"], response.json()["is_active"]) == (
        ["account.needs_reauth"],
        False,
    )
    # Turned off: no new deliveries, and no test event.
    assert services.webhook_event_emit(tenant=tenant, event="account.needs_reauth", data={}) == []
    assert post_json(api, f"{path}test/").json()["code"] == "inactive"

    assert api.delete(path).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_a_failed_delivery_is_redelivered_once(
    api, receiver, tenant, sent_inline, django_capture_on_commit_callbacks
):
    created = post_json(
        api, "/api/v1/webhook-endpoints/", {"url": receiver.url, "events": ["post.failed"]}
    ).json()
    receiver.secret = created["secret"]
    receiver.answer_status = 500
    [delivery] = services.webhook_event_emit(tenant=tenant, event="post.failed", data={})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed"

    receiver.answer_status = 204
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(api, f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("succeeded", 204)

    again = post_json(api, f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")
    assert (again.status_code, again.json()["code"]) == (400, "not_failed")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://hooks.example.com/x", "events": []}, "events"),
        ({"url": "https://hooks.example.com/x", "events": ["post.eaten"]}, "events.0"),
        ({"url": "not a url", "events": ["post.failed"]}, "url"),
        ({"events": ["post.failed"]}, "url"),
    ],
)
def test_bad_bodies_are_400_problems_and_create_nothing(api, body, field):
    response = post_json(api, "/api/v1/webhook-endpoints/", body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not WebhookEndpoint.objects.exists()


def test_a_private_address_is_refused(api, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    response = post_json(
        api,
        "/api/v1/webhook-endpoints/",
        {"url": "http://10.0.0.5/hook", "events": ["post.failed"]},
    )
    assert (response.status_code, response.json()["code"]) == (400, "url_invalid")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "template", [t for t, _ in REFUSED_URLS], ids=[why for _, why in REFUSED_URLS]
)
def test_every_spelling_of_a_local_target_is_refused_as_url_invalid(api, settings, template):
    settings.WEBHOOKS_ALLOW_HTTP = False
    response = post_json(
        api,
        "/api/v1/webhook-endpoints/",
        {"url": refused_url(template), "events": ["post.failed"]},
    )
    assert (response.status_code, response.json()["code"]) == (400, "url_invalid")
    detail = response.json()["detail"]
    assert "webhooks go to public" in detail or "not a valid host" in detail
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_targets_are_accepted(api, settings, url):
    settings.WEBHOOKS_ALLOW_HTTP = False
    response = post_json(api, "/api/v1/webhook-endpoints/", {"url": url, "events": ["post.failed"]})
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_a_key_whose_creator_no_longer_manages_gets_403_even_for_reads(key_client, manager, role):
    client = key_client(manager)
    manager.role = role
    manager.save()
    for path in ("/api/v1/webhook-endpoints/", "/api/v1/webhook-deliveries/"):
        response = client.get(path)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"


def test_a_read_only_key_of_an_owner_reads_but_does_not_create(key_client, owner, receiver):
    client = key_client(owner, scopes=("read",))
    assert client.get("/api/v1/webhook-endpoints/").status_code == 200
    response = post_json(
        client, "/api/v1/webhook-endpoints/", {"url": receiver.url, "events": ["post.failed"]}
    )
    assert response.status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_a_manager_manages_them(key_client, manager, receiver):
    client = key_client(manager)
    response = post_json(
        client, "/api/v1/webhook-endpoints/", {"url": receiver.url, "events": ["post.failed"]}
    )
    assert response.status_code == 201

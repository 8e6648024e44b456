"""The webhooks pages, driven through HTTP: create (secret shown once), test event, rotate,
disable, redeliver, delete; viewers and editors are refused."""

import pytest
from django.urls import reverse

from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.webhooks.services import webhook_delivery_attempt


@pytest.fixture
def owner_client(client_for, owner):
    return client_for(owner.user)


def test_an_owner_creates_an_endpoint_and_sees_the_secret_once(
    owner_client, receiver, django_assert_max_num_queries
):
    response = owner_client.post(
        reverse("webhooks:list"),
        {"url": receiver.url, "description": "ERP", "events": ["post.published", "post.failed"]},
    )

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["post.failed", "post.published"]
    assert endpoint.secret in response.content.decode()
    assert "shown only this once" in response.content.decode()
    with django_assert_max_num_queries(10):
        listing = owner_client.get(reverse("webhooks:list"))
    detail = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk]))
    for page in (listing, detail):
        assert page.status_code == 200
        assert endpoint.secret not in page.content.decode()
        assert receiver.url in page.content.decode()


def test_a_bad_url_or_no_event_is_explained(owner_client, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    response = owner_client.post(
        reverse("webhooks:list"), {"url": "http://example.com/x", "events": ["post.failed"]}
    )
    assert response.status_code == 400
    assert "must start with https://" in response.content.decode()

    response = owner_client.post(reverse("webhooks:list"), {"url": "https://example.com/x"})
    assert response.status_code == 400
    assert "Choose at least one event." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_send_test_event_reaches_the_receiver_signed(
    owner_client, make_endpoint, receiver, sent_inline, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(["post.failed"])

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("webhooks:test", args=[endpoint.pk]))

    assert response.status_code == 302
    [got] = receiver.verified
    assert got.payload["type"] == "webhook.test"
    assert got.headers["Webhook-Event"] == "webhook.test"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded"
    page = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "webhook.test" in page
    assert "HTTP 200" in page


def test_rotating_the_secret_shows_the_new_one_once_and_the_old_one_stops_working(
    owner_client, make_endpoint, receiver, sent_inline, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    old = endpoint.secret

    response = owner_client.post(reverse("webhooks:rotate", args=[endpoint.pk]))

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert endpoint.secret != old
    assert endpoint.secret in response.content.decode()
    assert (
        endpoint.secret
        not in owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    )
    # The receiver still holds the old secret: the next delivery fails its check.
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert [r.verified for r in receiver.received] == [False]
    receiver.secret = endpoint.secret
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert [r.verified for r in receiver.received] == [False, True]


def test_disable_enable_and_delete(owner_client, make_endpoint):
    endpoint = make_endpoint()

    owner_client.post(reverse("webhooks:toggle", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    page = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "Send test event" not in page
    owner_client.post(reverse("webhooks:toggle", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active

    response = owner_client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_a_failed_delivery_can_be_redelivered_with_the_same_id(
    owner_client, make_endpoint, receiver, tenant, sent_inline, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint()
    receiver.answer_status = 500
    [delivery] = services.webhook_event_emit(tenant=tenant, event="post.failed", data={})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    page = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "Redeliver" in page
    assert "HTTP 500" in page

    receiver.answer_status = 204
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("webhooks:redeliver", args=[delivery.pk]))

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 204)
    assert receiver.received[-1].headers["Webhook-Id"] == str(delivery.event_id)
    # A succeeded delivery is not redelivered.
    owner_client.post(reverse("webhooks:redeliver", args=[delivery.pk]))
    assert len(receiver.received) == 2


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_viewers_and_editors_are_refused(client_for, make_member, tenant, make_endpoint, role):
    endpoint = make_endpoint()
    delivery = services.webhook_test_send(
        actor=endpoint.tenant.memberships.get(role="owner"), endpoint=endpoint
    )
    client = client_for(make_member(tenant, role).user)

    assert client.get(reverse("webhooks:list")).status_code == 403
    assert client.post(reverse("webhooks:list"), {"url": "https://x.test"}).status_code == 403
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 403
    for name in ("test", "rotate", "toggle", "delete"):
        assert client.post(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhooks:redeliver", args=[delivery.pk])).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_managers_see_the_menu_link_and_viewers_do_not(client_for, manager, viewer):
    assert 'href="/webhooks/"' in client_for(manager.user).get("/").content.decode()
    assert 'href="/webhooks/"' not in client_for(viewer.user).get("/").content.decode()


def test_staff_see_endpoints_and_deliveries_read_only_without_the_secret(
    client_for, staff, make_endpoint, owner
):
    endpoint = make_endpoint()
    delivery = services.webhook_test_send(actor=owner, endpoint=endpoint)
    client = client_for(staff)

    pages = [
        reverse("admin:webhooks_webhookendpoint_changelist"),
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:webhooks_webhookdelivery_changelist"),
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert endpoint.secret not in response.content.decode()
    assert client.get(reverse("admin:webhooks_webhookendpoint_add")).status_code == 403

"""A test event delivered by a real Celery worker process (Redis) to the local receiver."""

import time

import pytest

from apps.webhooks import services, tasks
from apps.webhooks.models import WebhookDelivery
from tests.conftest import CeleryWorker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_worker_delivers_a_signed_event(owner, make_endpoint, receiver, monkeypatch):
    queue = f"test-{time.monotonic_ns()}"
    monkeypatch.setattr(
        tasks.webhook_delivery_send,
        "delay",
        lambda delivery_id: tasks.webhook_delivery_send.apply_async((delivery_id,), queue=queue),
    )
    worker = CeleryWorker(queue, WEBHOOKS_ALLOW_HTTP="true").start()
    try:
        endpoint = make_endpoint()
        delivery = services.webhook_test_send(actor=owner, endpoint=endpoint)

        assert wait_until(
            lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded", timeout=60
        ), WebhookDelivery.objects.values("status", "last_error").get(pk=delivery.pk)
    finally:
        worker.stop()
    [got] = receiver.received
    assert got.verified
    assert got.payload["id"] == str(delivery.event_id)

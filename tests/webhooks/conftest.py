"""Fixtures for the webhooks tests: a real receiver on 127.0.0.1, endpoints pointing at it, and
deliveries run in this process (the worker test in test_worker.py uses a real Celery worker)."""

from collections.abc import Iterator

import pytest

from apps.webhooks import services, tasks
from apps.webhooks.models import Event, WebhookEndpoint
from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def local_targets(settings):
    """The receiver is on 127.0.0.1 over http: allowed for tests (SSRF tests turn it off)."""
    settings.WEBHOOKS_ALLOW_HTTP = True


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def make_endpoint(owner, receiver):
    def make(events=tuple(Event.values), *, membership=None, url=None) -> WebhookEndpoint:
        issued = services.webhook_endpoint_create(
            actor=membership or owner, url=url or receiver.url, events=list(events)
        )
        receiver.secret = issued.secret
        return issued.endpoint

    return make


@pytest.fixture
def sent_inline(monkeypatch):
    """Queued deliveries run at once in this process; retries queued with a countdown are
    recorded, not run (the tests move the clock by editing next_attempt_at)."""
    countdowns: list[tuple[int, float]] = []
    monkeypatch.setattr(tasks.webhook_delivery_send, "delay", tasks.webhook_delivery_send)
    monkeypatch.setattr(
        tasks.webhook_delivery_send,
        "apply_async",
        lambda args, countdown: countdowns.append((args[0], countdown)),
    )
    return countdowns

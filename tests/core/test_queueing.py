"""Services queue tasks by name (apps.core.queueing): the registered task is what runs."""

import pytest

from apps.core.queueing import task_queue, task_queue_on_commit
from apps.webhooks import tasks


def test_a_task_is_queued_through_its_registered_delay_and_apply_async(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.webhook_delivery_send, "delay", lambda *a: sent.append(a))
    monkeypatch.setattr(
        tasks.webhook_delivery_send,
        "apply_async",
        lambda args, countdown: sent.append((*args, countdown)),
    )

    task_queue("webhooks.delivery_send", 7)
    task_queue("webhooks.delivery_send", 8, countdown=30)

    assert sent == [(7,), (8, 30)]


def test_an_unknown_task_name_fails_at_once():
    with pytest.raises(KeyError):
        task_queue("webhooks.no_such_task")


@pytest.mark.django_db
def test_on_commit_waits_for_the_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.webhook_delivery_send, "delay", lambda *a: sent.append(a))

    with django_capture_on_commit_callbacks(execute=True):
        task_queue_on_commit("webhooks.delivery_send", 9)
        assert sent == []

    assert sent == [(9,)]

"""Celery tasks of the webhooks: thin, ids in, idempotent (see services)."""

from celery import shared_task

from apps.webhooks import services


@shared_task(name="webhooks.delivery_send")
def webhook_delivery_send(delivery_id: int) -> str:
    """One attempt of one delivery; a succeeded or not-yet-due delivery is left alone."""
    return services.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.deliveries_retry_due")
def webhook_deliveries_retry_due() -> int:
    """Every minute: queue deliveries whose retry is due."""
    return services.webhook_deliveries_queue_due()

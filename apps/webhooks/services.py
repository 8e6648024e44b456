"""Outgoing webhooks: endpoints (secret shown once), events turned into deliveries inside the
caller's transaction, and delivery attempts claimed, sent after commit and retried with backoff.
"""

import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Membership, Tenant
from apps.core.exceptions import ApplicationError, NotPermitted
from apps.core.queueing import task_queue
from apps.webhooks import sending, targets
from apps.webhooks.models import (
    TEST_EVENT,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
    webhook_secret_new,
)

logger = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 30
# A claimed attempt owns the delivery this long (far more than the 10 s HTTP timeout).
CLAIM_LEASE_SECONDS = 120
# Retries due sooner than this are queued with a countdown; later ones wait for the beat job.
COUNTDOWN_MAX_SECONDS = 300
DELIVERY_SEND = "webhooks.delivery_send"  # the task, queued by name (apps.core.queueing)
CAPTION_EXCERPT = 140

D = WebhookDelivery.Status


@dataclass(frozen=True)
class IssuedSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def _require_manager(actor: Membership) -> None:
    if not actor.can_manage:
        raise NotPermitted("Only owners and managers can manage webhooks.")


def _same_tenant(actor: Membership, obj: WebhookEndpoint | WebhookDelivery) -> None:
    if obj.tenant_id != actor.tenant_id:
        raise NotPermitted("That webhook belongs to another business.")


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise ApplicationError("Choose at least one event.", code="events_required")
    unknown = [e for e in chosen if e not in Event.values]
    if unknown:
        raise ApplicationError(f"Unknown event “{unknown[0]}”.", code="events_invalid")
    return chosen


def _clean_url(url: str) -> str:
    url = url.strip()
    if len(url) > 2000:
        raise ApplicationError("The URL is too long.", code="url_invalid")
    problem = targets.url_problem(url, allow_local=targets.local_targets_allowed())
    if problem:
        raise ApplicationError(problem, code="url_invalid")
    return url


# --- Endpoints --------------------------------------------------------------------------------


def webhook_endpoint_create(
    *, actor: Membership, url: str, events: Iterable[str], description: str = ""
) -> IssuedSecret:
    """A new endpoint of the actor's tenant with a fresh secret, returned once."""
    _require_manager(actor)
    endpoint = WebhookEndpoint.objects.create(
        tenant=actor.tenant,
        url=_clean_url(url),
        events=_clean_events(events),
        description=description.strip()[:200],
        secret=webhook_secret_new(),
        created_by=actor.user,
    )
    logger.info("webhook_endpoint_created", webhook_endpoint_id=endpoint.pk, events=endpoint.events)
    return IssuedSecret(endpoint=endpoint, secret=endpoint.secret)


def webhook_endpoint_update(
    *, actor: Membership, endpoint: WebhookEndpoint, events: Iterable[str], description: str
) -> WebhookEndpoint:
    _require_manager(actor)
    _same_tenant(actor, endpoint)
    endpoint.events = _clean_events(events)
    endpoint.description = description.strip()[:200]
    endpoint.save(update_fields=["events", "description"])
    return endpoint


def webhook_endpoint_secret_rotate(*, actor: Membership, endpoint: WebhookEndpoint) -> IssuedSecret:
    """Replace the secret at once (the old one stops working); the new one is returned once."""
    _require_manager(actor)
    _same_tenant(actor, endpoint)
    endpoint.secret = webhook_secret_new()
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret", "secret_rotated_at"])
    logger.info("webhook_secret_rotated", webhook_endpoint_id=endpoint.pk)
    return IssuedSecret(endpoint=endpoint, secret=endpoint.secret)


def webhook_endpoint_set_active(
    *, actor: Membership, endpoint: WebhookEndpoint, active: bool
) -> WebhookEndpoint:
    """Disabled endpoints get no new deliveries; pending ones fail when their turn comes."""
    _require_manager(actor)
    _same_tenant(actor, endpoint)
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active"])
    return endpoint


def webhook_endpoint_delete(*, actor: Membership, endpoint: WebhookEndpoint) -> None:
    _require_manager(actor)
    _same_tenant(actor, endpoint)
    logger.info("webhook_endpoint_deleted", webhook_endpoint_id=endpoint.pk)
    endpoint.delete()


# --- Events -----------------------------------------------------------------------------------


def _queue_on_commit(delivery_ids: list[int]) -> None:
    def queue() -> None:
        for delivery_id in delivery_ids:
            task_queue(DELIVERY_SEND, delivery_id)

    transaction.on_commit(queue)


def _delivery_create(
    *, tenant: Tenant, endpoint: WebhookEndpoint, event: str, data: Mapping[str, Any]
) -> WebhookDelivery:
    event_id = uuid.uuid4()
    now = timezone.now()
    payload = {
        "id": str(event_id),
        "type": event,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "tenant": {"id": tenant.pk, "slug": tenant.slug},
        "data": dict(data),
    }
    return WebhookDelivery.objects.create(
        tenant=tenant,
        endpoint=endpoint,
        event=event,
        event_id=event_id,
        payload=payload,
        next_attempt_at=now,
    )


def webhook_event_emit(
    *,
    tenant: Tenant,
    event: str,
    data: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
) -> list[WebhookDelivery]:
    """One delivery per active endpoint of ``tenant`` subscribed to ``event``, written in the
    caller's transaction and sent after it commits. ``data`` may be a callable, built only when
    someone is subscribed."""
    if event not in Event.values:
        raise ValueError(f"unknown webhook event {event!r}")
    # Filtered in Python: JSON containment is not available on SQLite (the `make run` set-up),
    # and a tenant has a handful of endpoints.
    endpoints = [
        e
        for e in WebhookEndpoint.objects.for_tenant(tenant).filter(is_active=True)
        if e.subscribes_to(event)
    ]
    if not endpoints:
        return []
    body = data() if callable(data) else data
    with transaction.atomic():
        deliveries = [
            _delivery_create(tenant=tenant, endpoint=e, event=event, data=body) for e in endpoints
        ]
        _queue_on_commit([d.pk for d in deliveries])
    logger.info("webhook_event_emitted", webhook_event=event, deliveries=len(deliveries))
    return deliveries


def post_event_data(post: Any) -> dict[str, Any]:
    """What a post.* event says about a post."""
    caption = " ".join((post.caption or "").split())
    return {
        "post": {
            "id": post.pk,
            "status": post.status,
            "caption_excerpt": caption[:CAPTION_EXCERPT]
            + ("…" if len(caption) > CAPTION_EXCERPT else ""),
            "scheduled_for": post.scheduled_for.isoformat() if post.scheduled_for else None,
            "published_at": post.published_at.isoformat() if post.published_at else None,
            "review_note": post.review_note or "",
            "publications": [
                {
                    "id": p.pk,
                    "account_id": p.account_id,
                    "platform": p.account.platform,
                    "status": p.status,
                    "permalink": p.permalink,
                    "error": p.last_error,
                }
                for p in post.publications.select_related("account").exclude(status="cancelled")
            ],
        }
    }


def account_event_data(account: Any, *, reason: str) -> dict[str, Any]:
    """What an account.* event says about a connected account."""
    return {
        "account": {
            "id": account.pk,
            "platform": account.platform,
            "name": account.name,
            "username": account.username,
            "status": account.status,
            "reason": reason,
        }
    }


def webhook_post_event(*, post: Any, event: str) -> list[WebhookDelivery]:
    """Emit a post.* event (the one-line hook of apps.posts.services)."""
    return webhook_event_emit(tenant=post.tenant, event=event, data=lambda: post_event_data(post))


def webhook_test_send(*, actor: Membership, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` delivery to this endpoint only, sent right away."""
    _require_manager(actor)
    _same_tenant(actor, endpoint)
    if not endpoint.is_active:
        raise ApplicationError("Enable the endpoint to send it a test event.", code="inactive")
    with transaction.atomic():
        delivery = _delivery_create(
            tenant=actor.tenant,
            endpoint=endpoint,
            event=TEST_EVENT,
            data={"message": "A test event from Social Automation.", "endpoint_id": endpoint.pk},
        )
        _queue_on_commit([delivery.pk])
    return delivery


def webhook_delivery_redeliver(*, actor: Membership, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again, same event id (receivers deduplicate on it), fresh attempts."""
    _require_manager(actor)
    _same_tenant(actor, delivery)
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .get(pk=delivery.pk)
        )
        if delivery.status != D.FAILED:
            raise ApplicationError("Only a failed delivery can be sent again.", code="not_failed")
        if not delivery.endpoint.is_active:
            raise ApplicationError("Enable the endpoint first.", code="inactive")
        delivery.status = D.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.last_error = ""
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
        _queue_on_commit([delivery.pk])
    return delivery


# --- Attempts ---------------------------------------------------------------------------------


def retry_delay_seconds(attempts: int) -> float:
    """30 s * 2^(n-1) after the n-th failed attempt, ±25 % jitter so retries spread out."""
    base = RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return base * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not security


def webhook_delivery_attempt(*, delivery_id: int) -> str:
    """One attempt of a pending, due delivery; anything else (succeeded, failed, not due, or
    claimed by a concurrent run) is left alone, so running it twice sends once. Returns what
    happened."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=CLAIM_LEASE_SECONDS)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=D.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=lease_until)
    )
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    mine = WebhookDelivery.objects.filter(
        pk=delivery_id, status=D.PENDING, next_attempt_at=lease_until
    )
    if not endpoint.is_active:
        mine.update(status=D.FAILED, next_attempt_at=None, last_error="The endpoint is disabled.")
        return "failed"
    try:
        result = sending.send(
            url=endpoint.url,
            secret=endpoint.secret,
            body=sending.body_encode(delivery.payload),
            event=delivery.event,
            event_id=str(delivery.event_id),
            now=int(timezone.now().timestamp()),
        )
    except targets.TargetRefused as exc:
        # Not retried: the address will not become acceptable by waiting.
        mine.update(
            status=D.FAILED,
            attempts=delivery.attempts + 1,
            next_attempt_at=None,
            last_status_code=None,
            last_response="",
            last_error=f"Refused: {exc}",
        )
        logger.warning("webhook_target_refused", webhook_delivery_id=delivery_id)
        return "refused"
    attempts = delivery.attempts + 1
    outcome = {
        "attempts": attempts,
        "last_status_code": result.status_code,
        "last_response": result.response_excerpt,
        "last_error": result.error,
    }
    if result.ok:
        mine.update(
            status=D.SUCCEEDED, next_attempt_at=None, delivered_at=timezone.now(), **outcome
        )
        logger.info("webhook_delivered", webhook_delivery_id=delivery_id, attempts=attempts)
        return "succeeded"
    if attempts >= MAX_ATTEMPTS:
        mine.update(status=D.FAILED, next_attempt_at=None, **outcome)
        logger.warning("webhook_delivery_failed", webhook_delivery_id=delivery_id)
        return "failed"
    delay = retry_delay_seconds(attempts)
    mine.update(next_attempt_at=timezone.now() + timedelta(seconds=delay), **outcome)
    if delay <= COUNTDOWN_MAX_SECONDS:
        # +1 s: arrive just after next_attempt_at, so the claim above finds it due.
        task_queue(DELIVERY_SEND, delivery_id, countdown=delay + 1)
    return "retry"


def webhook_deliveries_queue_due(*, limit: int = 500) -> int:
    """The beat job: queue pending deliveries that are due (later retries, lost messages)."""
    ids = list(
        WebhookDelivery.objects.filter(status=D.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in ids:
        task_queue(DELIVERY_SEND, delivery_id)
    return len(ids)

"""Events become deliveries for subscribed, active endpoints only; deliveries are signed, sent
once, retried with backoff and then given up; the SSRF guard refuses private addresses."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from model_bakery import baker

from apps.core.exceptions import ApplicationError
from apps.posts import services as posts
from apps.posts.models import Post, Publication
from apps.posts.services import PostInput
from apps.social.models import ConnectedAccount
from apps.social.services import accounts_mark_needs_reauth
from apps.webhooks import sending, services, targets
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services import MAX_ATTEMPTS, RETRY_BASE_SECONDS, webhook_delivery_attempt
from tests.webhooks.receiver import verify


@pytest.fixture
def page(tenant):
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="facebook_page",
        platform_id="1",
        name="Chez Test",
        status="active",
    )


def submitted_post(owner, page) -> Post:
    post = posts.post_create(
        actor=owner, data=PostInput(caption="Soup of the day", target_ids=[page.pk])
    )
    return posts.post_submit(actor=owner, post=post)


def approved_post(owner, page, staff) -> Post:
    return posts.post_approve(reviewer=staff, post=submitted_post(owner, page))


def events_of(endpoint) -> list[str]:
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event", flat=True))


@pytest.fixture
def endpoints(make_endpoint, make_member, other_tenant, receiver, owner):
    """One endpoint per situation: everything, post events only, disabled, another tenant's."""
    everything = make_endpoint()
    posts_only = make_endpoint(["post.published", "post.failed"])
    disabled = make_endpoint()
    services.webhook_endpoint_set_active(actor=owner, endpoint=disabled, active=False)
    foreign = make_endpoint(membership=make_member(other_tenant, "owner"))
    return {
        "everything": everything,
        "posts_only": posts_only,
        "disabled": disabled,
        "foreign": foreign,
    }


def test_approve_and_reject_emit_to_subscribed_active_endpoints_only(
    owner, page, staff, endpoints, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        post = approved_post(owner, page, staff)
    assert len(queued) >= 1  # the deliveries are queued on commit, not sent inside it

    posts.post_reject(reviewer=staff, post=post, note="Wrong photo")

    assert events_of(endpoints["everything"]) == ["post.rejected", "post.approved"]
    assert events_of(endpoints["posts_only"]) == []
    assert events_of(endpoints["disabled"]) == []
    assert events_of(endpoints["foreign"]) == []
    rejected = WebhookDelivery.objects.get(event="post.rejected")
    assert rejected.payload["type"] == "post.rejected"
    assert rejected.payload["id"] == str(rejected.event_id)
    assert rejected.payload["tenant"] == {"id": owner.tenant_id, "slug": "chez-test"}
    assert rejected.payload["data"]["post"]["id"] == post.pk
    assert rejected.payload["data"]["post"]["status"] == "rejected"
    assert rejected.payload["data"]["post"]["review_note"] == "Wrong photo"
    assert rejected.payload["data"]["post"]["caption_excerpt"] == "Soup of the day"


@pytest.mark.parametrize(
    ("outcome", "event", "status"),
    [("published", "post.published", "published"), ("failed", "post.failed", "failed")],
)
def test_the_end_of_publishing_emits_published_or_failed(
    owner, page, staff, endpoints, outcome, event, status
):
    post = approved_post(owner, page, staff)
    Publication.objects.filter(post=post).update(
        status=outcome, permalink="https://facebook.test/1" if outcome == "published" else ""
    )

    posts.post_refresh_status(post_id=post.pk)
    posts.post_refresh_status(post_id=post.pk)  # a second refresh changes nothing

    assert events_of(endpoints["everything"]) == [event, "post.approved"]
    assert events_of(endpoints["posts_only"]) == [event]
    assert events_of(endpoints["disabled"]) == events_of(endpoints["foreign"]) == []
    data = WebhookDelivery.objects.filter(event=event).first().payload["data"]["post"]
    assert data["status"] == status
    assert [p["status"] for p in data["publications"]] == [outcome]
    assert data["publications"][0]["platform"] == "facebook_page"


def test_an_account_needing_reconnection_is_announced(page, endpoints):
    accounts_mark_needs_reauth(accounts=[page], reason="The token expired.")
    accounts_mark_needs_reauth(accounts=[page], reason="Again")  # already marked: no new event

    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoints["everything"])
    assert delivery.event == "account.needs_reauth"
    assert delivery.payload["data"]["account"] == {
        "id": page.pk,
        "platform": "facebook_page",
        "name": "Chez Test",
        "username": page.username,
        "status": "needs_reauth",
        "reason": "The token expired.",
    }
    assert not WebhookDelivery.objects.exclude(endpoint=endpoints["everything"]).exists()


def test_no_endpoint_means_no_delivery_and_no_payload_built(tenant):
    def payload() -> dict:
        raise AssertionError("built although nobody listens")

    assert services.webhook_event_emit(tenant=tenant, event="post.failed", data=payload) == []


def test_a_delivery_is_signed_and_verified_by_the_receiver_and_sent_once(
    make_endpoint, receiver, tenant
):
    endpoint = make_endpoint()
    [delivery] = services.webhook_event_emit(
        tenant=tenant, event="post.published", data={"post": {"id": 1}}
    )

    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "skipped"  # idempotent

    [got] = receiver.received
    assert got.verified
    assert got.payload == delivery.payload
    assert got.headers["Webhook-Id"] == str(delivery.event_id)
    assert got.headers["Webhook-Event"] == "post.published"
    assert got.headers["Content-Type"] == "application/json"
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    assert '"ok": true' in delivery.last_response
    assert endpoint.secret.startswith("whsec_")


def test_a_tampered_body_or_an_old_timestamp_fails_verification(make_endpoint, receiver, tenant):
    make_endpoint()
    [delivery] = services.webhook_event_emit(
        tenant=tenant, event="post.failed", data={"post": {"id": 1}}
    )
    webhook_delivery_attempt(delivery_id=delivery.pk)
    [good] = receiver.received
    header = good.headers["Webhook-Signature"]

    tampered = good.body.replace(b'"id":1', b'"id":2')
    forwarded = {k: v for k, v in good.headers.items() if k.lower().startswith("webhook-")}
    response = httpx.post(receiver.url, content=tampered, headers=forwarded)
    assert response.status_code == 400
    assert not receiver.received[-1].verified

    old = int(timezone.now().timestamp()) - 301
    stale = sending.signature_header(secret=receiver.secret, timestamp=old, body=good.body)
    assert not verify(receiver.secret, good.body, stale)
    replayed = httpx.post(
        receiver.url, content=good.body, headers={**forwarded, "Webhook-Signature": stale}
    )
    assert replayed.status_code == 400
    assert not verify("whsec_another", good.body, header)
    assert verify(receiver.secret, good.body, header)


def test_failures_are_retried_with_backoff_then_given_up(
    make_endpoint, receiver, tenant, sent_inline
):
    make_endpoint()
    receiver.answer_status = 500
    [delivery] = services.webhook_event_emit(tenant=tenant, event="post.failed", data={})

    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = timezone.now()
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        assert delivery.last_status_code == 500
        if attempt < MAX_ATTEMPTS:
            assert outcome == "retry"
            assert delivery.status == "pending"
            delay = (delivery.next_attempt_at - before).total_seconds()
            expected = RETRY_BASE_SECONDS * 2 ** (attempt - 1)
            assert 0.74 * expected <= delay <= 1.26 * expected + 1
            delays.append(delay)
            # Not due yet: running it early does nothing.
            assert webhook_delivery_attempt(delivery_id=delivery.pk) == "skipped"
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                next_attempt_at=timezone.now() - timedelta(seconds=1)
            )
        else:
            assert outcome == "failed"
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None
    assert len(receiver.received) == MAX_ATTEMPTS
    assert all(r.verified for r in receiver.received)
    # Short waits ride on a countdown; longer ones on the every-minute beat job.
    countdowns = [c for _, c in sent_inline]
    assert len(countdowns) == len([d for d in delays if d <= 300]) >= 3
    assert all(abs(c - (d + 1)) < 1 for c, d in zip(countdowns, delays, strict=False))
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "skipped"


def test_the_retry_job_queues_due_deliveries_only(make_endpoint, tenant, sent_inline, receiver):
    make_endpoint()
    due, later = (
        services.webhook_event_emit(tenant=tenant, event="post.failed", data={})[0]
        for _ in range(2)
    )
    WebhookDelivery.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    assert services.webhook_deliveries_queue_due() == 1

    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == ("succeeded", "pending")


def test_a_disabled_endpoint_fails_its_pending_deliveries(make_endpoint, owner, tenant, receiver):
    endpoint = make_endpoint()
    [delivery] = services.webhook_event_emit(tenant=tenant, event="post.failed", data={})
    services.webhook_endpoint_set_active(actor=owner, endpoint=endpoint, active=False)

    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "failed"
    assert receiver.received == []


# --- SSRF guard -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "http://127.0.0.1:8000/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://user:pass@example.com/hook",
        "ftp://example.com/hook",
    ],
)
def test_endpoints_must_be_public_https_in_production(owner, settings, url):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.DEBUG = False

    with pytest.raises(ApplicationError) as exc:
        services.webhook_endpoint_create(actor=owner, url=url, events=["post.failed"])
    assert exc.value.code == "url_invalid"


def test_a_host_resolving_to_a_private_address_is_refused_at_send_time(
    make_endpoint, receiver, tenant, settings, monkeypatch
):
    # A name (not an address) passes the form; what it resolves to is checked before sending.
    make_endpoint(url="https://hooks.example.com/hooks")
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.DEBUG = False
    monkeypatch.setattr(
        targets.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(2, 1, 6, "", ("127.0.0.1", port))],
    )
    [delivery] = services.webhook_event_emit(tenant=tenant, event="post.failed", data={})

    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "refused"

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "private or reserved address" in delivery.last_error
    assert receiver.received == []


@pytest.mark.parametrize("allow_local", [True, False])
@pytest.mark.parametrize(
    "host",
    ["169.254.169.254", "224.0.0.1", "0.0.0.0", "[fe80::1]"],  # noqa: S104
)
def test_link_local_multicast_and_unspecified_are_never_allowed(host, allow_local):
    with pytest.raises(targets.TargetRefused):
        targets.target_resolve(f"https://{host}/x", allow_local=allow_local)


def test_public_addresses_pass_and_local_ones_only_when_allowed():
    assert targets.target_resolve("https://93.184.215.14/x", allow_local=False) == "93.184.215.14"
    assert targets.target_resolve("http://127.0.0.1:9/x", allow_local=True) == "127.0.0.1"
    with pytest.raises(targets.TargetRefused):
        targets.target_resolve("https://127.0.0.1:9/x", allow_local=False)
    with pytest.raises(targets.TargetRefused):
        targets.target_resolve("https://100.64.0.1/x", allow_local=False)

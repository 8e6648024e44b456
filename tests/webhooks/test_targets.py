"""The SSRF guard (apps.webhooks.targets) sees through every spelling of a non-public target, at
validation (the dashboard form; the API in tests/api/test_webhooks_api.py) and when sending."""

import socket

import pytest
from django.urls import reverse
from model_bakery import baker

from apps.webhooks import services, targets
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.webhooks.services import webhook_delivery_attempt
from tests.webhooks.refused_urls import PUBLIC_URLS, REFUSED_URLS, refused_url

refused = pytest.mark.parametrize(
    "template", [t for t, _ in REFUSED_URLS], ids=[why for _, why in REFUSED_URLS]
)


@pytest.fixture
def production(settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.DEBUG = False


@refused
def test_the_dashboard_form_refuses_every_spelling_of_a_local_target(
    client_for, owner, production, template
):
    response = client_for(owner.user).post(
        reverse("webhooks:list"), {"url": refused_url(template), "events": ["post.failed"]}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "webhooks go to public" in page or "not a valid host" in page
    assert not WebhookEndpoint.objects.exists()


@refused
def test_a_stored_endpoint_with_such_a_url_gets_nothing(
    owner, tenant, receiver, production, template
):
    # As if stored before the guard knew the spelling: the sender refuses it on its own.
    endpoint = baker.make(
        WebhookEndpoint,
        tenant=tenant,
        url=refused_url(template, receiver.url.split(":")[2].split("/")[0]),
        events=["post.failed"],
    )
    [delivery] = services.webhook_event_emit(tenant=tenant, event="post.failed", data={})

    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "refused"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.FAILED, 1)
    assert delivery.last_error.startswith("Refused: ")
    assert receiver.received == []
    assert endpoint.deliveries.count() == 1


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_targets_pass_in_any_spelling(url):
    assert targets.url_problem(url, allow_local=False) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("0x7f000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0x0.01", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("10.1.65535", "10.1.255.255"),
        ("0", "0.0.0.0"),  # noqa: S104
        ("hooks.example.com", None),
        ("0xg.example", None),
    ],
)
def test_hosts_are_read_as_resolvers_read_them(host, address):
    parsed = targets.host_address(host)
    assert (str(parsed) if parsed else None) == address


@pytest.mark.parametrize("host", ["1.2.3.4.5", "08.0.0.1", "256.0.0.1", "1.16777216", "a b.com"])
def test_numeric_hosts_that_are_no_address_are_refused(host):
    assert "not a valid host" in targets.url_problem(f"https://{host}/x", allow_local=True)


@pytest.mark.parametrize(
    "resolved",
    ["64:ff9b::a9fe:a9fe", "::ffff:10.0.0.1", "2002:a00:1::", "127.0.0.1", "100.64.0.9"],
)
def test_a_public_looking_name_resolving_to_a_local_address_is_refused_at_send_time(
    make_endpoint, receiver, tenant, settings, monkeypatch, resolved
):
    make_endpoint(url="https://hooks.example.com/hooks")
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.DEBUG = False
    family = socket.AF_INET6 if ":" in resolved else socket.AF_INET
    monkeypatch.setattr(
        targets.socket,
        "getaddrinfo",
        lambda host, port, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (family, socket.SOCK_STREAM, 6, "", (resolved, port)),
        ],
    )
    [delivery] = services.webhook_event_emit(tenant=tenant, event="post.failed", data={})

    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "refused"

    delivery.refresh_from_db()
    assert f"resolves to {resolved}, a private or reserved address" in delivery.last_error
    assert receiver.received == []


@pytest.mark.parametrize(
    "host",
    ["[64:ff9b::a9fe:a9fe]", "[::ffff:169.254.169.254]", "[2002:a9fe:a9fe::]", "0xa9fea9fe", "0"],
)
def test_metadata_and_unspecified_stay_refused_in_development(host):
    with pytest.raises(targets.TargetRefused):
        targets.target_resolve(f"https://{host}/x", allow_local=True)


def test_the_test_receiver_stays_reachable_in_development(receiver):
    assert targets.url_problem(receiver.url, allow_local=True) is None
    assert targets.target_resolve(receiver.url, allow_local=True) == "127.0.0.1"
    assert "https://" in targets.url_problem(receiver.url, allow_local=False)

"""The idempotency store never keeps a secret shown once (issue 13): a replayed webhook endpoint
create answers its secret as null and says why; the first answer still shows it."""

import json

import pytest
from django.db import connection

from apps.core.api.idempotency import replay_body
from apps.core.models import IdempotencyKey
from apps.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

ENDPOINT = {"url": "https://hooks.example.com/social", "events": ["post.failed"]}


def create(api, key="wh-1"):
    return api.post(
        "/api/v1/webhook-endpoints/",
        json.dumps(ENDPOINT),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def stored_text() -> str:
    """The idempotency table as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM core_idempotencykey t")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_replayed_webhook_create_withholds_the_secret_and_stores_none(api, tenant):
    first = create(api)
    second = create(api)

    assert first.status_code == second.status_code == 201
    shown = first.json()
    assert shown["secret"].startswith("whsec_")
    assert "withheld" not in shown
    assert "Idempotent-Withheld" not in first

    row = IdempotencyKey.objects.get(tenant=tenant, key="wh-1")
    assert row.response_body["secret"] is None
    assert "whsec_" not in stored_text()

    replayed = second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["Idempotent-Withheld"] == "secret"
    assert "whsec_" not in second.content.decode()
    assert replayed["secret"] is None
    assert replayed["withheld"]["secret"].startswith(
        "Shown only in the first answer to this Idempotency-Key; it is not kept."
    )
    assert "rotate-secret" in replayed["withheld"]["secret"]
    assert {k: v for k, v in replayed.items() if k not in ("secret", "withheld")} == {
        k: v for k, v in shown.items() if k != "secret"
    }
    [endpoint] = WebhookEndpoint.objects.filter(tenant=tenant)
    assert endpoint.secret == shown["secret"]  # the replay created and rotated nothing


def test_a_create_without_shown_once_fields_is_kept_whole(api, tenant):
    first = api.post(
        "/api/v1/folders/", {"name": "A"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="f"
    )
    second = api.post(
        "/api/v1/folders/", {"name": "A"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="f"
    )

    assert second.json() == first.json()
    assert "withheld" not in second.json()
    assert "Idempotent-Withheld" not in second


def test_replay_body_blanks_only_the_declared_fields_present():
    kept = replay_body({"id": 1, "secret": "whsec_x"}, {"secret": "Rotate it.", "token": "-"})

    assert kept == {
        "id": 1,
        "secret": None,
        "withheld": {
            "secret": "Shown only in the first answer to this Idempotency-Key; it is not kept. "
            "Rotate it."
        },
    }
    assert replay_body([1, 2], {}) == [1, 2]
    with pytest.raises(TypeError):
        replay_body(["whsec_x"], {"secret": ""})

"""The secrets guard (tests/secrets_guard.py) finds what it is there to find: each scanner is
shown a planted token and must name where it is, without printing it. The plants are removed
before the test ends, so the guard's own end-of-test scan stays clean."""

import time

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory

from apps.accounts.models import Tenant
from apps.accounts.services import api_key_create
from apps.core.logging import redact_text
from apps.social.models import AccessToken
from apps.webhooks.models import WebhookEndpoint, webhook_secret_new
from sandbox.tokens import PAGE, TokenSigner
from tests import secrets_guard as guard


@pytest.fixture
def token() -> str:
    signer = TokenSigner("sandbox-app", "sandbox-secret")
    claims = signer.issue_user(
        user_id="100000000000001",
        scopes=("pages_manage_posts",),
        now=time.time(),
        lifetime=3600,
        long_lived=True,
    )
    minted = signer.encode(signer.derive_page(claims, "101000000000001"))
    assert minted.startswith("EAAS")
    assert signer.decode(minted).kind == PAGE
    return minted


def test_the_pattern_finds_a_token_in_text_and_not_its_safe_forms(token):
    assert guard.count_tokens(f"GET /me?access_token={token}&x=1") == 1
    assert guard.count_tokens(f'{{"a": "{token}", "b": "{token}"}}'.encode()) == 2
    assert guard.count_tokens(redact_text(f"access_token={token}")) == 0
    assert guard.count_tokens(token[:-4]) == 0  # not a whole token


def test_a_token_in_a_log_file_is_found_and_named_not_printed(token, tmp_path):
    clean, leaky = tmp_path / "clean.log", tmp_path / "leaky.log"
    clean.write_text('{"event": "graph_call", "token": "[redacted]"}\n')
    leaky.write_text(f'{{"event": "oops", "url": "/feed?access_token={token}"}}\n')

    found = guard.scan_files([clean, leaky])

    assert found == [f"{leaky} (1 sandbox token)"]
    assert token not in found[0]


def test_a_token_in_a_response_is_recorded_with_its_route_not_the_token(token):
    request = RequestFactory().get("/dashboard/leak/")
    middleware = guard.ResponseScanMiddleware(lambda r: HttpResponse(f"<p>{token}</p>"))
    headers_only = guard.ResponseScanMiddleware(
        lambda r: HttpResponse("ok", headers={"X-Debug": token})
    )
    try:
        middleware(request)
        headers_only(request)
        findings = list(guard._http_findings)
    finally:
        guard._http_findings.clear()  # the plant must not fail this test at teardown

    assert findings == [
        "GET /dashboard/leak/ -> 200 (body)",
        "GET /dashboard/leak/ -> 200 (headers/cookies)",
    ]


@pytest.mark.django_db
def test_a_token_in_any_table_or_a_plaintext_encrypted_column_is_found(token, tenant):
    assert guard.database_findings(connection) == []

    # A token leaked into an error message (a plain text column).
    stored = AccessToken.objects.create(
        tenant=tenant, kind="page", facebook_user_id="1", token="x", last_error=f"bad {token}"
    )
    assert guard.database_findings(connection) == ["table social_accesstoken (sandbox token)"]
    AccessToken.objects.filter(pk=stored.pk).update(last_error="")

    # A token written behind the encrypted field's back (raw SQL): plaintext at rest.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE social_accesstoken SET token = %s WHERE id = %s", ["x", stored.pk])
    assert guard.database_findings(connection) == [
        "encrypted column social_accesstoken.token holds plaintext"
    ]
    stored.delete()
    assert guard.database_findings(connection) == []


@pytest.mark.django_db(transaction=True)
def test_a_token_committed_to_the_database_is_found_in_its_pg_dump(token):
    tenant = Tenant.objects.create(name="Leaky", slug="leaky")
    AccessToken.objects.create(
        tenant=tenant, kind="page", facebook_user_id="1", token=token, last_error=f"bad {token}"
    )
    try:
        assert guard.count_tokens(guard.pg_dump(connection.settings_dict)) == 1
    finally:
        tenant.delete()
    assert guard.count_tokens(guard.pg_dump(connection.settings_dict)) == 0


# --- Webhook signing secrets and API keys (issue 13) ---------------------------------------------


@pytest.fixture
def api_key(owner) -> str:
    issued = api_key_create(actor=owner, name="guard", scopes=["read"])
    assert issued.key.startswith(f"sa_{issued.api_key.prefix}_")
    return issued.key


def test_whole_webhook_secrets_and_api_keys_are_found_not_their_shown_prefixes(api_key):
    secret = webhook_secret_new()
    shown = api_key[: len("sa_12345678_")] + "…"  # how the dashboard lists a key

    assert guard.count_secrets(f'{{"secret": "{secret}"}}') == {"webhook secret": 1}
    assert guard.count_secrets(f"Authorization: Api-Key {api_key}") == {"API key": 1}
    assert guard.count_secrets(f"{secret} {api_key} {api_key}") == {
        "webhook secret": 1,
        "API key": 2,
    }
    # What the dashboard shows of a key, and cut-off values, are not secrets.
    assert guard.count_secrets(f"{shown} {api_key[:-4]} {secret[:-4]} whsec_…") == {}


def test_a_webhook_secret_or_api_key_in_a_log_file_is_found_and_named_not_printed(
    api_key, tmp_path
):
    secret = webhook_secret_new()
    clean, leaky = tmp_path / "clean.log", tmp_path / "leaky.log"
    clean.write_text('{"event": "api_key_created", "api_key_id": 3}\n')
    leaky.write_text(
        f'{{"event": "request", "authorization": "Api-Key {api_key}"}}\n'
        f'{{"event": "idempotency_stored", "body": {{"secret": "{secret}"}}}}\n'
    )

    found = guard.scan_files([clean, leaky])

    assert found == [f"{leaky} (1 webhook secret, 1 API key)"]
    assert secret not in found[0]
    assert api_key not in found[0]


@pytest.mark.django_db
def test_a_webhook_secret_or_api_key_in_any_table_is_found(api_key, tenant):
    # Stored as they should be: the secret encrypted, the key as a hash and its prefix.
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant, url="https://hooks.example.com/", events=["post.failed"]
    )
    assert endpoint.secret.startswith("whsec_")
    assert guard.database_findings(connection) == []

    # Leaked into a plain text column: the endpoint's description, then the key there too.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(description=endpoint.secret[:200])
    assert guard.database_findings(connection) == [
        "table webhooks_webhookendpoint (webhook secret)"
    ]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(description=f"key {api_key}")
    assert guard.database_findings(connection) == ["table webhooks_webhookendpoint (API key)"]

    # The secret written behind the encrypted field's back: plaintext at rest.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(description="")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE webhooks_webhookendpoint SET secret = %s WHERE id = %s",
            [webhook_secret_new(), endpoint.pk],
        )
    assert sorted(guard.database_findings(connection)) == [
        "encrypted column webhooks_webhookendpoint.secret holds plaintext",
        "table webhooks_webhookendpoint (webhook secret)",
    ]
    endpoint.delete()
    assert guard.database_findings(connection) == []


@pytest.mark.django_db(transaction=True)
def test_a_webhook_secret_committed_to_the_database_is_found_in_its_pg_dump():
    tenant = Tenant.objects.create(name="Leaky", slug="leaky")
    secret = webhook_secret_new()
    WebhookEndpoint.objects.create(
        tenant=tenant, url="https://hooks.example.com/", description=secret[:200]
    )
    try:
        assert guard.count_secrets(guard.pg_dump(connection.settings_dict)) == {"webhook secret": 1}
    finally:
        tenant.delete()
    assert guard.count_secrets(guard.pg_dump(connection.settings_dict)) == {}

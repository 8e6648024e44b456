import io
import json
import logging
import uuid

import pytest
import sentry_sdk.utils
import structlog
from django.conf import settings
from django.test import Client

from apps.accounts.services import api_key_create
from apps.core.logging import REDACTED, redact, redact_text
from apps.core.sentry import scrub_event


@pytest.fixture
def json_log_lines():
    """Everything logged while the test runs, as rendered by the production JSON formatter."""
    config = dict(settings.LOGGING["formatters"]["json"])
    formatter = config.pop("()")(**config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_request_log_lines_carry_request_user_and_tenant_ids(client_for, owner, json_log_lines):
    client_for(owner.user).get("/")
    client_for(owner.user).get("/")

    finished = [line for line in json_log_lines() if line["event"] == "request_finished"]
    assert len(finished) == 2
    assert uuid.UUID(finished[0]["request_id"]) != uuid.UUID(finished[1]["request_id"])
    assert finished[0]["user_id"] == owner.user.pk
    assert finished[0]["tenant_id"] == owner.tenant_id
    assert finished[0]["code"] == 200
    assert finished[0]["level"] == "info"


def test_secrets_are_redacted_from_log_lines(json_log_lines):
    structlog.get_logger("test").warning(
        "graph_call",
        access_token="EAAB-secret-token",
        url="https://graph.example/v25.0/me?access_token=EAAB-secret-token&fields=id",
        params={"appsecret_proof": "abc123", "fields": "id"},
        error_code=190,
    )

    line = json_log_lines()[-1]
    assert "EAAB-secret-token" not in json.dumps(line)
    assert "abc123" not in json.dumps(line)
    assert line["params"]["fields"] == "id"
    assert line["error_code"] == 190


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /me?access_token=abc&x=1", "GET /me?access_token=[redacted]&x=1"),
        ("code=xyz&state=s", "code=[redacted]&state=s"),
        ("error_code=190", "error_code=190"),
        ("client_secret=s3cr3t", "client_secret=[redacted]"),
        # every secret the product issues or receives (issue 13, finding 8)
        ("GET /api/v1/me/?api_key=sa_1a2b3c4d_" + "K" * 43, "GET /api/v1/me/?api_key=[redacted]"),
        ("key sa_1a2b3c4d_" + "K-_9" * 10 + " used", "key sa_1a2b3c4d_[redacted] used"),
        ("a bad key sa_" + "x" * 20, "a bad key sa_[redacted]"),
        ("signed with whsec_" + "s" * 43, "signed with whsec_[redacted]"),
        ("GET /hooks?token=t0k3n&x=1", "GET /hooks?token=[redacted]&x=1"),
        ("?apikey=k3y", "?apikey=[redacted]"),
        ("page token EAAGm0PX4ZCpsBAKZ" + "a" * 150, "page token [redacted]"),
        ("sandbox EAAS" + "eyJhIjoxfQ" * 4 + ".c2lnbmF0dXJl!", "sandbox [redacted]!"),
        ("appsecret_proof=" + "f" * 64, "appsecret_proof=[redacted]"),
        ("signed_request=abc.def&x=1", "signed_request=[redacted]&x=1"),
        (
            "input_token=abc&fb_exchange_token=def",
            "input_token=[redacted]&fb_exchange_token=[redacted]",
        ),
        ("Authorization: Api-Key abc", "Authorization: Api-Key [redacted]"),
        ("Authorization: Bearer abc", "Authorization: Bearer [redacted]"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [redacted]"),
        (
            "Cookie: sessionid=abc; csrftoken=def",
            "Cookie: sessionid=[redacted]; csrftoken=[redacted]",
        ),
        ("{'access_token': 'abc', 'id': 1}", "{'access_token': '[redacted]', 'id': 1}"),
        ('{"token": "abc", "code": "xyz"}', '{"token": "[redacted]", "code": "[redacted]"}'),
        # what helps debugging stays
        ("Graph error code 190, subcode=463", "Graph error code 190, subcode=463"),
        ("the Basic plan", "the Basic plan"),
        ("token_kind=page", "token_kind=page"),
    ],
)
def test_redact_text(text, expected):
    assert redact_text(text) == expected


def test_webhook_secrets_and_api_keys_are_redacted_from_log_lines(json_log_lines):
    secret = "whsec_" + "s3cr3t-" * 6
    key = "sa_1a2b3c4d_" + "k3y_" * 10
    structlog.get_logger("test").warning(
        "webhook_call_failed", error=f"signing with {secret} failed", detail=f"Api-Key {key}"
    )

    line = json.dumps(json_log_lines()[-1])
    assert secret not in line
    assert key not in line
    assert "signing with whsec_[redacted] failed" in line


def test_redact_keeps_fields_that_only_look_like_secrets():
    event = {
        "code": 200,
        "token_kind": "page",
        "prompt_tokens": 12,
        "api_key_id": 3,
        "page_token": "x",
        "HTTP_AUTHORIZATION": "x",
        "X-CSRFToken": "x",
        "headers": [["Cookie", "x"], ["Accept", "*/*"]],
    }
    assert redact(event) == {
        "code": 200,
        "token_kind": "page",
        "prompt_tokens": 12,
        "api_key_id": 3,
        "page_token": REDACTED,
        "HTTP_AUTHORIZATION": REDACTED,
        "X-CSRFToken": REDACTED,
        "headers": [["Cookie", REDACTED], ["Accept", "*/*"]],
    }


def test_an_api_key_in_the_query_and_header_never_reaches_the_request_log(owner, json_log_lines):
    key = api_key_create(actor=owner, name="ERP", scopes=["read"]).key
    secret_part = key.rsplit("_", 1)[1]

    response = Client(HTTP_AUTHORIZATION=f"Api-Key {key}").get(
        f"/api/v1/me/?api_key={key}&token=t0k3n-value&fields=id"
    )

    assert response.status_code == 200
    lines = json_log_lines()
    events = {line["event"] for line in lines}
    assert {"request_started", "request_finished"} <= events
    text = json.dumps(lines)
    assert key not in text
    assert secret_part not in text
    assert "t0k3n-value" not in text
    started = next(line for line in lines if line["event"] == "request_started")
    assert started["request"] == "GET /api/v1/me/?api_key=[redacted]&token=[redacted]&fields=id"


def test_exception_texts_in_log_lines_are_redacted(json_log_lines):
    key = "sa_1a2b3c4d_" + "S" * 43
    try:
        raise RuntimeError(f"endpoint refused whsec_{'w' * 43} and {key}")
    except RuntimeError:
        structlog.get_logger("test").exception("webhook_failed")
        logging.getLogger("plain").exception("plain %s", key)

    text = json.dumps(json_log_lines())
    assert "S" * 43 not in text
    assert "w" * 43 not in text
    assert "whsec_[redacted]" in text
    assert "sa_1a2b3c4d_[redacted]" in text


def test_a_sentry_event_built_from_an_exception_is_redacted():
    api_key = "sa_1a2b3c4d_" + "A" * 43
    webhook_secret = "whsec_" + "W" * 43
    try:
        raise ValueError(f"signing with {webhook_secret} failed for {api_key}")
    except ValueError as exc:
        event, hint = sentry_sdk.utils.event_from_exception(exc)
    event["request"] = {
        "url": "https://app.example/api/v1/me/",
        "query_string": f"api_key={api_key}&fields=id",
        "headers": {"Authorization": f"Api-Key {api_key}", "Cookie": "sessionid=s1"},
    }

    text = json.dumps(scrub_event(event, hint), default=str)

    assert "A" * 43 not in text
    assert "W" * 43 not in text
    assert "s1" not in text
    assert "fields=id" in text
    assert event["exception"]["values"][0]["type"] == "ValueError"

import io
import json
import logging
import uuid

import pytest
import structlog
from django.conf import settings

from apps.core.logging import redact_text


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
    assert "signing with [redacted] failed" in line

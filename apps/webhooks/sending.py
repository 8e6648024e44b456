"""The HTTP side of a delivery: the signature and one POST, to the address that
apps.webhooks.targets (the SSRF guard) checked.

No ORM in here: services hand in the URL, the secret and the body, and record the result.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from apps.webhooks.targets import local_targets_allowed, target_resolve

TIMEOUT_SECONDS = 10.0
RESPONSE_EXCERPT_BYTES = 2048
SIGNATURE_HEADER = "Webhook-Signature"
USER_AGENT = "SocialAutomation-Webhooks/1"


def body_encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`` (see docs/api.md)."""
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    response_excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(*, url: str, secret: str, body: bytes, event: str, event_id: str, now: int) -> SendResult:
    """POST ``body`` once, signed; never follows redirects. Raises targets.TargetRefused."""
    allow_local = local_targets_allowed()
    address = target_resolve(url, allow_local=allow_local)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    pinned_host = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{pinned_host}:{port}", parts.path or "/", parts.query, ""))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": parts.netloc,
        "Webhook-Id": event_id,
        "Webhook-Event": event,
        SIGNATURE_HEADER: signature_header(secret=secret, timestamp=now, body=body),
    }
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    try:
        with (
            httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client,
            client.stream(
                "POST", pinned, content=body, headers=headers, extensions=extensions
            ) as response,
        ):
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                    break
            text = excerpt[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")
            error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
            if 300 <= response.status_code < 400:
                error += " (redirects are not followed)"
            return SendResult(response.status_code, text, error)
    except httpx.TimeoutException:
        return SendResult(None, "", f"No answer within {TIMEOUT_SECONDS:.0f} s.")
    except httpx.HTTPError as exc:
        return SendResult(None, "", f"{type(exc).__name__}: {exc}"[:500])

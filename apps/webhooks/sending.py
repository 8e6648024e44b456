"""The HTTP side of a delivery: the signature, the address check (SSRF guard) and one POST.

No ORM in here: services hand in the URL, the secret and the body, and record the result.
"""

import hashlib
import hmac
import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

TIMEOUT_SECONDS = 10.0
RESPONSE_EXCERPT_BYTES = 2048
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SIGNATURE_HEADER = "Webhook-Signature"
USER_AGENT = "SocialAutomation-Webhooks/1"


def local_targets_allowed() -> bool:
    """Development and tests (``WEBHOOKS_ALLOW_HTTP``, on with ``DEBUG``): http:// to this
    machine and private addresses are allowed. Production: https and public addresses only."""
    return bool(settings.WEBHOOKS_ALLOW_HTTP)


class TargetRefused(Exception):
    """The URL may not be called: wrong scheme, credentials in it, or a non-public address."""


def body_encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`` (see docs/api.md)."""
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def url_problem(url: str, *, allow_local: bool) -> str | None:
    """Why ``url`` cannot be an endpoint (before any DNS look-up), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "The URL is not valid."
    host = (parts.hostname or "").lower()
    if not host:
        return "The URL needs a host name."
    if parts.username or parts.password:
        return "Put no user name or password in the URL; check the signature instead."
    if parts.scheme == "http":
        if not (allow_local and host in LOCAL_HOSTS):
            return "The URL must start with https://."
    elif parts.scheme != "https":
        return "The URL must start with https://."
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not _address_allowed(literal, allow_local=allow_local):
        return "The URL points to a private or reserved address; use a public one."
    return None


def _address_allowed(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_local: bool
) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_link_local or ip.is_unspecified:
        return False  # never: cloud metadata (169.254.169.254) lives in link-local
    if ip.is_global:
        return True
    return allow_local and (ip.is_loopback or ip.is_private)


def target_resolve(url: str, *, allow_local: bool) -> str:
    """The address to connect to: every address the host resolves to must be allowed, and the
    request is then pinned to the first one (no second look-up an attacker could rebind)."""
    problem = url_problem(url, allow_local=allow_local)
    if problem:
        raise TargetRefused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"The host {host} cannot be resolved.") from exc
    addresses = [str(info[4][0]).split("%", 1)[0] for info in infos]
    if not addresses:
        raise TargetRefused(f"The host {host} cannot be resolved.")
    for address in addresses:
        if not _address_allowed(ipaddress.ip_address(address), allow_local=allow_local):
            raise TargetRefused(
                f"The host {host} resolves to a private or reserved address ({address}); "
                "webhooks are sent to public addresses only."
            )
    return addresses[0]


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    response_excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(*, url: str, secret: str, body: bytes, event: str, event_id: str, now: int) -> SendResult:
    """POST ``body`` once, signed; never follows redirects. Raises TargetRefused."""
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

"""Meta's `signed_request` (deauthorize and data-deletion callbacks): verify, then decode.

Format: ``<base64url(HMAC-SHA256(payload_part, app_secret))>.<base64url(JSON payload)>``.
"""

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


class SignedRequestError(ValueError):
    """The signed_request is malformed, forged, or not for this app."""


def _b64decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SignedRequestError("signed_request is not base64url-encoded.") from exc


def parse_signed_request(signed_request: str, *, app_secret: str) -> dict[str, Any]:
    """The verified payload; raises :class:`SignedRequestError` for anything else."""
    if not signed_request or signed_request.count(".") != 1:
        raise SignedRequestError("signed_request must be two base64url parts joined by a dot.")
    signature_part, payload_part = signed_request.split(".")
    signature = _b64decode(signature_part)
    expected = hmac.new(app_secret.encode(), payload_part.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise SignedRequestError("signed_request signature does not match this app's secret.")
    try:
        payload = json.loads(_b64decode(payload_part))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SignedRequestError("signed_request payload is not JSON.") from exc
    if not isinstance(payload, dict):
        raise SignedRequestError("signed_request payload is not a JSON object.")
    if str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise SignedRequestError("signed_request uses an unsupported algorithm.")
    user_id = payload.get("user_id")
    if not isinstance(user_id, str | int) or not str(user_id).isdigit():
        raise SignedRequestError("signed_request carries no valid user_id.")
    payload["user_id"] = str(user_id)
    return payload


def make_signed_request(payload: dict[str, Any], *, app_secret: str) -> str:
    """Build a signed_request as Meta does (used by the sandbox and the tests)."""
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    digest = hmac.new(app_secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() + "." + body

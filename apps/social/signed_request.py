"""Meta's `signed_request` (deauthorize and data-deletion callbacks): verify, then decode.

Format: ``<base64url(HMAC-SHA256(payload_part, app_secret))>.<base64url(JSON payload)>``.

A correct signature proves the payload comes from whoever holds the app secret, not that it is
well formed, so the payload's shape is checked as strictly as any input (docs/facebook.md): sizes
before decoding, nesting and number lengths before parsing, then the fields we use.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Any

from apps.core.json_depth import json_depth_exceeds

# base64url of a 32-byte HMAC-SHA256: 43 characters, 44 with its padding.
SIGNATURE_PART_MAX_LENGTH = 44
# Meta's payloads are a few hundred bytes (algorithm, user_id, issued_at, expires …).
PAYLOAD_PART_MAX_LENGTH = 8192
PAYLOAD_MAX_DEPTH = 4
# Facebook ids are 64-bit integers sent as strings (at most 20 digits today); 32 leaves room for
# a longer id and stays well inside the 64 characters we store (DataDeletionRequest).
USER_ID_MAX_DIGITS = 32
# Any integer in the payload: Python's int() refuses past 4,300 digits with a ValueError.
NUMBER_MAX_DIGITS = 32
# Unix seconds, as a 32-bit unsigned integer holds them (until 2106).
ISSUED_AT_MAX = 2**32 - 1

_PART = re.compile(r"[A-Za-z0-9_-]+={0,2}")
# ASCII digits only: str.isdigit() is also true for "١٢٣" and "²³".
_USER_ID = re.compile(rf"[0-9]{{1,{USER_ID_MAX_DIGITS}}}")


class SignedRequestError(ValueError):
    """The signed_request is malformed, forged, or not for this app. The message never quotes
    the request."""


def _b64decode(part: str) -> bytes:
    if not _PART.fullmatch(part):
        raise SignedRequestError("signed_request is not base64url-encoded.")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SignedRequestError("signed_request is not base64url-encoded.") from exc


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > NUMBER_MAX_DIGITS:
        raise SignedRequestError("signed_request payload has a number too long to be one of ours.")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise SignedRequestError(f"signed_request payload is not strict JSON ({name}).")


def _payload_decode(payload_part: str) -> dict[str, Any]:
    try:
        text = _b64decode(payload_part).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignedRequestError("signed_request payload is not UTF-8 text.") from exc
    if json_depth_exceeds(text, limit=PAYLOAD_MAX_DEPTH):
        raise SignedRequestError("signed_request payload nests too deep.")
    try:
        payload = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise SignedRequestError("signed_request payload is not JSON.") from exc
    if not isinstance(payload, dict):
        raise SignedRequestError("signed_request payload is not a JSON object.")
    return payload


def parse_signed_request(signed_request: str, *, app_secret: str) -> dict[str, Any]:
    """The verified payload, ``user_id`` as a string of ASCII digits and ``issued_at`` an int;
    raises :class:`SignedRequestError` for anything else."""
    if not isinstance(signed_request, str) or not signed_request:
        raise SignedRequestError("signed_request is missing.")
    if len(signed_request) > SIGNATURE_PART_MAX_LENGTH + 1 + PAYLOAD_PART_MAX_LENGTH:
        raise SignedRequestError("signed_request is too long to be one of Meta's.")
    if signed_request.count(".") != 1:
        raise SignedRequestError("signed_request must be two base64url parts joined by a dot.")
    signature_part, payload_part = signed_request.split(".")
    if len(signature_part) > SIGNATURE_PART_MAX_LENGTH:
        raise SignedRequestError("signed_request signature is too long for HMAC-SHA256.")
    if len(payload_part) > PAYLOAD_PART_MAX_LENGTH:
        raise SignedRequestError("signed_request payload is too long to be one of Meta's.")
    if not _PART.fullmatch(payload_part):  # before spending an HMAC on it
        raise SignedRequestError("signed_request is not base64url-encoded.")
    signature = _b64decode(signature_part)
    expected = hmac.new(app_secret.encode(), payload_part.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise SignedRequestError("signed_request signature does not match this app's secret.")

    payload = _payload_decode(payload_part)
    algorithm = payload.get("algorithm")
    if not isinstance(algorithm, str) or algorithm.upper() != "HMAC-SHA256":
        raise SignedRequestError("signed_request uses an unsupported algorithm.")
    user_id = payload.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool) and user_id >= 0:
        user_id = str(user_id)
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise SignedRequestError(
            f"signed_request carries no valid user_id (1 to {USER_ID_MAX_DIGITS} digits)."
        )
    issued_at = payload.get("issued_at")
    if (
        isinstance(issued_at, bool)
        or not isinstance(issued_at, int)
        or not 0 <= issued_at <= ISSUED_AT_MAX
    ):
        raise SignedRequestError("signed_request carries no valid issued_at (Unix seconds).")
    payload["user_id"] = user_id
    return payload


def make_signed_request(payload: dict[str, Any], *, app_secret: str) -> str:
    """Build a signed_request as Meta does (used by the sandbox and the tests)."""
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    digest = hmac.new(app_secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() + "." + body

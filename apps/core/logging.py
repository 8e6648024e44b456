"""Log processors. Imported by settings, so nothing here may touch Django's app registry."""

import re
from collections.abc import MutableMapping
from typing import Any

REDACTED = "[redacted]"

# Keys whose values are secrets wherever they appear in a log event (case-insensitive).
SECRET_KEYS = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "client_secret",
        "fb_exchange_token",
        "input_token",
        "password",
        "secret",
        "signed_request",
        "token",
    }
)
# `access_token=...` and friends inside URLs or free text.
_SECRET_IN_TEXT = re.compile(
    r"\b(?P<key>access_token|appsecret_proof|client_secret|fb_exchange_token|input_token|code)"
    r"=(?P<value>[^&\s\"']+)",
    re.IGNORECASE,
)


# Our own shown-once secrets, wherever they appear: webhook signing secrets and API keys.
_SHOWN_ONCE_IN_TEXT = re.compile(r"\b(?:whsec_|sa_[0-9a-f]{8}_)[A-Za-z0-9_-]+")


def redact_text(text: str) -> str:
    """Replace secret query-string values, webhook secrets and API keys in ``text`` with a
    marker."""
    text = _SHOWN_ONCE_IN_TEXT.sub(REDACTED, text)
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group('key')}={REDACTED}", text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k).lower() in SECRET_KEYS else _redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    return value


def redact_secrets(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no token, secret or password reaches a log line."""
    for key, value in list(event_dict.items()):
        if key.lower() in SECRET_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(value)
    return event_dict

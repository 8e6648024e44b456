"""Secret redaction for every sink: log lines (the ``redact_secrets`` processor), Sentry events
(apps.core.sentry) and exception texts (the rendered traceback of a log line, the Graph client's
errors). ``redact`` is the one function they share. Imported by settings, so nothing here may
touch Django's app registry.

What is redacted: every secret the product issues or receives — API keys (``sa_<prefix>_…``,
the prefix stays: it is shown in the dashboard), webhook signing secrets (``whsec_…``), Facebook
tokens (``EAA…``; the sandbox's ``EAAS…``), app secret proofs, OAuth codes, signed requests,
passwords, ``Authorization`` credentials, cookies and session ids — as mapping values under a
secret-looking key, as ``key=value`` parameters in URLs, bodies and cookie headers, as
``"key": "value"`` in printed dicts and JSON, and as the bare values wherever they appear.
"""

import re
from collections.abc import Callable, MutableMapping
from typing import Any

REDACTED = "[redacted]"

# Query-string, form-body and cookie parameters whose values are secrets.
SECRET_PARAMS = (
    "access_token",
    "api_key",
    "apikey",
    "appsecret_proof",
    "client_secret",
    "code",
    "csrfmiddlewaretoken",
    "csrftoken",
    "fb_exchange_token",
    "id_token",
    "input_token",
    "password",
    "refresh_token",
    "secret",
    "sessionid",
    "signed_request",
    "token",
)
# Mapping keys whose values are secrets wherever they appear (lower case, "-" read as "_").
# Not ``code``: as a key it is an HTTP status or a Graph error code.
SECRET_KEYS = frozenset(
    {
        *SECRET_PARAMS,
        "authorization",
        "cookie",
        "cookies",
        "dsn",
        "http_authorization",
        "http_cookie",
        "proxy_authorization",
        "session_key",
        "set_cookie",
        "x_api_key",
    }
) - {"code"}
SECRET_KEY_SUFFIXES = ("_token", "_secret", "_password", "_proof", "_api_key")
SECRET_KEY_PARTS = ("authorization", "cookie", "credential", "csrf", "passw", "sessionid")

_PARAMS = "|".join(SECRET_PARAMS)
_VALUE_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # access_token=…, ?token=…, sessionid=…; in URLs, bodies, cookie headers, free text.
    (
        re.compile(rf"(?<![\w-])(?P<key>{_PARAMS})=(?P<value>[^&\s\"',;<>]+)", re.IGNORECASE),
        rf"\g<key>={REDACTED}",
    ),
    # {'access_token': '…'} and "token": "…" in printed dicts and JSON.
    (
        re.compile(
            rf"(?P<head>(?P<q>[\"'])(?:{_PARAMS}|authorization|cookie)(?P=q)\s*:\s*(?P<vq>[\"']))"
            r"(?P<value>[^\"']*)(?P=vq)",
            re.IGNORECASE,
        ),
        rf"\g<head>{REDACTED}\g<vq>",
    ),
    # Authorization header values.
    (
        re.compile(r"\b(?P<scheme>OAuth|Bearer|Api-Key)\s+[^\s\"',;]+", re.IGNORECASE),
        rf"\g<scheme> {REDACTED}",
    ),
    (re.compile(r"\bBasic [A-Za-z0-9+/]{8,}={0,2}"), f"Basic {REDACTED}"),
    # The secrets themselves, wherever they are.
    (
        re.compile(r"\bsa_(?:(?P<prefix>[0-9a-f]{8})_)?[A-Za-z0-9_-]{16,}"),
        lambda m: f"sa_{m['prefix']}_{REDACTED}" if m["prefix"] else f"sa_{REDACTED}",
    ),
    (re.compile(r"\bwhsec_[A-Za-z0-9_-]{8,}"), f"whsec_{REDACTED}"),
    (re.compile(r"\bEAA[A-Za-z0-9_-]{16,}(?:\.[A-Za-z0-9_-]+)*"), REDACTED),
]


def redact_text(text: str) -> str:
    """``text`` without the secrets in it (see the module docstring for what counts)."""
    for pattern, replacement in _VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def secret_key(key: object) -> bool:
    """Whether a mapping key (a log field, a header, a cookie, a form field) holds a secret."""
    name = str(key).lower().replace("-", "_")
    return (
        name in SECRET_KEYS
        or name.endswith(SECRET_KEY_SUFFIXES)
        or any(part in name for part in SECRET_KEY_PARTS)
    )


def redact(value: Any) -> Any:
    """``value`` (text, or mappings and sequences of them) with every secret replaced."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Headers often travel as [name, value] pairs (Sentry, ASGI).
        pair = len(value) == 2 and all(isinstance(v, str) for v in value)
        items = [value[0], REDACTED] if pair and secret_key(value[0]) else map(redact, value)
        return list(items) if isinstance(value, list) else tuple(items)
    return value


def redact_secrets(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no token, key, secret or password reaches a log line. It runs last,
    after the traceback is rendered, so exception texts are redacted too."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if secret_key(key) else redact(value)
    return event_dict

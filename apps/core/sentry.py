"""Error reports to Sentry, only when ``SENTRY_DSN`` is set (called from the settings).

Nothing personal is sent (``send_default_pii=False``), local variables are not captured (a token
can sit in a variable of any name), and every event passes through ``scrub_event``, which applies
the log redaction (``apps.core.logging``) to the whole event: secret-looking keys lose their
values, and ``access_token=…``-style values and ``OAuth``/``Bearer``/``Api-Key`` credentials are
cut out of every string. Imported by the settings: nothing here touches Django's app registry.
"""

import re
from typing import Any

from apps.core.logging import REDACTED, SECRET_KEYS, redact_text

# Keys whose values never leave for Sentry (matched as substrings, case-insensitively): on top of
# the log redaction's keys, the headers and cookies that carry credentials.
SECRET_KEY_PARTS = (
    *SECRET_KEYS,
    "api_key",
    "api-key",
    "apikey",
    "authorization",
    "cookie",
    "credential",
    "csrf",
    "dsn",
    "passwd",
    "proof",
    "session",
)
_CREDENTIAL_IN_TEXT = re.compile(r"\b(OAuth|Bearer|Basic|Api-Key)\s+[^\s\"',;]+", re.IGNORECASE)


def _secret_key(key: object) -> bool:
    text = str(key).lower()
    return any(part in text for part in SECRET_KEY_PARTS)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _CREDENTIAL_IN_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", redact_text(value))
    if isinstance(value, dict):
        return {k: REDACTED if _secret_key(k) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Sentry sends headers as [name, value] pairs too.
        pair = len(value) == 2 and all(isinstance(v, str) for v in value)
        items = [value[0], REDACTED] if pair and _secret_key(value[0]) else map(_scrub, value)
        return list(items) if isinstance(value, list) else tuple(items)
    return value


def scrub_event(event: Any, hint: Any) -> Any:
    """Sentry's ``before_send``: the event without tokens, secrets, cookies or credentials."""
    return _scrub(event)


def sentry_init(
    *,
    dsn: str,
    environment: str,
    release: str | None = None,
    traces_sample_rate: float = 0.0,
    **options: Any,
) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        traces_sample_rate=traces_sample_rate,
        **options,
    )

"""Error reports to Sentry, only when ``SENTRY_DSN`` is set (called from the settings).

Nothing personal is sent (``send_default_pii=False``), local variables are not captured (a token
can sit in a variable of any name), and every event passes through ``scrub_event``, which applies
the one redaction of ``apps.core.logging`` (the log lines' too) to the whole event: secret-looking
keys lose their values, and API keys, webhook secrets, Facebook tokens, ``access_token=…``-style
parameters and ``OAuth``/``Bearer``/``Api-Key`` credentials are cut out of every string.
Imported by the settings: nothing here touches Django's app registry.
"""

from typing import Any

from apps.core.logging import redact


def scrub_event(event: Any, hint: Any) -> Any:
    """Sentry's ``before_send``: the event without tokens, secrets, cookies or credentials."""
    return redact(event)


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

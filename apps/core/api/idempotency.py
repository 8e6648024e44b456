"""``Idempotency-Key`` on POST, by ``@idempotent()`` on a viewset's ``create``: the same key and
body return the first response; the same key with another body is refused (422); a retry while
the first is still running gets 409.

A create whose answer carries a secret shown once (a webhook endpoint's signing secret) names
those fields in ``shown_once_fields``: the stored answer, and so the replay, has them as null and
says why in ``withheld`` (and the ``Idempotent-Withheld`` header). The secret is never stored.
"""

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.exceptions import problem
from apps.core.api.problems import IDEMPOTENCY_KEY
from apps.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"
WITHHELD_HEADER = "Idempotent-Withheld"
WITHHELD_FIELD = "withheld"
WITHHELD_WHY = "Shown only in the first answer to this Idempotency-Key; it is not kept."


def _request_hash(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}".encode())
    if request.content_type.startswith("multipart/"):
        form: Any = request.data
        data = {k: form.getlist(k) for k in sorted(form.keys()) if k not in request.FILES}
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
        for name in sorted(request.FILES.keys()):
            for upload in request.FILES.getlist(name):
                digest.update(name.encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(json.dumps(request.data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def replay_body(data: Any, shown_once: Mapping[str, str]) -> Any:
    """What is kept of an answer for replays: the ``shown_once`` fields (name → what to do if
    the value was lost) set to null, and a ``withheld`` object saying why, per field."""
    if not shown_once:
        return data
    if not isinstance(data, Mapping):
        # Only object answers can carry a field; anything else would keep the secret.
        raise TypeError("shown_once_fields needs an answer that is a JSON object")
    kept = dict(data)
    withheld = {}
    for name, if_lost in shown_once.items():
        if name in kept:
            kept[name] = None
            withheld[name] = f"{WITHHELD_WHY} {if_lost}".strip()
    if withheld:
        kept[WITHHELD_FIELD] = withheld
    return kept


Create = Callable[..., Response]


@dataclass(frozen=True)
class Idempotency:
    """What :func:`idempotent` put on a view's ``create`` (tests and tools read it)."""

    shown_once_fields: Mapping[str, str]


def idempotent(*, shown_once_fields: Mapping[str, str] | None = None) -> Callable[[Create], Create]:
    """Decorates a viewset's ``create``: honours the Idempotency-Key header (module doc) and
    documents it in the OpenAPI schema. The one mechanism for every create that takes the key.

    ``shown_once_fields``: fields of the answer that hold a secret shown once, each with what to
    do if it was lost (e.g. rotate it); never stored, so a replay answers them as null."""
    shown_once = dict(shown_once_fields or {})

    def decorate(create: Create) -> Create:
        @functools.wraps(create)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            return _respond(
                request,
                tenant=view.tenant,
                create=lambda: create(view, request, *args, **kwargs),
                shown_once=shown_once,
            )

        wrapper.idempotency = Idempotency(shown_once_fields=shown_once)  # type: ignore[attr-defined]
        return cast(Create, extend_schema(parameters=[IDEMPOTENCY_KEY])(wrapper))

    return decorate


def idempotency_of(method: Any) -> Idempotency | None:
    """The :class:`Idempotency` of a view method decorated with :func:`idempotent`, else None."""
    found = getattr(method, "idempotency", None)
    return found if isinstance(found, Idempotency) else None


def _respond(
    request: Request,
    *,
    tenant: Any,
    create: Callable[[], Response],
    shown_once: Mapping[str, str],
) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return create()
    if len(key) > 255:
        return problem(
            400, "idempotency_key_invalid", "An Idempotency-Key is at most 255 characters."
        )
    fingerprint = _request_hash(request)
    IdempotencyKey.objects.filter(
        tenant=tenant, key=key, created_at__lt=timezone.now() - TTL
    ).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                tenant=tenant,
                key=key,
                method=str(request.method),
                path=request.path,
                request_hash=fingerprint,
            )
    except IntegrityError:
        return _answer_again(IdempotencyKey.objects.get(tenant=tenant, key=key), fingerprint)
    try:
        response = create()
        kept = replay_body(response.data, shown_once)
    except Exception:
        record.delete()  # a failed attempt may be retried with the same key
        raise
    if response.status_code >= 500:
        record.delete()
    else:
        IdempotencyKey.objects.filter(pk=record.pk).update(
            status_code=response.status_code, response_body=kept
        )
    return response


def _answer_again(existing: IdempotencyKey, fingerprint: str) -> Response:
    """The answer to a key already used: refused, still running, or the first answer replayed."""
    if existing.request_hash != fingerprint:
        return problem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different request; use a new key.",
        )
    if existing.status_code is None:
        return problem(
            409,
            "idempotency_in_progress",
            "The first request with this key is still being processed.",
        )
    response = Response(existing.response_body, status=existing.status_code)
    response[REPLAYED_HEADER] = "true"
    body = existing.response_body
    withheld = body.get(WITHHELD_FIELD) if isinstance(body, dict) else None
    if isinstance(withheld, dict) and withheld:
        response[WITHHELD_HEADER] = ", ".join(withheld)
    return response

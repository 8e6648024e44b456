"""``Idempotency-Key`` on POST: the same key and body return the first response; the same key
with another body is refused (422); a retry while the first is still running gets 409.

A create whose answer carries a secret shown once (a webhook endpoint's signing secret) names
those fields in ``shown_once_fields``: the stored answer, and so the replay, has them as null and
says why in ``withheld`` (and the ``Idempotent-Withheld`` header). The secret is never stored.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.exceptions import problem
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


class IdempotentCreateMixin:
    """For views whose ``create`` makes something: honours the Idempotency-Key header."""

    # Fields of the create's answer that hold a secret shown once, each with what to do if it
    # was lost (e.g. rotate it): never stored, so a replay answers them as null (module doc).
    shown_once_fields: ClassVar[Mapping[str, str]] = {}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return super().create(request, *args, **kwargs)  # type: ignore[misc]
        if len(key) > 255:
            return problem(
                400, "idempotency_key_invalid", "An Idempotency-Key is at most 255 characters."
            )
        tenant = self.tenant  # type: ignore[attr-defined]
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
            existing = IdempotencyKey.objects.get(tenant=tenant, key=key)
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
        try:
            response = super().create(request, *args, **kwargs)  # type: ignore[misc]
            kept = replay_body(response.data, self.shown_once_fields)
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

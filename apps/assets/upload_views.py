"""The dashboard's side of resumable uploads (apps/assets/uploads.py; the library page's
script, static/js/upload.js, drives them): JSON in and out, session-authenticated, the editing
roles of the single upload. Thin: the upload services decide."""

import json
from typing import Any

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.middleware import TenantRequest
from apps.accounts.models import EDITING_ROLES
from apps.accounts.permissions import tenant_required
from apps.assets import selectors, uploads
from apps.assets.models import AssetUpload
from apps.assets.views import _folder_from, _upload_answer
from apps.core.exceptions import ApplicationError


def _state(upload: AssetUpload) -> dict[str, Any]:
    return {
        "id": upload.pk,
        "name": upload.filename,
        "size": upload.size,
        "offset": upload.received,
        "status": upload.status,
        "failure_reason": upload.failure_reason,
        "expires_at": upload.expires_at.isoformat(),
        "url": reverse("assets:upload_session", args=[upload.pk]),
        "complete_url": reverse("assets:upload_complete", args=[upload.pk]),
    }


def _with_offset_headers(response: HttpResponse, upload: AssetUpload) -> HttpResponse:
    response["Upload-Offset"] = str(upload.received)
    response["Upload-Length"] = str(upload.size)
    response["Cache-Control"] = "no-store"
    return response


def _refusal(exc: ApplicationError) -> JsonResponse:
    body: dict[str, Any] = {"status": "rejected", "code": exc.code, "message": exc.message}
    if "offset" in exc.extra:
        body["offset"] = exc.extra["offset"]
    response = JsonResponse(body, status=exc.status)
    if "offset" in exc.extra:
        response["Upload-Offset"] = str(exc.extra["offset"])
    return response


@tenant_required(roles=EDITING_ROLES)
@require_POST
def upload_create(request: TenantRequest) -> HttpResponse:
    """Open a session: ``{"name", "size", "type", "folder"?, "tags"?}``."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return JsonResponse(
            {"status": "rejected", "code": "invalid_json", "message": "Send a JSON object."},
            status=400,
        )
    size, tags = data.get("size"), data.get("tags")
    try:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ApplicationError("Send the file's size in bytes.", code="size_required")
        upload = uploads.asset_upload_create(
            actor=request.membership,
            filename=str(data.get("name") or ""),
            size=size,
            content_type=str(data.get("type") or ""),
            folder=_folder_from(request, str(data.get("folder") or "")),
            tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        )
    except ApplicationError as exc:
        return _refusal(exc)
    return _with_offset_headers(JsonResponse(_state(upload), status=201), upload)


@tenant_required(roles=EDITING_ROLES)
@require_http_methods(["GET", "HEAD", "PATCH", "DELETE"])
def upload_session(request: TenantRequest, asset_upload_id: int) -> HttpResponse:
    """GET/HEAD: where the upload stands (``Upload-Offset``); PATCH: append a chunk at
    ``Upload-Offset``; DELETE: abort."""
    upload = selectors.asset_upload_get(tenant=request.tenant, id=asset_upload_id)
    try:
        if request.method == "DELETE":
            uploads.asset_upload_abort(actor=request.membership, upload=upload)
            return HttpResponse(status=204)
        if request.method == "PATCH":
            if (request.content_type or "") not in uploads.CHUNK_CONTENT_TYPES:
                raise uploads.ChunkTypeUnsupported(
                    "Send the chunk's bytes as application/offset+octet-stream.",
                    code="unsupported_media_type",
                )
            offset, length = uploads.chunk_position(
                upload_offset=request.headers.get("Upload-Offset"),
                content_length=request.META.get("CONTENT_LENGTH"),
            )
            # Read from the request stream, never request.body: the chunk is larger than what
            # Django reads into memory (DATA_UPLOAD_MAX_MEMORY_SIZE).
            upload = uploads.asset_upload_append(
                actor=request.membership,
                upload=upload,
                offset=offset,
                length=length,
                stream=request,
            )
    except ApplicationError as exc:
        return _refusal(exc)
    return _with_offset_headers(JsonResponse(_state(upload)), upload)


@tenant_required(roles=EDITING_ROLES)
@require_POST
def upload_complete(request: TenantRequest, asset_upload_id: int) -> HttpResponse:
    """Make the asset; the answer is the single upload's (``created`` / ``duplicate``)."""
    upload = selectors.asset_upload_get(tenant=request.tenant, id=asset_upload_id)
    try:
        result = uploads.asset_upload_complete(actor=request.membership, upload=upload)
    except ApplicationError as exc:
        return _refusal(exc)
    return JsonResponse({"name": upload.filename, **_upload_answer(result)})

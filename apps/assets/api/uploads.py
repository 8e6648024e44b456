"""Resumable uploads over the API (docs/api.md, "Resumable uploads"): the protocol of
apps/assets/uploads.py under ``/api/v1/asset-uploads/``. Thin: the upload services decide."""

import io
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.tenancy import TenantAPIMixin
from apps.assets import selectors, uploads
from apps.assets.api.serializers import (
    AssetSerializer,
    AssetUploadCreateSerializer,
    AssetUploadResultSerializer,
    AssetUploadSessionSerializer,
)
from apps.assets.models import AssetUpload
from apps.core.api.idempotency import idempotent
from apps.core.api.pagination import NewestFirstPagination
from apps.core.api.problems import problems

UPLOAD_OFFSET = OpenApiParameter(
    "Upload-Offset",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=True,
    description="Where this chunk starts: the session's current `offset` (else 409 "
    "`offset_mismatch` with the current `offset`).",
)
OFFSET_HEADERS = [
    OpenApiParameter(
        "Upload-Offset",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200, 201],
        description="Bytes received so far: where the next chunk starts.",
    ),
    OpenApiParameter(
        "Upload-Length",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200, 201],
        description="The declared size.",
    ),
]
CHUNK_TYPE = "application/offset+octet-stream"


def _with_offset(response: Response, upload: AssetUpload) -> Response:
    response["Upload-Offset"] = str(upload.received)
    response["Upload-Length"] = str(upload.size)
    response["Cache-Control"] = "no-store"
    return response


@extend_schema_view(
    list=extend_schema(
        summary="List resumable uploads",
        description="The business's upload sessions, newest first (finished ones are kept "
        "until a day after they expire).",
        responses={200: AssetUploadSessionSerializer(many=True), **problems()},
    ),
    retrieve=extend_schema(
        summary="Get a resumable upload",
        description="Where the upload stands: `offset` (also the `Upload-Offset` header) is "
        "where the next chunk starts. `HEAD` answers the headers only.",
        parameters=OFFSET_HEADERS,
        responses={200: AssetUploadSessionSerializer, **problems(404)},
    ),
    create=extend_schema(
        summary="Start a resumable upload",
        description="Declares a file of `size` bytes. Refused at once (400, nothing kept) when "
        "the single upload (`POST /assets/`) would refuse its declared size or type, with the "
        "same codes and messages (`too_large`, `empty`, `not_an_image`). Then send the bytes "
        "in chunks of at most `max_chunk_bytes` with `PATCH`, and `POST …/complete/`. Expires "
        "after `ASSET_UPLOAD_SESSION_HOURS` (24 h).",
        request=AssetUploadCreateSerializer,
        parameters=OFFSET_HEADERS,
        responses={201: AssetUploadSessionSerializer, **problems(400, 422)},
        examples=[
            OpenApiExample(
                "A video",
                value={"filename": "terrace.mp4", "size": 314572800, "content_type": "video/mp4"},
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Append a chunk",
        description="The body is the file's bytes from `Upload-Offset` on (`Content-Type: "
        "application/offset+octet-stream`, at most `max_chunk_bytes`, never past `size`). A "
        "chunk is kept whole or not at all: one cut short changes nothing. At another offset "
        "than the session's: 409 `offset_mismatch` with `offset`, where to resume. A session "
        "that is not open (complete, failed, expired): 409 `upload_not_open` / "
        "`upload_expired`. Two chunks of one session are appended one after the other.",
        parameters=[UPLOAD_OFFSET, *OFFSET_HEADERS],
        request={CHUNK_TYPE: OpenApiTypes.BINARY},
        responses={200: AssetUploadSessionSerializer, **problems(400, 404, 409)},
    ),
    destroy=extend_schema(
        summary="Abort a resumable upload",
        description="Deletes the session and the bytes received (an asset it made stays).",
        responses={204: OpenApiResponse(description="Deleted."), **problems(404, 409)},
    ),
    complete=extend_schema(
        summary="Complete a resumable upload",
        description="All `size` bytes received: the file becomes an asset exactly as "
        "`POST /assets/` would make it (the same checks, the same duplicate answer, a video "
        "`processing` until probed). A refused file: 400 with the single upload's code, the "
        "session `failed` with `failure_reason`, its bytes deleted. Bytes missing: 409 "
        "`upload_incomplete` with `offset`. Completing a complete session answers its asset "
        "again.",
        request=None,
        responses={
            201: OpenApiResponse(AssetUploadResultSerializer, description="Stored."),
            200: OpenApiResponse(
                AssetUploadResultSerializer, description="Already in the library (duplicate)."
            ),
            **problems(400, 404, 409),
        },
    ),
)
class AssetUploadViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Resumable uploads of large images and videos, in chunks."""

    serializer_class = AssetUploadSessionSerializer
    queryset = AssetUpload.objects.all()
    pagination_class = NewestFirstPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[AssetUpload]:
        if getattr(self, "swagger_fake_view", False):
            return AssetUpload.objects.none()
        return AssetUpload.objects.for_tenant(self.tenant)

    def get_object(self) -> AssetUpload:
        pk = str(self.kwargs["pk"])
        if not (pk.isascii() and pk.isdigit() and len(pk) <= 18):
            raise Http404
        return selectors.asset_upload_get(tenant=self.tenant, id=int(pk))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_object()
        return _with_offset(Response(self.get_serializer(upload).data), upload)

    @idempotent()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = AssetUploadCreateSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = uploads.asset_upload_create(
            actor=self.membership,
            filename=data["filename"],
            size=data["size"],
            content_type=data["content_type"],
            sha256=data["sha256"],
            folder=data.get("folder"),
            alt_text=data["alt_text"],
            tags=data.get("tags"),
        )
        response = Response(self.get_serializer(upload).data, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path}{upload.pk}/")
        return _with_offset(response, upload)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_object()
        if (request.content_type or "").split(";")[0].strip() not in uploads.CHUNK_CONTENT_TYPES:
            raise uploads.ChunkTypeUnsupported(
                f"Send the chunk's bytes as {CHUNK_TYPE}.", code="unsupported_media_type"
            )
        offset, length = uploads.chunk_position(
            upload_offset=request.headers.get("Upload-Offset"),
            content_length=request.META.get("CONTENT_LENGTH"),
        )
        # The body is streamed from the request, never parsed (request.data) nor read whole.
        upload = uploads.asset_upload_append(
            actor=self.membership,
            upload=upload,
            offset=offset,
            length=length,
            stream=request.stream or io.BytesIO(),
        )
        return _with_offset(Response(self.get_serializer(upload).data), upload)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        uploads.asset_upload_abort(actor=self.membership, upload=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        result = uploads.asset_upload_complete(actor=self.membership, upload=self.get_object())
        asset = selectors.asset_list(tenant=self.tenant).get(pk=result.asset.pk)
        body = {**AssetSerializer(asset, context=self.get_serializer_context()).data}
        body["duplicate"] = result.duplicate
        return Response(body, status=status.HTTP_200_OK if result.duplicate else 201)

"""The asset library over the API: folders and images. Thin: the services decide."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.tenancy import TenantAPIMixin
from apps.assets import selectors, services
from apps.assets.api.serializers import (
    AssetQuerySerializer,
    AssetSerializer,
    AssetUpdateSerializer,
    AssetUploadResultSerializer,
    AssetUploadSerializer,
    FolderDeleteQuerySerializer,
    FolderSerializer,
)
from apps.assets.models import BrandAsset, BrandFolder
from apps.core.api.idempotency import idempotent
from apps.core.api.pagination import NewestFirstPagination
from apps.core.api.parsers import BoundedJSONParser
from apps.core.api.problems import problems


class NewestUploadFirstPagination(NewestFirstPagination):
    ordering = ("-uploaded_at", "-id")


@extend_schema_view(
    list=extend_schema(
        summary="List folders",
        description="Every folder of the business, newest first; `parent` builds the tree.",
        responses={200: FolderSerializer(many=True), **problems()},
    ),
    retrieve=extend_schema(
        summary="Get a folder", responses={200: FolderSerializer, **problems(404)}
    ),
    create=extend_schema(
        summary="Create a folder",
        request=FolderSerializer,
        responses={201: FolderSerializer, **problems(400, 422)},
        examples=[
            OpenApiExample(
                "Top-level folder", value={"name": "Summer menu", "parent": None}, request_only=True
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Rename or move a folder",
        description="`name` renames; `parent` moves (null: to the top). A folder cannot move "
        "into itself or a sub-folder (400 `cycle`).",
        request=FolderSerializer,
        responses={200: FolderSerializer, **problems(400, 404)},
        examples=[OpenApiExample("Rename", value={"name": "Menus"}, request_only=True)],
    ),
    destroy=extend_schema(
        summary="Delete a folder",
        parameters=[FolderDeleteQuerySerializer],
        description="`mode`: `refuse` (only an empty folder), `move_to_parent`, or "
        "`delete_contents`, which deletes each image as `DELETE /assets/{id}/` would and is "
        "refused as a whole (409 `folder_assets_in_use`, nothing deleted, `assets` lists each "
        "image in the way with its `posts`) when posts that can still go out use any of them.",
        responses={204: OpenApiResponse(description="Deleted."), **problems(400, 404, 409)},
    ),
)
class FolderViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Folders of the asset library (a tree per business)."""

    serializer_class = FolderSerializer
    queryset = BrandFolder.objects.all()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[BrandFolder]:
        if getattr(self, "swagger_fake_view", False):
            return BrandFolder.objects.none()
        return BrandFolder.objects.for_tenant(self.tenant)

    @idempotent()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        folder = services.folder_create(
            actor=self.membership,
            name=serializer.validated_data["name"],
            parent=serializer.validated_data.get("parent"),
        )
        return Response(self.get_serializer(folder).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        folder = self.get_object()
        serializer = self.get_serializer(folder, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "name" in data:
            folder = services.folder_rename(actor=self.membership, folder=folder, name=data["name"])
        if "parent" in data:
            folder = services.folder_move(
                actor=self.membership, folder=folder, parent=data["parent"]
            )
        return Response(self.get_serializer(folder).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        folder = self.get_object()
        query = FolderDeleteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        mode = query.validated_data.get("mode", services.FolderDeleteMode.REFUSE)
        services.folder_delete(actor=self.membership, folder=folder, mode=mode)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="List assets",
        description="The library's images and videos, newest upload first.",
        parameters=[AssetQuerySerializer],
        responses={200: AssetSerializer(many=True), **problems(400)},
    ),
    retrieve=extend_schema(
        summary="Get an asset", responses={200: AssetSerializer, **problems(404)}
    ),
    create=extend_schema(
        summary="Upload an image or a video",
        description="Multipart upload. An image is checked, cleaned (metadata and location "
        "removed) and stored. A video (MP4 or MOV, up to `ASSET_VIDEO_MAX_BYTES`) is stored as "
        "it is with `status: processing` and probed by a background job (duration, size, "
        "codecs, poster frame), then `ready` — or `failed` with `failure_reason`; poll "
        "`GET /assets/{id}/`. A video is refused at once (400, nothing stored) when it is cut "
        "short (`truncated`), its header says it is too long (`too_long`), or it is too large. "
        "The same bytes uploaded again return the existing asset with "
        "status 200 and `duplicate: true`. A refused file is a 400 problem whose `code` says "
        "why (`empty`, `too_large`, `not_an_image`, `unsupported_format`, `truncated`, "
        "`corrupt`, `too_many_pixels`, `trailing_content`, `too_small`, `animated`, "
        "`truncated`, `too_long`); nothing is stored.",
        request={"multipart/form-data": AssetUploadSerializer},
        responses={
            201: OpenApiResponse(AssetUploadResultSerializer, description="Stored."),
            200: OpenApiResponse(
                AssetUploadResultSerializer, description="Already in the library (duplicate)."
            ),
            **problems(400, 422),
        },
    ),
    partial_update=extend_schema(
        summary="Edit an asset",
        description="Any of `name`, `alt_text`, `tags` (replaces them) and `folder` (null: top).",
        request=AssetUpdateSerializer,
        responses={200: AssetSerializer, **problems(400, 404)},
        examples=[
            OpenApiExample(
                "Tag and describe",
                value={"alt_text": "Our terrace at sunset", "tags": ["terrace", "summer"]},
                request_only=True,
            )
        ],
    ),
    destroy=extend_schema(
        summary="Delete an asset",
        description="Used by no post: deleted, files too. Used only by finished posts "
        "(published, partially published, failed, cancelled): removed from the library (no "
        "longer listed, found or offered) but kept so those posts still show it; uploading the "
        "same bytes again brings it back. Used by a post that can still go out or be edited: "
        "409 `asset_in_use`, nothing changes, and `posts` lists them (`id`, `status`, "
        "`scheduled_for`).",
        responses={
            204: OpenApiResponse(description="Deleted, or removed from the library."),
            **problems(404, 409),
        },
    ),
)
class AssetViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Images and videos of the brand library."""

    serializer_class = AssetSerializer
    queryset = BrandAsset.objects.all()
    pagination_class = NewestUploadFirstPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_parsers(self) -> list[BaseParser]:
        """The upload is multipart (a file); the edit is JSON, as every other body."""
        request = getattr(self, "request", None)
        if request is not None and request.method == "POST":
            return [MultiPartParser()]
        return [BoundedJSONParser()]

    def get_queryset(self) -> QuerySet[BrandAsset]:
        if getattr(self, "swagger_fake_view", False):
            return BrandAsset.objects.none()
        if self.action != "list":
            return selectors.asset_list(tenant=self.tenant)
        query = AssetQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        folder = None
        if "folder" in query.validated_data:
            folder = (
                BrandFolder.objects.for_tenant(self.tenant)
                .filter(pk=query.validated_data["folder"])
                .first()
            )
            if folder is None:  # another business's folder, or none: nothing in it here
                return BrandAsset.objects.none()
        return selectors.asset_list(
            tenant=self.tenant,
            folder=folder,
            query=query.validated_data.get("q", ""),
            tag=query.validated_data.get("tag", ""),
        )

    @idempotent()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = AssetUploadSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        # The type comes from the first bytes; the size is checked against the image or the
        # video limit before anything more is read.
        result = services.asset_upload_file(
            actor=self.membership,
            file=upload,
            size=upload.size or 0,
            filename=upload.name or "",
            folder=form.validated_data.get("folder"),
            tags=services.parse_tags(form.validated_data["tags"]),
            alt_text=form.validated_data["alt_text"],
        )
        asset = selectors.asset_list(tenant=self.tenant).get(pk=result.asset.pk)
        body = {**AssetSerializer(asset, context=self.get_serializer_context()).data}
        body["duplicate"] = result.duplicate
        return Response(body, status=status.HTTP_200_OK if result.duplicate else 201)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asset = self.get_object()
        form = AssetUpdateSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        services.asset_update(
            actor=self.membership,
            asset=asset,
            alt_text=data.get("alt_text"),
            tags=data.get("tags"),
            folder=data.get("folder", services.KEEP),
            name=data.get("name"),
        )
        fresh = selectors.asset_list(tenant=self.tenant).get(pk=asset.pk)
        return Response(self.get_serializer(fresh).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asset = self.get_object()
        services.asset_delete(actor=self.membership, asset=asset)
        return Response(status=status.HTTP_204_NO_CONTENT)

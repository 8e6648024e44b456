"""The REST API: /api/v1/ (tenant resources), /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI)."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from apps.accounts.api.views import MeView
from apps.assets.api.uploads import AssetUploadViewSet
from apps.assets.api.views import AssetViewSet, FolderViewSet
from apps.posts.api.captions import CaptionSuggestionsView
from apps.posts.api.views import PostViewSet, PublicationViewSet
from apps.social.api.views import ConnectedAccountViewSet
from apps.webhooks.api.views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=True)
router.register("accounts", ConnectedAccountViewSet, basename="account")
router.register("folders", FolderViewSet, basename="folder")
router.register("assets", AssetViewSet, basename="asset")
router.register("asset-uploads", AssetUploadViewSet, basename="asset-upload")
router.register("posts", PostViewSet, basename="post")
router.register("publications", PublicationViewSet, basename="publication")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

v1 = [
    path("me/", MeView.as_view(), name="me"),
    path(
        "captions/suggestions/",
        CaptionSuggestionsView.as_view(),
        name="caption-suggestions",
    ),
    *router.urls,
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="api")),
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
        name="api-schema",
    ),
    path(
        "docs/",
        # The split view serves Swagger UI's start-up script from this URL (?script) instead of
        # inline; Swagger UI still needs inline styles, so this page alone allows them.
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", permission_classes=[], authentication_classes=[]
            )
        ),
        name="api-docs",
    ),
]

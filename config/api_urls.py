"""The REST API: /api/v1/ (tenant resources), /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from apps.accounts.api.views import MeView
from apps.assets.api.views import AssetViewSet, FolderViewSet
from apps.posts.api.views import PostViewSet, PublicationViewSet
from apps.social.api.views import ConnectedAccountViewSet

router = SimpleRouter(trailing_slash=True)
router.register("accounts", ConnectedAccountViewSet, basename="account")
router.register("folders", FolderViewSet, basename="folder")
router.register("assets", AssetViewSet, basename="asset")
router.register("posts", PostViewSet, basename="post")
router.register("publications", PublicationViewSet, basename="publication")

v1 = [
    path("me/", MeView.as_view(), name="me"),
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
        SpectacularSwaggerView.as_view(
            url_name="api-schema", permission_classes=[], authentication_classes=[]
        ),
        name="api-docs",
    ),
]

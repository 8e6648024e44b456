from django.contrib import admin
from django.urls import include, path

from apps.core import health, views

dashboard_patterns = ([path("", views.overview, name="overview")], "dashboard")

urlpatterns = [
    path("", include(dashboard_patterns)),
    path("", include("apps.accounts.urls")),
    path("", include("apps.social.urls")),
    path("", include("apps.assets.urls")),
    path("", include("apps.posts.urls")),
    path("", include("apps.webhooks.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", include("config.api_urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

admin.site.site_header = "Social Automation administration"
admin.site.site_title = "Social Automation admin"
admin.site.index_title = "Platform staff"

handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"

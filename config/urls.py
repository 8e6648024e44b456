from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

from apps.core import health
from apps.core.admin_login import admin_login
from apps.core.metrics.exposition import metrics_view


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on every page without a <link rel="icon"> (the admin)."""
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [
    path("", include("apps.dashboard.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.social.urls")),
    path("", include("apps.assets.urls")),
    path("", include("apps.posts.urls")),
    path("", include("apps.webhooks.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", include("config.api_urls")),
    # Staff log in on the site's (throttled) login page; see apps/core/admin_login.py.
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

admin.site.site_header = "Social Automation administration"
admin.site.site_title = "Social Automation admin"
admin.site.index_title = "Platform staff"

handler400 = "apps.core.views.bad_request"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"

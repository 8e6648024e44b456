from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from apps.accounts import selectors
from apps.accounts.middleware import TenantRequest
from apps.accounts.permissions import tenant_required


@tenant_required()
def overview(request: TenantRequest) -> HttpResponse:
    """The tenant's home page: who is here and what to do next."""
    members = selectors.membership_list(tenant=request.tenant)
    return render(
        request,
        "core/overview.html",
        {
            "member_count": members.count(),
            "open_invitation_count": selectors.invitation_list_open(tenant=request.tenant).count(),
        },
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for the whole site: problem+json under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "type": "urn:social-automation:problem:not_found",
                "title": "Not found",
                "status": 404,
                "detail": "There is no API endpoint at this address.",
                "code": "not_found",
            },
            status=404,
            content_type="application/problem+json",
        )
    return page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    """500 for the whole site: problem+json under /api/, the plain HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "type": "urn:social-automation:problem:server_error",
                "title": "Server error",
                "status": 500,
                "detail": "Something went wrong on our side; it has been logged.",
                "code": "server_error",
            },
            status=500,
            content_type="application/problem+json",
        )
    return django_server_error(request)

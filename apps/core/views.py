from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from apps.accounts import selectors
from apps.accounts.middleware import TenantRequest
from apps.accounts.permissions import tenant_required
from apps.core.api.exceptions import TITLES, problem_json_response, request_refusal
from apps.core.charts import engagement_chart
from apps.posts import selectors as post_selectors
from apps.social import selectors as social_selectors
from apps.social.models import ConnectedAccount

ENGAGEMENT_DAYS = 30


@tenant_required()
@require_GET
def overview(request: TenantRequest) -> HttpResponse:
    """The tenant's home page: account health, what goes out next, what went out, and 30 days
    of engagement. A constant number of queries whatever the amount of data."""
    tenant = request.tenant
    accounts = list(social_selectors.account_list(tenant=tenant, include_disconnected=False))
    logins = social_selectors.facebook_login_list(tenant=tenant, accounts=accounts)
    engagement = post_selectors.engagement_daily(tenant=tenant, days=ENGAGEMENT_DAYS)
    return render(
        request,
        "core/overview.html",
        {
            "member_count": selectors.membership_list(tenant=tenant).count(),
            "open_invitation_count": selectors.invitation_list_open(tenant=tenant).count(),
            "accounts": accounts,
            "needs_reauth_count": sum(
                a.status == ConnectedAccount.Status.NEEDS_REAUTH for a in accounts
            ),
            "no_permission_count": sum(
                a.status == ConnectedAccount.Status.NO_PERMISSION for a in accounts
            ),
            "logins_to_renew": [login for login in logins if login.needs_reconnect],
            "upcoming": post_selectors.post_list_upcoming(tenant=tenant),
            "results": post_selectors.publication_list_recent(tenant=tenant),
            "engagement": engagement,
            "chart": engagement_chart(engagement) if engagement.total else None,
            "engagement_days": ENGAGEMENT_DAYS,
        },
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for the whole site: problem+json under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(404, "not_found", "There is no API endpoint at this address.")
    return page_not_found(request, exception or Http404())


# Machines call these (integrations, Meta's servers): they get problem documents, never a page.
PROBLEM_PATHS = ("/api/", "/facebook/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 for the whole site, outside DRF: Django's answer to a SuspiciousOperation, raised in
    a view or a middleware. A body over the limits (RequestDataTooBig, TooManyFieldsSent …) is a
    413 / 400 problem under PROBLEM_PATHS and a short page elsewhere (the dashboard's forms)."""
    status, code, detail = request_refusal(exception) or (
        400,
        "bad_request",
        "The request could not be understood.",
    )
    if request.path.startswith(PROBLEM_PATHS):
        return problem_json_response(status, code, detail)
    # No request context: nothing here may read the request again (its body is unreadable).
    page = render_to_string("400.html", {"title": TITLES[status], "detail": detail})
    return HttpResponse(page, status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 for the whole site: problem+json under /api/, the plain HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(
            500, "server_error", "Something went wrong on our side; it has been logged."
        )
    return django_server_error(request)


def _problem_response(status: int, code: str, detail: str) -> JsonResponse:
    # Outside DRF (no view matched, or the view crashed): the same document DRF's handler sends.
    return problem_json_response(status, code, detail)

"""Dashboard pages for connected accounts, and Meta's two server-to-server callbacks."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.middleware import TenantRequest
from apps.accounts.models import MANAGING_ROLES
from apps.accounts.permissions import tenant_required
from apps.core.api.exceptions import problem_json_response
from apps.core.exceptions import ApplicationError
from apps.core.models import get_for_tenant_or_404
from apps.social import selectors, services
from apps.social.adapters import PENDING_SESSION_KEY
from apps.social.models import ConnectedAccount, DataDeletionRequest, Platform
from apps.social.signed_request import SignedRequestError, parse_signed_request


@tenant_required()
@require_GET
def account_list(request: TenantRequest) -> HttpResponse:
    accounts = list(selectors.account_list(tenant=request.tenant))
    logins = selectors.facebook_login_list(tenant=request.tenant, accounts=accounts)
    return render(
        request,
        "social/account_list.html",
        {
            "accounts": accounts,
            "needs_reauth": [
                a for a in accounts if a.status == ConnectedAccount.Status.NEEDS_REAUTH
            ],
            "no_permission": [
                a for a in accounts if a.status == ConnectedAccount.Status.NO_PERMISSION
            ],
            "logins_to_renew": [login for login in logins if login.needs_reconnect],
            "connect_scope": ",".join(settings.FACEBOOK_SCOPES),
            "connect_next": reverse("connections:choose"),
        },
    )


@tenant_required(roles=MANAGING_ROLES)
@require_http_methods(["GET", "POST"])
def connection_choose(request: TenantRequest) -> HttpResponse:
    """After Facebook Login: list what the grant reaches and let the owner pick."""
    pending = selectors.pending_connection_get(
        tenant=request.tenant, user=request.user, pk=request.session.get(PENDING_SESSION_KEY)
    )
    if pending is None:
        messages.info(request, "Start with “Connect Facebook” to choose Pages.")
        return redirect("connections:list")
    try:
        pages = services.connection_discover(pending=pending)
    except ApplicationError as exc:
        messages.error(request, f"Facebook did not list your Pages: {exc.message}")
        return redirect("connections:list")
    connected_here = {
        (a.platform, a.platform_id)
        for a in selectors.account_list(tenant=request.tenant, include_disconnected=False)
    }
    taken = selectors.platform_ids_held_elsewhere(
        tenant=request.tenant,
        platform_ids=[p.id for p in pages] + [p.instagram.id for p in pages if p.instagram],
    )
    choices = [
        {
            "page": page,
            "page_checked": page.connectable
            and (Platform.FACEBOOK_PAGE, page.id) in connected_here,
            "page_taken": (Platform.FACEBOOK_PAGE, page.id) in taken,
            "ig_checked": page.instagram is not None
            and page.connectable
            and (Platform.INSTAGRAM_BUSINESS, page.instagram.id) in connected_here,
            "ig_taken": page.instagram is not None
            and (Platform.INSTAGRAM_BUSINESS, page.instagram.id) in taken,
        }
        for page in pages
    ]
    if request.method == "POST":
        try:
            connected = services.connection_complete(
                membership=request.membership,
                pending=pending,
                page_ids=request.POST.getlist("page"),
                instagram_ids=request.POST.getlist("instagram"),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            request.session.pop(PENDING_SESSION_KEY, None)
            messages.success(request, f"Connected {len(connected)} account(s).")
            return redirect("connections:list")
    return render(
        request,
        "social/connection_choose.html",
        {"choices": choices, "connectable_count": sum(page.connectable for page in pages)},
        status=400 if request.method == "POST" else 200,
    )


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def account_disconnect(request: TenantRequest, connected_account_id: int) -> HttpResponse:
    account = get_for_tenant_or_404(
        ConnectedAccount.objects.all(), tenant=request.tenant, pk=connected_account_id
    )
    try:
        services.account_disconnect(membership=request.membership, account=account)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{account} is disconnected. Its post history is kept.")
    return redirect("connections:list")


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def account_check(request: TenantRequest, connected_account_id: int) -> HttpResponse:
    """ "Check again": ask Facebook now whether the account can be published to."""
    account = get_for_tenant_or_404(
        ConnectedAccount.objects.all(), tenant=request.tenant, pk=connected_account_id
    )
    try:
        account = services.account_check(membership=request.membership, account=account)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("connections:list")
    if account.status == ConnectedAccount.Status.ACTIVE:
        messages.success(request, f"Checked: {account} can be published to.")
    else:
        messages.warning(
            request, f"Checked: {account} — {account.get_status_display()}. {account.status_reason}"
        )
    return redirect("connections:list")


# --- Meta's callbacks (server to server, signed with the app secret) ---------------------------
# Every refusal is a problem document (docs/api.md): a bad signed_request here, a body over the
# limits from the site's 400 handler (apps.core.views.bad_request). Nothing is stored or logged.


def _verified_user_id(request: HttpRequest) -> str | JsonResponse:
    try:
        payload = parse_signed_request(
            request.POST.get("signed_request", ""), app_secret=settings.FACEBOOK_APP_SECRET
        )
    except SignedRequestError as exc:
        return problem_json_response(400, "invalid_signed_request", str(exc))
    return str(payload["user_id"])


@csrf_exempt
@require_POST
def facebook_deauthorize(request: HttpRequest) -> HttpResponse:
    user_id = _verified_user_id(request)
    if isinstance(user_id, JsonResponse):
        return user_id
    services.facebook_user_deauthorized(facebook_user_id=user_id)
    return JsonResponse({"success": True})


@csrf_exempt
@require_POST
def facebook_data_deletion(request: HttpRequest) -> HttpResponse:
    user_id = _verified_user_id(request)
    if isinstance(user_id, JsonResponse):
        return user_id
    deletion = services.data_deletion_request(facebook_user_id=user_id)
    status_url = request.build_absolute_uri(
        reverse("facebook:data_deletion_status", args=[deletion.confirmation_code])
    )
    return JsonResponse({"url": status_url, "confirmation_code": deletion.confirmation_code})


@require_GET
def facebook_data_deletion_status(request: HttpRequest, confirmation_code: str) -> HttpResponse:
    deletion = get_object_or_404(DataDeletionRequest, confirmation_code=confirmation_code)
    return render(request, "social/data_deletion_status.html", {"deletion": deletion})

"""Dashboard pages for connected accounts (Facebook's connect flow through allauth, and the
generic OAuth connect flow of networks that own their login), and Meta's two server-to-server
callbacks."""

import hmac
import secrets

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
from apps.networks import registry
from apps.networks.errors import NetworkError
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
            "own_login_networks": registry.own_login_networks(),
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
                actor=request.membership,
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


# --- Networks that own their login (Threads, Instagram with Instagram Login) -----------------
# One flow for all of them: the network supplies the authorization URL and the exchanges
# (Network.connect_authorize_url / connect_complete); the state lives in the session.

OAUTH_SESSION_KEY = "oauth_connect"


def _oauth_redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("connections:oauth_callback"))


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def connection_oauth_start(request: TenantRequest) -> HttpResponse:
    """ "Connect Threads": send the person to the network's consent page with a fresh state."""
    slug = request.POST.get("network", "")
    try:
        network = registry.own_login_for(slug)
    except LookupError:
        messages.error(request, "That network cannot be connected here.")
        return redirect("connections:list")
    state = secrets.token_urlsafe(32)
    request.session[OAUTH_SESSION_KEY] = {
        "state": state,
        "network": slug,
        "tenant_id": request.tenant.pk,
    }
    return redirect(
        network.connect_authorize_url(redirect_uri=_oauth_redirect_uri(request), state=state)
    )


@tenant_required(roles=MANAGING_ROLES)
@require_GET
def connection_oauth_callback(request: TenantRequest) -> HttpResponse:
    """Back from the consent page: check the state, let the network exchange the code and read
    the profile, then store the account and its token for the tenant."""
    started = request.session.pop(OAUTH_SESSION_KEY, None) or {}
    state = request.GET.get("state", "")
    expected = str(started.get("state", ""))
    if not expected or not hmac.compare_digest(state, expected):
        messages.error(request, "The connection could not be verified; start it again.")
        return redirect("connections:list")
    if started.get("tenant_id") != request.tenant.pk:
        messages.error(request, "You switched business meanwhile; start the connection again.")
        return redirect("connections:list")
    try:
        network = registry.own_login_for(str(started.get("network", "")))
    except LookupError:
        messages.error(request, "That network cannot be connected here.")
        return redirect("connections:list")
    label = network.label
    if request.GET.get("error") or not request.GET.get("code"):
        messages.warning(request, f"{label} was not connected: the permission was not given.")
        return redirect("connections:list")
    try:
        profile = network.connect_complete(
            code=request.GET["code"], redirect_uri=_oauth_redirect_uri(request)
        )
        account = services.oauth_connection_complete(
            actor=request.membership, platform=network.id, profile=profile
        )
    except NetworkError as exc:
        messages.error(request, f"{label} did not connect: {exc.message}")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Connected {account}.")
    return redirect("connections:list")


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def account_disconnect(request: TenantRequest, connected_account_id: int) -> HttpResponse:
    account = get_for_tenant_or_404(
        ConnectedAccount.objects.all(), tenant=request.tenant, pk=connected_account_id
    )
    try:
        services.account_disconnect(actor=request.membership, account=account)
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
        account = services.account_check(actor=request.membership, account=account)
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

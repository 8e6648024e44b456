"""Dashboard pages for tenants, the team and invitations. Thin: forms in, services, redirect."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import selectors, services, tenant_data
from apps.accounts.forms import (
    ApiKeyForm,
    BrandProfileForm,
    InvitationForm,
    RoleForm,
    TenantCreateForm,
    TenantSettingsForm,
)
from apps.accounts.middleware import SESSION_KEY, AuthenticatedRequest, TenantRequest
from apps.accounts.models import (
    MANAGING_ROLES,
    ApiKey,
    Invitation,
    Membership,
    Role,
    TenantExport,
)
from apps.accounts.permissions import tenant_required
from apps.core.exceptions import ApplicationError
from apps.core.models import get_for_tenant_or_404

# --- Tenants ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def tenant_create(request: AuthenticatedRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = services.tenant_create(
                user=request.user,
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                timezone_name=form.cleaned_data["timezone"],
            )
        except ApplicationError as exc:
            form.add_error("slug" if exc.code.startswith("slug") else "name", exc.message)
        else:
            request.session[SESSION_KEY] = tenant.pk
            messages.success(request, f"{tenant.name} is ready. Invite your team next.")
            return redirect("dashboard:overview")
    invitations = selectors.invitation_list_for_email(email=request.user.email)
    return render(
        request,
        "accounts/tenant_create.html",
        {"form": form, "invitations": [i for i in invitations if i.is_open]},
    )


@login_required
@require_POST
def tenant_switch(request: AuthenticatedRequest, tenant_id: int) -> HttpResponse:
    membership = selectors.membership_get_for_user(user=request.user, tenant_id=tenant_id)
    if membership is None:
        raise Http404  # another tenant's id tells nothing
    request.session[SESSION_KEY] = membership.tenant_id
    messages.info(request, f"You are now working in {membership.tenant.name}.")
    return redirect("dashboard:overview")


@tenant_required(roles=MANAGING_ROLES)
@require_http_methods(["GET", "POST"])
def tenant_settings(request: TenantRequest) -> HttpResponse:
    form = TenantSettingsForm(request.POST or None, instance=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_update(
                actor=request.membership,
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Business settings saved.")
            return redirect("tenants:settings")
    return render(
        request,
        "accounts/tenant_settings.html",
        {
            "form": form,
            "exports": TenantExport.objects.for_tenant(request.tenant)[:10]
            if request.membership.role == Role.OWNER
            else [],
            "export_days": settings.TENANT_EXPORT_DAYS,
        },
    )


# Which form field each of tenant_brand_update's error codes belongs to.
BRAND_ERROR_FIELDS = {
    "hashtag_invalid": "default_hashtags",
    "hashtags_too_many": "default_hashtags",
    "default_hashtags_too_long": "default_hashtags",
    "description_too_long": "description",
    "category_too_long": "category",
    "tone_of_voice_too_long": "tone_of_voice",
}


@tenant_required()
@require_http_methods(["GET", "POST"])
def brand_profile(request: TenantRequest) -> HttpResponse:
    """Every member may read the brand profile (editors write captions from it); owners and
    managers change it."""
    tenant = request.tenant
    can_change = request.membership.can_manage
    if request.method == "POST" and not can_change:
        raise PermissionDenied("This needs one of these roles: manager, owner.")
    form = BrandProfileForm(
        request.POST or None,
        initial={
            "category": tenant.category,
            "description": tenant.description,
            "tone_of_voice": tenant.tone_of_voice,
            "default_hashtags": tenant.default_hashtags,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_brand_update(actor=request.membership, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(BRAND_ERROR_FIELDS.get(exc.code), exc.message)
        else:
            messages.success(request, "Brand profile saved. New caption suggestions will use it.")
            return redirect("brand:profile")
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "accounts/brand.html",
        {"form": form, "can_change": can_change},
        status=400 if form.errors else 200,
    )


# --- Team ------------------------------------------------------------------------------------


@tenant_required()
@require_http_methods(["GET", "POST"])
def team(request: TenantRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        if not request.membership.can_manage:
            messages.error(request, "Only owners and managers can invite people.")
            return redirect("team:list")
        if form.is_valid():
            try:
                issued = services.invitation_create(
                    actor=request.membership,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    accept_url_for=lambda token: request.build_absolute_uri(
                        reverse("invitations:accept", kwargs={"token": token})
                    ),
                )
            except ApplicationError as exc:
                form.add_error("email" if exc.code != "not_permitted" else "role", exc.message)
            else:
                messages.success(request, f"Invitation sent to {issued.invitation.email}.")
                return redirect("team:list")
    return render(
        request,
        "accounts/team.html",
        {
            "form": form,
            "members": selectors.membership_list(tenant=request.tenant),
            "invitations": selectors.invitation_list_open(tenant=request.tenant),
            "role_form": RoleForm(),
        },
        status=400 if form.errors else 200,
    )


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def member_change_role(request: TenantRequest, membership_id: int) -> HttpResponse:
    membership = get_for_tenant_or_404(
        Membership.objects.select_related("user"), tenant=request.tenant, pk=membership_id
    )
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("team:list")
    try:
        change = services.membership_change_role(
            actor=request.membership, membership=membership, role=form.cleaned_data["role"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{membership.user.email} is now {membership.get_role_display().lower()}."
            + _api_keys_said(change),
        )
    return redirect("team:list")


def _api_keys_said(change: services.MembershipChange, whose: str = "Their") -> str:
    """The confirmation's sentence about the member's API keys (empty when none changed)."""
    if change.api_keys_revoked:
        n = change.api_keys_revoked
        return f" {whose} {n} API key{'s' * (n != 1)} {'were' if n != 1 else 'was'} revoked."
    if change.api_keys_narrowed:
        n = change.api_keys_narrowed
        return f" {whose} {n} API key{'s' * (n != 1)} can now only read."
    return ""


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def member_remove(request: TenantRequest, membership_id: int) -> HttpResponse:
    membership = get_for_tenant_or_404(
        Membership.objects.select_related("user"), tenant=request.tenant, pk=membership_id
    )
    try:
        change = services.membership_remove(actor=request.membership, membership=membership)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{membership.user.email} no longer has access." + _api_keys_said(change)
        )
    return redirect("team:list")


@tenant_required()
@require_POST
def team_leave(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    try:
        change = services.membership_leave(membership=request.membership)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("team:list")
    request.session.pop(SESSION_KEY, None)
    messages.success(request, f"You left {tenant.name}." + _api_keys_said(change, "Your"))
    return redirect("dashboard:overview")


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def invitation_revoke(request: TenantRequest, invitation_id: int) -> HttpResponse:
    invitation = get_for_tenant_or_404(
        Invitation.objects.all(), tenant=request.tenant, pk=invitation_id
    )
    try:
        services.invitation_revoke(actor=request.membership, invitation=invitation)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("team:list")


# --- Accepting an invitation -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail. Anyone may look; accepting needs the invited address's login."""
    invitation = services.invitation_get_by_token(token=token)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            request.session[SESSION_KEY] = membership.tenant_id
            messages.success(request, f"Welcome to {membership.tenant.name}.")
            return redirect("dashboard:overview")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "token": token},
        status=200 if invitation is not None else 404,
    )


# --- API keys ----------------------------------------------------------------------------------


@tenant_required(roles=MANAGING_ROLES)
@require_http_methods(["GET", "POST"])
def api_keys(request: TenantRequest) -> HttpResponse:
    """Create (the key is shown once, on this response) and list the tenant's API keys."""
    form = ApiKeyForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.api_key_create(
                actor=request.membership,
                name=form.cleaned_data["name"],
                scopes=[form.cleaned_data["scope"]],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            form = ApiKeyForm()
    return render(
        request,
        "accounts/api_keys.html",
        {
            "form": form,
            "issued": issued,
            "keys": ApiKey.objects.for_tenant(request.tenant).select_related("created_by"),
            # A key of someone no longer here (or deactivated) is refused even if not revoked.
            "member_ids": set(
                Membership.objects.for_tenant(request.tenant)
                .filter(user__is_active=True)
                .values_list("user_id", flat=True)
            ),
        },
        status=400 if form.errors else 200,
    )


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def api_key_revoke(request: TenantRequest, api_key_id: int) -> HttpResponse:
    api_key = get_for_tenant_or_404(ApiKey.objects.all(), tenant=request.tenant, pk=api_key_id)
    services.api_key_revoke(actor=request.membership, api_key=api_key)
    messages.success(request, f"The key “{api_key.name}” is revoked: it no longer works.")
    return redirect("api_keys:list")


# --- Data export and deletion ----------------------------------------------------------------

OWNER_ONLY = frozenset({Role.OWNER})


@tenant_required(roles=OWNER_ONLY)
@require_POST
def tenant_export_request(request: TenantRequest) -> HttpResponse:
    try:
        tenant_data.tenant_export_request(membership=request.membership)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "Your export is being prepared. The owners get an e-mail with the link when it is "
            "ready; it is also listed here.",
        )
    return redirect(reverse("tenants:settings") + "#export")


@tenant_required(roles=OWNER_ONLY)
@require_http_methods(["GET"])
def tenant_export_download(
    request: TenantRequest, tenant_export_id: int
) -> HttpResponse | FileResponse:
    """The ZIP, as an attachment, to the tenant's owners while it has not expired."""
    export = get_for_tenant_or_404(
        TenantExport.objects.all(), tenant=request.tenant, pk=tenant_export_id
    )
    if export.status == TenantExport.Status.READY and not export.is_downloadable:
        return render(request, "accounts/export_expired.html", {"export": export}, status=410)
    if not export.is_downloadable or not default_storage.exists(export.file.name):
        raise Http404
    finished = export.finished_at or export.created_at
    response = FileResponse(
        default_storage.open(export.file.name, "rb"),
        as_attachment=True,
        filename=f"{request.tenant.slug}-export-{finished:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@tenant_required(roles=OWNER_ONLY)
@require_http_methods(["GET", "POST"])
def tenant_delete(request: TenantRequest) -> HttpResponse:
    """The danger zone: typing the business's name deletes it and everything it owns."""
    error = ""
    if request.method == "POST":
        try:
            result = tenant_data.tenant_delete(
                membership=request.membership, confirm_name=request.POST.get("confirm_name", "")
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(
                request,
                f"{result.tenant_name} was deleted with everything it held; its Facebook and "
                "Instagram access was withdrawn. Your own login stays.",
            )
            for problem in result.problems:
                messages.warning(request, problem)
            return redirect("tenants:create")
    return render(
        request,
        "accounts/tenant_delete.html",
        {"error": error, "holdings": tenant_data.tenant_holdings(tenant=request.tenant)},
        status=400 if error else 200,
    )

from django.http import HttpResponse
from django.shortcuts import render

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

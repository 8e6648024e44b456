"""Resolves the request's tenant once, at the edge (SPEC 4).

``request.membership`` is the signed-in user's membership of the tenant they are working in (the
one they last switched to, else their first); ``request.tenant`` is its tenant. Both are ``None``
for anonymous users and for users who belong to no tenant yet.
"""

import zoneinfo
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from apps.accounts import selectors
from apps.accounts.models import Membership, Tenant, User

SESSION_KEY = "tenant_id"


class AuthenticatedRequest(HttpRequest):
    """The request as views see it behind ``login_required``."""

    user: User


class TenantRequest(AuthenticatedRequest):
    """The request as dashboard views see it behind ``tenant_required``."""

    membership: Membership
    tenant: Tenant


def membership_for_request(request: HttpRequest, *, user: User) -> Membership | None:
    """The one tenant resolution, for the dashboard (``TenantMiddleware``) and the API's session
    authentication: the user's membership of the tenant they last switched to (the session's
    ``tenant_id``), else their first membership; None when they belong to no tenant."""
    tenant_id = request.session.get(SESSION_KEY)
    membership = None
    if tenant_id is not None:
        membership = selectors.membership_get_for_user(user=user, tenant_id=tenant_id)
    if membership is None:
        membership = selectors.membership_list_for_user(user=user).first()
    return membership


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership: Membership | None = None
        user = request.user
        if user.is_authenticated:
            membership = membership_for_request(request, user=user)
            if membership is not None:
                structlog.contextvars.bind_contextvars(tenant_id=membership.tenant_id)
        setattr(request, "membership", membership)  # noqa: B010
        setattr(request, "tenant", membership.tenant if membership else None)  # noqa: B010
        # Pages show times in the tenant's timezone; the database keeps UTC.
        if membership is not None:
            timezone.activate(zoneinfo.ZoneInfo(membership.tenant.timezone))
        else:
            timezone.deactivate()
        return self.get_response(request)

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from apps.accounts.models import Membership


class TenantMember(permissions.BasePermission):
    """A tenant is known (key or session), and writes need write access: an API key with the
    write scope, or a member who may edit."""

    message = "This needs access to a business."

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = getattr(request._request, "api_membership", None)
        if membership is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if not membership.can_edit:
            self.message = (
                "This API key can only read."
                if getattr(request._request, "api_key", None)
                else "Your role can only read."
            )
            return False
        return True


class TenantManager(TenantMember):
    """Owners and managers only, reads included (webhook endpoints say where the data goes).

    An API key otherwise acts as an editor; here it acts as the person who created it, and only
    while that person is an owner or manager of the business (a read-only key still only reads).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        self.message = "Only owners and managers can manage webhooks."
        api_key = getattr(request._request, "api_key", None)
        if api_key is None:
            return bool(request._request.api_membership.can_manage)  # type: ignore[attr-defined]
        # Read by the authentication on this request (apps.accounts.api.authentication).
        creator: Membership | None = getattr(request._request, "api_key_creator", None)
        if creator is None or not creator.can_manage:
            self.message = "This API key's creator is not an owner or manager of the business."
            return False
        setattr(request._request, "api_membership", creator)  # noqa: B010
        return True

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request


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

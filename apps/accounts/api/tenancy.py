"""The base of every tenant API view: the tenant comes from the authentication, once."""

from typing import Any

from rest_framework.request import Request
from rest_framework.views import APIView

from apps.accounts.models import Membership, Tenant


class TenantAPIMixin:
    """Gives views ``self.tenant`` and ``self.membership`` (the acting membership)."""

    @property
    def membership(self) -> Membership:
        request: Request = self.request  # type: ignore[attr-defined]
        return request._request.api_membership  # type: ignore[attr-defined]

    @property
    def tenant(self) -> Tenant:
        return self.membership.tenant

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        context["tenant"] = self.tenant
        return context


class TenantAPIView(TenantAPIMixin, APIView):
    pass

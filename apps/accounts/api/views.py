from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.tenancy import TenantAPIView


class MeView(TenantAPIView):
    """The business the request acts for, and how it acts."""

    @extend_schema(
        operation_id="me",
        responses=inline_serializer(
            "Me",
            {
                "tenant": inline_serializer(
                    "MeTenant",
                    {
                        "id": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        "slug": serializers.CharField(),
                        "plan": serializers.CharField(),
                        "timezone": serializers.CharField(),
                        "requires_approval": serializers.BooleanField(),
                    },
                ),
                "role": serializers.CharField(),
                "api_key": inline_serializer(
                    "MeApiKey",
                    {
                        "name": serializers.CharField(),
                        "prefix": serializers.CharField(),
                        "scopes": serializers.ListField(child=serializers.CharField()),
                    },
                    allow_null=True,
                ),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        tenant = self.tenant
        api_key = getattr(request._request, "api_key", None)
        return Response(
            {
                "tenant": {
                    "id": tenant.pk,
                    "name": tenant.name,
                    "slug": tenant.slug,
                    "plan": tenant.plan,
                    "timezone": tenant.timezone,
                    "requires_approval": tenant.requires_approval,
                },
                "role": self.membership.role,
                "api_key": (
                    {"name": api_key.name, "prefix": api_key.prefix, "scopes": api_key.scopes}
                    if api_key
                    else None
                ),
            }
        )

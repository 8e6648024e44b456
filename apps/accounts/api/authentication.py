"""API authentication: ``Authorization: Api-Key <key>`` for integrations; the browser's session
for the dashboard's own calls. Either way the request gets one tenant and an acting membership."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apps.accounts import services
from apps.accounts.middleware import membership_for_request
from apps.accounts.models import ROLE_RANK, ApiKey, Membership, Role


def api_key_creator(api_key: ApiKey) -> Membership | None:
    """The current membership of the key's creator in the key's tenant, if they still have one
    and their login is active. Read on every request (not cached), so a removal made any way —
    the team page, the admin, a cascade — stops the key at once."""
    if api_key.created_by_id is None:
        return None
    return (
        Membership.objects.select_related("tenant", "user")
        .filter(tenant_id=api_key.tenant_id, user_id=api_key.created_by_id, user__is_active=True)
        .first()
    )


def api_key_membership(api_key: ApiKey, creator: Membership) -> Membership:
    """How a key acts: an editor of its tenant (a viewer for read-only keys), in the name of the
    person who created it, and never as more than that person's current role. Not saved: it
    exists for the length of the request."""
    scope_role = Role.EDITOR if api_key.can_write else Role.VIEWER
    role = min(scope_role, Role(creator.role), key=ROLE_RANK.__getitem__)
    return Membership(tenant=creator.tenant, user=creator.user, role=role)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _, key = header.partition(" ")
        if keyword != self.keyword:
            return None
        api_key = services.api_key_authenticate(key=key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid, or it was revoked.")
        creator = api_key_creator(api_key)
        if creator is None:
            raise exceptions.AuthenticationFailed(
                "This API key no longer works: the person who created it is no longer a member "
                "of the business."
            )
        membership = api_key_membership(api_key, creator)
        # On the Django request, where views, permissions and throttles look for them.
        setattr(request._request, "api_key", api_key)  # noqa: B010
        setattr(request._request, "api_key_creator", creator)  # noqa: B010
        setattr(request._request, "api_membership", membership)  # noqa: B010
        return (creator.user, api_key)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TenantSessionAuthentication(authentication.SessionAuthentication):
    """The dashboard's session, acting in the tenant the person is working in."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        # The same resolution as the dashboard's (TenantMiddleware), so both act in one tenant.
        membership = membership_for_request(request._request, user=result[0])
        setattr(request._request, "api_membership", membership)  # noqa: B010
        return result


# How the two authentications appear in the OpenAPI schema (drf-spectacular finds these
# extensions once this module is imported, which DRF does when it reads its settings).
class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; create keys in the dashboard (Settings → API keys).",
        }


class TenantSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.api.authentication.TenantSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The dashboard's own session (browser only).",
        }

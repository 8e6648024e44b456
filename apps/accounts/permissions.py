"""View guards for the dashboard: signed in, in a tenant, with a role that allows the action."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from apps.accounts.models import Role

View = Callable[..., HttpResponseBase]


def tenant_required(*, roles: frozenset[str] | None = None) -> Callable[[View], View]:
    """Anonymous → login; no tenant yet → create one; a role outside ``roles`` → 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                return redirect("tenants:create")
            if roles is not None and membership.role not in roles:
                allowed = ", ".join(Role(r).label.lower() for r in sorted(roles))
                raise PermissionDenied(f"This needs one of these roles: {allowed}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

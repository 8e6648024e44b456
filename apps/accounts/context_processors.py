from typing import Any

from django.http import HttpRequest

from apps.accounts import selectors


def tenancy(request: HttpRequest) -> dict[str, Any]:
    """The tenant switcher's choices; evaluated lazily, only by pages that show the switcher."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": selectors.membership_list_for_user(user=user),
    }

"""The tenant's home page."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts import selectors
from apps.accounts.middleware import TenantRequest
from apps.accounts.permissions import tenant_required
from apps.dashboard.charts import engagement_chart
from apps.posts import selectors as post_selectors
from apps.social import selectors as social_selectors
from apps.social.models import ConnectedAccount

ENGAGEMENT_DAYS = 30


@tenant_required()
@require_GET
def overview(request: TenantRequest) -> HttpResponse:
    """The tenant's home page: account health, what goes out next, what went out, and 30 days
    of engagement. A constant number of queries whatever the amount of data."""
    tenant = request.tenant
    accounts = list(social_selectors.account_list(tenant=tenant, include_disconnected=False))
    logins = social_selectors.facebook_login_list(tenant=tenant, accounts=accounts)
    engagement = post_selectors.engagement_daily(tenant=tenant, days=ENGAGEMENT_DAYS)
    return render(
        request,
        "dashboard/overview.html",
        {
            "member_count": selectors.membership_list(tenant=tenant).count(),
            "open_invitation_count": selectors.invitation_list_open(tenant=tenant).count(),
            "accounts": accounts,
            "needs_reauth_count": sum(
                a.status == ConnectedAccount.Status.NEEDS_REAUTH for a in accounts
            ),
            "no_permission_count": sum(
                a.status == ConnectedAccount.Status.NO_PERMISSION for a in accounts
            ),
            "logins_to_renew": [login for login in logins if login.needs_reconnect],
            "upcoming": post_selectors.post_list_upcoming(tenant=tenant),
            "results": post_selectors.publication_list_recent(tenant=tenant),
            "engagement": engagement,
            "chart": engagement_chart(engagement) if engagement.total else None,
            "engagement_days": ENGAGEMENT_DAYS,
        },
    )

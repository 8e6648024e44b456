"""Dashboard pages for webhook endpoints (owners and managers). Thin: form → service → page."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.middleware import TenantRequest
from apps.accounts.models import MANAGING_ROLES
from apps.accounts.permissions import tenant_required
from apps.core.exceptions import ApplicationError
from apps.core.models import get_for_tenant_or_404
from apps.webhooks import services
from apps.webhooks.forms import WebhookEndpointForm
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50


@tenant_required(roles=MANAGING_ROLES)
@require_http_methods(["GET", "POST"])
def endpoint_list(request: TenantRequest) -> HttpResponse:
    """List and create endpoints; a new endpoint's secret is shown on this response only."""
    form = WebhookEndpointForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.webhook_endpoint_create(
                actor=request.membership,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ApplicationError as exc:
            form.add_error("url" if exc.code == "url_invalid" else "events", exc.message)
        else:
            form = WebhookEndpointForm()
    return render(
        request,
        "webhooks/list.html",
        {
            "form": form,
            "issued": issued,
            "endpoints": WebhookEndpoint.objects.for_tenant(request.tenant).defer("secret"),
        },
        status=400 if form.errors else 200,
    )


def _endpoint(request: TenantRequest, webhook_endpoint_id: int) -> WebhookEndpoint:
    return get_for_tenant_or_404(
        WebhookEndpoint.objects.all(), tenant=request.tenant, pk=webhook_endpoint_id
    )


def _detail(
    request: TenantRequest, endpoint: WebhookEndpoint, *, issued_secret: str = ""
) -> HttpResponse:
    deliveries = WebhookDelivery.objects.for_tenant(request.tenant).filter(endpoint=endpoint)[
        :RECENT_DELIVERIES
    ]
    return render(
        request,
        "webhooks/detail.html",
        {"endpoint": endpoint, "deliveries": deliveries, "issued_secret": issued_secret},
    )


@tenant_required(roles=MANAGING_ROLES)
@require_http_methods(["GET"])
def endpoint_detail(request: TenantRequest, webhook_endpoint_id: int) -> HttpResponse:
    return _detail(request, _endpoint(request, webhook_endpoint_id))


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def endpoint_test(request: TenantRequest, webhook_endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_endpoint_id)
    try:
        services.webhook_test_send(actor=request.membership, endpoint=endpoint)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "A test event is on its way; refresh to see the answer.")
    return redirect("webhooks:detail", webhook_endpoint_id=endpoint.pk)


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def endpoint_rotate(request: TenantRequest, webhook_endpoint_id: int) -> HttpResponse:
    """A new secret, shown on this response only; the old one stops working at once."""
    endpoint = _endpoint(request, webhook_endpoint_id)
    issued = services.webhook_endpoint_secret_rotate(actor=request.membership, endpoint=endpoint)
    return _detail(request, issued.endpoint, issued_secret=issued.secret)


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def endpoint_toggle(request: TenantRequest, webhook_endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_endpoint_id)
    endpoint = services.webhook_endpoint_set_active(
        actor=request.membership, endpoint=endpoint, active=not endpoint.is_active
    )
    messages.success(
        request, "The endpoint is enabled." if endpoint.is_active else "The endpoint is disabled."
    )
    return redirect("webhooks:detail", webhook_endpoint_id=endpoint.pk)


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def endpoint_delete(request: TenantRequest, webhook_endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_endpoint_id)
    services.webhook_endpoint_delete(actor=request.membership, endpoint=endpoint)
    messages.success(request, f"The endpoint {endpoint.url} and its deliveries are deleted.")
    return redirect("webhooks:list")


@tenant_required(roles=MANAGING_ROLES)
@require_POST
def delivery_redeliver(request: TenantRequest, webhook_delivery_id: int) -> HttpResponse:
    delivery = get_for_tenant_or_404(
        WebhookDelivery.objects.all(), tenant=request.tenant, pk=webhook_delivery_id
    )
    try:
        services.webhook_delivery_redeliver(actor=request.membership, delivery=delivery)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The delivery is on its way again.")
    return redirect("webhooks:detail", webhook_endpoint_id=delivery.endpoint_id)

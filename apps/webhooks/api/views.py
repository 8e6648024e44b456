"""Webhook endpoints and their deliveries over the API. Thin: apps.webhooks.services decides."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.permissions import TenantManager
from apps.accounts.api.tenancy import TenantAPIMixin
from apps.core.api.idempotency import idempotent
from apps.core.api.problems import problems
from apps.webhooks import services
from apps.webhooks.api.serializers import (
    WebhookDeliveryQuerySerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookSecretSerializer,
)
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint


def _with_secret(issued: services.IssuedSecret) -> dict[str, Any]:
    return {**WebhookEndpointSerializer(issued.endpoint).data, "secret": issued.secret}


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        description="Owners and managers only. The signing secret is never listed.",
        responses={200: WebhookEndpointSerializer(many=True), **problems(403)},
    ),
    retrieve=extend_schema(
        summary="Get a webhook endpoint",
        responses={200: WebhookEndpointSerializer, **problems(403, 404)},
    ),
    create=extend_schema(
        summary="Add a webhook endpoint",
        description="Answers the endpoint with its signing `secret`, shown this once. The URL "
        "must be https on a public address (400 `url_invalid`). A replay of the same "
        "`Idempotency-Key` answers `secret` as null, with `withheld` saying why (the secret is "
        "never stored): rotate the secret if the first answer was lost.",
        request=WebhookEndpointSerializer,
        responses={201: WebhookSecretSerializer, **problems(400, 403, 422)},
        examples=[
            OpenApiExample(
                "Published and failed posts",
                value={
                    "url": "https://hooks.example.com/social",
                    "events": ["post.published", "post.failed"],
                    "description": "Our kitchen display",
                },
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Change events, description or turn on/off",
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer, **problems(400, 403, 404)},
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="Its delivery log goes with it.",
        responses={204: OpenApiResponse(description="Deleted."), **problems(403, 404)},
    ),
    rotate_secret=extend_schema(
        summary="Rotate the signing secret",
        description="The old secret stops working at once; the new one is answered this once.",
        request=None,
        responses={200: WebhookSecretSerializer, **problems(403, 404)},
    ),
    test=extend_schema(
        summary="Send a test event",
        description="Queues a signed `webhook.test` delivery to the endpoint; follow it in the "
        "deliveries.",
        request=None,
        responses={202: WebhookDeliverySerializer, **problems(400, 403, 404)},
    ),
)
class WebhookEndpointViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Where the business's events are sent, signed (docs/api.md, Webhooks)."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [TenantManager]
    queryset = WebhookEndpoint.objects.all()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.for_tenant(self.tenant)

    # The secret is never kept for an Idempotency-Key replay: it answers it as null (docs/api.md).
    @idempotent(
        shown_once_fields={
            "secret": "If it was lost, rotate it: "
            "POST /api/v1/webhook-endpoints/<id>/rotate-secret/."
        }
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issued = services.webhook_endpoint_create(
            actor=self.membership,
            url=data["url"],
            events=data["events"],
            description=data.get("description", ""),
        )
        return Response(_with_secret(issued), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        serializer = WebhookEndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "events" in data or "description" in data:
            endpoint = services.webhook_endpoint_update(
                actor=self.membership,
                endpoint=endpoint,
                events=data.get("events", endpoint.events),
                description=data.get("description", endpoint.description),
            )
        if "is_active" in data:
            endpoint = services.webhook_endpoint_set_active(
                actor=self.membership, endpoint=endpoint, active=data["is_active"]
            )
        return Response(self.get_serializer(endpoint).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.webhook_endpoint_delete(actor=self.membership, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        issued = services.webhook_endpoint_secret_rotate(
            actor=self.membership, endpoint=self.get_object()
        )
        return Response(_with_secret(issued))

    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.webhook_test_send(actor=self.membership, endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        summary="List webhook deliveries",
        description="Newest first; filter by `endpoint`, `status` or `event`.",
        parameters=[WebhookDeliveryQuerySerializer],
        responses={200: WebhookDeliverySerializer(many=True), **problems(400, 403)},
    ),
    retrieve=extend_schema(
        summary="Get a webhook delivery",
        responses={200: WebhookDeliverySerializer, **problems(403, 404)},
    ),
    redeliver=extend_schema(
        summary="Send a failed delivery again",
        description="The same delivery (same `event_id`, so receivers can de-duplicate) is "
        "attempted again at once, its attempts counted afresh. 400 `not_failed` for a delivery "
        "that has not failed, `inactive` when its endpoint is turned off.",
        request=None,
        responses={202: WebhookDeliverySerializer, **problems(400, 403, 404)},
    ),
)
class WebhookDeliveryViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """What was sent to the endpoints, and what they answered."""

    serializer_class = WebhookDeliverySerializer
    permission_classes = [TenantManager]
    queryset = WebhookDelivery.objects.all()

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        deliveries = WebhookDelivery.objects.for_tenant(self.tenant)
        if self.action != "list":
            return deliveries
        query = WebhookDeliveryQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if "endpoint" in data:
            deliveries = deliveries.filter(endpoint_id=data["endpoint"])
        if "status" in data:
            deliveries = deliveries.filter(status=data["status"])
        if "event" in data:
            deliveries = deliveries.filter(event=data["event"])
        return deliveries

    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.webhook_delivery_redeliver(
            actor=self.membership, delivery=self.get_object()
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

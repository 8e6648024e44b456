from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import fields
from apps.core.api.serializers import ModelSerializer, QuerySerializer
from apps.webhooks.models import TEST_EVENT, Event, WebhookDelivery, WebhookEndpoint


# Only https is taken (apps.webhooks.sending.url_problem; a public address too, which a schema
# cannot say): the schema's pattern says so, instead of "any URI".
@extend_schema_field({"type": "string", "maxLength": 2000, "pattern": "^https://"})
class WebhookUrlField(fields.URLField):
    pass


class WebhookEndpointSerializer(ModelSerializer):
    url = WebhookUrlField(
        max_length=2000,
        help_text="An https URL (`https://…`; plain http is refused) on a public address, that "
        "receives the signed deliveries; set at creation only. Anything else is a 400 "
        "`url_invalid`.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices),
        min_length=1,
        max_length=len(Event.choices),
        help_text="The events this endpoint receives.",
    )
    description = fields.CharField(max_length=200, required=False, allow_blank=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "created_at",
            "secret_rotated_at",
        ]
        read_only_fields = ["id", "is_active", "created_at", "secret_rotated_at"]


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices),
        min_length=1,
        max_length=len(Event.choices),
        required=False,
    )
    description = fields.CharField(max_length=200, required=False, allow_blank=True)
    is_active = fields.BooleanField(
        required=False, help_text="false: no new deliveries until turned back on."
    )


class WebhookSecretSerializer(WebhookEndpointSerializer):
    """An endpoint with its signing secret: answered once, at creation and on rotation."""

    secret = serializers.CharField(
        read_only=True,
        help_text="`whsec_…`: verifies the `Webhook-Signature` header (docs/api.md). Store it "
        "now; it is never shown again.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(ModelSerializer):
    endpoint_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint_id",
            "event",
            "event_id",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields


class WebhookDeliveryQuerySerializer(QuerySerializer):
    endpoint = fields.IntegerField(required=False, help_text="Deliveries to this endpoint.")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
    event = serializers.ChoiceField(
        choices=[*Event.values, TEST_EVENT], required=False, help_text="Deliveries of this event."
    )

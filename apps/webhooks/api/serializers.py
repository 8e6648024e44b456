from typing import Any
from urllib.parse import urlsplit

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import fields
from apps.core.api.serializers import BodySerializer, ModelSerializer, QuerySerializer
from apps.core.exceptions import ApplicationError
from apps.webhooks import targets
from apps.webhooks.models import TEST_EVENT, Event, WebhookDelivery, WebhookEndpoint


# Only https is taken, on a public address (which a schema cannot say): the schema's pattern
# says https, instead of "any URI".
@extend_schema_field({"type": "string", "maxLength": 2000, "pattern": "^https://"})
class WebhookUrlField(fields.URLField):
    """An endpoint URL. Whether it may receive webhooks is apps.webhooks.targets' decision (the
    form's, the service's and the sender's too), taken before the generic URL syntax check so
    that ``https://0x7f000001/`` is refused for what it is: ``400 url_invalid`` (docs/api.md)."""

    def to_internal_value(self, data: Any) -> str:
        url = str(super().to_internal_value(data))
        try:
            parts = urlsplit(url)
        except ValueError:
            return url  # the syntax check (URLValidator) explains it
        if parts.scheme and parts.hostname:
            problem = targets.url_problem(url, allow_local=targets.local_targets_allowed())
            if problem:
                raise ApplicationError(problem, code="url_invalid")
        return url


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


class WebhookEndpointUpdateSerializer(BodySerializer):
    # `url` is set at creation only: read-only here.
    representation = WebhookEndpointSerializer

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
        allow_null=True,
        help_text="`whsec_…`: verifies the `Webhook-Signature` header (docs/api.md). Store it "
        "now; it is never shown again. null in an `Idempotency-Key` replay (see `withheld`).",
    )
    # Not read_only: the schema would then call it required, and first answers do not have it.
    withheld = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Only in an `Idempotency-Key` replay: the fields answered as null because "
        "they are shown once, each with why and what to do.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret", "withheld"]


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

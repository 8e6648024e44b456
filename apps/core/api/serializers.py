"""Bases of the API's serializers: a request body takes the serializer's writable fields and no
other key (``BodySerializer``; ``ModelSerializer`` is one); model fields become strict fields
(``fields.py``); query parameters are refused when present but empty."""

from collections.abc import Mapping
from typing import Any, ClassVar

from django.db import models
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.settings import api_settings

from apps.core.api import fields

# A body with thousands of unknown keys gets this many named (and a count of the rest), not an
# answer thousands of errors long.
MAX_REFUSED_KEYS_NAMED = 20


class BodySerializer(serializers.Serializer):
    """A request body (JSON object or multipart form): a key that is not one of the writable
    fields is a 400 ``invalid`` with, under that key, ``unknown_field`` or, for a field of the
    answer that the client cannot set (``id``, ``status``, ``created_at`` …), ``read_only``;
    each message lists the fields taken. Nothing is guessed: ``target_ids`` for ``targets`` is
    refused, not ignored, so nothing is written with part of what was meant (docs/api.md,
    "Unknown and read-only fields"). The OpenAPI schema says so: the request body's object has
    ``additionalProperties: false`` (``BodySchema`` below).

    ``representation``: the serializer of what the body writes (the answer); its fields that
    the body does not take are refused as read-only. A ModelSerializer's own read-only fields
    are too.
    """

    representation: ClassVar[type[serializers.BaseSerializer] | None] = None

    def writable_field_names(self) -> list[str]:
        return [
            name
            for name, field in self.fields.items()
            if not field.read_only and not isinstance(field, serializers.HiddenField)
        ]

    def _refused_keys(self, data: Mapping[str, Any]) -> dict[str, list[ErrorDetail]]:
        writable = self.writable_field_names()
        unexpected = [key for key in data if key not in writable]
        if not unexpected:
            return {}
        read_only = {name for name, field in self.fields.items() if field.read_only}
        if self.representation is not None:
            # Only on a refusal: the answer's field names, for the message.
            read_only.update(self.representation().fields)  # type: ignore[attr-defined]
        allowed = ", ".join(writable) or "none"
        refused: dict[str, list[ErrorDetail]] = {}
        for key in unexpected[:MAX_REFUSED_KEYS_NAMED]:
            if key in read_only:
                message, code = f"{key} is read-only. Allowed: {allowed}.", "read_only"
            else:
                message, code = f"Unknown field. Allowed: {allowed}.", "unknown_field"
            refused[str(key)] = [ErrorDetail(message, code=code)]
        rest = len(unexpected) - MAX_REFUSED_KEYS_NAMED
        if rest > 0:
            refused[api_settings.NON_FIELD_ERRORS_KEY] = [
                ErrorDetail(f"And {rest} more fields that are not taken.", code="unknown_field")
            ]
        return refused

    def to_internal_value(self, data: Any) -> Any:
        # Not a mapping: DRF's own "Invalid data. Expected a dictionary" stands.
        refused = self._refused_keys(data) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if not refused:
                raise
            # Every problem of the body in one answer: the refused keys first.
            detail = exc.detail
            if not isinstance(detail, dict):
                detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
            raise ValidationError({**refused, **detail}) from exc
        if refused:
            raise ValidationError(refused)
        return value


class BodySchema(OpenApiSerializerExtension):
    """The schema of a ``BodySerializer`` in a request: ``additionalProperties: false``, as the
    server refuses any other key (clients and schemathesis read it)."""

    target_class = BodySerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        # drf-spectacular describes a serializer by its docstring, inherited if it has none:
        # this module's bases' are for readers of the code, not of the API.
        target = self.target if isinstance(self.target, type) else type(self.target)
        if not target.__dict__.get("__doc__"):
            schema.pop("description", None)
        if direction == "request" and schema.get("type") == "object":
            schema["additionalProperties"] = False
        return schema


class ModelSerializer(BodySerializer, serializers.ModelSerializer):
    """DRF's ModelSerializer with the strict fields for text, booleans, integers and ids; as a
    request body it takes only its writable fields (``BodySerializer``)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: fields.CharField,
        models.TextField: fields.CharField,
        models.SlugField: fields.CharField,
        models.URLField: fields.URLField,
        models.BooleanField: fields.BooleanField,
        models.IntegerField: fields.IntegerField,
        models.PositiveIntegerField: fields.IntegerField,
        models.PositiveSmallIntegerField: fields.IntegerField,
        models.SmallIntegerField: fields.IntegerField,
        models.BigIntegerField: fields.IntegerField,
        models.AutoField: fields.IntegerField,
        models.BigAutoField: fields.IntegerField,
    }
    serializer_related_field = fields.PrimaryKeyRelatedField


class QuerySerializer(serializers.Serializer):
    """The query parameters of a list (or a delete): give it ``request.query_params``.

    DRF reads a parameter sent empty (``?status=``) as absent; the schema says an enum, an
    integer or a non-empty text, so an empty value is a 400 ``blank``, as any other wrong value.
    A parameter that is not listed is ignored, as HTTP APIs commonly do (unlike a body's keys,
    ``BodySerializer``): query strings carry what proxies, caches and analytics add
    (``utm_*``, cache busters), which a client does not always control.
    """

    def to_internal_value(self, data: Any) -> Any:
        blank = {
            name: [ErrorDetail("Give a value, or leave the parameter out.", code="blank")]
            for name, field in self.fields.items()
            if not getattr(field, "allow_blank", False) and data.get(name, None) == ""
        }
        if blank:
            raise ValidationError(blank)
        return super().to_internal_value(data)

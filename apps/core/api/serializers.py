"""Bases of the API's serializers: model fields become strict fields (``fields.py``), and query
parameters are refused when present but empty."""

from typing import Any

from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from apps.core.api import fields


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer with the strict fields for text, booleans, integers and ids."""

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
    A parameter that is not listed is ignored, as HTTP APIs commonly do.
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

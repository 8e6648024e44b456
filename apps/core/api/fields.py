"""Strict serializer fields: a value must have the JSON type the OpenAPI schema gives it.

DRF's own fields coerce: ``CharField`` takes ``0`` as ``"0"``, ``BooleanField`` takes ``"yes"``,
``1`` or ``"on"``, ``IntegerField`` and primary keys take ``"12"``. The schema says ``string``,
``boolean``, ``integer``, so a client (or schemathesis) sending another type gets a 400
``invalid`` naming the field, not a guess. Text input — query strings and multipart forms, where
every value is a string — is parsed as DRF does, except that a boolean is ``true`` or ``false``.

Every API input uses these (``apps.core.api.serializers`` maps model fields onto them); the
schemathesis run (tests/api/test_schema.py, negative data must be refused) finds one that does
not.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.utils import html


def from_text_input(field: serializers.Field) -> bool:
    """True when the field's data comes from a query string or a form (all strings)."""
    return html.is_html_input(getattr(field.root, "initial_data", None))


class CharField(serializers.CharField):
    """Only a JSON string (no number or boolean turned into text)."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class URLField(serializers.URLField):
    """Only a JSON string, then a URL."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class BooleanField(serializers.BooleanField):
    """Only ``true`` or ``false`` (in text input: exactly those words)."""

    default_error_messages = {"invalid": _("Must be true or false.")}
    # DRF reads a boolean missing from a form as false ("an unticked checkbox"); absent is absent.
    default_empty_html = empty
    TEXT_VALUES = {"true": True, "false": False}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data in self.TEXT_VALUES and from_text_input(self):
            return self.TEXT_VALUES[data]
        self.fail("invalid")


def _is_json_integer(data: Any) -> bool:
    # JSON Schema's "integer" is any number without a fractional part (2.0 included).
    if isinstance(data, bool):
        return False
    return isinstance(data, int) or (isinstance(data, float) and data.is_integer())


class IntegerField(serializers.IntegerField):
    """A JSON integer; in text input, DRF's parsing of a whole number."""

    def to_internal_value(self, data: Any) -> int:
        if not (_is_json_integer(data) or (isinstance(data, str) and from_text_input(self))):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class ManyRelatedField(serializers.ManyRelatedField):
    """A JSON array of ids (DRF takes any iterable: an object's keys, so ``{}`` is ``[]``)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class PrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id: a JSON integer (in text input, its digits); ``many=True``: a JSON array of them."""

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> ManyRelatedField:
        list_kwargs: dict[str, Any] = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update({k: v for k, v in kwargs.items() if k in MANY_RELATION_KWARGS})
        return ManyRelatedField(**list_kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        # DRF reads "" as null for every relation; only a form's empty value means that.
        if data == "" and not from_text_input(self):
            self.fail("incorrect_type", data_type="str")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Any:
        if not (_is_json_integer(data) or (isinstance(data, str) and from_text_input(self))):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(int(data) if isinstance(data, float) else data)

"""OpenAPI pieces shared by the API's views: the documented error shape (RFC 9457 problem
details), the ``Idempotency-Key`` header, and how the two authentications appear in the schema.
The error shape itself is produced by ``exceptions.py``; ``schema.py`` adds these responses to
every operation.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from apps.core.api.exceptions import CONTENT_TYPE

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Makes a create safe to retry: the same key and body within 24 h return the "
    "first response (with `Idempotent-Replayed: true`); the same key with another body is a 422 "
    "`idempotency_key_reused`.",
)


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field, e.g. `targets` or `caption_overrides`.")
    code = serializers.CharField(help_text="Machine-readable reason, e.g. `required`.")
    message = serializers.CharField(help_text="What is wrong, for a person.")


class ProblemSerializer(serializers.Serializer):
    """Every error of the API: ``application/problem+json`` (RFC 9457)."""

    type = serializers.CharField(help_text="`urn:social-automation:problem:<code>`.")
    title = serializers.CharField(help_text="The HTTP status in words.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="Machine-readable; docs/api.md lists the codes.")
    errors = ProblemFieldErrorSerializer(  # type: ignore[assignment]  # stubs: Serializer.errors
        many=True, required=False, help_text="Field problems (400 `invalid`, 422 `post_invalid`)."
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="With 429: seconds to wait (also in `Retry-After`)."
    )


_EXAMPLES: dict[int, OpenApiExample] = {
    400: OpenApiExample(
        "Invalid fields",
        value={
            "type": "urn:social-automation:problem:invalid",
            "title": "Bad request",
            "status": 400,
            "detail": "The request has invalid fields.",
            "code": "invalid",
            "errors": [{"field": "name", "code": "required", "message": "This field is required."}],
        },
        status_codes=["400"],
        response_only=True,
    ),
    401: OpenApiExample(
        "No or bad key",
        value={
            "type": "urn:social-automation:problem:authentication_failed",
            "title": "Not authenticated",
            "status": 401,
            "detail": "The API key is not valid, or it was revoked.",
            "code": "authentication_failed",
        },
        status_codes=["401"],
        response_only=True,
    ),
    403: OpenApiExample(
        "Read-only key",
        value={
            "type": "urn:social-automation:problem:permission_denied",
            "title": "Forbidden",
            "status": 403,
            "detail": "This API key can only read.",
            "code": "permission_denied",
        },
        status_codes=["403"],
        response_only=True,
    ),
    404: OpenApiExample(
        "Not found",
        value={
            "type": "urn:social-automation:problem:not_found",
            "title": "Not found",
            "status": 404,
            "detail": "No such object in this business.",
            "code": "not_found",
        },
        status_codes=["404"],
        response_only=True,
    ),
    409: OpenApiExample(
        "Illegal transition",
        value={
            "type": "urn:social-automation:problem:illegal_transition",
            "title": "Conflict",
            "status": 409,
            "detail": "A post that is publishing cannot be edited.",
            "code": "illegal_transition",
        },
        status_codes=["409"],
        response_only=True,
    ),
    422: OpenApiExample(
        "Post breaks network rules",
        value={
            "type": "urn:social-automation:problem:post_invalid",
            "title": "Unprocessable content",
            "status": 422,
            "detail": "The post breaks rules of its networks.",
            "code": "post_invalid",
            "errors": [
                {
                    "field": "assets",
                    "code": "image_required",
                    "message": "Instagram: an Instagram post needs at least one image.",
                }
            ],
        },
        status_codes=["422"],
        response_only=True,
    ),
    429: OpenApiExample(
        "Throttled",
        value={
            "type": "urn:social-automation:problem:throttled",
            "title": "Too many requests",
            "status": 429,
            "detail": "Too many requests for this plan; try again in 120 s.",
            "code": "throttled",
            "retry_after": 120,
        },
        status_codes=["429"],
        response_only=True,
    ),
}

_DESCRIPTIONS = {
    400: "Invalid request (`invalid`, or a domain code such as `name_taken`, `not_an_image`).",
    401: "No key, a wrong key or a revoked key.",
    403: "The key (or role) may only read.",
    404: "No such object in this business.",
    409: "The object's state does not allow this (`illegal_transition`).",
    422: "The post breaks network rules (`post_invalid`), or `idempotency_key_reused`.",
    429: "The plan's request limit is reached; see `Retry-After`.",
}


def problems(*statuses: int) -> dict[Any, Any]:
    """``responses`` entries for the given error statuses, plus 401/403/429 that any call may get.
    Keys are ``(status, media type)`` so the schema says ``application/problem+json``."""
    wanted = sorted({401, 403, 429, *statuses})
    return {
        (status, CONTENT_TYPE): OpenApiResponse(
            response=ProblemSerializer,
            description=_DESCRIPTIONS[status],
            examples=[_EXAMPLES[status]],
        )
        for status in wanted
    }


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.core.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; create keys in the dashboard (Settings → API keys).",
        }


class TenantSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.core.api.authentication.TenantSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The dashboard's own session (browser only).",
        }

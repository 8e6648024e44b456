"""OpenAPI pieces shared by the API's views: the documented error shape (RFC 9457 problem
details) and the ``Idempotency-Key`` header (the authentications describe themselves in
``apps.accounts.api.authentication``).
The error shape itself is produced by ``exceptions.py``; ``schema.py`` adds these responses to
every operation.
"""

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from apps.core.api.exceptions import CONTENT_TYPE, problem_body

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Makes a create safe to retry: the same key and body within 24 h return the "
    "first response (with `Idempotent-Replayed: true`); the same key with another body is a 422 "
    "`idempotency_key_reused`. Secrets shown once are not kept: a replay answers them as null, "
    "names them in `Idempotent-Withheld` and says why in `withheld`.",
)


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field, e.g. `targets` or `caption_overrides`.")
    code = serializers.CharField(
        help_text="Machine-readable reason, e.g. `required`, `unknown_field`, `read_only`."
    )
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


def problem_example(name: str, status: int, code: str, detail: str, **extra: Any) -> Any:
    """A documented error response, built like the real ones (``problem_body``)."""
    return OpenApiExample(
        name,
        value=problem_body(status, code, detail, **extra),
        status_codes=[str(status)],
        response_only=True,
    )


_EXAMPLES: dict[int, OpenApiExample] = {
    400: problem_example(
        "Invalid fields",
        400,
        "invalid",
        "The request has invalid fields.",
        errors=[{"field": "name", "code": "required", "message": "This field is required."}],
    ),
    401: problem_example(
        "No or bad key",
        401,
        "authentication_failed",
        "The API key is not valid, or it was revoked.",
    ),
    403: problem_example("Read-only key", 403, "permission_denied", "This API key can only read."),
    404: problem_example("Not found", 404, "not_found", "No such object in this business."),
    409: problem_example(
        "Illegal transition",
        409,
        "illegal_transition",
        "A post that is publishing cannot be edited.",
    ),
    422: problem_example(
        "Post breaks network rules",
        422,
        "post_invalid",
        "The post breaks rules of its networks.",
        errors=[
            {
                "field": "assets",
                "code": "image_required",
                "message": "Instagram: an Instagram post needs at least one image.",
            }
        ],
    ),
    429: problem_example(
        "Throttled",
        429,
        "throttled",
        "Too many requests for this plan; try again in 120 s.",
        retry_after=120,
    ),
}
THROTTLED_EXAMPLE = _EXAMPLES[429]

_DESCRIPTIONS = {
    400: "Invalid request (`invalid`: `errors` names each field, incl. a body key the operation "
    "does not take, `unknown_field` or `read_only`; or a domain code such as `name_taken`, "
    "`not_an_image`).",
    401: "No key, a wrong key or a revoked key.",
    403: "The key (or role) may only read.",
    404: "No such object in this business.",
    409: "The object's state does not allow this (`illegal_transition`), or posts that can "
    "still go out use the image (`asset_in_use`, `folder_assets_in_use`).",
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

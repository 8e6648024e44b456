"""One error shape for the whole API: RFC 9457 problem details (``application/problem+json``).

    {"type": "urn:social-automation:problem:<code>", "title": "...", "status": 400,
     "detail": "...", "code": "<code>",
     "errors": [{"field": "...", "code": "...", "message": "..."}]}

``errors`` lists field problems (validation); ``retry_after`` comes with 429. docs/api.md lists
the codes.
"""

from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from apps.core.exceptions import ApplicationError

logger = structlog.get_logger(__name__)

PROBLEM_TYPE = "urn:social-automation:problem:"
CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Server error",
    502: "Bad gateway",
}


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The one shape of every API error (RFC 9457), for responses and documented examples."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = problem_body(status, code, detail, errors=errors, **extra)
    return Response(body, status=status, headers=headers, content_type=CONTENT_TYPE)


def problem_json_response(status: int, code: str, detail: str) -> JsonResponse:
    """The same document for plain Django views (Meta's callbacks, the site's error handlers)."""
    return JsonResponse(
        problem_body(status, code, detail), status=status, content_type=CONTENT_TYPE
    )


def request_refusal(exc: BaseException | None) -> tuple[int, str, str] | None:
    """``(status, code, detail)`` when ``exc`` is Django refusing to read a request body over
    its limits (settings: DATA_UPLOAD_*); ``None`` for anything else. One mapping for the API's
    handler and the site's 400 handler (non-DRF views, middleware)."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return (
            413,
            "request_too_large",
            f"The request body is over {limit} bytes, the most read into memory; "
            "send images as a multipart file upload.",
        )
    if isinstance(exc, TooManyFieldsSent):
        return (
            400,
            "too_many_fields",
            f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields.",
        )
    if isinstance(exc, TooManyFilesSent):
        return (
            400,
            "too_many_files",
            f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files.",
        )
    return None


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_field_errors(value, "" if key == "non_field_errors" else name))
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            if isinstance(value, dict | list):
                out.extend(_field_errors(value, f"{prefix}[{i}]" if prefix else str(i)))
            else:
                out.extend(_field_errors(value, prefix))
    else:
        out.append(
            {"field": prefix, "code": getattr(detail, "code", "invalid"), "message": str(detail)}
        )
    return out


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every error, expected or not, becomes a problem document."""
    refusal = request_refusal(exc)
    if refusal is not None:
        logger.warning("api_request_refused", code=refusal[1])  # never the body
        return problem(*refusal)
    if isinstance(exc, ApplicationError):  # each error class says its status (and details)
        return problem(
            exc.status,
            exc.code,
            exc.problem_detail,
            errors=exc.problem_errors(),
            **exc.problem_members(),
        )
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return problem(404, "not_found", "No such object in this business.")
    if isinstance(exc, drf.ValidationError):
        return problem(
            400, "invalid", "The request has invalid fields.", errors=_field_errors(exc.detail)
        )
    if isinstance(exc, drf.Throttled):
        wait = max(1, round(getattr(exc, "wait", None) or 1))
        return problem(
            429,
            "throttled",
            f"Too many requests for this plan; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
            retry_after=wait,
        )
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        failed = isinstance(exc, drf.AuthenticationFailed)
        return problem(
            401,
            "authentication_failed" if failed else "not_authenticated",
            str(exc.detail) if failed else "Send `Authorization: Api-Key <key>`.",
            headers={"WWW-Authenticate": "Api-Key"},
        )
    if isinstance(exc, drf.APIException):
        code = exc.get_codes()
        return problem(
            exc.status_code, code if isinstance(code, str) else exc.default_code, str(exc.detail)
        )
    logger.exception("api_unhandled_error", view=str(context.get("view")))
    return problem(500, "server_error", "Something went wrong on our side; it has been logged.")

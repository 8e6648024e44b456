"""OpenAPI post-processing: every API operation documents the errors every operation can give,
in the one problem+json shape (so clients and schemathesis know them)."""

from typing import Any

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document; every API error has this shape (docs/api.md).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "example": "urn:social-automation:problem:not_found"},
        "title": {"type": "string", "example": "Not found"},
        "status": {"type": "integer", "example": 404},
        "detail": {"type": "string", "example": "No such object in this business."},
        "code": {"type": "string", "example": "not_found"},
        "errors": {
            "type": "array",
            "description": "Field problems (validation errors, a post's rule violations).",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
        "retry_after": {"type": "integer", "description": "Seconds to wait (429 only)."},
    },
}

COMMON = {
    "400": "The request is invalid (`errors` lists the fields).",
    "401": "No API key, or a wrong or revoked one.",
    "403": "The key or role may not do this (e.g. a read-only key writing).",
    "404": "No such object in this business.",
    "405": "The method is not allowed here.",
    "406": "The requested representation cannot be produced.",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests for the plan; see `Retry-After`.",
}


def add_problem_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOK."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Problem", PROBLEM_SCHEMA)
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in COMMON.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": ref}},
                    },
                )
    return result

"""OpenAPI post-processing: every API operation documents the errors every operation can give,
in the one problem+json shape (``problems.ProblemSerializer``), so clients and schemathesis know
them."""

from typing import Any

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
# Operations that read a body: past the limits in docs/api.md (2.5 MiB read into memory).
WITH_BODY = {"413": "The body is over the size the API reads (`request_too_large`)."}


def add_problem_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOK."""
    # The component comes from problems.ProblemSerializer, which the views' own error
    # responses use (so it is always in the schema).
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            common = COMMON | WITH_BODY if method in {"post", "put", "patch"} else COMMON
            for status, description in common.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": ref}},
                    },
                )
    return result


def add_create_links(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOK: OpenAPI links from each create (``POST /x/`` →
    201) to the operations on what it created (``/x/{id}/…``, its ``id`` from the body).

    Clients and tools see how the operations chain; schemathesis's stateful phase follows them
    (create → read → update → delete of posts, folders, webhook endpoints…)."""
    paths = result.get("paths", {})
    for collection, operations in paths.items():
        create = operations.get("post")
        if not collection.startswith("/api/v1/") or create is None:
            continue
        created = create.get("responses", {}).get("201")
        if created is None:
            continue
        links = {}
        for path, targets in paths.items():
            if not path.startswith(f"{collection}{{id}}/"):
                continue
            for method, target in targets.items():
                if method in {"get", "put", "patch", "delete", "post"} and "operationId" in target:
                    links[target["operationId"]] = {
                        "operationId": target["operationId"],
                        "parameters": {"id": "$response.body#/id"},
                    }
        if links:
            created["links"] = dict(sorted(links.items()))
    return result

"""The bare Django view the API is measured against: no DRF, no serializers, no model instances.

``GET /bench/posts/?page_size=N`` authenticates the ``Api-Key`` header through the same service
as the API (``api_key_authenticate``, cached in Redis), runs the same tenant-scoped query for the
newest N posts (``-created_at, -id``, N + 1 rows to know whether a next page exists) and their
targets, images and publications (one query each) with the product's ``.values()`` row builder
(``apps.posts.api.listing.post_rows``, no DRF) and returns the same JSON body as
``GET /api/v1/posts/?page_size=N``, byte for byte, ``next`` cursor included (DRF's cursor format,
pointing at the API's path).

Not done here, and done by the API: throttling (two Redis round trips), the query-parameter
serializer, content negotiation. The benchmark reports the difference.
"""

import base64
import json
from typing import Any
from urllib import parse

from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.accounts.services import api_key_authenticate
from apps.posts.api.listing import POST_COLUMNS, post_rows
from apps.posts.models import Post

API_PATH = "/api/v1/posts/"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def _problem(status: int, title: str) -> JsonResponse:
    return JsonResponse({"status": status, "title": title}, status=status)


def _next_link(request: HttpRequest, rows: list[dict[str, Any]], following: dict[str, Any]) -> str:
    """DRF's CursorPagination link for the first page: the position (``created_at``) of the last
    row whose successor differs, with an offset over ties."""
    compare = str(following["created_at"])
    offset = 0
    position: str | None = None
    for row in reversed(rows):
        current = str(row["created_at"])
        if current != compare:
            position = current
            break
        compare = current
        offset += 1
    else:
        offset = len(rows)
    tokens = {}
    if offset:
        tokens["o"] = str(offset)
    if position is not None:
        tokens["p"] = position
    cursor = base64.b64encode(parse.urlencode(tokens).encode("ascii")).decode("ascii")
    query = parse.parse_qs(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    query["cursor"] = [cursor]
    base = request.build_absolute_uri(API_PATH)
    return f"{base}?{parse.urlencode(sorted(query.items()), doseq=True)}"


def bare_posts(request: HttpRequest) -> HttpResponse:
    keyword, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    api_key = api_key_authenticate(key=key.strip()) if keyword == "Api-Key" else None
    if api_key is None:
        return _problem(401, "The API key is not valid, or it was revoked.")
    raw = request.GET.get("page_size")
    if raw is None:
        page_size = DEFAULT_PAGE_SIZE
    elif raw.isdigit() and 1 <= int(raw) <= MAX_PAGE_SIZE:
        page_size = int(raw)
    else:
        return _problem(400, "page_size: a whole number from 1 to 100.")
    body = posts_page(request, tenant_id=api_key.tenant_id, page_size=page_size)
    # DRF's JSONRenderer: compact, UTF-8, no ASCII escaping.
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(content, content_type="application/json")


def posts_page(request: HttpRequest, *, tenant_id: int, page_size: int) -> dict[str, Any]:
    """The first page of the tenant's posts as the API shows it, from ``.values()`` rows, built
    by the product's own row builder (``apps.posts.api.listing``, which uses no DRF): what the
    two measurements differ by is the DRF stack around it."""
    fetched = list(
        Post.objects.filter(tenant_id=tenant_id)
        .order_by("-created_at", "-id")
        .values(*POST_COLUMNS)[: page_size + 1]
    )
    rows = fetched[:page_size]
    results = post_rows(rows)
    return {
        "next": _next_link(request, rows, fetched[-1]) if len(fetched) > page_size else None,
        "previous": None,
        "results": results,
    }

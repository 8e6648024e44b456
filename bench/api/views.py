"""The bare Django view the API is measured against: no DRF, no serializers, no model instances.

``GET /bench/posts/?page_size=N`` authenticates the ``Api-Key`` header through the same service
as the API (``api_key_authenticate``, cached in Redis), runs the same tenant-scoped query for the
newest N posts (``-created_at, -id``, N + 1 rows to know whether a next page exists) and their
targets, images and publications (one query each), builds the dicts by hand from ``.values()``
rows and returns the same JSON body as ``GET /api/v1/posts/?page_size=N``, byte for byte,
``next`` cursor included (DRF's cursor format, pointing at the API's path).

Not done here, and done by the API: throttling (two Redis round trips), the query-parameter
serializer, content negotiation. The benchmark reports the difference.
"""

import base64
import json
from collections import defaultdict
from datetime import datetime
from typing import Any
from urllib import parse

from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.accounts.services import api_key_authenticate
from apps.posts.models import Post, PostAsset, Publication

API_PATH = "/api/v1/posts/"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

POST_COLUMNS = (
    "id",
    "status",
    "caption",
    "caption_overrides",
    "link",
    "scheduled_for",
    "submitted_at",
    "reviewed_at",
    "review_note",
    "published_at",
    "created_at",
    "updated_at",
)
PUBLICATION_COLUMNS = (
    "id",
    "post_id",
    "account_id",
    "account__platform",
    "status",
    "attempts",
    "wait_reason",
    "next_attempt_at",
    "last_error",
    "error_code",
    "platform_post_id",
    "permalink",
    "published_at",
    "likes",
    "comments",
    "shares",
    "reactions",
    "engagement_synced_at",
    "created_at",
    "updated_at",
)


def _dt(value: datetime | None) -> str | None:
    """DRF's ISO 8601 (UTC as ``Z``)."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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
    """The first page of the tenant's posts as the API shows it, from ``.values()`` rows."""
    fetched = list(
        Post.objects.filter(tenant_id=tenant_id)
        .order_by("-created_at", "-id")
        .values(*POST_COLUMNS)[: page_size + 1]
    )
    rows = fetched[:page_size]
    ids = [row["id"] for row in rows]

    targets: dict[int, list[int]] = defaultdict(list)
    for post_id, account_id in (
        Post.targets.through.objects.filter(post_id__in=ids)
        .order_by("connectedaccount__platform", "connectedaccount__name")
        .values_list("post_id", "connectedaccount_id")
    ):
        targets[post_id].append(account_id)
    assets: dict[int, list[int]] = defaultdict(list)
    for post_id, asset_id in (
        PostAsset.objects.filter(post_id__in=ids)
        .order_by("position")
        .values_list("post_id", "asset_id")
    ):
        assets[post_id].append(asset_id)
    publications: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in (
        Publication.objects.filter(post_id__in=ids).order_by("id").values(*PUBLICATION_COLUMNS)
    ):
        publications[p["post_id"]].append(
            {
                "id": p["id"],
                "post": p["post_id"],
                "account": p["account_id"],
                "platform": p["account__platform"],
                "status": p["status"],
                "attempts": p["attempts"],
                "wait_reason": p["wait_reason"],
                "next_attempt_at": _dt(p["next_attempt_at"]),
                "last_error": p["last_error"],
                "error_code": p["error_code"],
                "platform_post_id": p["platform_post_id"],
                "permalink": p["permalink"],
                "published_at": _dt(p["published_at"]),
                "likes": p["likes"],
                "comments": p["comments"],
                "shares": p["shares"],
                "reactions": p["reactions"],
                "engagement_synced_at": _dt(p["engagement_synced_at"]),
                "created_at": _dt(p["created_at"]),
                "updated_at": _dt(p["updated_at"]),
            }
        )

    results = [
        {
            "id": row["id"],
            "status": row["status"],
            "caption": row["caption"],
            "caption_overrides": row["caption_overrides"],
            "link": row["link"],
            "targets": targets.get(row["id"], []),
            "assets": assets.get(row["id"], []),
            "scheduled_for": _dt(row["scheduled_for"]),
            "submitted_at": _dt(row["submitted_at"]),
            "reviewed_at": _dt(row["reviewed_at"]),
            "review_note": row["review_note"],
            "published_at": _dt(row["published_at"]),
            "created_at": _dt(row["created_at"]),
            "updated_at": _dt(row["updated_at"]),
            "publications": publications.get(row["id"], []),
        }
        for row in rows
    ]
    return {
        "next": _next_link(request, rows, fetched[-1]) if len(fetched) > page_size else None,
        "previous": None,
        "results": results,
    }

"""The posts list, built from ``.values()`` rows: no model instances, no prefetch machinery.

The list is the API's hottest read (SPEC 13: at least 0.8x a bare Django view answering the same
JSON). Building ``Post`` instances and running a serializer per row cost ~7x the query itself
(bench/api), so the page is four queries — the posts, then their targets, images and
publications keyed by post id — turned into the exact dicts ``PostSerializer`` describes (a test
holds the two byte for byte). ``PostSerializer`` stays the schema and serves the detail.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from apps.posts.models import Post, PostAsset, Publication

POST_COLUMNS = (
    "id",
    "status",
    "caption",
    "caption_overrides",
    "link",
    "scheduled_for",
    "format",
    "first_comment",
    "cover_id",
    "cover_offset_ms",
    "share_to_feed",
    "audio_name",
    "collaborators",
    "location_id",
    "caption_ai_generated",
    "submitted_at",
    "reviewed_at",
    "review_note",
    "published_at",
    "created_at",
    "updated_at",
)
POST_DATES = (
    "scheduled_for",
    "submitted_at",
    "reviewed_at",
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
    "comment_status",
    "comment_id",
    "comment_error",
    "created_at",
    "updated_at",
)
PUBLICATION_DATES = (
    "next_attempt_at",
    "published_at",
    "engagement_synced_at",
    "created_at",
    "updated_at",
)


def _date_formatter() -> Callable[[Any], str | None]:
    """DRF's DateTimeField conversion (ISO 8601 in the active timezone, UTC as "Z"), with the
    timezone looked up once per page instead of once per value."""
    zone = timezone.get_current_timezone()

    def format_date(value: Any) -> str | None:
        if value is None:
            return None
        text: str = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return format_date


def post_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API representation of a page of posts given as ``.values(*POST_COLUMNS)`` rows."""
    page = list(rows)
    ids = [row["id"] for row in page]
    _date = _date_formatter()
    targets: dict[int, list[int]] = defaultdict(list)
    for post_id, account_id in (
        Post.targets.through.objects.filter(post_id__in=ids)
        .order_by("connectedaccount__platform", "connectedaccount__name", "connectedaccount_id")
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
        for name in PUBLICATION_DATES:
            p[name] = _date(p[name])
        publications[p["post_id"]].append(
            {
                "id": p["id"],
                "post": p["post_id"],
                "account": p["account_id"],
                "platform": p["account__platform"],
                "status": p["status"],
                "attempts": p["attempts"],
                "wait_reason": p["wait_reason"],
                "next_attempt_at": p["next_attempt_at"],
                "last_error": p["last_error"],
                "error_code": p["error_code"],
                "platform_post_id": p["platform_post_id"],
                "permalink": p["permalink"],
                "published_at": p["published_at"],
                "likes": p["likes"],
                "comments": p["comments"],
                "shares": p["shares"],
                "reactions": p["reactions"],
                "engagement_synced_at": p["engagement_synced_at"],
                "comment_status": p["comment_status"],
                "comment_id": p["comment_id"],
                "comment_error": p["comment_error"],
                "created_at": p["created_at"],
                "updated_at": p["updated_at"],
            }
        )
    out = []
    for row in page:
        post_id = row["id"]
        out.append(
            {
                "id": post_id,
                "status": row["status"],
                "caption": row["caption"],
                "caption_overrides": row["caption_overrides"],
                "link": row["link"],
                "targets": targets[post_id],
                "assets": assets[post_id],
                "scheduled_for": _date(row["scheduled_for"]),
                "format": row["format"],
                "first_comment": row["first_comment"],
                "cover": row["cover_id"],
                "cover_offset_ms": row["cover_offset_ms"],
                "share_to_feed": row["share_to_feed"],
                "audio_name": row["audio_name"],
                "collaborators": row["collaborators"],
                "location_id": row["location_id"],
                "caption_ai_generated": row["caption_ai_generated"],
                "submitted_at": _date(row["submitted_at"]),
                "reviewed_at": _date(row["reviewed_at"]),
                "review_note": row["review_note"],
                "published_at": _date(row["published_at"]),
                "created_at": _date(row["created_at"]),
                "updated_at": _date(row["updated_at"]),
                "publications": publications[post_id],
            }
        )
    return out

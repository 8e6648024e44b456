"""The posts app's part of a tenant's export and deletion (``apps.core.hooks``; collected by
``apps.accounts.tenant_data``)."""

from collections.abc import Iterator
from typing import Any

from django.db import transaction

from apps.accounts.models import Membership, Tenant
from apps.core.hooks import TenantDataHook, TenantExportContext, TenantReleaseReport, export_rows
from apps.posts.models import (
    CaptionUsage,
    Post,
    PostAsset,
    Publication,
    PublicationEvent,
    ReviewEvent,
)
from apps.posts.publication_states import Step, publications_move


def export_sections(context: TenantExportContext) -> Iterator[tuple[str, Any]]:
    tenant = context.tenant
    yield (
        "posts",
        export_rows(
            Post.objects.for_tenant(tenant),
            "id",
            "caption",
            "caption_overrides",
            "link",
            "status",
            "scheduled_for",
            "created_at",
            "updated_at",
            "submitted_at",
            "reviewed_at",
            "review_note",
            "published_at",
            created_by_email="created_by__email",
            reviewed_by_email="reviewed_by__email",
        ),
    )
    yield (
        "post_targets",
        export_rows(
            Post.targets.through.objects.filter(post__tenant=tenant),
            "post_id",
            account_id="connectedaccount_id",
        ),
    )
    yield (
        "post_assets",
        export_rows(
            PostAsset.objects.filter(post__tenant=tenant), "post_id", "asset_id", "position"
        ),
    )
    yield (
        "publications",
        export_rows(
            Publication.objects.for_tenant(tenant),
            "id",
            "post_id",
            "account_id",
            "status",
            "attempts",
            "last_error",
            "error_code",
            "error_subcode",
            "container_id",
            "child_ids",
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
        ),
    )
    yield (
        "review_events",
        export_rows(
            ReviewEvent.objects.for_tenant(tenant),
            "id",
            "post_id",
            "kind",
            "note",
            "from_status",
            "to_status",
            "created_at",
            actor_email="actor__email",
        ),
    )
    yield (
        "caption_usage",
        export_rows(
            CaptionUsage.objects.for_tenant(tenant),
            "id",
            "provider",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "created_at",
        ),
    )


def holdings(tenant: Tenant) -> dict[str, int]:
    return {"posts": Post.objects.for_tenant(tenant).count()}


def release(membership: Membership, report: TenantReleaseReport) -> None:
    """Cancel the tenant's unfinished publications, so the dispatcher claims none of them again
    and a run in progress loses its claim before its next step."""
    p = Publication.Status
    with transaction.atomic():
        rows = list(
            Publication.objects.for_tenant(membership.tenant)
            .select_for_update()
            .filter(status__in=[p.PENDING, p.WAITING, p.PUBLISHING])
            .only("pk", "tenant_id", "status")
        )
        reason = "The business was deleted."
        report.counts["publications_cancelled"] = publications_move(
            rows,
            p.CANCELLED,
            kind=PublicationEvent.Kind.CANCELLED,
            fields={
                "next_attempt_at": None,
                "claim_token": "",
                "claimed_at": None,
                "wait_reason": reason,
            },
            step=Step(note=reason),
        )


def rows_delete(tenant: Tenant) -> int:
    """Posts first: a post's images PROTECT the assets, its publications the accounts."""
    return Post.objects.for_tenant(tenant).delete()[0]


TENANT_DATA = TenantDataHook(
    export_sections=export_sections, holdings=holdings, release=release, rows_delete=rows_delete
)

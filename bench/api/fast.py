"""Bench-only prototypes of the fixes to the posts list, measured next to the real API and the
bare view in the same run. Each keeps the API's whole DRF stack (``Api-Key`` authentication,
the tenant permission, the per-plan throttle, cursor pagination, the JSON renderer) and changes
one layer; they live here, not in ``apps/``, so the numbers can guide the real change.

- ``/bench/drf-a/posts/``: the API's view, with ``publications`` declared once as a nested
  ``PublicationSerializer(many=True)`` instead of a ``SerializerMethodField`` that builds a new
  ModelSerializer (and its ~20 fields, by model introspection) for every post.
- ``/bench/drf-b/posts/``: (a) plus a hand-written ``to_representation`` (no per-field DRF
  machinery) and lean prefetches (no ``select_related("asset")``; ``only()`` the columns shown).
- ``/bench/drf-c/posts/``: the DRF stack around the bare view's ``.values()`` rows (no model
  instances, no serializer at render time): what DRF itself costs.
"""

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.tenancy import TenantAPIMixin
from apps.core.api.pagination import NewestFirstPagination
from apps.posts.api.serializers import PostSerializer, PublicationSerializer
from apps.posts.api.views import PostViewSet
from apps.posts.models import Post, PostAsset, Publication
from apps.social.models import ConnectedAccount
from bench.api.views import posts_page


def _dt(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class PostSerializerA(PostSerializer):
    publications = PublicationSerializer(many=True, read_only=True)  # type: ignore[assignment]


class PostListViewA(PostViewSet):
    def get_serializer_class(self) -> Any:
        return PostSerializerA


def publication_dict(p: Publication) -> dict[str, Any]:
    return {
        "id": p.pk,
        "post": p.post_id,
        "account": p.account_id,
        "platform": p.account.platform,
        "status": p.status,
        "attempts": p.attempts,
        "wait_reason": p.wait_reason,
        "next_attempt_at": _dt(p.next_attempt_at),
        "last_error": p.last_error,
        "error_code": p.error_code,
        "platform_post_id": p.platform_post_id,
        "permalink": p.permalink,
        "published_at": _dt(p.published_at),
        "likes": p.likes,
        "comments": p.comments,
        "shares": p.shares,
        "reactions": p.reactions,
        "engagement_synced_at": _dt(p.engagement_synced_at),
        "created_at": _dt(p.created_at),
        "updated_at": _dt(p.updated_at),
    }


class PostSerializerB(PostSerializer):
    """Same output, written out: DRF's per-field loop costs ~15 µs a field and a post has ~35
    (with its publication)."""

    def to_representation(self, post: Post) -> dict[str, Any]:  # type: ignore[override]
        return {
            "id": post.pk,
            "status": post.status,
            "caption": post.caption,
            "caption_overrides": post.caption_overrides,
            "link": post.link,
            "targets": [a.pk for a in post.targets.all()],
            "assets": [pa.asset_id for pa in post.post_assets.all()],
            "scheduled_for": _dt(post.scheduled_for),
            "submitted_at": _dt(post.submitted_at),
            "reviewed_at": _dt(post.reviewed_at),
            "review_note": post.review_note,
            "published_at": _dt(post.published_at),
            "created_at": _dt(post.created_at),
            "updated_at": _dt(post.updated_at),
            "publications": [publication_dict(p) for p in post.publications.all()],
        }


PUBLICATION_SHOWN = [f for f in PublicationSerializer.Meta.fields if f != "platform"]


class PostListViewB(PostViewSet):
    def get_serializer_class(self) -> Any:
        return PostSerializerB

    def get_queryset(self) -> QuerySet[Post]:
        return (
            Post.objects.for_tenant(self.tenant)
            .defer("tenant", "created_by", "reviewed_by")
            .prefetch_related(
                Prefetch(
                    "post_assets",
                    queryset=PostAsset.objects.only("post_id", "asset_id", "position"),
                ),
                Prefetch(
                    "targets",
                    queryset=ConnectedAccount.objects.order_by("platform", "name").only("id"),
                ),
                Prefetch(
                    "publications",
                    queryset=Publication.objects.select_related("account").only(
                        *PUBLICATION_SHOWN, "account__platform"
                    ),
                ),
            )
        )


class PostListViewC(TenantAPIMixin, APIView):
    """The API's authentication, permission, throttle and renderer around ``.values()`` rows."""

    def get(self, request: Request) -> Response:
        page_size = NewestFirstPagination().get_page_size(request)
        return Response(posts_page(request._request, tenant_id=self.tenant.pk, page_size=page_size))


post_list_a = PostListViewA.as_view({"get": "list"})
post_list_b = PostListViewB.as_view({"get": "list"})
post_list_c = PostListViewC.as_view()

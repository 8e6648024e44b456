"""Posts and their publications over the API. Thin: ``apps.posts.services`` decides every
change and ``apps.posts.selectors`` reads."""

from dataclasses import replace
from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.tenancy import TenantAPIMixin
from apps.core.api.idempotency import idempotent
from apps.core.api.problems import problems
from apps.networks.registry import networks
from apps.posts import selectors, services
from apps.posts.api.listing import POST_COLUMNS, post_rows
from apps.posts.api.serializers import (
    PostDetailSerializer,
    PostQuerySerializer,
    PostScheduleSerializer,
    PostSerializer,
    PostWriteSerializer,
    PublicationQuerySerializer,
    PublicationSerializer,
    post_input_of,
)
from apps.posts.models import Post, Publication

CREATE_EXAMPLE = OpenApiExample(
    "A photo post to a Page and an Instagram account",
    value={
        "caption": "Tonight: live jazz from 8 pm 🎷",
        "caption_overrides": {networks()[-1].id: "Live jazz tonight 🎷 #jazz"},
        "link": "",
        "targets": [12, 13],
        "assets": [41],
        "scheduled_for": "2026-06-01T18:00:00+02:00",
    },
    request_only=True,
)
# What a PUT/PATCH may change: the write serializer's fields, in its order.
WRITE_FIELDS = tuple(PostWriteSerializer._declared_fields)


@extend_schema_view(
    list=extend_schema(
        summary="List posts",
        description="Newest first. Each post lists its account ids, image ids (in order) and "
        "publications.",
        parameters=[PostQuerySerializer],
        responses={200: PostSerializer(many=True), **problems(400)},
    ),
    retrieve=extend_schema(
        summary="Get a post",
        description="With its publications and the network rules it breaks (`problems`).",
        responses={200: PostDetailSerializer, **problems(404)},
    ),
    create=extend_schema(
        summary="Create a draft post",
        description="A draft: accounts and images must be the business's; network rules are "
        "checked at submit (and listed in `problems`).",
        request=PostWriteSerializer,
        responses={201: PostDetailSerializer, **problems(400, 422)},
        examples=[CREATE_EXAMPLE],
    ),
    update=extend_schema(
        summary="Replace a post's content",
        description="Only before publishing; a submitted or approved post goes back to draft.",
        request=PostWriteSerializer,
        responses={200: PostDetailSerializer, **problems(400, 404, 409, 422)},
        examples=[CREATE_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change some of a post's content",
        description="Only before publishing; a submitted or approved post goes back to draft.",
        request=PostWriteSerializer,
        responses={200: PostDetailSerializer, **problems(400, 404, 409, 422)},
        examples=[
            OpenApiExample("New caption", value={"caption": "Jazz at 9 pm!"}, request_only=True)
        ],
    ),
    destroy=extend_schema(
        summary="Delete a draft",
        description="Cancels a draft (it stays listed as cancelled). Other posts: use "
        "`POST /posts/{id}/cancel/` (409 here).",
        responses={204: OpenApiResponse(description="Cancelled."), **problems(404, 409)},
    ),
)
class PostViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Posts: compose, submit for approval, schedule, cancel."""

    queryset = Post.objects.all()

    def get_serializer_class(self) -> type[PostSerializer]:
        return PostSerializer if self.action == "list" else PostDetailSerializer

    def get_queryset(self) -> QuerySet[Post]:
        if getattr(self, "swagger_fake_view", False):
            return Post.objects.none()
        if self.action != "list":
            return selectors.post_list(tenant=self.tenant)
        query = PostQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        posts = selectors.post_list(
            tenant=self.tenant,
            filters=selectors.PostFilters(
                status=data.get("status", ""), account_id=data.get("account")
            ),
        )
        bounds = {
            "scheduled_after": Q(scheduled_for__gte=data.get("scheduled_after")),
            "scheduled_before": Q(scheduled_for__lt=data.get("scheduled_before")),
            "created_after": Q(created_at__gte=data.get("created_after")),
            "created_before": Q(created_at__lt=data.get("created_before")),
        }
        for name, condition in bounds.items():
            if name in data:
                posts = posts.filter(condition)
        return posts

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page from ``.values()`` rows (see listing.py); same body as PostSerializer's."""
        rows = self.get_queryset().prefetch_related(None).values(*POST_COLUMNS)
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(post_rows(page))

    def _detail(self, post: Post, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.post_get(tenant=self.tenant, post_id=post.pk)
        return Response(
            PostDetailSerializer(fresh, context=self.get_serializer_context()).data,
            status=status_code,
        )

    def _write_form(self, request: Request, *, partial: bool = False) -> PostWriteSerializer:
        form = PostWriteSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        form.is_valid(raise_exception=True)
        return form

    @idempotent()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = self._write_form(request)
        post = services.post_create(actor=self.membership, data=form.to_input())
        return self._detail(post, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        post = self.get_object()
        partial = kwargs.get("partial", False)
        form = self._write_form(request, partial=partial)
        data = form.to_input() if not partial else self._merged(post, form)
        post = services.post_update(actor=self.membership, post=post, data=data)
        return self._detail(post)

    def _merged(self, post: Post, form: PostWriteSerializer) -> services.PostInput:
        given = form.validated_data
        changes: dict[str, Any] = {}
        for name in WRITE_FIELDS:
            if name not in given:
                continue
            if name == "targets":
                changes["target_ids"] = [a.pk for a in given[name]]
            elif name == "assets":
                changes["asset_ids"] = [a.pk for a in given[name]]
            elif name == "caption_overrides":
                changes[name] = dict(given[name])
            elif name == "cover":
                changes["cover_id"] = given[name].pk if given[name] else None
            elif name == "collaborators":
                changes[name] = list(given[name])
            else:
                changes[name] = given[name]
        return replace(post_input_of(post), **changes)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        post = self.get_object()
        if post.status != Post.Status.DRAFT:
            raise services.IllegalTransition(
                "Only a draft can be deleted; use POST /posts/{id}/cancel/ for this post."
            )
        services.post_cancel(actor=self.membership, post=post)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Submit a post",
        description="A draft (or an edited rejected post) goes for approval "
        "(`pending_review`), or straight to `scheduled` when the business needs no approval. "
        "A post breaking network rules is a 422 listing them.",
        request=None,
        responses={200: PostDetailSerializer, **problems(404, 409, 422)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        post = services.post_submit(actor=self.membership, post=self.get_object())
        return self._detail(post)

    @extend_schema(
        summary="Cancel a post",
        description="Any post that has not started publishing; its pending publications are "
        "cancelled.",
        request=None,
        responses={200: PostDetailSerializer, **problems(404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        post = services.post_cancel(actor=self.membership, post=self.get_object())
        return self._detail(post)

    @extend_schema(
        summary="Reschedule a post",
        description="Set or move the time it goes out; an approval stands.",
        request=PostScheduleSerializer,
        responses={200: PostDetailSerializer, **problems(400, 404, 409, 422)},
        examples=[
            OpenApiExample(
                "Tomorrow morning",
                value={"scheduled_for": "2026-06-02T09:00:00+02:00"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        post = self.get_object()
        form = PostScheduleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        post = services.post_reschedule(
            actor=self.membership,
            post=post,
            scheduled_for=form.validated_data["scheduled_for"],
        )
        return self._detail(post)


@extend_schema_view(
    list=extend_schema(
        summary="List publications",
        description="A post going out to one account: status, errors, permalink, engagement.",
        parameters=[PublicationQuerySerializer],
        responses={200: PublicationSerializer(many=True), **problems(400)},
    ),
    retrieve=extend_schema(
        summary="Get a publication", responses={200: PublicationSerializer, **problems(404)}
    ),
)
class PublicationViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Publications: follow a post on each account, retry a failed one."""

    serializer_class = PublicationSerializer
    queryset = Publication.objects.all()

    def get_queryset(self) -> QuerySet[Publication]:
        if getattr(self, "swagger_fake_view", False):
            return Publication.objects.none()
        publications = Publication.objects.for_tenant(self.tenant).select_related("account")
        if self.action != "list":
            return publications
        query = PublicationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if "status" in data:
            publications = publications.filter(status=data["status"])
        if "post" in data:
            publications = publications.filter(post_id=data["post"])
        if "account" in data:
            publications = publications.filter(account_id=data["account"])
        if "platform" in data:
            publications = publications.filter(account__platform=data["platform"])
        return publications

    @extend_schema(
        summary="Retry a failed publication",
        description="After fixing the cause (e.g. reconnecting the account). Only a failed "
        "publication can be retried (else 409).",
        request=None,
        responses={200: PublicationSerializer, **problems(404, 409)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        publication = services.publication_retry(
            actor=self.membership, publication=self.get_object()
        )
        publication = self.get_queryset().get(pk=publication.pk)
        return Response(self.get_serializer(publication).data)

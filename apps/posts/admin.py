"""The approval queue (SPEC 1, 6): staff see every tenant's posts with the work waiting for them
first, each network's preview and the images; they approve, reject with a note, publish now and
retry failed publications. Every button calls a service in ``apps.posts.services``, which locks
the post, checks the move and records the ReviewEvent: nothing here writes a status.

Reviewing needs the ``posts.change_post`` permission (superusers have it); staff with only
``posts.view_post`` browse the queue read-only. Nobody edits a business's content in admin.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.models import User
from apps.assets.models import BrandAsset
from apps.core.exceptions import ApplicationError
from apps.core.localtime import localtime_or_utc
from apps.networks.base import Preview
from apps.networks.registry import network_for
from apps.posts import services
from apps.posts.models import (
    CaptionUsage,
    Post,
    PostAsset,
    Publication,
    PublicationEvent,
    ReviewEvent,
)
from apps.social.models import ConnectedAccount, Platform

S = Post.Status
REVIEW_PERMISSION = "posts.change_post"
LIST_THUMBNAILS = 3
# Which buttons the change page offers. The services decide what is allowed; these only hide
# buttons that could not work for the post's status.
APPROVABLE = {S.PENDING_REVIEW}
REJECTABLE = {S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED}
PUBLISHABLE_NOW = {S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED}
LAYOUTS = {
    "text": "Text",
    "link": "Link with preview",
    "photo": "One photo",
    "multi_photo": "Several photos",
    "carousel": "Carousel",
}


# --- Small helpers -------------------------------------------------------------------------------


def _reviewer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied
    return user


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _attempt(request: HttpRequest, subject: str, call: Callable[[], object]) -> bool:
    """Run one service call; a refusal becomes an error message naming ``subject``."""
    try:
        call()
    except ApplicationError as exc:
        messages.error(request, f"{subject}: {exc.message}")
        return False
    return True


def _quoted(post: Post) -> str:
    return f"“{post}” ({post.tenant.name})"


def thumbnail_url(asset_id: int) -> str:
    return reverse("admin:assets_brandasset_thumbnail", args=[asset_id])


def _thumbnail(asset: BrandAsset, *, height: int) -> SafeString:
    return format_html(
        '<img src="{}" alt="{}" title="{}" height="{}" class="admin-thumb admin-thumb-{}">',
        thumbnail_url(asset.pk),
        asset.alt_text,
        asset.original_filename,
        height,
        height,
    )


def _account_label(account: ConnectedAccount) -> SafeString:
    handle = f"@{account.username}" if account.username else account.name
    return format_html(
        '<span title="{}" class="admin-account-label {}">{}</span>&nbsp;{}',
        account.get_platform_display(),
        network_for(account.platform).site.lower(),
        network_for(account.platform).label,
        handle,
    )


# --- What the change page shows --------------------------------------------------------------


@dataclass(frozen=True)
class PreviewImage:
    asset: BrandAsset
    thumbnail_url: str
    admin_url: str


@dataclass(frozen=True)
class NetworkPreview:
    """One target account and how the post will look there."""

    account: ConnectedAccount
    preview: Preview
    caption_overridden: bool
    images: list[PreviewImage]

    @property
    def layout(self) -> str:
        return LAYOUTS.get(self.preview.layout, self.preview.layout)


def network_previews(post: Post) -> list[NetworkPreview]:
    previews = []
    for account in post.targets.all():
        content = services.post_content(post, account.platform)
        preview = network_for(account.platform).preview(content)
        by_id = {asset.pk: asset for asset in content.assets}
        images = [
            PreviewImage(
                asset=by_id[asset_id],
                thumbnail_url=thumbnail_url(asset_id),
                admin_url=reverse("admin:assets_brandasset_change", args=[asset_id]),
            )
            for asset_id in preview.asset_ids
            if asset_id in by_id
        ]
        previews.append(
            NetworkPreview(
                account=account,
                preview=preview,
                caption_overridden=bool(post.caption_overrides.get(account.platform)),
                images=images,
            )
        )
    return previews


class RejectForm(forms.Form):
    # Whether a note is required is the service's rule (post_reject); its refusal is shown here.
    note = forms.CharField(
        required=False,
        label="Note to the business",
        help_text="What to change. The owners receive it by e-mail and see it on the post.",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
    )


class ReviewPermissionMixin:
    def has_review_permission(self, request: HttpRequest) -> bool:
        return isinstance(request.user, User) and request.user.has_perm(REVIEW_PERMISSION)


class BoundedDatesChangeList(ChangeList):
    """A date-hierarchy or date-filter value at the end of the calendar (``?…__year=9999&
    …__month=12``) is an invalid lookup (the admin's "Please correct" redirect), not a 500."""

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc


class ReadOnlyMixin:
    """Rows that change only through the review actions (and the publishing engine)."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BoundedDatesChangeList

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- Inlines on the post ---------------------------------------------------------------------


class PublicationInline(ReadOnlyMixin, admin.TabularInline):
    model = Publication
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (
        "account",
        "status",
        "wait_reason",
        "next_attempt_at",
        "attempts",
        "error",
        "permalink_link",
        "engagement",
        "comment_status",
        "retry",
    )
    readonly_fields = fields
    # Set per request by PostAdmin.get_inline_instances (inline instances are made per request).
    can_review = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Publication]:
        return super().get_queryset(request).select_related("account")

    @admin.display(description="Last error")
    def error(self, publication: Publication) -> str:
        if not publication.last_error:
            return ""
        codes = [str(c) for c in (publication.error_code, publication.error_subcode) if c]
        return publication.last_error + (f" (code {'/'.join(codes)})" if codes else "")

    @admin.display(description="Permalink")
    def permalink_link(self, publication: Publication) -> str:
        if not publication.permalink:
            return ""
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            publication.permalink,
            "View on the network",
        )

    @admin.display(description="Likes · comments · shares · reactions")
    def engagement(self, publication: Publication) -> str:
        counts = (
            publication.likes,
            publication.comments,
            publication.shares,
            publication.reactions,
        )
        if all(c is None for c in counts):
            return ""
        return " · ".join("—" if c is None else str(c) for c in counts)

    @admin.display(description="")
    def retry(self, publication: Publication) -> str:
        if not self.can_review or publication.status != Publication.Status.FAILED:
            return ""
        # The change page is one big form; the button posts it (with its CSRF token) elsewhere.
        return format_html(
            '<button type="submit" class="button" formaction="{}" formmethod="post" '
            "formnovalidate>{}</button>",
            reverse("admin:posts_post_retry", args=[publication.post_id, publication.pk]),
            "Retry",
        )


class ReviewEventInline(ReadOnlyMixin, admin.TabularInline):
    model = ReviewEvent
    extra = 0
    can_delete = False
    verbose_name = "history entry"
    verbose_name_plural = "History"
    fields = ("created_at", "actor", "kind", "note", "transition")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReviewEvent]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="From → to")
    def transition(self, event: ReviewEvent) -> str:
        return _transition_label(event)


def _transition_label(event: ReviewEvent) -> str:
    if not event.to_status or event.from_status == event.to_status:
        return ""
    labels = dict(S.choices)
    to = labels.get(event.to_status, event.to_status)
    if not event.from_status:
        return f"→ {to}"
    return f"{labels.get(event.from_status, event.from_status)} → {to}"


# --- The queue -------------------------------------------------------------------------------


class QueueChangeList(BoundedDatesChangeList):
    """The queue's order unless staff sort by a column: posts waiting for approval oldest first
    (first come, first served), then failed ones, then the rest newest first (the annotations
    come from PostAdmin.get_queryset)."""

    def get_ordering(self, request: HttpRequest, queryset: QuerySet) -> list[Expression | str]:
        if self.params.get(ORDER_VAR):
            return super().get_ordering(request, queryset)
        return ["queue_rank", "queue_since", "-created_at", "-pk"]


class NetworkFilter(admin.SimpleListFilter):
    title = "network"
    parameter_name = "network"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in Platform.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Post]) -> QuerySet[Post]:
        if self.value() not in Platform.values:
            return queryset
        return queryset.filter(
            Exists(ConnectedAccount.objects.filter(posts=OuterRef("pk"), platform=self.value()))
        )


@admin.register(Post)
class PostAdmin(ReviewPermissionMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "thumbnails",
        "caption_excerpt",
        "format",
        "tenant",
        "target_accounts",
        "status",
        "scheduled_for",
        "submitted_at",
    ]
    list_display_links = ["caption_excerpt"]
    list_filter = [
        "status",
        ("tenant", admin.RelatedOnlyFieldListFilter),
        NetworkFilter,
        ("scheduled_for", admin.DateFieldListFilter),
        ("submitted_at", admin.DateFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    ]
    date_hierarchy = "scheduled_for"
    search_fields = ["caption", "tenant__name"]
    list_select_related = ["tenant"]
    actions = ["approve_selected", "reject_selected", "publish_now_selected", "retry_failed"]
    inlines = [PublicationInline, ReviewEventInline]
    content_fields = (
        "tenant",
        "format",
        "caption",
        "caption_ai_generated",
        "caption_overrides",
        "link",
        "first_comment",
        "targets",
        "images",
        "cover",
        "cover_offset_ms",
        "share_to_feed",
        "audio_name",
        "collaborators",
        "location_id",
    )
    review_fields = (
        "status",
        "scheduled_for",
        "scheduled_local",
        "created_by",
        "created_at",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "published_at",
    )
    fieldsets = (
        ("Content", {"fields": content_fields}),
        ("Schedule and review", {"fields": review_fields}),
    )
    readonly_fields = (*content_fields, *review_fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        return (
            super()
            .get_queryset(request)
            .select_related("tenant")
            .prefetch_related(
                "targets",
                Prefetch(
                    "post_assets",
                    queryset=PostAsset.objects.select_related("asset").order_by("position"),
                ),
            )
            .annotate(
                # Work for staff first: posts waiting for approval, then posts whose
                # publishing failed (to retry), then the rest.
                queue_rank=Case(
                    When(status=S.PENDING_REVIEW, then=Value(0)),
                    When(status__in=[S.FAILED, S.PARTIALLY_PUBLISHED], then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                ),
                queue_since=Case(When(status=S.PENDING_REVIEW, then=F("submitted_at"))),
            )
        )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return QueueChangeList

    def get_inline_instances(self, request: HttpRequest, obj: Post | None = None) -> list[Any]:
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            if isinstance(inline, PublicationInline):
                inline.can_review = self.has_review_permission(request)
        return inlines

    # --- Columns and read-only fields --------------------------------------------------------

    @admin.display(description="Images")
    def thumbnails(self, post: Post) -> str:
        post_assets = list(post.post_assets.all())  # prefetched, in order
        if not post_assets:
            return "—"
        strip = format_html_join(
            "",
            "{}",
            ((_thumbnail(pa.asset, height=40),) for pa in post_assets[:LIST_THUMBNAILS]),
        )
        more = len(post_assets) - LIST_THUMBNAILS
        return format_html(
            '<span class="admin-thumb-strip">{}{}</span>',
            strip,
            format_html("<small>+{}</small>", more) if more > 0 else "",
        )

    @admin.display(description="Caption", ordering="caption")
    def caption_excerpt(self, post: Post) -> str:
        text = " ".join(post.caption.split())
        if not text:
            return f"(no caption) #{post.pk}"
        return text[:70] + "…" if len(text) > 70 else text

    @admin.display(description="Accounts")
    def target_accounts(self, post: Post) -> str:
        targets = list(post.targets.all())  # prefetched
        if not targets:
            return "—"
        return format_html_join("", "<div>{}</div>", ((_account_label(a),) for a in targets))

    @admin.display(description="Images")
    def images(self, post: Post) -> str:
        post_assets = list(post.post_assets.all())
        if not post_assets:
            return "—"
        return format_html_join(
            "",
            '<a href="{}">{}</a>',
            (
                (
                    reverse("admin:assets_brandasset_change", args=[pa.asset_id]),
                    _thumbnail(pa.asset, height=96),
                )
                for pa in post_assets
            ),
        )

    @admin.display(description="Scheduled (business's time)")
    def scheduled_local(self, post: Post) -> str:
        if post.scheduled_for is None:
            return "—"
        local = localtime_or_utc(post.scheduled_for, ZoneInfo(post.tenant.timezone))
        if local.tzinfo is UTC:  # no local equivalent (apps.core.localtime)
            return f"{local:%Y-%m-%d %H:%M} UTC"
        return f"{local:%Y-%m-%d %H:%M} {post.tenant.timezone}"

    # --- The change page -------------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        post = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if post is not None:
            context.update(self._review_context(request, post))
        return super().change_view(request, object_id, form_url, context)

    def _review_context(self, request: HttpRequest, post: Post) -> dict[str, Any]:
        can_review = self.has_review_permission(request)
        return {
            "network_previews": network_previews(post),
            "problems": services.post_problems(post),
            "can_approve": can_review and post.status in APPROVABLE,
            "can_reject": can_review and post.status in REJECTABLE,
            "can_publish_now": can_review and post.status in PUBLISHABLE_NOW,
            "approve_url": reverse("admin:posts_post_approve", args=[post.pk]),
            "reject_url": reverse("admin:posts_post_reject", args=[post.pk]),
            "publish_now_url": reverse("admin:posts_post_publish_now", args=[post.pk]),
        }

    def get_urls(self) -> list[URLPattern]:
        def view(function: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
            return self.admin_site.admin_view(function)

        return [
            path(
                "<int:object_id>/approve/",
                view(require_POST(self.approve_view)),
                name="posts_post_approve",
            ),
            path(
                "<int:object_id>/reject/",
                view(require_http_methods(["GET", "POST"])(self.reject_view)),
                name="posts_post_reject",
            ),
            path(
                "<int:object_id>/publish-now/",
                view(require_POST(self.publish_now_view)),
                name="posts_post_publish_now",
            ),
            path(
                "<int:object_id>/publications/<int:publication_id>/retry/",
                view(require_POST(self.retry_view)),
                name="posts_post_retry",
            ),
            *super().get_urls(),
        ]

    def _post_or_404(self, request: HttpRequest, object_id: int) -> Post:
        post = self.get_object(request, str(object_id))
        if post is None:
            raise Http404("No such post.")
        return post

    def _back_to(self, post: Post) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:posts_post_change", args=[post.pk]))

    def approve_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        reviewer = _reviewer(request)
        post = self._post_or_404(request, object_id)
        if self._approve(request, post, reviewer):
            messages.success(request, f"Approved {_quoted(post)}; it is scheduled.")
        return self._back_to(post)

    def reject_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        _reviewer(request)
        post = self._post_or_404(request, object_id)
        form = RejectForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid() and self._reject(request, [post], form):
            return self._back_to(post)
        return self._reject_page(request, [post], form, bulk=False)

    def publish_now_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        reviewer = _reviewer(request)
        post = self._post_or_404(request, object_id)
        if self._publish_now(request, post, reviewer):
            messages.success(request, f"{_quoted(post)} is being published now.")
        return self._back_to(post)

    def retry_view(
        self, request: HttpRequest, object_id: int, publication_id: int
    ) -> HttpResponseBase:
        reviewer = _reviewer(request)
        post = self._post_or_404(request, object_id)
        publication = get_object_or_404(
            Publication.objects.select_related("account"), pk=publication_id, post=post
        )
        if _attempt(
            request,
            f"{publication.account} was not retried",
            partial(services.publication_retry, reviewer=reviewer, publication=publication),
        ):
            messages.success(request, f"Publishing to {publication.account} is tried again now.")
        return self._back_to(post)

    # --- Actions ---------------------------------------------------------------------------

    @admin.action(description="Approve selected posts", permissions=["review"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        reviewer = _reviewer(request)
        approved = sum(self._approve(request, post, reviewer) for post in queryset)
        if approved:
            messages.success(request, f"Approved {_count(approved, 'post')}; they are scheduled.")

    @admin.action(description="Reject selected posts with a note…", permissions=["review"])
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[Post]
    ) -> HttpResponseBase | None:
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid() and self._reject(request, queryset, form):
            return None  # back to the queue
        return self._reject_page(request, list(queryset), form, bulk=True)

    @admin.action(description="Publish selected posts now", permissions=["review"])
    def publish_now_selected(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        reviewer = _reviewer(request)
        started = sum(self._publish_now(request, post, reviewer) for post in queryset)
        if started:
            messages.success(request, f"Publishing {_count(started, 'post')} now.")

    @admin.action(description="Retry failed publications of selected posts", permissions=["review"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        failed = Publication.objects.filter(
            post__in=queryset.values("pk"), status=Publication.Status.FAILED
        )
        if not _retry_publications(request, failed):
            messages.warning(request, "None of the selected posts has a failed publication.")

    # --- What the buttons and actions do -----------------------------------------------------

    def _approve(self, request: HttpRequest, post: Post, reviewer: User) -> bool:
        # post_approve re-checks the post's problems: accounts and images can change while it waits.
        return _attempt(
            request,
            f"{_quoted(post)} was not approved",
            partial(services.post_approve, reviewer=reviewer, post=post),
        )

    def _publish_now(self, request: HttpRequest, post: Post, reviewer: User) -> bool:
        return _attempt(
            request,
            f"{_quoted(post)} was not published",
            partial(services.post_publish_now, reviewer=reviewer, post=post),
        )

    def _reject(self, request: HttpRequest, posts: Iterable[Post], form: RejectForm) -> bool:
        """Reject each post with the form's note. False when the note itself is refused (the
        form then carries the error and nothing has changed)."""
        reviewer = _reviewer(request)
        note = form.cleaned_data["note"]
        rejected = 0
        for post in posts:
            try:
                services.post_reject(reviewer=reviewer, post=post, note=note)
            except ApplicationError as exc:
                if exc.code == "note_required":
                    form.add_error("note", exc.message)
                    return False
                messages.error(request, f"{_quoted(post)} was not rejected: {exc.message}")
            else:
                rejected += 1
        if rejected:
            messages.success(
                request,
                f"Rejected {_count(rejected, 'post')}; the owners are told by e-mail.",
            )
        return True

    def _reject_page(
        self, request: HttpRequest, posts: list[Post], form: RejectForm, *, bulk: bool
    ) -> TemplateResponse:
        opts = self.model._meta
        if bulk:
            cancel_url = reverse("admin:posts_post_changelist")
        else:
            cancel_url = reverse("admin:posts_post_change", args=[posts[0].pk])
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject posts" if len(posts) > 1 else "Reject a post",
            "opts": opts,
            "posts": posts,
            "form": form,
            "bulk": bulk,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/posts/post/reject.html", context)


def _retry_publications(request: HttpRequest, publications: QuerySet[Publication]) -> int:
    """Retry each failed publication; returns how many were retried."""
    reviewer = _reviewer(request)
    retried = 0
    for publication in publications.select_related("account", "post__tenant"):
        retried += _attempt(
            request,
            f"{publication.account} ({_quoted(publication.post)}) was not retried",
            partial(services.publication_retry, reviewer=reviewer, publication=publication),
        )
    if retried:
        messages.success(request, f"Retrying {_count(retried, 'publication')} now.")
    return retried


# --- Publications and the audit trail ------------------------------------------------------


class PublicationEventInline(ReadOnlyMixin, admin.TabularInline):
    """The publication's whole history: each move of its state machine, with the attempt, the
    Graph call and its answer."""

    model = PublicationEvent
    extra = 0
    can_delete = False
    verbose_name = "step"
    verbose_name_plural = "History"
    fields = (
        "created_at",
        "kind",
        "from_status",
        "to_status",
        "attempt",
        "graph_call",
        "answer",
        "codes",
        "note",
        "actor",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[PublicationEvent]:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="Code")
    def codes(self, event: PublicationEvent) -> str:
        return "/".join(str(c) for c in (event.error_code, event.error_subcode) if c)


@admin.register(Publication)
class PublicationAdmin(ReviewPermissionMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "post_link",
        "tenant",
        "account",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "tenant", "account__platform"]
    search_fields = ["post__caption", "account__name", "account__username", "platform_post_id"]
    list_select_related = ["post", "tenant", "account"]
    date_hierarchy = "created_at"
    actions = ["retry_selected"]
    exclude = ["claim_token"]
    inlines = [PublicationEventInline]

    @admin.display(description="Post", ordering="post")
    def post_link(self, publication: Publication) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:posts_post_change", args=[publication.post_id]),
            publication.post,
        )

    @admin.action(description="Retry failed publications", permissions=["review"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Publication]) -> None:
        not_failed = queryset.exclude(status=Publication.Status.FAILED).count()
        if not_failed:
            messages.warning(
                request, f"Skipped {_count(not_failed, 'publication')} that had not failed."
            )
        _retry_publications(request, queryset.filter(status=Publication.Status.FAILED))


@admin.register(ReviewEvent)
class ReviewEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "post_link", "tenant", "kind", "actor", "transition", "note"]
    list_filter = ["kind", "tenant"]
    search_fields = ["post__caption", "note", "actor__email", "tenant__name"]
    list_select_related = ["post", "tenant", "actor"]
    date_hierarchy = "created_at"

    @admin.display(description="Post", ordering="post")
    def post_link(self, event: ReviewEvent) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:posts_post_change", args=[event.post_id]),
            event.post,
        )

    @admin.display(description="From → to")
    def transition(self, event: ReviewEvent) -> str:
        return _transition_label(event)


@admin.register(CaptionUsage)
class CaptionUsageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """What "Draft with AI" used and cost, per business (filter by business and month); the
    totals of the filtered rows are shown above the list."""

    list_display = ["created_at", "tenant", "provider", "model", "prompt_tokens"]
    list_display += ["completion_tokens", "cost_usd"]
    list_filter = ["provider", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name"]
    date_hierarchy = "created_at"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["totals"] = context["cl"].queryset.aggregate(
                requests=Count("id"),
                prompt_tokens=Sum("prompt_tokens"),
                completion_tokens=Sum("completion_tokens"),
                cost_usd=Sum("cost_usd"),
            )
        return response

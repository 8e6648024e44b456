"""The posts pages of the dashboard: list, compose / edit with a live per-network preview,
detail with the actions its state allows. Thin: a form in, one service call, a message and a
redirect; the services and the adapters decide what is allowed."""

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.middleware import TenantRequest
from apps.accounts.models import EDITING_ROLES
from apps.accounts.permissions import tenant_required
from apps.core.exceptions import ApplicationError
from apps.core.models import get_for_tenant_or_404
from apps.networks.base import Network
from apps.networks.registry import networks
from apps.posts import selectors, services
from apps.posts.captions import (
    CaptionError,
    CaptionLimitReached,
    CaptionSuggestion,
    caption_suggest,
)
from apps.posts.captions.service import (
    MAX_AVOID,
    caption_monthly_limit,
    caption_usage_this_month,
)
from apps.posts.forms import (
    CaptionDraftForm,
    PostFilterForm,
    PostForm,
    RescheduleForm,
    utc_to_local,
)
from apps.posts.models import Post, Publication
from apps.posts.services import Action, PostInvalid
from apps.social.models import ConnectedAccount

S = Post.Status

PAGE_SIZE = 20
# Statuses in which a post without a time goes out as soon as it is approved.
UNSCHEDULED_STATUSES = [S.DRAFT, S.PENDING_REVIEW, S.REJECTED, S.APPROVED]
ASSET_PICKER_SIZE = 100


# --- List ---------------------------------------------------------------------------------------


@tenant_required()
@require_GET
def post_list(request: TenantRequest) -> HttpResponse:
    accounts = list(
        ConnectedAccount.objects.for_tenant(request.tenant).order_by("platform", "name")
    )
    form = PostFilterForm(request.GET or None, accounts=accounts)
    filters = selectors.PostFilters()
    if form.is_bound and form.is_valid():
        filters = selectors.PostFilters(
            status=form.cleaned_data["status"],
            account_id=form.cleaned_data["account"],
            date_field=form.cleaned_data["date_field"] or "scheduled",
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
    posts = selectors.post_list(tenant=request.tenant, filters=filters)
    page = Paginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "posts/list.html",
        {
            "form": form,
            "page": page,
            "rows": selectors.post_rows(page.object_list),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
            "query": query.urlencode(),
            "unscheduled_statuses": UNSCHEDULED_STATUSES,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# --- Compose and edit -----------------------------------------------------------------------


def _submit_label(request: TenantRequest) -> str:
    return "Submit for approval" if request.tenant.requires_approval else "Schedule"


def _when(post: Post, request: TenantRequest) -> str:
    if post.scheduled_for is None:
        return "as soon as possible"
    day, at = utc_to_local(post.scheduled_for, request.tenant.timezone)
    return f"on {formats.date_format(day, 'j M Y')} at {at} ({request.tenant.timezone})"


def _submitted_message(post: Post, request: TenantRequest) -> str:
    if post.status == S.PENDING_REVIEW:
        return "Submitted for approval. You will see the outcome here."
    return f"Scheduled: it goes out {_when(post, request)}."


def _compose_page(
    request: TenantRequest,
    form: PostForm,
    post: Post | None,
    *,
    status: int = 200,
    drafting: "CaptionDrafting | None" = None,
) -> HttpResponse:
    if drafting is None:
        # Whatever was typed about the post survives a re-rendered form.
        details = request.POST.get("item_details", "") if request.method == "POST" else ""
        drafting = _caption_drafting_idle(request, item_details=details)
    data = form.post_input()
    chosen_targets = form.chosen_target_ids()
    positions = form.asset_positions()
    assets = selectors.asset_choices(
        tenant=request.tenant, chosen_ids=data.asset_ids, limit=ASSET_PICKER_SIZE
    )
    return render(
        request,
        "posts/compose.html",
        {
            "form": form,
            "post": post,
            "accounts": selectors.account_choices(
                tenant=request.tenant, include_ids=chosen_targets
            ),
            "chosen_targets": chosen_targets,
            "asset_options": [(asset, positions.get(asset.pk)) for asset in assets],
            "asset_picker_size": ASSET_PICKER_SIZE,
            "preview": selectors.compose_preview(tenant=request.tenant, data=data),
            "tenant_timezone": request.tenant.timezone,
            "submit_label": _submit_label(request),
            "drafting": drafting,
            "limits": _caption_limits(),
        },
        status=status,
    )


@dataclass(frozen=True)
class CaptionLimits:
    """What the compose page's live counter checks (the strictest network's limits) and says
    (every network's)."""

    chars: int
    hashtags: int | None
    mentions: int | None
    sentence: str


def _caption_limits() -> CaptionLimits:
    def said(network: Network) -> str:
        limits = network.limits
        counts = [f"{limits.caption_chars} characters"]
        if limits.hashtags is not None:
            counts.append(f"{limits.hashtags} hashtags")
        if limits.mentions is not None:
            counts.append(f"{limits.mentions} mentions")
        head, last = counts[:-1], counts[-1]
        return f"{network.site} allows " + (f"{', '.join(head)} and {last}" if head else last)

    # The networks with the most rules first: "Instagram allows …; Facebook allows …".
    ranked = sorted(networks(), key=lambda n: (n.limits.hashtags is None, n.limits.caption_chars))
    tags = [n.limits.hashtags for n in ranked if n.limits.hashtags is not None]
    mentions = [n.limits.mentions for n in ranked if n.limits.mentions is not None]
    return CaptionLimits(
        chars=min(n.limits.caption_chars for n in ranked),
        hashtags=min(tags) if tags else None,
        mentions=min(mentions) if mentions else None,
        # Once per place: both Instagram networks have Instagram's limits.
        sentence="; ".join(dict.fromkeys(said(n) for n in ranked)) + ".",
    )


def _compose(request: TenantRequest, post: Post | None) -> HttpResponse:
    """GET shows the form (and the preview, rendered here so it works without JavaScript).
    POST saves a draft; "submit" then submits it. A post saved but refused at submit stays a
    draft, and its edit page shows why next to each field."""
    if request.method == "GET":
        if post is not None and request.GET.get("check"):
            form = PostForm(PostForm.data_for(post, request.tenant), tenant=request.tenant)
            form.is_valid()
            form.add_problems(services.post_problems(post))
        else:
            initial = PostForm.initial_for(post, request.tenant) if post else None
            form = PostForm(initial=initial, tenant=request.tenant)
        return _compose_page(request, form, post)

    form = PostForm(request.POST, tenant=request.tenant)
    action = request.POST.get("action", "draft")
    if "use_caption" in request.POST:
        # "Use this" without JavaScript: the suggestion becomes the caption; nothing is saved.
        data = request.POST.copy()
        data["caption"] = request.POST["use_caption"]
        data["caption_ai_generated"] = "on"
        return _compose_page(request, PostForm(data, tenant=request.tenant), post)
    if action in (DRAFT_ACTION, DRAFT_AGAIN_ACTION):
        # "Draft with AI" without JavaScript: the page again, with the suggestions.
        drafting = _caption_drafting(request, form, again=action == DRAFT_AGAIN_ACTION)
        return _compose_page(request, form, post, drafting=drafting, status=drafting.status)
    if action == "preview" or not form.is_valid():
        # "Update preview" is the no-JavaScript way to see the preview: nothing is saved.
        return _compose_page(request, form, post, status=200 if form.is_valid() else 400)
    was = post.status if post is not None else None
    try:
        if post is None:
            saved = services.post_create(actor=request.membership, data=form.post_input())
        else:
            saved = services.post_update(
                actor=request.membership, post=post, data=form.post_input()
            )
    except PostInvalid as exc:
        form.add_problems(exc.problems)
        return _compose_page(request, form, post, status=400)
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _compose_page(request, form, post, status=400)

    if action != "submit":
        if was is not None and was != saved.status:
            messages.warning(
                request,
                f"Saved. The post was {Post.Status(was).label.lower()}; changed, it is a draft "
                "again and needs to be submitted again.",
            )
        else:
            messages.success(request, "Draft saved.")
        return redirect("posts:detail", post_id=saved.pk)
    return _submit_and_redirect(request, saved, saved_first=True)


def _submit_and_redirect(request: TenantRequest, post: Post, *, saved_first: bool) -> HttpResponse:
    saved = "Draft saved, but it " if saved_first else "It "
    try:
        post = services.post_submit(actor=request.membership, post=post)
    except PostInvalid as exc:
        count = len(exc.problems)
        messages.error(
            request,
            f"{saved}cannot be submitted yet: {count} problem{'s' if count != 1 else ''} to fix, "
            "marked below.",
        )
        return redirect(f"{reverse('posts:edit', kwargs={'post_id': post.pk})}?check=1")
    except ApplicationError as exc:
        messages.error(request, f"{saved}was not submitted: {exc.message}")
        return redirect("posts:detail", post_id=post.pk)
    messages.success(request, _submitted_message(post, request))
    return redirect("posts:detail", post_id=post.pk)


@tenant_required(roles=EDITING_ROLES)
@require_http_methods(["GET", "POST"])
def post_create(request: TenantRequest) -> HttpResponse:
    return _compose(request, None)


@tenant_required(roles=EDITING_ROLES)
@require_http_methods(["GET", "POST"])
def post_edit(request: TenantRequest, post_id: int) -> HttpResponse:
    post = selectors.post_get(tenant=request.tenant, post_id=post_id)
    if Action.EDIT not in services.allowed_actions(post, actor=request.membership):
        if request.method == "POST":
            messages.error(
                request,
                f"Nothing was changed: a post that is {post.get_status_display().lower()} "
                "cannot be edited.",
            )
        return render(
            request,
            "posts/not_editable.html",
            {"post": post},
            status=409 if request.method == "POST" else 200,
        )
    return _compose(request, post)


@tenant_required(roles=EDITING_ROLES)
@require_POST
def post_preview(request: TenantRequest) -> HttpResponse:
    """The compose form's live preview (htmx): the same fields in, a partial out."""
    form = PostForm(request.POST, tenant=request.tenant)
    preview = selectors.compose_preview(tenant=request.tenant, data=form.post_input())
    return render(
        request,
        "posts/_preview.html",
        {"preview": preview},
    )


# --- Draft with AI (SPEC 10) ---------------------------------------------------------------------

DRAFT_ACTION = "suggest"
DRAFT_AGAIN_ACTION = "suggest_again"


@dataclass
class CaptionDrafting:
    """What the "Draft with AI" panel shows: the details typed, the suggestions or why there
    are none, what "Ask again" avoids, and the plan's usage this month."""

    item_details: str
    used: int
    limit: int
    asked: bool = False
    suggestions: list[CaptionSuggestion] = field(default_factory=list)
    avoid: list[str] = field(default_factory=list)
    error: str = ""
    status: int = 200


def _caption_drafting_idle(request: TenantRequest, *, item_details: str = "") -> CaptionDrafting:
    return CaptionDrafting(
        item_details=item_details,
        used=caption_usage_this_month(tenant=request.tenant),
        limit=caption_monthly_limit(tenant=request.tenant),
    )


def _caption_drafting(request: TenantRequest, form: PostForm, *, again: bool) -> CaptionDrafting:
    """Suggestions for the compose form as posted: the details typed, the platforms of the
    accounts ticked (ids that are not the tenant's are ignored) and, asking again, the
    suggestions already shown to avoid. Errors become a message; nothing else changes."""
    draft = CaptionDraftForm(request.POST)
    details = str(request.POST.get("item_details", ""))
    avoid = draft.avoid() if again else []
    status, error, suggestions = 200, "", []
    if not draft.is_valid():
        status, error = 400, " ".join(str(e) for errors in draft.errors.values() for e in errors)
    else:
        details = draft.cleaned_data["item_details"]
        platforms = sorted(
            set(
                ConnectedAccount.objects.for_tenant(request.tenant)
                .filter(pk__in=form.chosen_target_ids())
                .values_list("platform", flat=True)
            )
        )
        try:
            suggestions = caption_suggest(
                actor=request.membership,
                item_details=details,
                platforms=platforms,
                avoid=avoid,
            )
        except CaptionError as exc:
            status, error = (
                502,
                f"No suggestions this time: {exc.message} Your caption is unchanged.",
            )
        except CaptionLimitReached as exc:
            status, error = 429, exc.message
        except ApplicationError as exc:
            status, error = 400, exc.message
        else:
            if not suggestions:
                error = (
                    "No new suggestions: every phrasing we tried is too close to one already "
                    "shown or posted. Add more details, or write this one yourself."
                )
    drafting = _caption_drafting_idle(request, item_details=details)
    drafting.asked = True
    drafting.suggestions = suggestions
    drafting.avoid = [*avoid, *(s.text for s in suggestions)][-MAX_AVOID:]
    drafting.error = error
    drafting.status = status
    return drafting


@tenant_required(roles=EDITING_ROLES)
@require_POST
def caption_suggest_view(request: TenantRequest) -> HttpResponse:
    """ "Draft with AI" on the compose page (htmx): the compose form's fields in, the
    suggestions partial out. "Ask again" (``action=suggest_again``) avoids those shown."""
    form = PostForm(request.POST, tenant=request.tenant)
    again = request.POST.get("action") == DRAFT_AGAIN_ACTION
    drafting = _caption_drafting(request, form, again=again)
    return render(
        request,
        "posts/_caption_suggestions.html",
        {"drafting": drafting},
        status=drafting.status,
    )


# --- Detail and its actions ---------------------------------------------------------------------


@tenant_required()
@require_GET
def post_detail(request: TenantRequest, post_id: int) -> HttpResponse:
    post = selectors.post_get(tenant=request.tenant, post_id=post_id)
    initial: dict[str, Any] = {}
    if post.scheduled_for:
        initial["scheduled_date"], initial["scheduled_time"] = utc_to_local(
            post.scheduled_for, request.tenant.timezone
        )
    actions = services.allowed_actions(post, actor=request.membership)
    return render(
        request,
        "posts/detail.html",
        {
            "post": post,
            "assets": [pa.asset for pa in post.post_assets.all()],
            "targets": selectors.post_targets(post),
            "engagement": selectors.post_engagement(post),
            "events": list(post.events.all()),
            "overrides": [
                (network.label, post.caption_overrides[network.id])
                for network in networks()
                if post.caption_overrides.get(network.id)
            ],
            "reschedule_form": RescheduleForm(initial=initial, tenant=request.tenant),
            # One decision: the transition table, through allowed_actions (the services'
            # own check), so a button shown always works and a legal action has its button.
            "actions": actions,
            "can_edit": Action.EDIT in actions,
            "can_submit": Action.SUBMIT in actions,
            "can_cancel": Action.CANCEL in actions,
            "can_reschedule": Action.RESCHEDULE in actions,
            "can_retry": Action.RETRY in actions,
            "submit_label": _submit_label(request),
            "unscheduled_statuses": UNSCHEDULED_STATUSES,
        },
    )


@tenant_required(roles=EDITING_ROLES)
@require_POST
def post_submit(request: TenantRequest, post_id: int) -> HttpResponse:
    post = selectors.post_get(tenant=request.tenant, post_id=post_id)
    return _submit_and_redirect(request, post, saved_first=False)


@tenant_required(roles=EDITING_ROLES)
@require_POST
def post_cancel(request: TenantRequest, post_id: int) -> HttpResponse:
    post = selectors.post_get(tenant=request.tenant, post_id=post_id)
    try:
        services.post_cancel(actor=request.membership, post=post)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Cancelled. Nothing will be published.")
    return redirect("posts:detail", post_id=post.pk)


@tenant_required(roles=EDITING_ROLES)
@require_POST
def post_reschedule(request: TenantRequest, post_id: int) -> HttpResponse:
    post = selectors.post_get(tenant=request.tenant, post_id=post_id)
    form = RescheduleForm(request.POST, tenant=request.tenant)
    if not form.is_valid():
        errors = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, f"Not rescheduled: {' '.join(errors)}")
        return redirect("posts:detail", post_id=post.pk)
    try:
        post = services.post_reschedule(
            actor=request.membership,
            post=post,
            scheduled_for=form.cleaned_data["scheduled_for"],
        )
    except ApplicationError as exc:
        messages.error(request, f"Not rescheduled: {exc.message}")
    else:
        messages.success(request, f"Rescheduled: it goes out {_when(post, request)}.")
    return redirect("posts:detail", post_id=post.pk)


@tenant_required(roles=EDITING_ROLES)
@require_POST
def publication_retry(request: TenantRequest, publication_id: int) -> HttpResponse:
    publication = get_for_tenant_or_404(
        Publication.objects.select_related("account"), tenant=request.tenant, pk=publication_id
    )
    try:
        services.publication_retry(actor=request.membership, publication=publication)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Trying again to publish to {publication.account}.")
    return redirect("posts:detail", post_id=publication.post_id)

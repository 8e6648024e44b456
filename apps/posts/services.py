"""The post lifecycle (SPEC 6): every status change goes through :func:`_transition`, which locks
the row, checks the move against :data:`TRANSITIONS`, and writes a ReviewEvent.

draft → pending_review → approved → scheduled → publishing → published | partially_published |
failed;
pending_review → rejected → (edited) → pending_review; approved/scheduled/pending_review → draft on
edit; cancel from any state before publishing. Tenants that need no approval skip the review.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership, Tenant, User
from apps.accounts.services import owners_notify
from apps.assets.models import BrandAsset
from apps.core.exceptions import ApplicationError, NotPermitted
from apps.core.queueing import task_queue_on_commit
from apps.networks.base import FEED, Limits, MediaOptions, PostContent, Problem
from apps.networks.registry import is_network, network_for, networks
from apps.posts.models import Post, PostAsset, Publication, PublicationEvent, ReviewEvent
from apps.posts.publication_states import (
    Step,
    publication_move,
    publications_create,
    publications_move,
)
from apps.social.models import ConnectedAccount
from apps.webhooks.services import webhook_post_event

logger = structlog.get_logger(__name__)

S = Post.Status
MAX_ASSETS = 10
# What Instagram takes (the strictest network): usernames of letters, digits, "." and "_".
USERNAME = re.compile(r"^[A-Za-z0-9._]{1,30}$")
MAX_COLLABORATORS = 3
FIRST_COMMENT_CHARS = 2200  # Instagram's comment limit; Facebook's is longer

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.DRAFT, S.PENDING_REVIEW, S.APPROVED, S.CANCELLED},  # edited, a draft stays one
    S.PENDING_REVIEW: {S.APPROVED, S.REJECTED, S.DRAFT, S.CANCELLED},
    S.REJECTED: {S.PENDING_REVIEW, S.APPROVED, S.DRAFT, S.CANCELLED},
    S.APPROVED: {S.SCHEDULED, S.DRAFT, S.REJECTED, S.CANCELLED},
    S.SCHEDULED: {S.PUBLISHING, S.SCHEDULED, S.DRAFT, S.REJECTED, S.CANCELLED},
    # A failed publication retried while the post's others are still going out.
    S.PUBLISHING: {S.PUBLISHING, S.PUBLISHED, S.PARTIALLY_PUBLISHED, S.FAILED},
    S.PUBLISHED: set(),
    S.PARTIALLY_PUBLISHED: {S.PUBLISHING},  # a failed publication is retried
    S.FAILED: {S.PUBLISHING},
    S.CANCELLED: set(),
}


class Action(StrEnum):
    """What a member may do to a post (the dashboard's buttons, the API's operations)."""

    EDIT = "edit"
    RESCHEDULE = "reschedule"
    SUBMIT = "submit"
    CANCEL = "cancel"
    RETRY = "retry"


# Each action as the move it makes in TRANSITIONS: legal from the statuses the table lets move
# there. A new time is an edit that keeps the approval, so it goes wherever editing does.
ACTION_MOVES: dict[Action, str] = {
    Action.EDIT: S.DRAFT,  # a submitted or approved post, edited, is a draft again
    Action.RESCHEDULE: S.DRAFT,
    Action.SUBMIT: S.PENDING_REVIEW,  # (then on to approved when no approval is needed)
    Action.CANCEL: S.CANCELLED,
    Action.RETRY: S.PUBLISHING,  # a failed publication goes out again
}
ACTION_STATUSES: dict[Action, frozenset[str]] = {
    action: frozenset(status for status, moves in TRANSITIONS.items() if to in moves)
    for action, to in ACTION_MOVES.items()
}
EDITABLE = ACTION_STATUSES[Action.EDIT]
CANCELLABLE = ACTION_STATUSES[Action.CANCEL]
SUBMITTABLE = ACTION_STATUSES[Action.SUBMIT]
# Integrations hear about these moves through outgoing webhooks (apps.webhooks).
WEBHOOK_EVENTS: dict[str, str] = {
    S.APPROVED: "post.approved",
    S.REJECTED: "post.rejected",
    S.PUBLISHED: "post.published",
    S.PARTIALLY_PUBLISHED: "post.failed",
    S.FAILED: "post.failed",
}


class IllegalTransition(ApplicationError):
    default_code = "illegal_transition"
    status = 409


class PostInvalid(ApplicationError):
    """The post breaks rules of its networks; ``problems`` lists each one."""

    default_code = "post_invalid"
    status = 422

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(p.message for p in problems), extra={"problems": self.problems})

    @property
    def problem_detail(self) -> str:
        return "The post breaks rules of its networks."

    def problem_errors(self) -> list[dict[str, str]]:
        return [{"field": p.field, "code": p.code, "message": p.message} for p in self.problems]


def _transition(
    post: Post,
    to: str,
    *,
    kind: str,
    actor: User | None = None,
    note: str = "",
    fields: Iterable[str] = (),
) -> Post:
    """Move ``post`` (locked by the caller's transaction) to ``to`` and record it."""
    if to not in TRANSITIONS[post.status]:
        raise IllegalTransition(
            f"A post that is {post.get_status_display().lower()} cannot become "
            f"{Post.Status(to).label.lower()}."
        )
    from_status = post.status
    post.status = to
    post.save(update_fields=["status", "updated_at", *fields])
    ReviewEvent.objects.create(
        tenant_id=post.tenant_id,
        post=post,
        kind=kind,
        actor=actor,
        note=note,
        from_status=from_status,
        to_status=to,
    )
    logger.info(
        "post_transition", post_id=post.pk, from_status=from_status, to_status=to, kind=kind
    )
    event = WEBHOOK_EVENTS.get(to)
    if event is not None and to != from_status:
        webhook_post_event(post=post, event=event)
    return post


def _locked(post: Post) -> Post:
    return Post.objects.select_for_update().get(pk=post.pk)


def _require_editor(actor: Membership) -> None:
    if not actor.can_edit:
        raise NotPermitted("Viewers cannot create or change posts.")


def _publishing_started(post: Post) -> bool:
    return any(
        p.status not in (Publication.Status.PENDING, Publication.Status.CANCELLED)
        for p in post.publications.all()
    )


def _action_refusal(post: Post, action: Action) -> str:
    """Why ``action`` is not legal for ``post`` now ("" when it is): the transition table, then
    what the table cannot see (publications under way, or none failed)."""
    status = post.get_status_display().lower()
    if post.status not in ACTION_STATUSES[action]:
        return {
            Action.EDIT: f"A post that is {status} cannot be edited.",
            Action.RESCHEDULE: f"A post that is {status} cannot be rescheduled.",
            Action.SUBMIT: f"A post that is {status} cannot be submitted.",
            Action.CANCEL: f"A post that is {status} can no longer be cancelled.",
            Action.RETRY: f"A post that is {status} cannot be retried.",
        }[action]
    if action == Action.CANCEL and _publishing_started(post):
        return "Publishing has started; the post can no longer be cancelled."
    if action == Action.RETRY and not any(
        p.status == Publication.Status.FAILED for p in post.publications.all()
    ):
        return "Only a failed publication can be retried."
    return ""


def allowed_actions(post: Post, *, actor: Membership | None) -> frozenset[Action]:
    """The actions ``actor`` may take on ``post`` now: exactly those its services accept
    (TRANSITIONS through ACTION_MOVES, the editor role, the publications). Reads the post's
    publications (prefetch them for a list)."""
    if actor is None or not actor.can_edit:
        return frozenset()
    return frozenset(action for action in Action if not _action_refusal(post, action))


def _require_action(post: Post, action: Action) -> None:
    refusal = _action_refusal(post, action)
    if refusal:
        raise IllegalTransition(refusal)


# --- Content and validation ------------------------------------------------------------------


@dataclass
class PostInput:
    caption: str = ""
    caption_overrides: dict[str, str] = field(default_factory=dict)
    link: str = ""
    target_ids: list[int] = field(default_factory=list)
    asset_ids: list[int] = field(default_factory=list)
    scheduled_for: datetime | None = None
    format: str = FEED
    first_comment: str = ""
    cover_id: int | None = None
    cover_offset_ms: int | None = None
    share_to_feed: bool = True
    audio_name: str = ""
    collaborators: list[str] = field(default_factory=list)
    location_id: str = ""
    caption_ai_generated: bool = False

    def media_options(self, *, cover: BrandAsset | None) -> MediaOptions:
        """The options as a network reads them (``cover``: the tenant's image ``cover_id``)."""
        return MediaOptions(
            cover=cover,
            cover_offset_ms=None if cover else self.cover_offset_ms,
            share_to_feed=self.share_to_feed,
            audio_name=self.audio_name.strip(),
            collaborators=tuple(name.strip().lstrip("@") for name in self.collaborators),
            location_id=self.location_id.strip(),
            first_comment=self.first_comment.strip(),
            ai_generated=self.caption_ai_generated,
        )


def _clean_options(tenant: Tenant, data: PostInput) -> tuple[list[Problem], BrandAsset | None]:
    """The format and the media options (issue 15): their shape, not the networks' rules."""
    problems: list[Problem] = []
    if data.format not in Post.Format.values:
        choices = ", ".join(Post.Format.values)
        problems.append(
            Problem("format_unknown", f"The format must be one of {choices}.", "format")
        )
    if len(data.first_comment) > FIRST_COMMENT_CHARS:
        problems.append(
            Problem(
                "first_comment_too_long",
                f"The first comment is {len(data.first_comment)} characters; at most "
                f"{FIRST_COMMENT_CHARS}.",
                "first_comment",
            )
        )
    names = data.media_options(cover=None).collaborators
    bad = [name for name in names if not USERNAME.match(name)]
    if bad:
        problems.append(
            Problem(
                "collaborator_invalid",
                f"“{bad[0][:40]}” is not a username (letters, digits, “.” and “_”, at most 30).",
                "collaborators",
            )
        )
    if len({name.lower() for name in names}) != len(names):
        problems.append(
            Problem(
                "collaborator_repeated", "The same collaborator is named twice.", "collaborators"
            )
        )
    if len(names) > MAX_COLLABORATORS:
        problems.append(
            Problem(
                "too_many_collaborators",
                f"At most {MAX_COLLABORATORS} collaborators can be invited.",
                "collaborators",
            )
        )
    if data.location_id and not (data.location_id.isdigit() and len(data.location_id) <= 32):
        problems.append(
            Problem(
                "location_invalid",
                "The location is a place's Facebook Page id (digits only).",
                "location_id",
            )
        )
    if len(data.audio_name) > 100:
        problems.append(
            Problem(
                "audio_name_too_long", "The audio name is at most 100 characters.", "audio_name"
            )
        )
    if data.cover_offset_ms is not None and not 0 <= data.cover_offset_ms <= 4 * 3600 * 1000:
        problems.append(
            Problem(
                "cover_offset_invalid",
                "The cover frame's offset is in milliseconds from the start of the video.",
                "cover_offset_ms",
            )
        )
    cover = None
    if data.cover_id is not None:
        cover = BrandAsset.objects.for_tenant(tenant).in_library().filter(pk=data.cover_id).first()
        if cover is None:
            problems.append(
                Problem(
                    "cover_unknown",
                    "The cover image is not in this business's library.",
                    "cover",
                )
            )
        elif cover.is_video:
            problems.append(Problem("cover_not_image", "The cover must be an image.", "cover"))
    return problems, cover


def _clean_input(
    tenant: Tenant, data: PostInput
) -> tuple[list[ConnectedAccount], list[BrandAsset], BrandAsset | None]:
    problems: list[Problem] = []
    targets = list(ConnectedAccount.objects.for_tenant(tenant).filter(pk__in=set(data.target_ids)))
    if len(targets) != len(set(data.target_ids)):
        problems.append(
            Problem(
                "target_unknown",
                "One of the chosen accounts is not one of this business's accounts.",
                "targets",
            )
        )
    disconnected = [t for t in targets if t.status == ConnectedAccount.Status.DISCONNECTED]
    if disconnected:
        problems.append(
            Problem(
                "target_disconnected",
                f"{disconnected[0]} is disconnected; reconnect it or choose another account.",
                "targets",
            )
        )
    by_id = {
        a.pk: a
        for a in BrandAsset.objects.for_tenant(tenant)
        .in_library()
        .filter(pk__in=set(data.asset_ids))
    }
    if len(by_id) != len(set(data.asset_ids)):
        problems.append(
            Problem(
                "asset_unknown",
                "One of the chosen images is not in this business's library.",
                "assets",
            )
        )
    if len(data.asset_ids) != len(set(data.asset_ids)):
        problems.append(Problem("asset_repeated", "The same image is chosen twice.", "assets"))
    if len(data.asset_ids) > MAX_ASSETS:
        problems.append(
            Problem("too_many_assets", f"A post holds at most {MAX_ASSETS} images.", "assets")
        )
    if data.link:
        try:
            URLValidator(schemes=["http", "https"])(data.link)
        except ValidationError:
            problems.append(
                Problem("link_invalid", "The link must be a full http(s) address.", "link")
            )
    for platform in data.caption_overrides:
        if not is_network(platform):
            problems.append(
                Problem(
                    "override_unknown",
                    f"Unknown network “{platform}” for a caption.",
                    "caption_overrides",
                )
            )
    option_problems, cover = _clean_options(tenant, data)
    problems += option_problems
    if problems:
        raise PostInvalid(problems)
    return targets, [by_id[i] for i in data.asset_ids if i in by_id], cover


def post_content(post: Post, platform: str) -> PostContent:
    return PostContent(
        caption=post.caption_for(platform),
        link=post.link,
        assets=[pa.asset for pa in post.post_assets.select_related("asset")],
        format=post.format,
        options=post.media_options(),
    )


@dataclass(frozen=True)
class PostDraft:
    """What the rules are checked on: a saved post (:func:`post_draft`) or the content being
    composed (the compose preview), with its accounts and images resolved."""

    targets: Sequence[ConnectedAccount]
    assets: Sequence[BrandAsset]
    caption: str = ""
    caption_overrides: Mapping[str, str] = field(default_factory=dict)
    link: str = ""
    scheduled_for: datetime | None = None
    format: str = FEED
    options: MediaOptions = field(default_factory=MediaOptions)

    def content(self, platform: str) -> PostContent:
        return PostContent(
            caption=self.caption_overrides.get(platform) or self.caption,
            link=self.link.strip(),
            assets=list(self.assets),
            format=self.format,
            options=self.options,
        )


@dataclass(frozen=True)
class PostCheck:
    """Every rule a post breaks: of the whole post, of its time, and per network (as the
    network says them, by network id, in the registry's order)."""

    problems: list[Problem]
    schedule: list[Problem]
    networks: dict[str, list[Problem]]

    def content_problems(self) -> list[Problem]:
        """What approving checks (the time may have passed: it then goes out at once)."""
        found = list(self.problems)
        for platform, problems in self.networks.items():
            label = network_for(platform).label
            found += [Problem(p.code, f"{label}: {p.message}", p.field) for p in problems]
        return found

    def submit_problems(self) -> list[Problem]:
        """What submitting checks: the content and the time."""
        return [*self.content_problems(), *self.schedule]


def post_check(draft: PostDraft) -> PostCheck:
    """The one check of a post's rules, behind the compose preview, submit, approve, the
    admin's review panel and the API's ``problems`` (docs/architecture.md)."""
    problems: list[Problem] = []
    if not draft.targets:
        problems.append(Problem("no_target", "Choose at least one account to post to.", "targets"))
    for account in draft.targets:
        if account.status == ConnectedAccount.Status.DISCONNECTED:
            problems.append(
                Problem(
                    "target_disconnected",
                    f"{account} is disconnected; reconnect it or choose another account.",
                    "targets",
                )
            )
    if not (draft.caption.strip() or draft.link.strip() or draft.assets):
        problems.append(
            Problem("empty", "Write a caption, add a link or choose images.", "caption")
        )
    for asset in draft.assets:
        if asset.is_video and asset.is_converting:
            # What the networks are sent is the conversion: it must exist first.
            problems.append(
                Problem(
                    "video_converting",
                    f"“{asset.original_filename}” is being converted for the networks "
                    f"({asset.transcode_progress} %); submit it once that is done.",
                    "assets",
                )
            )
    platforms = {account.platform for account in draft.targets}
    by_network = {
        network.id: _options_problems(network.limits, network.label, draft)
        + network.validate(draft.content(network.id))
        for network in networks()
        if network.id in platforms
    }
    return PostCheck(
        problems=problems, schedule=schedule_problems(draft.scheduled_for), networks=by_network
    )


def _options_problems(limits: Limits, label: str, draft: PostDraft) -> list[Problem]:
    """What a network cannot take of the format and options, from its ``Limits`` alone (the
    network's ``validate`` checks the media against the format). Collaborators and a location
    are Instagram's: a network without them publishes the post without them (the compose page
    says so), whereas a first comment it cannot post is refused."""
    problems = []
    if draft.format not in limits.formats:
        kind = Post.Format(draft.format).label
        problems.append(
            Problem("format_unsupported", f"{label} does not publish a {kind}.", "format")
        )
    if draft.options.first_comment.strip() and not limits.first_comment:
        problems.append(
            Problem(
                "first_comment_unsupported",
                f"{label} takes no first comment; remove it or this account.",
                "first_comment",
            )
        )
    if limits.collaborators_max and len(draft.options.collaborators) > limits.collaborators_max:
        problems.append(
            Problem(
                "too_many_collaborators",
                f"{label} takes at most {limits.collaborators_max} collaborators.",
                "collaborators",
            )
        )
    return problems


def post_draft(post: Post) -> PostDraft:
    return PostDraft(
        targets=list(post.targets.all()),
        assets=[pa.asset for pa in post.post_assets.select_related("asset")],
        caption=post.caption,
        caption_overrides=post.caption_overrides,
        link=post.link,
        scheduled_for=post.scheduled_for,
        format=post.format,
        options=post.media_options(),
    )


def post_problems(post: Post) -> list[Problem]:
    """Every rule the post breaks for its next step, exactly as that step checks them: a draft
    or a rejected post as submitting does (its time included), any other as approving does."""
    check = post_check(post_draft(post))
    if post.status in SUBMITTABLE:
        return check.submit_problems()
    return check.content_problems()


def schedule_latest(now: datetime | None = None) -> datetime:
    """The latest time a post may be scheduled for: ``POSTS_SCHEDULE_HORIZON_DAYS`` ahead."""
    return (now or timezone.now()) + timedelta(days=settings.POSTS_SCHEDULE_HORIZON_DAYS)


def schedule_problems(scheduled_for: datetime | None, *, past_ok: bool = False) -> list[Problem]:
    """The one check of a scheduled time, for the services and every form and serializer: not
    in the past (unless ``past_ok``: it then means "now"), not beyond the horizon."""
    if scheduled_for is None:
        return []
    now = timezone.now()
    if not past_ok and scheduled_for < now - timedelta(minutes=1):
        return [
            Problem(
                "schedule_past",
                "The scheduled time is in the past; pick a time from now on.",
                "scheduled_for",
            )
        ]
    if scheduled_for > schedule_latest(now):
        days = settings.POSTS_SCHEDULE_HORIZON_DAYS
        return [
            Problem(
                "schedule_too_far",
                f"A post can be scheduled at most {days} days ahead (until "
                f"{schedule_latest(now):%d %b %Y}); pick an earlier time.",
                "scheduled_for",
            )
        ]
    return []


def _check_schedule(scheduled_for: datetime | None, *, past_ok: bool = False) -> None:
    problems = schedule_problems(scheduled_for, past_ok=past_ok)
    if problems:
        raise PostInvalid(problems)


def _write_content(
    post: Post,
    data: PostInput,
    targets: list[ConnectedAccount],
    assets: list[BrandAsset],
    cover: BrandAsset | None,
) -> None:
    post.caption = data.caption.strip()
    post.caption_ai_generated = data.caption_ai_generated and bool(post.caption)
    post.format = data.format
    options = data.media_options(cover=cover)  # as the networks will read them back
    post.first_comment = options.first_comment
    post.cover = options.cover
    post.cover_offset_ms = options.cover_offset_ms
    post.share_to_feed = options.share_to_feed
    post.audio_name = options.audio_name
    post.collaborators = list(options.collaborators)
    post.location_id = options.location_id
    post.caption_overrides = {k: v.strip() for k, v in data.caption_overrides.items() if v.strip()}
    post.link = data.link.strip()
    # Lock the images (primary-key order, as asset_delete does) and check they are still in the
    # library: an image being deleted meanwhile is either refused there or missing here.
    chosen = (
        BrandAsset.objects.select_for_update().in_library().filter(pk__in=[a.pk for a in assets])
    )
    if len(list(chosen.order_by("pk"))) != len(assets):
        raise PostInvalid(
            [Problem("asset_unknown", "One of the chosen images was just deleted.", "assets")]
        )
    post.scheduled_for = data.scheduled_for
    post.save()
    post.targets.set(targets)
    post.post_assets.all().delete()
    PostAsset.objects.bulk_create(
        PostAsset(post=post, asset=asset, position=i) for i, asset in enumerate(assets)
    )


def post_create(*, actor: Membership, data: PostInput) -> Post:
    """A new draft. Checks that accounts and images are the tenant's; network rules are checked
    at submit (drafts may be incomplete)."""
    _require_editor(actor)
    _check_schedule(data.scheduled_for)
    targets, assets, cover = _clean_input(actor.tenant, data)
    with transaction.atomic():
        post = Post(tenant=actor.tenant, created_by=actor.user)
        _write_content(post, data, targets, assets, cover)
        ReviewEvent.objects.create(
            tenant=actor.tenant,
            post=post,
            kind=ReviewEvent.Kind.CREATED,
            actor=actor.user,
            to_status=S.DRAFT,
        )
    return post


def post_update(*, actor: Membership, post: Post, data: PostInput) -> Post:
    """Change a post that has not started publishing. An approved or submitted post goes back
    to draft (it must be submitted and approved again)."""
    _require_editor(actor)
    _check_schedule(data.scheduled_for)
    targets, assets, cover = _clean_input(actor.tenant, data)
    with transaction.atomic():
        post = _locked(post)
        _require_action(post, Action.EDIT)
        _write_content(post, data, targets, assets, cover)
        if post.status in (S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED):
            _cancel_publications(post, actor.user)
            _transition(
                post,
                S.DRAFT,
                kind=ReviewEvent.Kind.BACK_TO_DRAFT,
                actor=actor.user,
                note="Edited",
            )
        else:
            ReviewEvent.objects.create(
                tenant_id=post.tenant_id,
                post=post,
                kind=ReviewEvent.Kind.EDITED,
                actor=actor.user,
            )
    return post


def post_submit(*, actor: Membership, post: Post) -> Post:
    """Send a draft (or a rejected post, edited) for approval; tenants that need no approval
    go straight to scheduled."""
    _require_editor(actor)
    with transaction.atomic():
        post = _locked(post)
        _require_action(post, Action.SUBMIT)
        problems = post_problems(post)  # as the compose preview shows them
        if problems:
            raise PostInvalid(problems)
        post.submitted_at = timezone.now()
        if actor.tenant.requires_approval:
            return _transition(
                post,
                S.PENDING_REVIEW,
                kind=ReviewEvent.Kind.SUBMITTED,
                actor=actor.user,
                fields=["submitted_at"],
            )
        _transition(
            post,
            S.APPROVED,
            kind=ReviewEvent.Kind.APPROVED,
            actor=actor.user,
            note="No approval needed",
            fields=["submitted_at"],
        )
        return _schedule(post, actor=actor.user)


def _schedule(post: Post, *, actor: User | None) -> Post:
    """approved → scheduled: one publication per target, due at the scheduled time (now when
    none was set, or when it has passed)."""
    _check_schedule(post.scheduled_for, past_ok=True)  # e.g. saved before the horizon existed
    now = timezone.now()
    due = max(post.scheduled_for or now, now)
    existing = {p.account_id: p for p in post.publications.select_for_update()}
    targets = list(post.targets.all())
    publications_create(
        post=post, account_ids=[a.pk for a in targets if a.pk not in existing], due=due
    )
    publications_move(
        [p for p in existing.values() if p.status == Publication.Status.CANCELLED],
        Publication.Status.PENDING,
        kind=PublicationEvent.Kind.SCHEDULED,
        fields={
            "next_attempt_at": due,
            "attempts": 0,
            "last_error": "",
            "wait_reason": "",
            "container_id": "",
            "child_ids": [],
            "outcome_unknown": False,
            "sent_at": None,
        },
        step=Step(actor=actor, note=f"for {due:%Y-%m-%d %H:%M} UTC"),
    )
    target_ids = {a.pk for a in targets}
    publications_move(
        [
            p
            for p in existing.values()
            if p.status == Publication.Status.PENDING and p.account_id not in target_ids
        ],
        Publication.Status.CANCELLED,
        kind=PublicationEvent.Kind.CANCELLED,
        step=Step(actor=actor, note="The account is no longer a target of the post."),
    )
    _transition(
        post,
        S.SCHEDULED,
        kind=ReviewEvent.Kind.SCHEDULED,
        actor=actor,
        note=f"for {due:%Y-%m-%d %H:%M} UTC",
    )
    if due <= now:
        task_queue_on_commit("posts.publications_dispatch_due")
    return post


def post_approve(*, reviewer: User, post: Post, note: str = "") -> Post:
    """Staff approve a submitted post; it is scheduled at once."""
    with transaction.atomic():
        post = _locked(post)
        if post.status != S.PENDING_REVIEW:
            raise IllegalTransition(
                "Only posts waiting for approval can be approved; this one is "
                f"{post.get_status_display().lower()}."
            )
        problems = post_problems(post)
        if problems:
            raise PostInvalid(problems)
        post.reviewed_by, post.reviewed_at, post.review_note = reviewer, timezone.now(), note
        _transition(
            post,
            S.APPROVED,
            kind=ReviewEvent.Kind.APPROVED,
            actor=reviewer,
            note=note,
            fields=["reviewed_by", "reviewed_at", "review_note"],
        )
        _schedule(post, actor=reviewer)
    transaction.on_commit(lambda: _notify_owners(post, "approved"))
    return post


def post_reject(*, reviewer: User, post: Post, note: str) -> Post:
    """Staff reject a post with a note; the owners are told by e-mail and can edit and resubmit."""
    note = note.strip()
    if not note:
        raise ApplicationError(
            "Say why the post is rejected: the note is shown to the business.", code="note_required"
        )
    with transaction.atomic():
        post = _locked(post)
        if post.status not in (S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED):
            raise IllegalTransition(
                f"A post that is {post.get_status_display().lower()} cannot be rejected."
            )
        _cancel_publications(post, reviewer)
        post.reviewed_by, post.reviewed_at, post.review_note = reviewer, timezone.now(), note
        _transition(
            post,
            S.REJECTED,
            kind=ReviewEvent.Kind.REJECTED,
            actor=reviewer,
            note=note,
            fields=["reviewed_by", "reviewed_at", "review_note"],
        )
    transaction.on_commit(lambda: _notify_owners(post, "rejected"))
    return post


def post_reschedule(*, actor: Membership, post: Post, scheduled_for: datetime) -> Post:
    """Move a scheduled (or approved) post to another time; the approval stands."""
    _require_editor(actor)
    _check_schedule(scheduled_for)
    with transaction.atomic():
        post = _locked(post)
        _require_action(post, Action.RESCHEDULE)
        post.scheduled_for = scheduled_for
        post.save(update_fields=["scheduled_for", "updated_at"])
        if post.status == S.SCHEDULED:
            post.publications.filter(status=Publication.Status.PENDING).update(
                next_attempt_at=max(scheduled_for, timezone.now())
            )
        ReviewEvent.objects.create(
            tenant_id=post.tenant_id,
            post=post,
            kind=ReviewEvent.Kind.RESCHEDULED,
            actor=actor.user,
            note=f"to {scheduled_for:%Y-%m-%d %H:%M} UTC",
            from_status=post.status,
            to_status=post.status,
        )
    return post


def _cancel_publications(post: Post, actor: User | None) -> None:
    publications_move(
        list(post.publications.select_for_update().filter(status=Publication.Status.PENDING)),
        Publication.Status.CANCELLED,
        kind=PublicationEvent.Kind.CANCELLED,
        step=Step(actor=actor),
    )


def post_cancel(*, actor: Membership, post: Post) -> Post:
    """Cancel a post that has not started publishing."""
    _require_editor(actor)
    with transaction.atomic():
        post = _locked(post)
        _require_action(post, Action.CANCEL)
        _cancel_publications(post, actor.user)
        return _transition(post, S.CANCELLED, kind=ReviewEvent.Kind.CANCELLED, actor=actor.user)


def post_publish_now(*, reviewer: User, post: Post) -> Post:
    """Staff: approve if needed and publish right away."""
    with transaction.atomic():
        post = _locked(post)
        if post.status == S.PENDING_REVIEW:
            problems = post_problems(post)
            if problems:
                raise PostInvalid(problems)
            post.reviewed_by, post.reviewed_at = reviewer, timezone.now()
            _transition(
                post,
                S.APPROVED,
                kind=ReviewEvent.Kind.APPROVED,
                actor=reviewer,
                note="Publish now",
                fields=["reviewed_by", "reviewed_at"],
            )
        if post.status == S.APPROVED:
            post.scheduled_for = timezone.now()
            post.save(update_fields=["scheduled_for"])
            return _schedule(post, actor=reviewer)
        if post.status == S.SCHEDULED:
            post.scheduled_for = timezone.now()
            post.save(update_fields=["scheduled_for"])
            post.publications.filter(status=Publication.Status.PENDING).update(
                next_attempt_at=post.scheduled_for
            )
            _transition(
                post,
                S.SCHEDULED,
                kind=ReviewEvent.Kind.RESCHEDULED,
                actor=reviewer,
                note="Publish now",
            )

            task_queue_on_commit("posts.publications_dispatch_due")
            return post
        raise IllegalTransition(
            f"A post that is {post.get_status_display().lower()} cannot be published now."
        )


def publication_retry(
    *, publication: Publication, actor: Membership | None = None, reviewer: User | None = None
) -> Publication:
    """Try a failed publication again (after fixing its cause, e.g. reconnecting the account):
    by an editor of the business (``actor``) or by platform staff in the admin (``reviewer``)."""
    if (actor is None) == (reviewer is None):
        raise TypeError("publication_retry takes an actor or a reviewer, not both")
    if actor is not None:
        _require_editor(actor)
    by = actor.user if actor is not None else reviewer
    with transaction.atomic():
        post = _locked(publication.post)
        publication = Publication.objects.select_for_update().get(pk=publication.pk)
        if publication.status != Publication.Status.FAILED:
            raise IllegalTransition("Only a failed publication can be retried.")
        _require_action(post, Action.RETRY)
        fields: dict[str, object] = {
            "attempts": 0,
            "next_attempt_at": timezone.now(),
            "last_error": "",
            "error_code": None,
            "error_subcode": None,
            "wait_reason": "",
        }
        if not publication.outcome_unknown:
            # A failed container (ERROR/EXPIRED) cannot be published: start from a new one. One
            # whose outcome is still unknown is kept: the retry reconciles with it first.
            fields.update(container_id="", child_ids=[])
        publication_move(
            publication,
            Publication.Status.PENDING,
            kind=PublicationEvent.Kind.RETRIED,
            fields=fields,
            step=Step(actor=by, note=f"Retried by {by}"),
        )
        _transition(
            post,
            S.PUBLISHING,
            kind=ReviewEvent.Kind.RETRIED,
            actor=by,
            note=str(publication.account),
        )

        task_queue_on_commit("posts.publications_dispatch_due")
    publication.refresh_from_db()
    return publication


def posts_publishing_started(*, post_ids: Iterable[int]) -> None:
    """scheduled → publishing for the posts whose publications were just claimed: one UPDATE and
    one INSERT of review events for the whole batch (the dispatcher claims hundreds at once)."""
    with transaction.atomic():
        posts = list(
            Post.objects.select_for_update()
            .filter(pk__in=list(post_ids), status=S.SCHEDULED)
            .only("pk", "tenant_id")
        )
        if not posts:
            return
        Post.objects.filter(pk__in=[p.pk for p in posts]).update(
            status=S.PUBLISHING, updated_at=timezone.now()
        )
        ReviewEvent.objects.bulk_create(
            ReviewEvent(
                tenant_id=p.tenant_id,
                post_id=p.pk,
                kind=ReviewEvent.Kind.PUBLISHING,
                from_status=S.SCHEDULED,
                to_status=S.PUBLISHING,
            )
            for p in posts
        )


def post_refresh_status(*, post_id: int) -> Post:
    """After a publication changed: the post is publishing while any publication is unfinished,
    then published, partially published or failed. Owners hear about failures by e-mail. Runs
    inside the caller's transaction when there is one (no savepoint: the engine's hot path)."""
    with transaction.atomic(savepoint=False):
        # The tenant comes along for the webhooks of the move (no second query).
        post = Post.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=post_id)
        statuses = list(
            post.publications.exclude(status=Publication.Status.CANCELLED).values_list(
                "status", flat=True
            )
        )
        if not statuses or post.status in (S.CANCELLED, S.REJECTED, S.DRAFT):
            return post
        final = all(
            s in (Publication.Status.PUBLISHED, Publication.Status.FAILED) for s in statuses
        )
        if not final:
            if post.status == S.SCHEDULED and any(
                s != Publication.Status.PENDING for s in statuses
            ):
                _transition(post, S.PUBLISHING, kind=ReviewEvent.Kind.PUBLISHING)
            return post
        published = statuses.count(Publication.Status.PUBLISHED)
        if published == len(statuses):
            target, kind = S.PUBLISHED, ReviewEvent.Kind.PUBLISHED
        elif published:
            target, kind = S.PARTIALLY_PUBLISHED, ReviewEvent.Kind.PARTIALLY_PUBLISHED
        else:
            target, kind = S.FAILED, ReviewEvent.Kind.FAILED
        if post.status == target:
            return post
        if post.status == S.SCHEDULED:
            _transition(post, S.PUBLISHING, kind=ReviewEvent.Kind.PUBLISHING)
        stamped = []
        if target != S.FAILED and post.published_at is None:
            post.published_at = timezone.now()
            stamped = ["published_at"]
        _transition(post, target, kind=kind, fields=stamped)
        if target != S.PUBLISHED:
            transaction.on_commit(lambda: _notify_owners(post, "failed"))
    return post


# --- Notifications ----------------------------------------------------------------------------


def _notify_owners(post: Post, what: str) -> None:
    post = (
        Post.objects.select_related("tenant")
        .prefetch_related("publications__account")
        .get(pk=post.pk)
    )
    owners_notify(
        tenant_id=post.tenant_id,
        template="posts/email/outcome",
        context={"post": post, "what": what, "publications": list(post.publications.all())},
    )

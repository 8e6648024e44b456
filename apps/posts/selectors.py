"""Reads for posts: the dashboard list (a constant number of queries whatever the page size), one
post with everything its page shows, the choices of the compose page, and the live per-network
preview of content that is not saved yet (the networks' own previews and rules), and what the
overview and the calendar show (upcoming posts, recent results, daily engagement, posts by day)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, DateTimeField, F, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.assets.models import BrandAsset
from apps.core.models import get_for_tenant_or_404
from apps.networks.base import FEED, MediaOptions, Preview, Problem
from apps.networks.registry import networks
from apps.posts.models import Post, PostAsset, Publication, PublicationEvent, ReviewEvent
from apps.posts.services import PostCheck, PostDraft, PostInput, post_check
from apps.social.models import ConnectedAccount

DATE_FIELDS = {"scheduled": "scheduled_for", "created": "created_at"}
# The days a date filter (lists, calendar, API) may name: wider than any post's dates (the
# schedule horizon is at most 100 years), far from the ends of Python's calendar.
DATE_FILTER_MIN, DATE_FILTER_MAX = date(2000, 1, 1), date(2199, 12, 31)
DATE_FILTER_MESSAGE = (
    f"Give a date between {DATE_FILTER_MIN:%d %b %Y} and {DATE_FILTER_MAX:%d %b %Y}."
)


def date_filter_ok(day: date) -> bool:
    return DATE_FILTER_MIN <= day <= DATE_FILTER_MAX


@dataclass(frozen=True)
class PostFilters:
    status: str = ""
    account_id: int | None = None
    date_field: str = "scheduled"  # a key of DATE_FIELDS
    date_from: date | None = None
    date_to: date | None = None  # inclusive


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def post_list(*, tenant: Tenant, filters: PostFilters | None = None) -> QuerySet[Post]:
    """The tenant's posts, newest first, with their images, targets and publications prefetched
    (three queries whatever the number of posts). Dates are days in the tenant's timezone."""
    filters = filters or PostFilters()
    posts = Post.objects.for_tenant(tenant).prefetch_related(
        Prefetch("post_assets", queryset=PostAsset.objects.select_related("asset")),
        Prefetch("targets", queryset=ConnectedAccount.objects.order_by("platform", "name")),
        Prefetch("publications", queryset=Publication.objects.select_related("account")),
    )
    if filters.status:
        posts = posts.filter(status=filters.status)
    if filters.account_id is not None:
        # Subqueries rather than joins: no duplicate rows, no DISTINCT over the page.
        chosen = Post.targets.through.objects.filter(connectedaccount_id=filters.account_id)
        sent = Publication.objects.filter(account_id=filters.account_id)
        posts = posts.filter(Q(pk__in=chosen.values("post_id")) | Q(pk__in=sent.values("post_id")))
    column = DATE_FIELDS.get(filters.date_field, "scheduled_for")
    zone = ZoneInfo(tenant.timezone)
    if filters.date_from is not None:
        posts = posts.filter(**{f"{column}__gte": _local_midnight(filters.date_from, zone)})
    if filters.date_to is not None:
        end = _local_midnight(filters.date_to + timedelta(days=1), zone)
        posts = posts.filter(**{f"{column}__lt": end})
    return posts


def post_get(*, tenant: Tenant, post_id: int) -> Post:
    """One post of the tenant with what its page shows; another tenant's id is a 404."""
    return get_for_tenant_or_404(
        Post.objects.select_related("created_by", "reviewed_by", "cover").prefetch_related(
            Prefetch("post_assets", queryset=PostAsset.objects.select_related("asset")),
            Prefetch("targets", queryset=ConnectedAccount.objects.order_by("platform", "name")),
            Prefetch(
                "publications",
                queryset=Publication.objects.select_related("account").prefetch_related(
                    Prefetch("events", queryset=PublicationEvent.objects.select_related("actor"))
                ),
            ),
            Prefetch("events", queryset=ReviewEvent.objects.select_related("actor")),
        ),
        tenant=tenant,
        pk=post_id,
    )


# --- What the list and detail pages show of a post ---------------------------------------------


@dataclass(frozen=True)
class TargetState:
    """One account a post goes to, with its publication once the post is scheduled."""

    account: ConnectedAccount
    publication: Publication | None


@dataclass(frozen=True)
class EngagementTotals:
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    reactions: int | None = None
    synced_at: datetime | None = None

    @property
    def any(self) -> bool:
        return self.synced_at is not None


@dataclass(frozen=True)
class PostRow:
    post: Post
    assets: list[BrandAsset]
    targets: list[TargetState]
    engagement: EngagementTotals


def post_targets(post: Post) -> list[TargetState]:
    """The post's accounts with their publications (from prefetched rows), plus any publication
    to an account that is no longer a target but went further than being cancelled."""
    publications = {p.account_id: p for p in post.publications.all()}
    states = [TargetState(a, publications.pop(a.pk, None)) for a in post.targets.all()]
    states += [
        TargetState(p.account, p)
        for p in publications.values()
        if p.status != Publication.Status.CANCELLED
    ]
    return states


def _total(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def post_engagement(post: Post) -> EngagementTotals:
    """Likes, comments, shares and reactions summed over the post's publications."""
    synced = [p for p in post.publications.all() if p.engagement_synced_at is not None]
    if not synced:
        return EngagementTotals()
    return EngagementTotals(
        likes=_total(p.likes for p in synced),
        comments=_total(p.comments for p in synced),
        shares=_total(p.shares for p in synced),
        reactions=_total(p.reactions for p in synced),
        synced_at=max(p.engagement_synced_at for p in synced if p.engagement_synced_at),
    )


def post_rows(posts: Iterable[Post]) -> list[PostRow]:
    return [
        PostRow(
            post=post,
            assets=[pa.asset for pa in post.post_assets.all()],
            targets=post_targets(post),
            engagement=post_engagement(post),
        )
        for post in posts
    ]


# --- Compose ------------------------------------------------------------------------------------


def account_choices(*, tenant: Tenant, include_ids: Iterable[int] = ()) -> list[ConnectedAccount]:
    """Accounts a post can go to: the tenant's connected ones, plus those already chosen (a
    chosen account that was disconnected since is shown, so the refusal can be explained)."""
    return list(
        ConnectedAccount.objects.for_tenant(tenant)
        .filter(~Q(status=ConnectedAccount.Status.DISCONNECTED) | Q(pk__in=list(include_ids)))
        .select_related("parent")
        .order_by("platform", "name")
    )


def asset_choices(
    *, tenant: Tenant, chosen_ids: Sequence[int], limit: int = 100
) -> list[BrandAsset]:
    """The library as the compose page offers it: the chosen images and videos first, in their
    order, then the newest others up to ``limit`` (a video only once it is probed and ready; a
    chosen one stays whatever its state, and the post is refused with the reason)."""
    chosen = {
        a.pk: a
        for a in BrandAsset.objects.for_tenant(tenant).in_library().filter(pk__in=list(chosen_ids))
    }
    others = list(
        BrandAsset.objects.for_tenant(tenant)
        .in_library()
        .filter(status=BrandAsset.Status.READY)
        .exclude(pk__in=list(chosen))[:limit]
    )
    return [chosen[i] for i in dict.fromkeys(chosen_ids) if i in chosen] + others


@dataclass(frozen=True)
class NetworkPreview:
    platform: str
    label: str
    requires_media: bool
    accounts: list[ConnectedAccount]
    preview: Preview
    assets: list[BrandAsset]  # in the post's order, for thumbnails
    problems: list[Problem]


@dataclass(frozen=True)
class ComposePreview:
    networks: list[NetworkPreview]
    problems: list[Problem] = field(default_factory=list)  # not tied to one network
    warnings: list[str] = field(default_factory=list)
    check: PostCheck | None = None  # what the problems come from
    format: str = FEED
    options: MediaOptions = field(default_factory=MediaOptions)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + sum(len(n.problems) for n in self.networks)

    def submit_problems(self) -> list[Problem]:
        """The problems shown, as submitting would refuse them (one list, networks named)."""
        return self.check.submit_problems() if self.check is not None else []


def compose_preview(*, tenant: Tenant, data: PostInput) -> ComposePreview:
    """How content being composed would look on each chosen network, and every rule it breaks
    there: ``services.post_check``, the very check submitting makes."""
    accounts = list(
        ConnectedAccount.objects.for_tenant(tenant)
        .filter(pk__in=set(data.target_ids))
        .order_by("platform", "name")
    )
    by_id = {
        a.pk: a
        for a in BrandAsset.objects.for_tenant(tenant)
        .in_library()
        .filter(pk__in=set(data.asset_ids))
    }
    assets = [by_id[i] for i in dict.fromkeys(data.asset_ids) if i in by_id]
    cover = None
    if data.cover_id is not None:
        cover = (
            BrandAsset.objects.for_tenant(tenant)
            .in_library()
            .filter(pk=data.cover_id, kind=BrandAsset.Kind.IMAGE)
            .first()
        )
    draft = PostDraft(
        targets=accounts,
        assets=assets,
        caption=data.caption,
        caption_overrides=data.caption_overrides,
        link=data.link,
        scheduled_for=data.scheduled_for,
        format=data.format,
        options=data.media_options(cover=cover),
    )
    check = post_check(draft)
    warnings: list[str] = []
    for account in accounts:
        if account.status == ConnectedAccount.Status.NEEDS_REAUTH:
            warnings.append(
                f"{account} needs reconnection: nothing can be published to it until an owner "
                "or manager reconnects it."
            )
        elif account.status == ConnectedAccount.Status.NO_PERMISSION:
            warnings.append(
                f"{account} cannot be posted to until a Page admin gives back the “Create "
                "content” task on its Page (reconnecting does not help)."
            )
    previews = [
        NetworkPreview(
            platform=network.id,
            label=network.label,
            requires_media=network.limits.requires_media,
            accounts=[a for a in accounts if a.platform == network.id],
            preview=network.preview(draft.content(network.id)),
            assets=assets,
            problems=problems,
        )
        for network in networks()
        if (problems := check.networks.get(network.id)) is not None
    ]
    return ComposePreview(
        networks=previews,
        problems=[*check.problems, *check.schedule],
        warnings=warnings,
        check=check,
        format=draft.format,
        options=draft.options,
    )


# --- Overview -------------------------------------------------------------------------------------

UPCOMING_STATUSES = (Post.Status.APPROVED, Post.Status.SCHEDULED, Post.Status.PUBLISHING)
RESULT_STATUSES = (Publication.Status.PUBLISHED, Publication.Status.FAILED)


def _targets_prefetch() -> Prefetch:
    return Prefetch("targets", queryset=ConnectedAccount.objects.order_by("platform", "name"))


def post_list_upcoming(*, tenant: Tenant, limit: int = 5) -> list[Post]:
    """The next posts to go out (approved, scheduled or publishing), soonest first; one without a
    time goes out as soon as it can, so it comes first. Two queries."""
    return list(
        Post.objects.for_tenant(tenant)
        .filter(status__in=UPCOMING_STATUSES)
        .prefetch_related(_targets_prefetch())
        .order_by(F("scheduled_for").asc(nulls_first=True), "id")[:limit]
    )


def publication_list_recent(*, tenant: Tenant, limit: int = 8) -> list[Publication]:
    """The latest publications that reached an outcome (published or failed), newest first, with
    their account and post. One query."""
    return list(
        Publication.objects.for_tenant(tenant)
        .filter(status__in=RESULT_STATUSES)
        .select_related("account", "post")
        .order_by(Coalesce("published_at", "updated_at").desc(), "-id")[:limit]
    )


@dataclass(frozen=True)
class DailyEngagement:
    day: date
    likes: int = 0
    comments: int = 0
    shares: int = 0

    @property
    def total(self) -> int:
        return self.likes + self.comments + self.shares


@dataclass(frozen=True)
class EngagementSeries:
    """Interactions per day (in the tenant's timezone) with what was published on that day."""

    days: list[DailyEngagement]
    publications: int  # published in the window, synced or not

    @property
    def total(self) -> int:
        return sum(d.total for d in self.days)

    @property
    def peak(self) -> int:
        return max((d.total for d in self.days), default=0)


def engagement_daily(
    *, tenant: Tenant, days: int = 30, now: datetime | None = None
) -> EngagementSeries:
    """Likes + comments + shares of the publications published on each of the last ``days`` days
    (today included), by the day they were published in the tenant's timezone; days without any
    are zero. Reactions are left out: on Facebook they include the likes. One query."""
    zone = ZoneInfo(tenant.timezone)
    today = timezone.localtime(now or timezone.now(), zone).date()
    first = today - timedelta(days=days - 1)
    rows = (
        Publication.objects.for_tenant(tenant)
        .filter(
            status=Publication.Status.PUBLISHED,
            published_at__gte=_local_midnight(first, zone),
            published_at__lt=_local_midnight(today + timedelta(days=1), zone),
        )
        .annotate(day=TruncDate("published_at", tzinfo=zone))
        .values("day")
        .annotate(
            n=Count("id"),
            likes_sum=Sum(Coalesce("likes", Value(0))),
            comments_sum=Sum(Coalesce("comments", Value(0))),
            shares_sum=Sum(Coalesce("shares", Value(0))),
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day)
        series.append(
            DailyEngagement(day, row["likes_sum"], row["comments_sum"], row["shares_sum"])
            if row
            else DailyEngagement(day)
        )
    return EngagementSeries(days=series, publications=sum(r["n"] for r in by_day.values()))


# --- Calendar -------------------------------------------------------------------------------------

# Where a post sits on the calendar: when it went out once it has, else when it is to go out.
SHOWN_AS_PUBLISHED = (Post.Status.PUBLISHED, Post.Status.PARTIALLY_PUBLISHED)


@dataclass(frozen=True)
class CalendarEntry:
    post: Post
    at: datetime  # in the tenant's timezone

    @property
    def published(self) -> bool:
        return self.post.status in SHOWN_AS_PUBLISHED


def calendar_entries(*, tenant: Tenant, first: date, last: date) -> dict[date, list[CalendarEntry]]:
    """The tenant's posts from ``first`` to ``last`` (days in its timezone, inclusive), by day,
    in time order: a published post on the day it went out, any other on its scheduled day.
    Cancelled posts and posts without a time are left out. Two queries."""
    zone = ZoneInfo(tenant.timezone)
    shown_at = Case(
        When(status__in=SHOWN_AS_PUBLISHED, published_at__isnull=False, then=F("published_at")),
        default=F("scheduled_for"),
        output_field=DateTimeField(),
    )
    posts = (
        Post.objects.for_tenant(tenant)
        .exclude(status=Post.Status.CANCELLED)
        .annotate(shown_at=shown_at)
        .filter(
            shown_at__gte=_local_midnight(first, zone),
            shown_at__lt=_local_midnight(last + timedelta(days=1), zone),
        )
        .prefetch_related(_targets_prefetch())
        .order_by("shown_at", "id")
    )
    days: dict[date, list[CalendarEntry]] = {}
    for post in posts:
        at = timezone.localtime(post.shown_at, zone)
        days.setdefault(at.date(), []).append(CalendarEntry(post, at))
    return days

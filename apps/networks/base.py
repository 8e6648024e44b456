"""The network interface (SPEC 5.3a, issue 14): what one network (a Facebook Page, an
Instagram business account, …) provides — its limits and rules, preview, publishing steps,
reconciliation, engagement and token hooks. The publishing engine, engagement sync, token jobs,
forms, captions, admin and API know only this module, ``errors`` and ``registry``.

A new network is a new package next to ``meta_facebook`` and ``instagram``, listed once in
``apps.networks.registry`` (docs/architecture.md, "How to add a network").
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from apps.assets.models import BrandAsset
    from apps.posts.models import Publication
    from apps.social.models import AccessToken, ConnectedAccount


RECONCILE_SLACK = timedelta(minutes=2)

# What kind of post goes out (issue 15). ``FEED``: a post in the feed (text, link, photos, a
# video, a carousel); ``REEL``: a short vertical video (Instagram and Facebook Reels);
# ``STORY``: a photo or video seen for 24 hours. A network lists the ones it takes in
# ``Limits.formats``; ``apps.posts.models.Post.Format`` stores them.
FEED, REEL, STORY = "feed", "reel", "story"
FORMATS = (FEED, REEL, STORY)


# --- Limits and rules ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ImageRules:
    """What a network accepts of an image, and the rendition sent to it (``apps.assets.images``
    checks and makes it from these; the values live in the network's package only)."""

    network: str  # the label used in messages ("Too tall for Instagram")
    min_aspect: float  # width / height
    min_aspect_label: str  # "4:5"
    max_aspect: float
    max_aspect_label: str  # "1.91:1"
    aspect_tolerance: float  # rounding of pixel sizes
    min_width: int
    max_width: int  # wider images are scaled down to this in the rendition
    max_height: int
    max_bytes: int
    formats: tuple[str, ...]  # content types the network takes; the rendition is the first
    jpeg_quality: int = 90
    min_jpeg_quality: int = 60
    rendition: str = ""  # the asset variant sent ("instagram"); "" sends the original


@dataclass(frozen=True, kw_only=True)
class VideoRules:
    """What a network accepts of a video in one format (a Reel, a Story), written once in the
    network's package; ``apps.assets.videos.video_check`` compares a probed video with them."""

    network: str  # "Instagram"
    format: str  # "Reel", "Story"
    min_seconds: float
    max_seconds: float
    max_bytes: int | None = None
    max_fps: float | None = None
    min_width: int | None = None
    min_height: int | None = None
    aspect: float = 9 / 16  # width / height
    aspect_label: str = "9:16"
    aspect_tolerance: float = 0.01
    aspect_required: bool = False  # False: only recommended (the network crops or letterboxes)
    video_codecs: tuple[str, ...] = ("h264", "hevc")  # FFmpeg's codec names
    audio_codecs: tuple[str, ...] = ("aac",)

    @property
    def label(self) -> str:
        """ "an Instagram Reel", "a Facebook Story" """
        article = "an" if self.network[:1].lower() in "aeiou" else "a"
        return f"{article} {self.network} {self.format}"


@dataclass(frozen=True, kw_only=True)
class Limits:
    """A network's limits, written once: validation, the compose page's counters, the AI
    captions and the asset pipeline all read them from here."""

    caption_chars: int
    caption_shown: int  # about this much shows before "… more"
    hashtags: int | None = None  # None: no limit
    mentions: int | None = None
    media_min: int = 0  # 0: a post without images is fine
    media_max: int = 10
    supports_link: bool = True  # a link is a link (a preview card), not dead text
    suggested_hashtags: int = 30  # how many hashtags a suggested caption carries
    image: ImageRules | None = None
    videos: tuple[VideoRules, ...] = ()  # the video rules per format (Reel, Story, feed video)
    formats: tuple[str, ...] = (FEED,)  # FEED, REEL, STORY: what it publishes
    first_comment: bool = False  # a comment posted under the post right after it goes out
    collaborators_max: int = 0  # accounts invited as collaborators (0: none)
    location: bool = False  # a place tag (a Facebook Page id) on the post
    alt_text: bool = False  # the images' alt text is sent with them

    @property
    def requires_media(self) -> bool:
        return self.media_min > 0


@dataclass(frozen=True)
class Problem:
    """A rule the post breaks on a network, said so that the person can fix it."""

    code: str
    message: str
    field: str = ""


@dataclass(frozen=True, kw_only=True)
class MediaOptions:
    """The post's choices beyond caption, link and media (issue 15); a network uses those its
    ``Limits`` say it takes and ``validate`` refuses the others."""

    cover: "BrandAsset | None" = None  # a Reel's cover image
    cover_offset_ms: int | None = None  # or the frame at this offset
    share_to_feed: bool = True  # a Reel also shows in the feed grid
    audio_name: str = ""  # a Reel's audio track name
    collaborators: tuple[str, ...] = ()  # usernames invited as collaborators
    location_id: str = ""  # a place (Facebook Page id)
    first_comment: str = ""
    ai_generated: bool = False  # the caption was drafted by the AI


@dataclass(frozen=True)
class PostContent:
    """What an adapter needs of a post for one network."""

    caption: str
    link: str
    assets: Sequence["BrandAsset"]
    format: str = FEED
    options: MediaOptions = field(default_factory=MediaOptions)


@dataclass(frozen=True)
class Preview:
    """How the post will look on the network (for compose and the approval queue)."""

    network: str
    caption: str
    caption_shown: str  # what appears before "… more"
    truncated: bool
    hashtags: list[str]
    mentions: list[str]
    asset_ids: list[int]
    link: str
    layout: str  # "text", "link", "photo", "multi_photo", "carousel", "video", "reel", "story"
    notes: list[str] = field(default_factory=list)


# --- What one publishing step ended with -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Observed:
    """Which Graph call decided an outcome ("POST /{id}/feed") and what it answered ("ok" or
    the error class): the publication's history shows both."""

    call: str = ""
    answer: str = ""


@dataclass(frozen=True)
class Published(Observed):
    # Empty when the network says the post is live but its id could not be read back (an
    # Instagram container reported PUBLISHED whose media is not listed yet): live, never failed.
    platform_post_id: str
    permalink: str = ""
    note: str = ""


@dataclass(frozen=True)
class Wait(Observed):
    """Not done yet and nothing is wrong: come back in ``seconds`` (processing, a quota)."""

    seconds: int
    reason: str


@dataclass(frozen=True)
class Retry(Observed):
    """A transient failure: try again in ``seconds`` (counts as an attempt)."""

    seconds: int
    error: str
    code: int | None = None
    subcode: int | None = None


@dataclass(frozen=True)
class Unknown(Observed):
    """A call that may have created the post got no answer: reconcile before anything else.
    ``refusal_if_absent``: the network refused the call in a way an earlier attempt explains
    (a duplicate); if reconciliation finds no such post, this refusal stands as a failure."""

    error: str
    refusal_if_absent: str = ""


@dataclass(frozen=True)
class Fail(Observed):
    error: str
    code: int | None = None
    subcode: int | None = None


@dataclass(frozen=True)
class NeedsReauth(Observed):
    """The account's access is gone: it needs reconnection before anything can be published."""

    error: str
    code: int | None = None
    subcode: int | None = None


Outcome = Published | Wait | Retry | Unknown | Fail | NeedsReauth


class Journal(Protocol):
    """How an adapter records progress as it goes, so a crash loses nothing (the engine keeps
    it in the publication's row, committed at once)."""

    def record(
        self, *, container_id: str | None = None, child_ids: Sequence[str] | None = None
    ) -> None: ...

    def about_to_publish(self) -> None:
        """Called right before a call that creates something visible: until its outcome is
        recorded, the publication's outcome is unknown and will be reconciled first."""


@dataclass(frozen=True)
class Engagement:
    likes: int | None
    comments: int | None
    shares: int | None
    reactions: int | None
    permalink: str = ""


@dataclass(frozen=True)
class Window:
    """Where reconciliation looks: what the account got since ``since`` (shortly before the
    call whose outcome is unknown was sent), all of it, however many result pages that takes.
    ``taken`` are the ids other publications of the account already recorded: a post that is
    someone else's cannot be this one's."""

    since: datetime
    taken: frozenset[str] = frozenset()

    @classmethod
    def for_publication(
        cls, publication: "Publication", taken: frozenset[str] = frozenset()
    ) -> "Window":
        # From a little before the call was sent: the network's clock may run behind ours.
        sent = publication.sent_at or publication.created_at
        return cls(since=sent - RECONCILE_SLACK, taken=taken)


# --- Tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TokenCheck:
    """What the network says about a stored token. ``unknown``: it could not answer (a rate
    limit, an outage) — not a verdict on the token."""

    state: Literal["valid", "refused", "unknown"]
    reason: str = ""  # for people: why it is refused / why the check failed
    detail: str = ""  # one technical line (logs, the token's history)
    code: int | None = None
    subcode: int | None = None
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class TokenRefresh:
    """A token renewed (``token`` and ``expires_at`` set), or why not (``reason``). ``refused``
    says, for people, that the network no longer accepts the old one (only a reconnect helps);
    empty when the failure was temporary."""

    token: str = ""
    expires_at: datetime | None = None
    refused: str = ""
    reason: str = ""
    detail: str = ""
    code: int | None = None
    subcode: int | None = None

    @property
    def refreshed(self) -> bool:
        return bool(self.token)


# --- The interface --------------------------------------------------------------------------------


class Network(Protocol):
    id: str  # the platform stored on accounts ("facebook_page")
    label: str  # "Facebook"
    site: str  # where its posts appear, as people say it ("View on Instagram")
    slug: str  # short name for form fields and CSS ("facebook")
    limits: Limits
    # What a suggested caption should be like on this network (the AI captions' prompt).
    caption_guidance: str
    token_kinds: frozenset[str]  # AccessToken.kind values this network checks and refreshes

    def validate(self, content: PostContent) -> list[Problem]: ...

    def preview(self, content: PostContent) -> Preview: ...

    def publishes_first(self, publication: "Publication", content: PostContent) -> bool:
        """Whether the next step's first Graph call creates something visible: the engine then
        marks the outcome unknown in the same write that starts the run."""

    def step(self, publication: "Publication", content: PostContent, journal: Journal) -> Outcome:
        """Advance the publication by one step (e.g. create a container, or publish it)."""

    def reconcile(
        self, publication: "Publication", content: PostContent, window: Window
    ) -> Published | None:
        """Whether an earlier attempt already created the post, looking at everything the
        account got in ``window``. Raises OutcomeUnknown when the network cannot say, and
        NeedsReconnection when the account's access is gone."""

    def account_url(self, publication: "Publication") -> str:
        """Where a person sees the account's recent posts (to check by hand)."""

    def fetch_engagement(self, publication: "Publication") -> Engagement:
        """The post's counts now. Raises only the neutral errors (``apps.networks.errors``)."""

    def token_check(self, token: "AccessToken") -> TokenCheck:
        """Ask the network whether a stored token still works (no database writes)."""

    def token_refresh(self, token: "AccessToken") -> TokenRefresh:
        """Renew a token before it expires (no database writes)."""

    def refresh_due(self, token: "AccessToken", now: datetime) -> bool:
        """Whether ``token`` should be renewed now."""

    def permissions_check(self, account: "ConnectedAccount", token: "AccessToken") -> None:
        """After a good token check: whether the person who connected the account may still
        publish to it (e.g. a Page role); records what it finds on the account."""


# --- Connecting a network that owns its login (Threads, Instagram with Instagram Login) ---


@dataclass(frozen=True, kw_only=True)
class ConnectedProfile:
    """What a network's own login ends with: the account to store and the token it publishes
    with (long-lived, ``token_kind`` one of the network's ``token_kinds``)."""

    platform_id: str
    name: str
    username: str = ""
    picture_url: str = ""
    user_id: str  # whose grant the token is (the network's user id)
    token: str = field(repr=False)
    token_kind: str
    expires_at: datetime | None
    scopes: tuple[str, ...] = ()


@runtime_checkable
class OwnLogin(Protocol):
    """A network connected through an OAuth login of its own (not Facebook Login): the generic
    connect flow (``apps.social`` services and views ``connection_oauth_*``) sends the person to
    ``connect_authorize_url`` and hands the code back to ``connect_complete``."""

    id: str
    label: str
    slug: str

    def connect_authorize_url(self, *, redirect_uri: str, state: str) -> str:
        """Where to send the person to consent (``state`` comes back with the code)."""

    def connect_complete(self, *, code: str, redirect_uri: str) -> ConnectedProfile:
        """Exchange the code (and the token for a long-lived one) and read the profile.
        Raises only the neutral errors (``apps.networks.errors``)."""


# --- A first comment under a published post (issue 15) ------------------------------------------


@runtime_checkable
class FirstComments(Protocol):
    """A network whose ``Limits.first_comment`` is true: the engine posts the post's first
    comment once the publication is published, exactly once (``apps.posts.first_comments``)."""

    def first_comment_post(self, publication: "Publication", message: str) -> str:
        """Post ``message`` under the published post (``publication.platform_post_id``) as the
        account; the comment's id. Raises only the neutral errors (``apps.networks.errors``):
        ``OutcomeUnknown`` when the call may have gone through unanswered."""

    def first_comment_find(self, publication: "Publication", message: str) -> str | None:
        """The id of a comment with ``message`` the account already posted under the post (an
        earlier attempt whose answer was lost), reading every page of comments; None when
        there is none. Raises ``OutcomeUnknown`` when the network cannot say."""


# --- Insights (issue 16) --------------------------------------------------------------------------


class InsightsGap(StrEnum):
    """Why a network shows no figures for a post (or an account) where one might expect them.
    Shown to people as it is meant, never as a zero (``apps.insights.models.Gap`` stores it)."""

    NOT_ENOUGH_VIEWERS = "few_viewers"  # Meta's #10: too few viewers to report figures
    DELETED = "deleted"  # the post is gone from the network
    EXPIRED = "expired"  # a Story: figures are readable for 24 hours only
    NOT_REPORTED = "not_reported"  # the network has no figures for this kind of post
    NO_PERMISSION = "no_permission"  # the connection lacks the insights permission


@dataclass(frozen=True, kw_only=True)
class PostMetrics:
    """A published post's lifetime figures as the network reports them now. None: not
    reported (never 0). ``gap`` says why there are none at all (then every figure is None)."""

    views: int | None = None
    reach: int | None = None
    interactions: int | None = None  # likes + comments + shares + saves, as the network counts
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    follows: int | None = None  # follows the post brought
    watch_time_ms: int | None = None  # video: total time watched
    avg_watch_time_ms: int | None = None  # video: average per view
    gap: InsightsGap | None = None
    detail: str = ""  # the network's words for a gap (no token, no URL)


@dataclass(frozen=True, kw_only=True)
class AccountDay:
    """One UTC day of an account's figures. None: not reported for that day (never 0)."""

    day: date
    views: int | None = None
    reach: int | None = None  # people reached that day (unique within the day only)
    interactions: int | None = None
    follows: int | None = None  # new follows that day
    followers: int | None = None  # followers at the end of the day


@runtime_checkable
class InsightsReader(Protocol):
    """A network that reports insights: the sync (``apps.insights.sync``) reads each account's
    recent publications and its days through these, never through the Graph client itself."""

    def insights_posts(
        self, account: "ConnectedAccount", publications: Sequence["Publication"]
    ) -> dict[int, PostMetrics]:
        """The figures of ``publications`` (all of ``account``, published) keyed by publication
        id, in as few calls as the network allows. A post the network answers with a gap (too
        few viewers, deleted, expired) is ``PostMetrics(gap=…)``; a missing key means the
        network could not say this time (retry later). Raises the neutral errors
        (``apps.networks.errors``) only for what concerns the whole account."""

    def insights_account(
        self, account: "ConnectedAccount", *, since: date, until: date
    ) -> list[AccountDay]:
        """The account's figures per UTC day from ``since`` to ``until`` (both included); a
        day without data is absent. Raises the neutral errors."""

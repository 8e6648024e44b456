"""The small frozen values the Graph functions return. Tokens are hidden from repr() and str()."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UserToken:
    """A user access token from the OAuth exchange (short- or long-lived)."""

    access_token: str = field(repr=False)
    token_type: str
    # None when Meta gave no expiry (for example a token that does not expire).
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class GranularScope:
    """A permission and the objects (Pages, businesses, Instagram accounts) it was granted for."""

    scope: str
    target_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TokenDebugInfo:
    """What `debug_token` says about a token: validity, type, scopes, expiry, owner."""

    is_valid: bool
    type: str | None  # "USER", "PAGE", "APP", "SYSTEM_USER"
    app_id: str | None
    user_id: str | None
    scopes: tuple[str, ...]
    granular_scopes: tuple[GranularScope, ...]
    expires_at: datetime | None  # None: does not expire (Meta's 0)
    data_access_expires_at: datetime | None
    issued_at: datetime | None
    # Set when the token is invalid: Meta's reason (190/460 and friends).
    error_code: int | None = None
    error_subcode: int | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class FacebookUser:
    id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Business:
    """A Business portfolio (Business Manager) the user belongs to."""

    id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class InstagramAccount:
    """An Instagram professional account linked to a Facebook Page."""

    id: str
    username: str | None
    profile_picture_url: str | None


@dataclass(frozen=True, slots=True)
class FacebookPage:
    """A Page the user can act on, with its own Page token (never the user's token)."""

    id: str
    name: str
    access_token: str = field(repr=False)
    category: str | None = None
    picture_url: str | None = None
    tasks: tuple[str, ...] = ()
    instagram: InstagramAccount | None = None
    # Where it was found: "me_accounts", "owned_pages" or "client_pages" (of `business_id`).
    source: str = "me_accounts"
    business_id: str | None = None


@dataclass(frozen=True, slots=True)
class PublishedPost:
    """A post created on a Page feed; `id` is "<page-id>_<post-id>"."""

    id: str


@dataclass(frozen=True, slots=True)
class PagePhoto:
    """A photo uploaded to a Page; `post_id` is set when it was published as a post."""

    id: str
    post_id: str | None


@dataclass(frozen=True, slots=True)
class PostAttachment:
    """What a Page post carries: `media_type` "photo" (`target_id`: the photo), "album"
    (`children`: its photos), "link", "share", …"""

    media_type: str
    target_id: str | None = None
    children: tuple["PostAttachment", ...] = ()

    @property
    def photo_ids(self) -> tuple[str, ...]:
        if self.children:
            return tuple(c.target_id for c in self.children if c.target_id)
        if self.media_type == "photo" and self.target_id:
            return (self.target_id,)
        return ()


@dataclass(frozen=True, slots=True)
class PagePost:
    """A post of a Page, as read back for reconciliation."""

    id: str
    message: str | None
    created_time: datetime | None
    permalink_url: str | None
    attachments: tuple[PostAttachment, ...] = ()

    @property
    def photo_ids(self) -> tuple[str, ...]:
        return tuple(i for a in self.attachments for i in a.photo_ids)

    @property
    def photo_count(self) -> int:
        """Photos attached (an album counts each; a photo whose id is hidden still counts)."""
        return sum(
            len(a.children) or (1 if a.media_type == "photo" else 0) for a in self.attachments
        )


@dataclass(frozen=True, slots=True)
class IgContainer:
    """An Instagram media container (created, not yet published)."""

    id: str


IG_IN_PROGRESS = "IN_PROGRESS"
IG_FINISHED = "FINISHED"
IG_ERROR = "ERROR"
IG_EXPIRED = "EXPIRED"
IG_PUBLISHED = "PUBLISHED"


@dataclass(frozen=True, slots=True)
class IgContainerStatus:
    """The processing state of a container: IN_PROGRESS, FINISHED, ERROR, EXPIRED or PUBLISHED."""

    id: str
    status_code: str
    status: str | None  # Meta's text, e.g. the reason of an ERROR

    @property
    def is_ready(self) -> bool:
        return self.status_code == IG_FINISHED

    @property
    def is_published(self) -> bool:
        """An earlier attempt published it: record that, never publish again."""
        return self.status_code == IG_PUBLISHED

    @property
    def is_failed(self) -> bool:
        return self.status_code in (IG_ERROR, IG_EXPIRED)


@dataclass(frozen=True, slots=True)
class IgPublishedMedia:
    """The Instagram media created by `media_publish`."""

    id: str


@dataclass(frozen=True, slots=True)
class IgPublishingLimit:
    """Instagram's rolling publishing quota of an account, as Meta reports it right now."""

    quota_usage: int
    quota_total: int
    quota_duration: int  # seconds (86400: a rolling 24 hours)

    @property
    def remaining(self) -> int:
        return max(self.quota_total - self.quota_usage, 0)


@dataclass(frozen=True, slots=True)
class IgMedia:
    """A published Instagram media item, as read back for reconciliation."""

    id: str
    caption: str | None
    media_type: str | None
    permalink: str | None
    timestamp: datetime | None
    media_product_type: str | None = None  # FEED, REELS, STORY


@dataclass(frozen=True, slots=True)
class PagePostEngagement:
    """Counts of a Facebook Page post. None: Meta did not return that edge."""

    post_id: str
    likes: int | None
    comments: int | None
    shares: int  # Meta omits `shares` when there are none
    reactions: int | None
    permalink_url: str | None


@dataclass(frozen=True, slots=True)
class IgMediaEngagement:
    """Counts of an Instagram media item. None: Meta did not return it (e.g. likes hidden)."""

    media_id: str
    like_count: int | None
    comments_count: int | None
    permalink: str | None


@dataclass(frozen=True, slots=True)
class IgComment:
    """A comment on an Instagram media item (`from_id`: the commenting account, when given)."""

    id: str
    text: str
    username: str = ""
    from_id: str = ""
    timestamp: datetime | None = None


# --- Facebook video, Stories and comments (facebook_video.py) ------------------------------


@dataclass(frozen=True, slots=True)
class VideoUploadSession:
    """A Reel or video Story begun (`upload_phase=start`): its video id and Meta's upload URL."""

    video_id: str
    upload_url: str | None


@dataclass(frozen=True, slots=True)
class VideoFinished:
    """The answer to `upload_phase=finish`; `post_id` is set for a video Story."""

    success: bool
    post_id: str | None = None


@dataclass(frozen=True, slots=True)
class VideoStatus:
    """Where a Facebook video stands (`GET /{video-id}?fields=status`, Meta's VideoStatus):
    `video_status` "upload" / "processing" / "ready" / "error", and each phase's status
    ("not_started", "in_progress", "complete", "error")."""

    video_id: str
    video_status: str
    uploading: str
    processing: str
    publishing: str
    publish_status: str  # "published", "draft", "not_published", "" when Meta did not say
    errors: tuple[str, ...] = ()
    post_id: str | None = None
    permalink_url: str | None = None

    @property
    def uploaded(self) -> bool:
        return self.uploading == "complete"

    @property
    def finished(self) -> bool:
        """The finish call went through (published, or publishing once processed)."""
        return self.publishing in ("in_progress", "complete") or self.publish_status in (
            "published",
            "scheduled",
        )

    @property
    def live(self) -> bool:
        return self.publish_status == "published" and self.publishing == "complete"

    @property
    def failed(self) -> bool:
        return self.video_status == "error" or self.processing == "error"


@dataclass(frozen=True, slots=True)
class PageVideo:
    """A video of a Page, as `GET /{page-id}/videos` lists it (reconciliation)."""

    id: str
    description: str | None
    created_time: datetime | None
    permalink_url: str | None


@dataclass(frozen=True, slots=True)
class PageStory:
    """A Story of a Page (`GET /{page-id}/stories`): what it shows (`media_id`)."""

    post_id: str
    media_type: str | None
    media_id: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment under a Facebook object, and who wrote it (`from_id`: a Page or a person)."""

    id: str
    message: str | None
    from_id: str | None
    created_time: datetime | None


# A metric's value: a count, or an object of counts (`post_reactions_by_type_total`:
# {"like": 3, "love": 1}); Meta sends `{}` for an object metric without data.
InsightValue = int | float | dict[str, int | float]


@dataclass(frozen=True, slots=True)
class InsightPoint:
    """One value of a metric; `end_time` is the end of its day/week (None for lifetime)."""

    value: InsightValue
    end_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class InsightMetric:
    """One metric of an insights answer: a series of `values` and/or a `total_value`."""

    name: str
    period: str | None
    values: tuple[InsightPoint, ...] = ()
    total_value: InsightValue | None = None
    title: str | None = None

    @property
    def value(self) -> InsightValue | None:
        """The one number: the total if Meta sent one, else the latest point (None: no data)."""
        if self.total_value is not None:
            return self.total_value
        return self.values[-1].value if self.values else None


@dataclass(frozen=True, slots=True)
class Insights:
    """The metrics Meta answered for one object. A metric without data is absent (Meta answers
    an empty `data` rather than zeros)."""

    object_id: str
    metrics: tuple[InsightMetric, ...] = ()

    def get(self, name: str, period: str | None = None) -> InsightMetric | None:
        for metric in self.metrics:
            if metric.name == name and (period is None or metric.period == period):
                return metric
        return None

    def value(self, name: str) -> InsightValue | None:
        metric = self.get(name)
        return metric.value if metric else None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.name for m in self.metrics))

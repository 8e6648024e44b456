"""The platform adapter interface (SPEC 5.3a): validation, preview, publishing steps,
reconciliation and engagement for one network. The publishing engine knows only this module.

A new network (LinkedIn organisation pages next) is a new adapter registered in
``apps.posts.platforms`` — the engine, the state machine and the API stay as they are.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.assets.models import BrandAsset
    from apps.posts.models import Publication


RECONCILE_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class Problem:
    """A rule the post breaks on a network, said so that the person can fix it."""

    code: str
    message: str
    field: str = ""


@dataclass(frozen=True)
class PostContent:
    """What an adapter needs of a post for one network."""

    caption: str
    link: str
    assets: Sequence["BrandAsset"]


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
    layout: str  # "text", "link", "photo", "multi_photo", "carousel"
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
    """A call that may have created the post got no answer: reconcile before anything else."""

    error: str


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


class CannotTell(Exception):
    """Reconciliation could not read what the account got (an error, an unreadable answer, a
    listing that did not end): the outcome stays unknown."""


class PlatformAdapter(Protocol):
    platform: str
    label: str

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
        account got in ``window``. Raises CannotTell when the network cannot say."""

    def account_url(self, publication: "Publication") -> str:
        """Where a person sees the account's recent posts (to check by hand)."""

    def fetch_engagement(self, publication: "Publication") -> Engagement: ...

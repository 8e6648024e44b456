"""The platform adapter interface (SPEC 5.3a): validation, preview, publishing steps,
reconciliation and engagement for one network. The publishing engine knows only this module.

A new network (LinkedIn organisation pages next) is a new adapter registered in
``apps.posts.platforms`` — the engine, the state machine and the API stay as they are.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.assets.models import BrandAsset
    from apps.posts.models import Publication


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


@dataclass(frozen=True)
class Published:
    platform_post_id: str
    permalink: str = ""


@dataclass(frozen=True)
class Wait:
    """Not done yet and nothing is wrong: come back in ``seconds`` (processing, a quota)."""

    seconds: int
    reason: str


@dataclass(frozen=True)
class Retry:
    """A transient failure: try again in ``seconds`` (counts as an attempt)."""

    seconds: int
    error: str
    code: int | None = None
    subcode: int | None = None


@dataclass(frozen=True)
class Unknown:
    """A call that may have created the post got no answer: reconcile before anything else."""

    error: str


@dataclass(frozen=True)
class Fail:
    error: str
    code: int | None = None
    subcode: int | None = None


@dataclass(frozen=True)
class NeedsReauth:
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


class PlatformAdapter(Protocol):
    platform: str
    label: str

    def validate(self, content: PostContent) -> list[Problem]: ...

    def preview(self, content: PostContent) -> Preview: ...

    def step(self, publication: "Publication", content: PostContent, journal: Journal) -> Outcome:
        """Advance the publication by one step (e.g. create a container, or publish it)."""

    def reconcile(
        self, publication: "Publication", content: PostContent, since: datetime
    ) -> Published | None:
        """Whether an earlier attempt already created the post (since ``since``)."""

    def fetch_engagement(self, publication: "Publication") -> Engagement: ...

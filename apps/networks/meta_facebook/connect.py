"""Facebook Login's connect flow, the Graph side (docs/facebook.md, "How connecting works"): the
user token a login returned → a long-lived one and its scopes → every Page it reaches (the
person's own and those of their Business portfolios), each with its Page token, the person's
tasks on it and its Instagram business account; what the choice page says of a Page that cannot
be published to; revoking the grant on disconnect.

Neutral results and errors only (``apps.networks.errors``), no database writes:
``apps.social.services`` keeps the pending connection and stores the accounts.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from apps.networks.meta import can_publish, neutral, tasks_phrase
from apps.social import graph

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DiscoveredInstagram:
    id: str
    username: str
    picture_url: str


@dataclass(frozen=True)
class DiscoveredPage:
    id: str
    name: str
    category: str
    picture_url: str
    instagram: DiscoveredInstagram | None
    # What the person may do on the Page (Meta's tasks); None when Meta did not say.
    tasks: tuple[str, ...] | None = None
    # Why neither the Page nor its Instagram account can be connected; "" when they can.
    not_connectable_reason: str = ""
    instagram_not_connectable_reason: str = ""

    @property
    def connectable(self) -> bool:
        return not self.not_connectable_reason


@dataclass(frozen=True, kw_only=True)
class PageGrant:
    """A Page the login reaches, with what connecting it needs: its Page token, the person's
    tasks on it (None when Meta did not say) and its Instagram account. The pending connection
    keeps it (encrypted) as ``record()`` until the owner chooses."""

    id: str
    name: str
    access_token: str = field(repr=False)
    category: str = ""
    picture_url: str = ""
    tasks: tuple[str, ...] | None = None
    instagram: DiscoveredInstagram | None = None

    @property
    def connectable(self) -> bool:
        """A Page (and its Instagram account) can be connected unless Meta says the person may
        not create content on it. When Meta did not say, the daily check decides later."""
        return self.tasks is None or can_publish(self.tasks)

    def record(self) -> dict[str, Any]:
        """The JSON form kept in ``PendingConnection.discovered``."""
        return {
            "id": self.id,
            "name": self.name,
            "access_token": self.access_token,
            "category": self.category,
            "picture_url": self.picture_url,
            "tasks": list(self.tasks) if self.tasks else None,
            "instagram": (
                {
                    "id": self.instagram.id,
                    "username": self.instagram.username,
                    "picture_url": self.instagram.picture_url,
                }
                if self.instagram
                else None
            ),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "PageGrant":
        return cls(
            id=record["id"],
            name=record["name"],
            access_token=record["access_token"],
            category=record["category"],
            picture_url=record["picture_url"],
            tasks=tuple(record["tasks"]) if record.get("tasks") else None,
            instagram=DiscoveredInstagram(**record["instagram"]) if record["instagram"] else None,
        )

    def offered(self) -> DiscoveredPage:
        """The Page as the choice page shows it: no token, and why it cannot be chosen."""
        return DiscoveredPage(
            id=self.id,
            name=self.name,
            category=self.category,
            picture_url=self.picture_url,
            instagram=self.instagram,
            tasks=self.tasks,
            not_connectable_reason=_page_task_reason(self),
            instagram_not_connectable_reason=_instagram_task_reason(self) if self.instagram else "",
        )


def _page_task_reason(page: PageGrant) -> str:
    if page.connectable:
        return ""
    return (
        f"You can only {tasks_phrase(page.tasks or ())} this Page: ask a Page admin to give you "
        "the “Create content” task on it, then reconnect."
    )


def _instagram_task_reason(page: PageGrant) -> str:
    if page.connectable:
        return ""
    return (
        f"It is published with the Page “{page.name}”, where you can only "
        f"{tasks_phrase(page.tasks or ())}: ask a Page admin to give you the "
        "“Create content” task on that Page, then reconnect."
    )


@dataclass(frozen=True, kw_only=True)
class Discovery:
    """What a Facebook login reaches: its long-lived user token (expiry, scopes) and the Pages."""

    token: str = field(repr=False)
    expires_at: datetime | None
    scopes: tuple[str, ...]
    pages: tuple[PageGrant, ...]


def pages_discover(*, user_token: str) -> Discovery:
    """Trade the login's short-lived token for a long-lived one (``fb_exchange_token``), read
    its scopes (``debug_token``) and list every Page it reaches, Business portfolios included.
    Raises only the neutral errors; a Page whose tasks cannot be read is listed without them."""
    try:
        long_lived = graph.exchange_long_lived(user_token=user_token)
        info = graph.debug_token(input_token=long_lived.access_token)
        pages = graph.discover_pages(user_token=long_lived.access_token)
    except graph.GraphError as exc:
        raise neutral(exc) from exc
    return Discovery(
        token=long_lived.access_token,
        expires_at=long_lived.expires_at or info.expires_at,
        scopes=tuple(info.scopes),
        pages=tuple(_page_grant(page) for page in pages),
    )


def _discovered_tasks(page: graph.FacebookPage) -> tuple[str, ...] | None:
    """The Page's tasks from the listing, or (when the listing left them out) from the Page
    itself; None when Meta does not say."""
    if page.tasks:
        return tuple(page.tasks)
    try:
        tasks = graph.get_page_tasks(page_id=page.id, page_token=page.access_token)
    except graph.GraphError as exc:
        logger.info("page_tasks_unavailable", page_id=page.id, error=exc.technical_summary)
        return None
    return tuple(tasks) if tasks else None


def _page_grant(page: graph.FacebookPage) -> PageGrant:
    return PageGrant(
        id=page.id,
        name=page.name,
        access_token=page.access_token,
        category=page.category or "",
        picture_url=page.picture_url or "",
        tasks=_discovered_tasks(page),
        instagram=(
            DiscoveredInstagram(
                id=page.instagram.id,
                username=page.instagram.username or "",
                picture_url=page.instagram.profile_picture_url or "",
            )
            if page.instagram
            else None
        ),
    )


def grant_revoke(*, user_token: str) -> None:
    """Revoke the app's access for the person behind ``user_token`` (``DELETE /me/permissions``).
    Raises only the neutral errors (one Facebook already revoked is refused, too)."""
    try:
        graph.revoke_permissions(user_token=user_token)
    except graph.GraphError as exc:
        raise neutral(exc) from exc

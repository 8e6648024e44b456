"""Where the Graph API lives and how patiently we talk to it.

Everything the client needs is in one frozen object so that tests, the sandbox and any other
emulator can be pointed at explicitly; `GraphConfig.from_settings()` builds the production one.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

DEFAULT_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "instagram_basic",
    "instagram_content_publish",
    "business_management",
)


@dataclass(frozen=True, slots=True)
class GraphConfig:
    """Endpoints, app credentials, timeouts and retry bounds of the Graph client."""

    app_id: str
    app_secret: str = field(repr=False)
    graph_url: str = "https://graph.facebook.com"
    dialog_url: str = "https://www.facebook.com"
    version: str = "v25.0"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    # Seconds to wait for a response (read/write) and to open a connection.
    timeout_seconds: float = 15.0
    connect_timeout_seconds: float = 5.0
    # Retries of transient failures on safe calls (so at most max_retries + 1 attempts).
    max_retries: int = 3
    # Full-jitter exponential backoff: sleep uniform(0, min(cap, base * 2 ** (attempt - 1))).
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 30.0
    # A rate-limited call without Meta's estimate backs off this long.
    rate_limit_backoff_seconds: int = 300
    # Instagram's rolling 24-hour publishing limit frees one slot at a time; without an estimate
    # from Meta, try again after an hour.
    publishing_limit_backoff_seconds: int = 3600
    # Upper bound on the pages of results followed through `paging.next` in one listing.
    max_pages: int = 50
    page_size: int = 100
    max_connections: int = 50
    max_keepalive_connections: int = 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "graph_url", self.graph_url.rstrip("/"))
        object.__setattr__(self, "dialog_url", self.dialog_url.rstrip("/"))
        object.__setattr__(self, "version", self.version.strip("/"))
        object.__setattr__(self, "scopes", tuple(self.scopes))
        if not self.app_id or not self.app_secret:
            raise ValueError("GraphConfig needs an app id and an app secret.")
        if self.timeout_seconds <= 0 or self.connect_timeout_seconds <= 0:
            raise ValueError("Graph timeouts must be positive.")
        if self.max_retries < 0 or self.max_pages < 1 or self.page_size < 1:
            raise ValueError("max_retries must be >= 0, max_pages and page_size >= 1.")

    @property
    def app_access_token(self) -> str:
        """The app token (`app_id|app_secret`) used for calls such as debug_token."""
        return f"{self.app_id}|{self.app_secret}"

    @classmethod
    def from_settings(cls, **overrides: Any) -> "GraphConfig":
        """The configuration from Django settings (FACEBOOK_* and GRAPH_*), with overrides."""
        timeout = float(getattr(settings, "GRAPH_TIMEOUT_SECONDS", 15.0))
        scopes: Sequence[str] = getattr(settings, "FACEBOOK_SCOPES", DEFAULT_SCOPES)
        values: dict[str, Any] = {
            "app_id": settings.FACEBOOK_APP_ID,
            "app_secret": settings.FACEBOOK_APP_SECRET,
            "graph_url": settings.FACEBOOK_GRAPH_URL,
            "dialog_url": settings.FACEBOOK_DIALOG_URL,
            "version": settings.FACEBOOK_GRAPH_VERSION,
            "scopes": tuple(scopes),
            "timeout_seconds": timeout,
            "connect_timeout_seconds": float(
                getattr(settings, "GRAPH_CONNECT_TIMEOUT_SECONDS", min(timeout, 5.0))
            ),
            "max_retries": int(getattr(settings, "GRAPH_MAX_RETRIES", 3)),
            "page_size": int(getattr(settings, "GRAPH_PAGE_SIZE", 100)),
        }
        values.update(overrides)
        return cls(**values)

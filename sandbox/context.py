"""What one Graph call carries through the sandbox: the parsed request and what was learnt
about it on the way (who is calling, which endpoint template, which business objects)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .tokens import TokenClaims

# A multipart file part: (filename, bytes, content type).
FilePart = tuple[str, bytes, str]


@dataclass(slots=True)
class Request:
    method: str
    # The path without its version prefix, e.g. "/me/accounts".
    path: str
    version: str | None
    # Query and body parameters together (the body wins), as Meta reads them.
    params: dict[str, str]
    query: dict[str, str]
    files: dict[str, FilePart]
    headers: dict[str, str]
    base_url: str
    # Where the mount serving the call starts ("" or e.g. "/threads"; see registry.Mount).
    prefix: str = ""
    # The raw body (a resumable upload's bytes); parameters are already in `params`.
    body: bytes = b""

    def param(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name)
        return default if value is None else value

    def flag(self, name: str, default: bool) -> bool:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        return value.strip().lower() not in ("false", "0", "no")


def bearer_token(req: Request) -> tuple[str | None, bool]:
    """The access token of a call and whether it came in the Authorization header."""
    token = req.param("access_token")
    if token:
        return token, False
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip(), True
    return None, False


@dataclass(slots=True)
class Viewer:
    """Whoever the access token says is calling."""

    token: str
    claims: TokenClaims | None  # None for an app token
    from_header: bool = False

    @property
    def is_app(self) -> bool:
        return self.claims is None


@dataclass(slots=True)
class CallContext:
    template: str = ""
    viewer: Viewer | None = None
    # The kind of the presented token, known before it is validated (for the usage headers).
    token_kind: str | None = None
    # Business objects the call touched: id → use-case type ("pages" / "instagram").
    business_objects: dict[str, str] = field(default_factory=dict)
    # Extra response headers a handler wants sent.
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Details for the call log.
    notes: dict[str, Any] = field(default_factory=dict)

    def touch(self, object_id: str, kind: str) -> None:
        self.business_objects.setdefault(object_id, kind)


def graph_time(ts: float) -> str:
    """Meta's timestamp format: 2026-11-22T23:16:48+0000."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")

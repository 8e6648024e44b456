"""Everything the sandbox remembers: its configuration, the demo user, authorization codes,
revocations, faults, the call log, the rate-limit windows — and one store per network with its
records (Pages and posts, Instagram accounts and containers; see `NetworkStore`).

One `SandboxState` per server, all of it behind one re-entrant lock. Codes, revocations, the
clock offset and what each network's store keeps (published content, extra Pages) are written
to `state_file` (JSON) after each change when one is configured, and read back on start.
"""

import contextlib
import fnmatch
import hashlib
import json
import math
import os
import random
import re
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .tokens import TokenSigner

if TYPE_CHECKING:
    from .registry import Network

VERSION_PREFIX = re.compile(r"^/v\d+(\.\d+)?(?=/|$)")
STATE_FORMAT = 1
CALL_LOG_SIZE = 5000

# --- configuration --------------------------------------------------------------------------


@dataclass(slots=True)
class SandboxConfig:
    app_id: str = "sandbox-app"
    app_secret: str = field(default="sandbox-secret", repr=False)
    app_name: str = "Social Automation (sandbox)"
    # Injected latency of every Graph call, and per-path overrides (glob over the path without
    # its version prefix, e.g. {"/*/feed": 300}).
    latency_ms: int = 0
    latency_paths: dict[str, int] = field(default_factory=dict)
    # How long an Instagram container stays IN_PROGRESS.
    processing_seconds: float = 2.0
    # How long a video (an Instagram video container, a Facebook Reel, Page video or video
    # Story) is processed once its file is there (fetched or uploaded).
    video_processing_seconds: float = 10.0
    # Instagram's rolling 24-hour publishing limit (Meta has documented 25, 50 and 100).
    quota_total: int = 100
    # Facebook Reels published through the API per Page in a rolling 24 hours (Meta: 30).
    fb_reels_quota_total: int = 30
    # Threads' rolling 24-hour publishing limit (Meta documents 250 posts).
    threads_quota_total: int = 250
    appsecret_proof_required: bool = True
    # Fetch `url` / `image_url` over HTTP as Meta does.
    fetch_media: bool = True
    fetch_timeout_seconds: float = 10.0
    # /me/accounts (and the Business Page lists) answer one empty page that still has `next`.
    empty_page_quirk: bool = False
    # Meta's "(#506) Duplicate status message": a `POST /{page-id}/feed` whose message equals
    # that of a feed post of the same Page created this many seconds ago or less is refused.
    # Meta does not document its window; a day is what integrators report. 0: off.
    duplicate_window_seconds: int = 86_400
    # Instagram publishing with a Page token of the linked Page only (Meta also takes a user
    # token with instagram_content_publish; this switch makes the sandbox the stricter one).
    ig_requires_page_token: bool = True
    short_token_seconds: int = 5400
    long_token_seconds: int = 5_184_000
    code_ttl_seconds: int = 600
    container_ttl_seconds: int = 86_400
    # Rolling window and budgets behind X-App-Usage / X-Business-Use-Case-Usage.
    usage_window_seconds: int = 3600
    app_call_budget: int = 20_000
    page_call_budget: int = 4_800
    enforce_rate_limits: bool = True
    # "allow" or "deny": the OAuth dialog answers at once instead of showing its page.
    auto_consent: str | None = None
    default_version: str = "v25.0"
    # Seed of the random numbers behind fault probabilities (None: not reproducible).
    seed: int | None = None
    state_file: str | None = None
    # Log each request (redacted: method, path, status) to stderr.
    verbose: bool = False


# Keys that `POST /_sandbox/config` may change while the server runs.
RUNTIME_KEYS = frozenset(
    f.name for f in fields(SandboxConfig) if f.name not in ("app_id", "app_secret", "state_file")
)


def coerce_config_value(name: str, value: Any) -> Any:
    """A JSON value made into the type of the configuration field, or ValueError."""
    current = getattr(SandboxConfig(), name)
    if name == "latency_paths":
        if not isinstance(value, dict):
            raise ValueError("latency_paths must be an object of path pattern -> milliseconds")
        return {str(k): int(v) for k, v in value.items()}
    if name in ("auto_consent",):
        if value not in (None, "", "allow", "deny"):
            raise ValueError("auto_consent must be null, 'allow' or 'deny'")
        return value or None
    if name == "seed":
        return None if value is None else int(value)
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")
        return int(value)
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def strip_version(path: str) -> str:
    """`/v25.0/me/accounts` → `/me/accounts` (any vNN.N, or none)."""
    return VERSION_PREFIX.sub("", path) or "/"


# --- records --------------------------------------------------------------------------------


@dataclass(slots=True)
class UserRecord:
    """The person who logs in (Facebook Login); each network keeps what the person manages."""

    id: str
    name: str
    first_name: str
    last_name: str
    email: str


@dataclass(slots=True)
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: list[str]
    created: float
    used_at: float | None = None


FAULT_KINDS = frozenset(
    {
        "error",
        "rate_limit",
        "timeout",
        "timeout_after_effect",
        "timeout_before_effect",
        "malformed",
        "container_error",
        "container_expired",
        "revoke_token",
        "upload_interrupted",
    }
)
CONTAINER_FAULTS = frozenset({"container_error", "container_expired"})
TIMEOUT_FAULTS = frozenset({"timeout", "timeout_after_effect", "timeout_before_effect"})
# Whether a fault strikes before the call takes effect (nothing is done) or after it (the post
# is live, the container published, ...). Defaults keep each kind's historical meaning.
EFFECTS = ("before", "after")
DEFAULT_EFFECT = {
    "error": "before",
    "rate_limit": "before",
    "timeout": "before",
    "timeout_after_effect": "after",
    "timeout_before_effect": "before",
    "malformed": "after",
    "container_error": "after",
    "container_expired": "after",
    "revoke_token": "before",
    "upload_interrupted": "before",
}


@dataclass(slots=True)
class Fault:
    id: str
    kind: str
    method: str = "*"
    path: str = "*"
    # How many matching calls it affects; None: every one until deleted.
    times: int | None = 1
    probability: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        return fnmatch.fnmatchcase(path, strip_version(self.path) if self.path != "*" else "*")

    @property
    def effect(self) -> str:
        """ "before" or "after" the call's effect (see DEFAULT_EFFECT)."""
        return str(self.params.get("effect") or DEFAULT_EFFECT.get(self.kind, "before"))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["remaining"] = None if self.times is None else self.times - self.hits
        return data


# --- the demo user ---------------------------------------------------------------------------

DEMO_USER_ID = "100000000000001"


def content_key(owner_id: str, text: str, link: str | None, images: list[str]) -> str:
    """Identical content of one account (text, link, images): how the read-out exposes
    duplicate publishing."""
    joined = "\0".join([owner_id, text.strip(), link or "", ",".join(images)])
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


class NetworkStore(Protocol):
    """What a network keeps in the sandbox state (`Network.create_store`)."""

    def clear(self) -> None:
        """Back to the network's demo data (on start, on reset, before loading the file)."""

    def snapshot(self) -> dict[str, Any]:
        """Its part of the state file: keys of its own, JSON values."""

    def load(self, data: dict[str, Any]) -> None:
        """Read its keys back from the state file (after `clear`)."""


# --- the state ------------------------------------------------------------------------------


class SandboxState:
    """All mutable state of one sandbox server."""

    def __init__(self, config: SandboxConfig, networks: Iterable["Network"] = ()) -> None:
        self.config = config
        self.networks = tuple(networks)
        # Each network's records (`Network.create_store`), by network name.
        self.stores: dict[str, NetworkStore] = {}
        # What `reset` goes back to (settings changed through the control API are undone).
        self.initial_config = replace(config, latency_paths=dict(config.latency_paths))
        self.lock = threading.RLock()
        self.stop_event = threading.Event()
        self.signer = TokenSigner(config.app_id, config.app_secret)
        self.random = random.Random(config.seed)  # noqa: S311 - fault dice, not security
        self.faults: list[Fault] = []
        self.calls: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_SIZE)
        self.call_seq = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests_total = 0
        self._app_window: deque[float] = deque()
        self._buc_windows: dict[str, deque[float]] = {}
        for network in self.networks:
            store = network.create_store(self)
            if store is not None:
                self.stores[network.name] = store
        self._clear_data()
        if config.state_file:
            self.load()

    def _clear_data(self) -> None:
        user = UserRecord(
            DEMO_USER_ID, "Sandy Sandbox", "Sandy", "Sandbox", "sandy@sandbox.example"
        )
        self.users: dict[str, UserRecord] = {user.id: user}
        self.codes: dict[str, AuthCode] = {}
        # user id → {"at": time, "subcode": 458/460/467}: tokens issued before are dead.
        self.revoked_users: dict[str, dict[str, Any]] = {}
        # token nonce → subcode: that token and everything derived from it are dead.
        self.revoked_tokens: dict[str, int] = {}
        self.seq = 0
        self.clock_offset = 0.0
        # In network order: a network built on another's records (Instagram accounts linked
        # to Facebook Pages) is cleared after it.
        for store in self.stores.values():
            store.clear()

    # --- time and ids ---------------------------------------------------------------------------

    def now(self) -> float:
        """The sandbox clock: real time plus an offset a test can advance."""
        return time.time() + self.clock_offset

    def next_number(self) -> int:
        with self.lock:
            self.seq += 1
            return self.seq

    def reset(self) -> None:
        """Fresh demo data and the starting configuration: forgets what was published, codes,
        revocations, extra Pages, faults, the call log and the clock offset."""
        with self.lock:
            for item in fields(SandboxConfig):
                if item.name in RUNTIME_KEYS:
                    value = getattr(self.initial_config, item.name)
                    setattr(
                        self.config, item.name, dict(value) if isinstance(value, dict) else value
                    )
            self.random.seed(self.config.seed)
            self._clear_data()
            self.faults.clear()
            self.calls.clear()
            self._app_window.clear()
            self._buc_windows.clear()
            self.max_in_flight = self.in_flight
            self.save()

    # --- access ---------------------------------------------------------------------------------

    def revocation_subcode(self, user_id: str, issued_at: float, lineage: tuple[str, ...]) -> int:
        """0 when the token is alive, else the 190 subcode of its revocation."""
        for nonce in lineage:
            if nonce in self.revoked_tokens:
                return self.revoked_tokens[nonce]
        revoked = self.revoked_users.get(user_id)
        if revoked and issued_at <= float(revoked["at"]):
            return int(revoked["subcode"])
        return 0

    # --- faults ---------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
            return fault

    def take_fault(self, method: str, path: str, kinds: frozenset[str]) -> Fault | None:
        """The first fault of one of `kinds` matching the call, used up by one hit."""
        with self.lock:
            for fault in list(self.faults):
                if fault.kind not in kinds or not fault.matches(method, path):
                    continue
                if fault.probability < 1.0 and self.random.random() >= fault.probability:
                    continue
                fault.hits += 1
                if fault.times is not None and fault.hits >= fault.times:
                    self.faults.remove(fault)
                return replace(fault, params=dict(fault.params))
            return None

    # --- the call log, usage windows and concurrency --------------------------------------------

    def log_call(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.call_seq += 1
            self.calls.append({"seq": self.call_seq, **entry})

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.requests_total += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def _trim(self, window: deque[float], now: float) -> None:
        horizon = now - self.config.usage_window_seconds
        while window and window[0] < horizon:
            window.popleft()

    def usage(self, buc_ids: list[str], *, count: bool) -> tuple[int, dict[str, int]]:
        """Percent of the app budget and of each business object's budget used in the window
        (counting this call first when `count`)."""
        now = time.monotonic()
        with self.lock:
            self._trim(self._app_window, now)
            if count:
                self._app_window.append(now)
            app = _percent(len(self._app_window), self.config.app_call_budget)
            per_object = {}
            for object_id in buc_ids:
                window = self._buc_windows.setdefault(object_id, deque())
                self._trim(window, now)
                if count:
                    window.append(now)
                per_object[object_id] = _percent(len(window), self.config.page_call_budget)
            return app, per_object

    # --- persistence ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = {
                "format": STATE_FORMAT,
                "app_id": self.config.app_id,
                "seq": self.seq,
                "clock_offset": self.clock_offset,
                "codes": [asdict(c) for c in self.codes.values()],
                "revoked_users": self.revoked_users,
                "revoked_tokens": self.revoked_tokens,
            }
            for store in self.stores.values():
                data.update(store.snapshot())
            return data

    def save(self) -> None:
        """Write the state file (atomically), when there is one."""
        path = self.config.state_file
        if not path:
            return
        with self.lock:
            text = json.dumps(self.snapshot(), separators=(",", ":"))
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".sandbox-", dir=target.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(temp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise

    def load(self) -> None:
        """Read the state file if it exists; a file that cannot be read is an error, not a
        silent fresh start."""
        path = self.config.state_file
        if not path or not Path(path).exists():
            return
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != STATE_FORMAT:
                raise ValueError(f"unknown state format {data.get('format')!r}")
            with self.lock:
                self._clear_data()
                self.seq = int(data["seq"])
                self.clock_offset = float(data.get("clock_offset", 0.0))
                for raw in data.get("codes", []):
                    code = AuthCode(**raw)
                    self.codes[code.code] = code
                self.revoked_users = dict(data.get("revoked_users", {}))
                self.revoked_tokens = {k: int(v) for k, v in data.get("revoked_tokens", {}).items()}
                for store in self.stores.values():
                    store.load(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Cannot read the sandbox state file {path}: {exc}") from exc


def _percent(used: int, budget: int) -> int:
    return math.ceil(used * 100 / budget) if budget > 0 else 0


def new_fault_id() -> str:
    return uuid.uuid4().hex[:12]

"""Video, as Facebook Pages and Instagram share it: what a video file is (an MP4's `mvhd` and
`tkhd` boxes read with no dependency), fetching a `video_url` / `file_url`, Meta's rules per
format (Reels, Stories, carousel videos, Page videos) and the resumable upload sessions of
`rupload.facebook.com` (`/ig-api-upload/{version}/{container-id}`,
`/video-upload/{version}/{video-id}`), served by the `rupload` network on a mount of its own
(`/rupload` on the main port).

A network opens an upload session for a container or a video (`open_session`) and registers,
at import time, what completing one of its kinds does (`COMPLETERS`); the upload host checks
the token, the owner and the offset, keeps the bytes in memory until the file is whole, and
hands the finished file (a `MediaSource` with its duration) to the completer. The HTTP
behaviour of each network's own calls stays in its module.
"""

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from . import errors
from .context import CallContext, Request, bearer_token
from .errors import DropConnection, GraphError
from .media import FetchError, MediaSource, download, is_http_url
from .oauth import token_problem
from .registry import Mount, Network, RouteHandler
from .state import SandboxState
from .tokens import TokenParseError

if TYPE_CHECKING:
    from .graph import Graph

VIDEO_MAX_DOWNLOAD = 300 * 1024 * 1024
# The fault kind that cuts an upload off after `params.bytes` bytes (default: half the chunk).
UPLOAD_FAULTS = frozenset({"upload_interrupted"})
IG_UPLOAD = "ig-api-upload"
FB_UPLOAD = "video-upload"


# --- what a video is ------------------------------------------------------------------------


def sniff_video(data: bytes) -> str | None:
    """The container format from the first bytes: MP4 / QuickTime (`ftyp`), WebM/Matroska,
    AVI; None when it is no video the sandbox knows."""
    if data[4:8] == b"ftyp":
        return "mov" if data[8:12] == b"qt  " else "mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "avi"
    return None


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """The ISO-BMFF boxes between `start` and `end`: (type, payload start, box end)."""
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= end:
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def probe_mp4(data: bytes) -> tuple[float | None, int | None, int | None]:
    """(duration in seconds from `moov/mvhd`, width and height of the first visual track from
    `trak/tkhd`); Nones for what the boxes do not say."""
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for inner, s, e in _boxes(data, start, end):
            if inner == b"mvhd" and e - s >= 20:
                version = data[s]
                if version == 1 and e - s >= 32:
                    timescale, length = struct.unpack(">IQ", data[s + 20 : s + 32])
                else:
                    timescale, length = struct.unpack(">II", data[s + 12 : s + 20])
                if timescale:
                    duration = length / timescale
            if inner == b"trak" and width is None:
                for part, ps, pe in _boxes(data, s, e):
                    if part == b"tkhd" and pe - ps >= 84:
                        w, h = struct.unpack(">II", data[pe - 8 : pe])
                        if w and h:
                            width, height = w >> 16, h >> 16
    return duration, width, height


def describe_video(data: bytes, *, kind: str, url: str | None = None) -> MediaSource:
    video_format = sniff_video(data)
    duration, width, height = (None, None, None)
    if video_format in ("mp4", "mov"):
        duration, width, height = probe_mp4(data)
    return MediaSource(
        kind=kind,
        url=url,
        fetched=kind == "url",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        video_format=video_format,
        duration_seconds=duration,
        width=width,
        height=height,
    )


def fetch_video(url: str, *, timeout: float) -> MediaSource:
    """GET a video URL as Meta's fetcher does (FetchError when it cannot)."""
    status, content_type, data = download(url, timeout=timeout, max_bytes=VIDEO_MAX_DOWNLOAD)
    source = describe_video(data, kind="url", url=url)
    source.http_status = status
    source.content_type = content_type
    return source


# --- Meta's rules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    """What one format accepts (Meta's published specifications)."""

    label: str
    min_seconds: float
    max_seconds: float
    max_bytes: int
    min_ratio: float = 0.01
    max_ratio: float = 10.0


MB = 1024 * 1024
IG_REELS = Rules("Reels", 3, 15 * 60, 300 * MB)
IG_STORY = Rules("Stories", 0, 60, 100 * MB)
IG_CAROUSEL_VIDEO = Rules("carousel videos", 3, 60, 100 * MB)
FB_REEL = Rules("Facebook Reels", 3, 90, 1024 * MB, min_ratio=0.5, max_ratio=0.6)
FB_STORY = Rules("Facebook Stories", 3, 60, 1024 * MB, min_ratio=0.5, max_ratio=0.6)
FB_VIDEO = Rules("Page videos", 1, 240 * 60, 10 * 1024 * MB)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a video cannot be used: the code and subcode of the container's ERROR."""

    message: str
    code: int = 352
    subcode: int = 2207026


def problem(source: MediaSource, rules: Rules) -> Problem | None:
    """What is wrong with a fetched or uploaded video for a format, or None."""
    if source.video_format is None:
        return Problem("The video format is not supported. Supported formats are: MP4, MOV")
    if source.video_format not in ("mp4", "mov"):
        return Problem(f"The video format ({source.video_format}) is not supported: MP4 or MOV")
    if (source.size or 0) > rules.max_bytes:
        return Problem(f"The video is larger than {rules.max_bytes // MB} MB ({rules.label})")
    duration = source.duration_seconds
    if duration is None:
        return Problem("The video file could not be read (no movie header)", -1, 2207053)
    if not rules.min_seconds <= duration <= rules.max_seconds:
        return Problem(
            f"The video is {duration:g} seconds long; {rules.label} must be "
            f"{rules.min_seconds:g} to {rules.max_seconds:g} seconds"
        )
    if source.width and source.height:
        ratio = source.width / source.height
        if not rules.min_ratio - 0.001 <= ratio <= rules.max_ratio + 0.001:
            return Problem(
                f"The aspect ratio {source.width}x{source.height} is not supported for "
                f"{rules.label}"
            )
    return None


# --- resumable upload sessions --------------------------------------------------------------


@dataclass(slots=True)
class UploadSession:
    """One file being uploaded to the upload host (kept in memory only)."""

    id: str  # the container or video id
    kind: str  # the completer's key ("ig", "fb")
    host_path: str  # IG_UPLOAD or FB_UPLOAD
    # Who may upload: Page ids (for Page tokens) and user / Instagram account ids.
    owners: list[str]
    created: float
    file_size: int | None = None
    offset: int = 0
    data: bytearray = field(default_factory=bytearray, repr=False)
    completed_at: float | None = None
    source: MediaSource | None = None
    attempts: int = 0
    interrupted: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host_path,
            "file_size": self.file_size,
            "offset": self.offset,
            "complete": self.completed_at is not None,
            "attempts": self.attempts,
            "interrupted": self.interrupted,
        }


Completer = Callable[[SandboxState, UploadSession], None]
# What completing an upload does, per session kind (registered by the network modules).
COMPLETERS: dict[str, Completer] = {}


class UploadStore:
    """Upload sessions by id. Not written to the state file: an upload cut off by a restart
    starts again at offset 0 (the sandbox reports that offset)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.sessions: dict[str, UploadSession] = {}

    def snapshot(self) -> dict[str, Any]:
        return {}

    def load(self, data: dict[str, Any]) -> None:
        return None


def uploads(state: SandboxState) -> UploadStore:
    return cast(UploadStore, state.stores[RuploadNetwork.name])


def open_session(
    state: SandboxState, object_id: str, *, kind: str, host_path: str, owners: list[str]
) -> UploadSession:
    session = UploadSession(object_id, kind, host_path, owners, created=state.now())
    uploads(state).sessions[object_id] = session
    return session


def upload_uri(req: Request, host_path: str, object_id: str, state: SandboxState) -> str:
    version = req.version or state.config.default_version
    return f"{req.base_url}{RUPLOAD_PREFIX}/{host_path}/{version}/{object_id}"


def offset_error(session: UploadSession, offset: int) -> GraphError:
    # Meta's Video API documents 1363037 for a wrong start offset; its code is the sandbox's.
    return GraphError(
        "There was a problem uploading your video. Please try uploading it again. "
        f"error_data:{{start_offset:{session.offset},end_offset:{session.file_size or 0}}}",
        code=6000,
        subcode=1363037,
        is_transient=False,
        user_title="Wrong upload offset",
        user_msg=f"The upload continues at offset {session.offset}, not {offset}.",
    )


def _header_int(req: Request, name: str) -> int | None:
    raw = req.headers.get(name.replace("_", "-")) or req.headers.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise errors.invalid_param(f"(#100) The {name} header must be a whole number") from exc
    if value < 0:
        raise errors.invalid_param(f"(#100) The {name} header must not be negative")
    return value


class UploadHost:
    """`POST {host}/{version}/{id}` with `Authorization: OAuth <token>`, `offset` and
    `file_size` headers and the bytes (or a `file_url` header); `GET` the same URL: where the
    upload stands."""

    def __init__(self, graph: "Graph") -> None:
        self.graph = graph
        self.state = graph.state

    def _session(self, req: Request, ctx: CallContext, host_path: str) -> UploadSession:
        token, _ = bearer_token(req)
        if token is None:
            raise errors.token_required()
        try:
            claims = self.state.signer.decode(token)
        except TokenParseError as exc:
            raise errors.token_unparsable() from exc
        issue = token_problem(self.state, claims)
        if issue is not None:
            raise issue
        parts = [p for p in req.path.split("/") if p][1:]
        if parts and parts[0].startswith("v") and len(parts) > 1:
            parts = parts[1:]
        object_id = parts[0] if len(parts) == 1 else ""
        with self.state.lock:
            session = uploads(self.state).sessions.get(object_id)
        if session is None or session.host_path != host_path:
            raise errors.unsupported(req.method, object_id or req.path)
        who = claims.page_id if claims.is_page else claims.user_id
        if who not in session.owners:
            raise errors.missing_permission("the upload of this object")
        ctx.notes["upload"] = session.id
        return session

    def handle(self, req: Request, ctx: CallContext, host_path: str) -> Any:
        session = self._session(req, ctx, host_path)
        if req.method == "GET":
            with self.state.lock:
                return session.describe()
        if req.method != "POST":
            raise errors.unsupported(req.method, session.id)
        file_url = req.headers.get("file-url") or req.headers.get("file_url")
        if session.completed_at is not None:
            return self._answer(host_path)
        if file_url:
            return self._from_url(session, file_url, ctx, host_path)
        offset = _header_int(req, "offset")
        file_size = _header_int(req, "file_size")
        if offset is None:
            offset = 0
        if file_size is None:
            raise errors.missing_param("file_size (header)")
        chunk = req.body
        with self.state.lock:
            session.attempts += 1
            if session.file_size is not None and file_size != session.file_size:
                raise errors.invalid_param(
                    f"(#100) file_size {file_size} differs from {session.file_size} of this upload"
                )
            if offset != session.offset:
                raise offset_error(session, offset)
            if offset + len(chunk) > file_size:
                raise errors.invalid_param("(#100) More bytes than file_size were sent")
            session.file_size = file_size
            fault = self.state.take_fault(req.method, req.path, UPLOAD_FAULTS)
            if fault is not None:
                kept = int(fault.params.get("bytes", len(chunk) // 2))
                session.data += chunk[: max(0, min(kept, len(chunk)))]
                session.offset = len(session.data)
                session.interrupted += 1
                ctx.notes["fault"] = fault.kind
                raise DropConnection
            session.data += chunk
            session.offset = len(session.data)
            if session.offset == file_size:
                data = bytes(session.data)
                session.data = bytearray()
                self._complete(session, describe_video(data, kind="upload"))
        return self._answer(host_path)

    def _from_url(
        self, session: UploadSession, url: str, ctx: CallContext, host_path: str
    ) -> dict[str, Any]:
        if not is_http_url(url):
            raise errors.invalid_url("file_url")
        if self.state.config.fetch_media:
            try:
                source = fetch_video(url, timeout=self.state.config.fetch_timeout_seconds)
            except FetchError as exc:
                ctx.notes["fetch_error"] = exc.reason
                raise errors.ig_fetch_failed(url) from exc
        else:
            source = MediaSource(kind="url", url=url)
        with self.state.lock:
            session.attempts += 1
            if session.completed_at is None:
                session.file_size = source.size
                session.offset = source.size or 0
                self._complete(session, source)
        return self._answer(host_path)

    def _complete(self, session: UploadSession, source: MediaSource) -> None:
        session.completed_at = self.state.now()
        session.source = source
        COMPLETERS[session.kind](self.state, session)
        self.state.save()

    @staticmethod
    def _answer(host_path: str) -> dict[str, Any]:
        if host_path == IG_UPLOAD:
            return {"success": True, "message": "Upload successful."}
        return {"success": True}


class RuploadNetwork(Network):
    """The upload host (rupload.facebook.com): the upload sessions of both networks."""

    name = "rupload"
    label = "Resumable uploads (rupload.facebook.com)"

    def create_store(self, state: SandboxState) -> UploadStore:
        return UploadStore()

    def routes(self, graph: "Graph") -> dict[str, RouteHandler]:
        host = UploadHost(graph)
        return {
            f"/{IG_UPLOAD}/*": lambda req, ctx: host.handle(req, ctx, IG_UPLOAD),
            f"/{FB_UPLOAD}/*": lambda req, ctx: host.handle(req, ctx, FB_UPLOAD),
        }

    def published(self, state: SandboxState, base_url: str) -> tuple[dict[str, Any], dict]:
        sessions = [s.describe() for s in uploads(state).sessions.values()]
        summary = {
            "uploads": len(sessions),
            "uploads_incomplete": sum(1 for s in sessions if not s["complete"]),
            "uploads_interrupted": sum(s["interrupted"] for s in sessions),
        }
        return {"uploads": sessions}, summary


RUPLOAD_PREFIX = "/rupload"


def rupload_mount(*, prefix: str = RUPLOAD_PREFIX, port: int | None = None) -> Mount:
    return Mount(
        name="rupload",
        label="Resumable uploads (rupload.facebook.com)",
        networks=(RuploadNetwork(),),
        prefix="" if port is not None else prefix,
        port=port,
    )

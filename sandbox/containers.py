"""Media containers, as the networks that publish in two steps share them (Instagram with
Facebook Login, Instagram with Instagram Login, Threads): a container is created, processed for
a while (`processing_seconds`), then published at most once before it expires
(`container_ttl_seconds`); `container_error` / `container_expired` faults make it end in
`ERROR` / `EXPIRED`; a carousel waits for its children.

`MediaContainer` holds what every container has (each network's record adds its own fields:
owner, caption or text, ...), `status` says where one stands at a moment — in the words of the
network (`StatusTexts`) —, `new_container_fault` arms the faults on a new one and
`refuse_unpublishable` is the gate of the publish call. The HTTP behaviour stays each network's.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from . import errors
from .context import CallContext, Request
from .errors import GraphError
from .media import MediaSource
from .state import CONTAINER_FAULTS, SandboxState

PUBLISHED = "PUBLISHED"
EXPIRED = "EXPIRED"
IN_PROGRESS = "IN_PROGRESS"
ERROR = "ERROR"
FINISHED = "FINISHED"


@dataclass(slots=True, kw_only=True)
class MediaContainer:
    """What every media container records (the state file keeps these keys as they are)."""

    id: str
    media_type: str
    image_url: str | None
    is_carousel_item: bool
    children: list[str]
    created_time: float
    ready_at: float
    image: MediaSource | None = None
    forced_status: str | None = None  # ERROR / EXPIRED (from a fault)
    forced_message: str | None = None
    published_media_id: str | None = None
    publish_count: int = 0
    publish_attempts: int = 0
    # Video containers (sandbox/video.py): the fetched or uploaded file, whether a resumable
    # upload is still awaited, and the code / subcode of an ERROR (a fault's or a video rule's).
    video: MediaSource | None = None
    awaiting_upload: bool = False
    forced_code: int | None = None
    forced_subcode: int | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        """A container read back from the state file."""
        raw = dict(raw)
        sources = {
            key: MediaSource.from_dict(raw[key]) if raw.get(key) else None
            for key in ("image", "video")
        }
        raw.update(sources)
        return cls(**raw)

    def fail(self, message: str, code: int | None, subcode: int | None) -> None:
        """End in ERROR once processed, with Meta's code and subcode for it."""
        self.forced_status = ERROR
        self.forced_message = message
        self.forced_code = code
        self.forced_subcode = subcode


@dataclass(frozen=True, slots=True)
class StatusTexts:
    """What a network says about a container in each case (`{message}`: a fault's message;
    `{child_id}`, `{code}`: the carousel item that failed and its status)."""

    published: str
    timed_out: str  # not published within container_ttl_seconds
    in_progress: str
    error: str
    error_default: str  # the message of a container_error fault that gave none
    expired: str
    expired_default: str
    child_missing: str
    child_failed: str
    children_in_progress: str
    finished: str


def ready_at(state: SandboxState, now: float, *, video: bool = False) -> float:
    """When a container created (or, for an uploaded video, whose file came) at `now` is
    processed: `processing_seconds` for images and text, `video_processing_seconds` for
    video."""
    seconds = state.config.video_processing_seconds if video else state.config.processing_seconds
    return now + max(seconds, 0.0)


def status(
    state: SandboxState,
    container: MediaContainer,
    now: float,
    find: Callable[[str], MediaContainer | None],
    texts: StatusTexts,
) -> tuple[str, str]:
    """The status code of a container at `now` and the network's text for it; `find` looks a
    carousel item up among the network's containers."""
    if container.published_media_id:
        return PUBLISHED, texts.published
    if now >= container.created_time + state.config.container_ttl_seconds:
        return EXPIRED, texts.timed_out
    if container.awaiting_upload or now < container.ready_at:
        return IN_PROGRESS, texts.in_progress
    if container.forced_status == ERROR:
        message = container.forced_message or texts.error_default
        return ERROR, texts.error.format(message=message)
    if container.forced_status == EXPIRED:
        message = container.forced_message or texts.expired_default
        return EXPIRED, texts.expired.format(message=message)
    for child_id in container.children:
        child = find(child_id)
        if child is None:
            return ERROR, texts.child_missing
        code, _ = status(state, child, now, find, texts)
        if code in (ERROR, EXPIRED):
            return ERROR, texts.child_failed.format(child_id=child_id, code=code)
        if code == IN_PROGRESS:
            return IN_PROGRESS, texts.children_in_progress
    return FINISHED, texts.finished


def new_container_fault(
    state: SandboxState, req: Request, container: MediaContainer, ctx: CallContext
) -> None:
    """A `container_error` / `container_expired` fault matching the create call makes the new
    container end that way once processed (call under the state lock)."""
    fault = state.take_fault(req.method, req.path, CONTAINER_FAULTS)
    if fault is None:
        return
    container.forced_status = ERROR if fault.kind == "container_error" else EXPIRED
    message = fault.params.get("message")
    code = fault.params.get("code")
    subcode = fault.params.get("subcode", fault.params.get("error_subcode"))
    container.forced_code = int(code) if code is not None else None
    container.forced_subcode = int(subcode) if subcode is not None else None
    if not message and subcode is not None:
        message = f"Media upload has failed with error code {subcode}"
    container.forced_message = str(message) if message else None
    ctx.notes["fault"] = fault.kind


def refuse_unpublishable(
    code: str,
    *,
    already_published: Callable[[], GraphError],
    not_ready: Callable[[], GraphError],
    failed: Callable[[], GraphError] = errors.ig_container_failed,
) -> None:
    """The publish call's answer for a container that is not FINISHED: already published
    (never a second media), still processing, failed, expired."""
    if code == PUBLISHED:
        raise already_published()
    if code == IN_PROGRESS:
        raise not_ready()
    if code == ERROR:
        raise failed()
    if code == EXPIRED:
        raise errors.ig_expired()

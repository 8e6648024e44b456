"""The video pipeline of the brand asset library: sniffing and checking an upload (in the web
request, reading box headers only), probing and the poster frame (in a Celery job, with PyAV),
and each network's warnings. No models, no storage; docs/assets.md ("Videos") describes it.

PyAV ships FFmpeg in its wheels, so nothing is needed on the machine (docs/architecture.md).
"""

import io
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import IO, Final

import av
from PIL import Image

from apps.core.exceptions import ApplicationError
from apps.networks.base import VideoRules

POSTER_SIZE: Final = 400  # like an image's thumbnail: the longest side, never enlarged
POSTER_QUALITY: Final = 85
POSTER_AT_SECONDS: Final = 1.0  # the poster is the frame about this far in (or the first)
SNIFF_BYTES: Final = 32
_BY: Final = " \N{MULTIPLICATION SIGN} "

# ISO base media file brands (the `ftyp` box) that are videos we take; HEIC/AVIF photos use the
# same container with image brands and are left to the image pipeline.
_MP4_BRANDS: Final = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"M4VP",
        b"MSNV",
        b"dash",
        b"3gp4",
        b"3gp5",
        b"3gp6",
    }
)
_MOV_BRANDS: Final = frozenset({b"qt  "})
EXTENSIONS: Final = {"video/mp4": "mp4", "video/quicktime": "mov"}


class VideoRejectionCode(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_A_VIDEO = "not_a_video"
    TRUNCATED = "truncated"
    TOO_LONG = "too_long"
    UNREADABLE = "unreadable"


class VideoRejected(ApplicationError):
    """A video we do not take; the message says why and what to do."""

    default_code = "invalid_video"

    def problem_members(self) -> dict[str, object]:
        """``too_large``: ``size``, ``max_bytes``; ``too_long``: ``duration``, ``max_seconds``."""
        return dict(self.extra)


@dataclass(frozen=True)
class VideoProbe:
    """What the probe found in a video."""

    duration: float  # seconds
    width: int
    height: int
    frame_rate: float | None
    video_codec: str
    audio_codec: str  # "" without sound
    bitrate: int | None  # bits per second, the whole file
    poster: bytes  # JPEG


# --- Formatting ---------------------------------------------------------------------------------


def duration_label(seconds: float) -> str:
    """ "4 h 0 min", "16 min", "1 min 30 s", "12 s" """
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{max(secs, 0)} s" if total >= 1 else f"{seconds:.1f} s"


def badge_label(seconds: float | None) -> str:
    """The grid's duration badge: "0:12", "16:00", "4:00:00"."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _limit_label(seconds: float) -> str:
    return duration_label(seconds)


# --- In the web request: sniffing and the box structure ---------------------------------


def sniff(head: bytes) -> str | None:
    """The content type of a video from its first bytes (the `ftyp` box), or None."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _MP4_BRANDS:
        return "video/mp4"
    if brand in _MOV_BRANDS:
        return "video/quicktime"
    return None


def check_size(size: int, *, max_bytes: int) -> None:
    if size <= 0:
        raise VideoRejected(
            "The file is empty (0 bytes). Choose the video again and re-upload it.",
            code=VideoRejectionCode.EMPTY,
        )
    if size > max_bytes:
        raise VideoRejected(
            f"This video is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}. "
            "Export a shorter or smaller version and upload that.",
            code=VideoRejectionCode.TOO_LARGE,
            extra={"size": size, "max_bytes": max_bytes},
        )


def _truncated() -> VideoRejected:
    return VideoRejected(
        "The video is incomplete (the upload was cut off or the file is damaged). "
        "Upload it again, or export it again from the original.",
        code=VideoRejectionCode.TRUNCATED,
    )


def _boxes(stream: IO[bytes], start: int, end: int) -> list[tuple[bytes, int, int]]:
    """The boxes between ``start`` and ``end``: (type, offset of the content, end)."""
    found: list[tuple[bytes, int, int]] = []
    offset = start
    while offset < end:
        stream.seek(offset)
        header = stream.read(8)
        if len(header) < 8:
            raise _truncated()
        size, kind = struct.unpack(">I4s", header)
        content = offset + 8
        if size == 1:
            large = stream.read(8)
            if len(large) < 8:
                raise _truncated()
            size = struct.unpack(">Q", large)[0]
            content += 8
        elif size == 0:  # "to the end of the file": only the last box may say so
            size = end - offset
        if size < content - offset or offset + size > end:
            raise _truncated()
        found.append((kind, content, offset + size))
        offset += size
    return found


def _mvhd_duration(stream: IO[bytes], moov: tuple[bytes, int, int]) -> float | None:
    for kind, content, box_end in _boxes(stream, moov[1], moov[2]):
        if kind != b"mvhd":
            continue
        stream.seek(content)
        body = stream.read(min(box_end - content, 32))
        if len(body) >= 20 and body[0] == 0:
            timescale, duration = struct.unpack(">II", body[12:20])
        elif len(body) >= 32 and body[0] == 1:
            timescale, duration = struct.unpack(">IQ", body[20:32])
        else:
            return None
        return duration / timescale if timescale else None
    return None


def check_structure(stream: IO[bytes], *, size: int, max_seconds: float) -> float | None:
    """Walk the file's top-level boxes (headers only: a few reads, however large the file) and
    refuse a file cut short or without its index (`moov`), and one whose header says it is
    longer than ``max_seconds``. Returns the header's duration (None when it has none)."""
    boxes = _boxes(stream, 0, size)
    kinds = [kind for kind, _, _ in boxes]
    if b"moov" not in kinds or b"mdat" not in kinds:
        raise _truncated()
    moov = boxes[kinds.index(b"moov")]
    duration = _mvhd_duration(stream, moov)
    stream.seek(0)
    if duration is not None:
        check_duration(duration, max_seconds=max_seconds)
    return duration


def check_duration(duration: float, *, max_seconds: float) -> None:
    if duration > max_seconds:
        raise VideoRejected(
            f"This video is {duration_label(duration)} long; the limit is "
            f"{_limit_label(max_seconds)}. Trim it and upload it again.",
            code=VideoRejectionCode.TOO_LONG,
            extra={"duration": round(duration, 3), "max_seconds": max_seconds},
        )


# --- In the job: the probe and the poster -------------------------------------------------


def _unreadable(detail: str = "") -> VideoRejected:
    return VideoRejected(
        "The video cannot be read"
        + (f" ({detail})" if detail else "")
        + ". Export it again as MP4 (H.264 video, AAC sound) and upload that.",
        code=VideoRejectionCode.UNREADABLE,
    )


def _poster(container: "av.container.InputContainer", duration: float) -> bytes:
    stream = container.streams.video[0]
    frame = None
    if duration > POSTER_AT_SECONDS * 2 and stream.time_base:
        try:
            container.seek(
                int(POSTER_AT_SECONDS / stream.time_base), stream=stream, any_frame=False
            )
            frame = next(container.decode(stream), None)
        except (av.FFmpegError, StopIteration):
            frame = None
    if frame is None:
        container.seek(0)
        frame = next(container.decode(stream), None)
    if frame is None:
        raise _unreadable("it has no picture that can be decoded")
    image = frame.to_image()
    image.thumbnail((POSTER_SIZE, POSTER_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=POSTER_QUALITY)
    return out.getvalue()


def probe(stream: IO[bytes], *, max_seconds: float) -> VideoProbe:
    """Open the video with FFmpeg (PyAV), read its facts and decode its poster frame. Raises
    ``VideoRejected`` for a file FFmpeg cannot read, without a picture, or too long."""
    try:
        with av.open(stream, mode="r") as container:
            if not container.streams.video:
                raise _unreadable("it has no picture, only sound")
            video = container.streams.video[0]
            audio = container.streams.audio[0] if container.streams.audio else None
            duration = _duration(container, video)
            if duration is None:
                raise _unreadable("its length is unknown")
            check_duration(duration, max_seconds=max_seconds)
            rate = video.average_rate or video.guessed_rate
            poster = _poster(container, duration)
            return VideoProbe(
                duration=duration,
                width=video.codec_context.width,
                height=video.codec_context.height,
                frame_rate=round(float(rate), 3) if rate else None,
                video_codec=video.codec_context.name,
                audio_codec=audio.codec_context.name if audio is not None else "",
                bitrate=container.bit_rate or None,
                poster=poster,
            )
    except VideoRejected:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise _unreadable() from exc


def _duration(container: "av.container.InputContainer", video: "av.VideoStream") -> float | None:
    if container.duration:
        return container.duration / av.time_base
    if video.duration and video.time_base:
        return float(video.duration * Fraction(video.time_base))
    return None


# --- Each network's warnings ------------------------------------------------------------


def video_check(
    *,
    rules: VideoRules,
    duration: float | None,
    width: int,
    height: int,
    frame_rate: float | None,
    video_codec: str,
    audio_codec: str,
    size: int,
) -> list[str]:
    """What ``rules``' network would refuse of the video (empty when it fits), each said as
    "Too long for an Instagram Reel (16 min; at most 15 min)"."""
    problems: list[str] = []
    label = rules.label
    if duration is not None:
        if duration > rules.max_seconds + 0.05:
            problems.append(
                f"Too long for {label} ({duration_label(duration)}; at most "
                f"{duration_label(rules.max_seconds)})"
            )
        elif duration < rules.min_seconds - 0.05:
            problems.append(
                f"Too short for {label} ({duration_label(duration)}; at least "
                f"{duration_label(rules.min_seconds)})"
            )
    if rules.max_bytes is not None and size > rules.max_bytes:
        problems.append(
            f"Too large for {label} ({_megabytes(size)}; at most {_megabytes(rules.max_bytes)})"
        )
    if rules.max_fps is not None and frame_rate is not None and frame_rate > rules.max_fps + 0.5:
        problems.append(
            f"Too many frames per second for {label} ({frame_rate:g} fps; at most "
            f"{rules.max_fps:g})"
        )
    if width and height:
        small = (rules.min_width is not None and width < rules.min_width) or (
            rules.min_height is not None and height < rules.min_height
        )
        if small:
            problems.append(
                f"Too small for {label} ({width}{_BY}{height} px; at least "
                f"{rules.min_width or 0}{_BY}{rules.min_height or 0})"
            )
        if not math.isclose(width / height, rules.aspect, abs_tol=rules.aspect_tolerance):
            if rules.aspect_required:
                problems.append(
                    f"Not {rules.aspect_label} as {label} must be ({width}{_BY}{height} px)"
                )
            else:
                problems.append(
                    f"Not {rules.aspect_label}, which {label} should be: it will be cropped "
                    f"or shown with bars ({width}{_BY}{height} px)"
                )
    if video_codec and video_codec not in rules.video_codecs:
        problems.append(
            f"{label[0].upper()}{label[1:]} needs H.264 or HEVC video (this is {video_codec})"
        )
    if audio_codec and audio_codec not in rules.audio_codecs:
        problems.append(f"{label[0].upper()}{label[1:]} needs AAC sound (this is {audio_codec})")
    return problems


def warnings_for(
    all_rules: Sequence[VideoRules],
    *,
    duration: float | None,
    width: int,
    height: int,
    frame_rate: float | None,
    video_codec: str,
    audio_codec: str,
    size: int,
) -> list[str]:
    return [
        problem
        for rules in all_rules
        for problem in video_check(
            rules=rules,
            duration=duration,
            width=width,
            height=height,
            frame_rate=frame_rate,
            video_codec=video_codec,
            audio_codec=audio_codec,
            size=size,
        )
    ]

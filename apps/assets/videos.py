"""The video pipeline of the brand asset library: sniffing and checking an upload (in the web
request, reading box headers only), probing and the poster frame (in a Celery job, with PyAV),
and each network's warnings. No models, no storage; docs/assets.md ("Videos") describes it.

PyAV ships FFmpeg in its wheels, so nothing is needed on the machine (docs/architecture.md).
"""

import io
import itertools
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import IO, TYPE_CHECKING, Any, Final

import av
from PIL import Image

from apps.core.exceptions import ApplicationError
from apps.networks.base import VideoRules

if TYPE_CHECKING:
    from apps.assets.models import BrandAsset

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
    poster: bytes  # JPEG, upright
    # Degrees clockwise a phone's rotation flag turns the picture to show it upright; width and
    # height above are as shown (upright), not as coded.
    rotation: int = 0


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


def _clockwise(frame: "av.VideoFrame") -> int:
    """The frame's display matrix as degrees clockwise to turn it upright: 0, 90, 180 or 270
    (PyAV gives the matrix's angle counter-clockwise; FFmpeg's autorotate turns it back)."""
    return round(-(frame.rotation or 0) / 90) * 90 % 360


def _poster(container: "av.container.InputContainer", duration: float) -> tuple[bytes, int]:
    """The poster frame as an upright JPEG, and the rotation that made it upright."""
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
    rotation = _clockwise(frame)
    image = frame.to_image()
    if rotation:
        image = image.rotate(-rotation, expand=True)  # PIL turns counter-clockwise
    image.thumbnail((POSTER_SIZE, POSTER_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=POSTER_QUALITY)
    return out.getvalue(), rotation


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
            poster, rotation = _poster(container, duration)
            width, height = video.codec_context.width, video.codec_context.height
            if rotation in (90, 270):
                width, height = height, width
            return VideoProbe(
                duration=duration,
                width=width,
                height=height,
                frame_rate=round(float(rate), 3) if rate else None,
                video_codec=video.codec_context.name,
                audio_codec=audio.codec_context.name if audio is not None else "",
                bitrate=container.bit_rate or None,
                poster=poster,
                rotation=rotation,
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


# What video_check reads of a video (and a rendition's facts hold).
FACT_NAMES = (
    "duration",
    "width",
    "height",
    "frame_rate",
    "video_codec",
    "audio_codec",
    "size",
)


def sent_video_facts(asset: "BrandAsset") -> dict[str, Any]:
    """The facts of the file a network is sent for a probed video: its H.264/AAC rendition's
    once converted, the original's otherwise (``apps.assets.services.asset_video_file``)."""
    facts = asset.rendition_facts
    if asset.transcode_status == asset.Transcode.DONE and facts:
        return {name: facts[name] for name in FACT_NAMES}
    return {name: getattr(asset, name) for name in FACT_NAMES}


def asset_video_check(*, rules: VideoRules, asset: "BrandAsset") -> list[str]:
    """What ``rules``' network would refuse of the file it is sent for ``asset`` (the
    networks' ``validate`` and the library's warnings judge the same file)."""
    return video_check(rules=rules, **sent_video_facts(asset))


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


# --- In the job: the H.264/AAC MP4 rendition ----------------------------------------------

RENDITION_LONG_SIDE: Final = 1920
RENDITION_FPS_WITHOUT_RULES: Final = 60.0
RENDITION_VIDEO_MAX_BITRATE: Final = 8_000_000  # 1080p at a quality Meta re-encodes anyway
RENDITION_VIDEO_MIN_BITRATE: Final = 1_000_000
RENDITION_AUDIO_BITRATE: Final = 128_000
RENDITION_AUDIO_RATE: Final = 48_000
RENDITION_CONTENT_TYPE: Final = "video/mp4"
_TRANSPOSE: Final = {90: [("transpose", "clock")], 270: [("transpose", "cclock")]}
_UPSIDE_DOWN: Final = [("hflip", ""), ("vflip", "")]


@dataclass(frozen=True)
class RenditionPlan:
    """What the rendition will be: upright, at most 1920 px long, at most ``fps``."""

    width: int
    height: int
    fps: Fraction
    rotation: int  # degrees clockwise the decoded picture is turned to be upright: 0/90/180/270
    video_bitrate: int  # the cap (the encoder aims at a constant quality below it)


def transcode_reasons(
    all_rules: Sequence[VideoRules],
    *,
    content_type: str,
    frame_rate: float | None,
    video_codec: str,
    audio_codec: str,
    size: int,
) -> list[str]:
    """Why the video must be re-encoded for some network (empty: it goes as it is). Only what
    re-encoding fixes counts; its length, its shape and its size in pixels do not change."""
    reasons: list[str] = []
    if content_type != RENDITION_CONTENT_TYPE:
        reasons.append("not an MP4 file")
    for rules in all_rules:
        if video_codec and video_codec not in rules.video_codecs:
            reasons.append(f"{video_codec} video ({rules.network})")
        if audio_codec and audio_codec not in rules.audio_codecs:
            reasons.append(f"{audio_codec} sound ({rules.network})")
        fps_cap = rules.max_fps
        if fps_cap is not None and frame_rate is not None and frame_rate > fps_cap + 0.5:
            reasons.append(f"{frame_rate:g} fps ({rules.network})")
        if rules.max_bytes is not None and size > rules.max_bytes:
            reasons.append(f"{_megabytes(size)} ({rules.network})")
    return list(dict.fromkeys(reasons))


def transcode_networks(all_rules: Sequence[VideoRules], **facts: object) -> list[str]:
    """The networks whose rules the video breaks in a way re-encoding fixes ("Instagram")."""
    return list(
        dict.fromkeys(
            rules.network
            for rules in all_rules
            if transcode_reasons([rules], **facts)  # type: ignore[arg-type]
        )
    )


def rendition_fps_cap(all_rules: Sequence[VideoRules]) -> float:
    caps = [rules.max_fps for rules in all_rules if rules.max_fps is not None]
    return min(caps) if caps else RENDITION_FPS_WITHOUT_RULES


def rendition_plan(
    all_rules: Sequence[VideoRules],
    *,
    width: int,
    height: int,
    rotation: int,
    frame_rate: float | None,
    duration: float | None,
) -> RenditionPlan:
    """The rendition's size (upright, the long side at most 1920 px, even numbers as yuv420p
    needs, the aspect ratio kept), frame rate (the source's, at most the lowest ``max_fps``)
    and bitrate cap (small enough for the tightest ``max_bytes`` of a format the video's
    length fits, never below 1 Mbit/s)."""
    if rotation in (90, 270):
        width, height = height, width
    scale = min(1.0, RENDITION_LONG_SIDE / max(width, height, 1))
    out_width = max(2, round(width * scale / 2) * 2)
    out_height = max(2, round(height * scale / 2) * 2)
    cap = rendition_fps_cap(all_rules)
    source = Fraction(frame_rate).limit_denominator(1001) if frame_rate else Fraction(30)
    fps = source if source <= cap else Fraction(cap).limit_denominator(1001)
    bitrate = RENDITION_VIDEO_MAX_BITRATE
    if duration:
        for rules in all_rules:
            if rules.max_bytes is not None and duration <= rules.max_seconds:
                budget = int(rules.max_bytes * 8 * 0.9 / duration) - RENDITION_AUDIO_BITRATE
                bitrate = min(bitrate, max(budget, RENDITION_VIDEO_MIN_BITRATE))
    return RenditionPlan(
        width=out_width, height=out_height, fps=fps, rotation=rotation, video_bitrate=bitrate
    )


def _rotation_of(container: "av.container.InputContainer") -> int:
    """The phone's rotation flag, from the first frame's side data (:func:`_clockwise`)."""
    stream = container.streams.video[0]
    for frame in container.decode(stream):
        container.seek(0)
        return _clockwise(frame)
    container.seek(0)
    return 0


def _video_graph(stream: "av.VideoStream", plan: RenditionPlan) -> "av.filter.Graph":
    """Upright (transpose / flips), scaled, at the plan's constant frame rate, yuv420p."""
    graph = av.filter.Graph()
    chain = [graph.add_buffer(template=stream)]
    steps: list[tuple[str, str]] = []
    if plan.rotation == 180:
        steps.extend(_UPSIDE_DOWN)
    else:
        steps.extend(_TRANSPOSE.get(plan.rotation, []))
    steps += [
        ("scale", f"{plan.width}:{plan.height}:flags=bicubic"),
        ("setsar", "1"),
        ("fps", f"{plan.fps.numerator}/{plan.fps.denominator}"),
        ("format", "yuv420p"),
    ]
    for name, args in steps:
        chain.append(graph.add(name, args) if args else graph.add(name))
    chain.append(graph.add("buffersink"))
    for upstream, downstream in itertools.pairwise(chain):
        upstream.link_to(downstream)
    graph.configure()
    return graph


def transcode(
    source: IO[bytes],
    destination: str,
    *,
    all_rules: Sequence[VideoRules],
    on_progress: Callable[[int], None] = lambda percent: None,
) -> RenditionPlan:
    """Re-encode ``source`` as an H.264 (yuv420p, High profile) + AAC MP4 at the path
    ``destination``, with its index (`moov`) at the front so it streams, per
    :func:`rendition_plan`. The display matrix is applied (the pixels are turned upright) and
    not written again. ``on_progress`` gets 0-100 as the video is read. Raises
    ``VideoRejected`` for a source FFmpeg cannot read."""
    try:
        with av.open(source, mode="r") as container:
            if not container.streams.video:
                raise _unreadable("it has no picture, only sound")
            video_in = container.streams.video[0]
            audio_in = container.streams.audio[0] if container.streams.audio else None
            duration = _duration(container, video_in)
            rate = video_in.average_rate or video_in.guessed_rate
            plan = rendition_plan(
                all_rules,
                width=video_in.codec_context.width,
                height=video_in.codec_context.height,
                rotation=_rotation_of(container),
                frame_rate=float(rate) if rate else None,
                duration=duration,
            )
            _encode(container, video_in, audio_in, destination, plan, duration, on_progress)
            return plan
    except VideoRejected:
        raise
    except (av.FFmpegError, ValueError) as exc:  # a storage error (OSError) is for a retry
        raise _unreadable() from exc


def _encode(
    container: "av.container.InputContainer",
    video_in: "av.VideoStream",
    audio_in: "av.AudioStream | None",
    destination: str,
    plan: RenditionPlan,
    duration: float | None,
    on_progress: Callable[[int], None],
) -> None:
    # faststart: the muxer moves the index (`moov`) in front of the media when it closes.
    with av.open(destination, mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        video_out = out.add_stream("libx264", rate=plan.fps)
        video_out.width, video_out.height, video_out.pix_fmt = plan.width, plan.height, "yuv420p"
        video_out.codec_context.time_base = 1 / plan.fps
        video_out.codec_context.options = {
            "crf": "23",
            "preset": "veryfast",
            "profile": "high",
            "maxrate": str(plan.video_bitrate),
            "bufsize": str(plan.video_bitrate * 2),
        }
        audio = _AudioEncoder(out, audio_in) if audio_in is not None else None
        graph = _video_graph(video_in, plan)
        frames = 0
        reported = -1

        def encode_video(frame: "av.VideoFrame | None") -> None:
            nonlocal frames
            graph.vpush(frame)
            while True:
                try:
                    filtered = graph.vpull()
                except (av.BlockingIOError, av.EOFError):
                    return
                # Constant frame rate out of the fps filter: number the frames.
                filtered.pts, filtered.time_base = frames, 1 / plan.fps
                frames += 1
                for packet in video_out.encode(filtered):
                    out.mux(packet)

        streams = [video_in] + ([audio_in] if audio_in is not None else [])
        for packet in container.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    encode_video(frame)
                    if duration and frame.time is not None:
                        percent = min(99, int(frame.time * 100 / duration))
                        if percent != reported:
                            reported = percent
                            on_progress(percent)
                elif isinstance(frame, av.AudioFrame) and audio is not None:
                    audio.encode(frame)
        encode_video(None)
        for packet in video_out.encode():
            out.mux(packet)
        if audio is not None:
            audio.encode(None)
            audio.flush()
    on_progress(100)


class _AudioEncoder:
    """AAC at 48 kHz, mono or stereo as the source (more channels are mixed down to stereo)."""

    def __init__(self, out: "av.container.OutputContainer", audio_in: "av.AudioStream") -> None:
        layout = "mono" if audio_in.codec_context.channels == 1 else "stereo"
        self.out = out
        self.stream = out.add_stream("aac", rate=RENDITION_AUDIO_RATE)
        self.stream.layout = layout
        self.stream.bit_rate = RENDITION_AUDIO_BITRATE
        # AAC takes frames of 1024 samples.
        self.resampler = av.AudioResampler(
            format="fltp", layout=layout, rate=RENDITION_AUDIO_RATE, frame_size=1024
        )
        self.samples = 0

    def encode(self, frame: "av.AudioFrame | None") -> None:
        for resampled in self.resampler.resample(frame):
            resampled.pts = self.samples
            self.samples += resampled.samples
            for packet in self.stream.encode(resampled):
                self.out.mux(packet)

    def flush(self) -> None:
        for packet in self.stream.encode(None):
            self.out.mux(packet)

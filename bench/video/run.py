# A command-line script: it prints its report.
# ruff: noqa: T201
"""Video benchmark (issue 15): how long the asset library's probe job and conversion job take
per minute of 1080p video, against baselines measured in the same run on the same file with
bare PyAV and no product code — so the ratios mean something on a shared, noisy machine.

Usage (from the repository root; ``make bench-video`` does the same):

    .venv/bin/python bench/video/run.py [--seconds 15 --width 1920 --height 1080 --fps 30
        --rounds 1]

1. Generates the test video once with PyAV (FFmpeg's ``testsrc2`` pattern, which moves and is
   not trivially compressible, plus a stereo tone): H.264 at CRF 18 (a phone's bitrate) + AAC,
   MP4, 1920 x 1080, 30 fps. It is not committed; it lives in a temporary directory.
2. Measures, alternating, ``--rounds`` times each:
   - **probe**: ``apps.assets.videos.probe`` (what the ``assets.video_probe`` job runs: the
     facts and the poster frame);
   - **transcode**: ``apps.assets.videos.transcode`` (what ``assets.video_transcode`` runs: the
     H.264/AAC MP4 rendition, filters, faststart), with every network's rules;
   - **baseline decode**: a bare PyAV loop decoding every video and audio frame of the file;
   - **baseline transcode**: a bare PyAV decode + libx264 (same preset and CRF) + AAC encode,
     no filters, no faststart: the least any conversion costs.
3. Prints a Markdown table (seconds, seconds per minute of video, ratio to the baseline) and
   writes bench/results/video-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")


def generate(path: Path, *, seconds: int, width: int, height: int, fps: int) -> None:
    """The test video: testsrc2 frames from an FFmpeg filter graph, a 440 Hz tone."""
    graph = av.filter.Graph()
    source = graph.add("testsrc2", f"size={width}x{height}:rate={fps}:duration={seconds}")
    fmt = graph.add("format", "yuv420p")
    sink = graph.add("buffersink")
    source.link_to(fmt)
    fmt.link_to(sink)
    graph.configure()
    tone = av.filter.Graph()
    sine = tone.add("sine", f"frequency=440:sample_rate=48000:duration={seconds}")
    aformat = tone.add("aformat", "sample_fmts=fltp:channel_layouts=stereo")
    asink = tone.add("abuffersink")
    sine.link_to(aformat)
    aformat.link_to(asink)
    tone.configure()
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.options = {"crf": "18", "preset": "veryfast"}
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "stereo"
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000, frame_size=1024)
        index = 0
        while True:
            try:
                frame = graph.vpull()
            except (av.BlockingIOError, av.EOFError):
                break
            frame.pts, frame.time_base = index, Fraction(1, fps)
            index += 1
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        samples = 0
        while True:
            try:
                chunk = tone.pull()
            except (av.BlockingIOError, av.EOFError):
                break
            if not isinstance(chunk, av.AudioFrame):
                continue
            for resampled in resampler.resample(chunk):
                resampled.pts = samples
                samples += resampled.samples
                for packet in audio.encode(resampled):
                    out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)


def baseline_decode(path: Path) -> int:
    """Every frame of every stream decoded, nothing else."""
    frames = 0
    with av.open(str(path)) as container:
        for frame in container.decode(*container.streams.video, *container.streams.audio):
            frames += frame is not None
    return frames


def baseline_transcode(path: Path, destination: Path) -> int:
    """Decode + H.264 (the product's preset and CRF) + AAC, timestamps passed through."""
    frames = 0
    with av.open(str(path)) as source, av.open(str(destination), "w", format="mp4") as out:
        video_in, audio_in = source.streams.video[0], source.streams.audio[0]
        video = out.add_stream("libx264", rate=video_in.average_rate)
        video.width, video.height, video.pix_fmt = (
            video_in.codec_context.width,
            video_in.codec_context.height,
            "yuv420p",
        )
        video.codec_context.options = {"crf": "23", "preset": "veryfast"}
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "stereo"
        for packet in source.demux(video_in, audio_in):
            for frame in packet.decode():
                frames += 1
                if isinstance(frame, av.VideoFrame):
                    out.mux(video.encode(frame))
                elif isinstance(frame, av.AudioFrame):
                    out.mux(audio.encode(frame))
        out.mux(video.encode())
        out.mux(audio.encode())
    return frames


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from apps.assets import videos
    from apps.networks import registry

    rules = registry.video_rules()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-video-") as scratch:
        source = Path(scratch) / "source.mp4"
        generated = timed(
            lambda: generate(
                source, seconds=args.seconds, width=args.width, height=args.height, fps=args.fps
            )
        )
        print(
            f"generated {args.seconds} s of {args.width}x{args.height} at {args.fps} fps "
            f"({source.stat().st_size / 1e6:.1f} MB) in {generated:.1f} s",
            flush=True,
        )

        def probe() -> None:
            with source.open("rb") as file:
                videos.probe(file, max_seconds=float("inf"))

        def transcode() -> None:
            with source.open("rb") as file:
                videos.transcode(file, str(Path(scratch) / "rendition.mp4"), all_rules=rules)

        measures: dict[str, Callable[[], object]] = {
            "baseline decode (bare PyAV)": lambda: baseline_decode(source),
            "probe (videos.probe)": probe,
            "baseline transcode (bare PyAV)": lambda: baseline_transcode(
                source, Path(scratch) / "baseline.mp4"
            ),
            "transcode (videos.transcode)": transcode,
        }
        times: dict[str, list[float]] = {name: [] for name in measures}
        for _ in range(args.rounds):
            for name, function in measures.items():
                times[name].append(timed(function))
                print(f"  {name}: {times[name][-1]:.2f} s", flush=True)
        rendition = Path(scratch) / "rendition.mp4"
        with rendition.open("rb") as file:
            facts = videos.probe(file, max_seconds=float("inf"))
        rendition_bytes = rendition.stat().st_size

    minutes = args.seconds / 60
    median = {name: statistics.median(values) for name, values in times.items()}
    decode = median["baseline decode (bare PyAV)"]
    bare = median["baseline transcode (bare PyAV)"]
    print()
    shape = f"{args.width}x{args.height}"
    print(f"{args.seconds} s of {shape} at {args.fps} fps, {os.cpu_count()} CPUs")
    print()
    print("| measure | seconds | s per minute of video | / bare decode | / bare transcode |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds in median.items():
        print(
            f"| {name} | {seconds:.2f} | {seconds / minutes:.1f} | {seconds / decode:.2f} | "
            f"{seconds / bare:.2f} |"
        )
    print()
    print(
        f"rendition: {facts.width}x{facts.height}, {facts.video_codec}/{facts.audio_codec}, "
        f"{facts.frame_rate} fps, {rendition_bytes / 1e6:.1f} MB"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "video": {
            "seconds": args.seconds,
            "width": args.width,
            "height": args.height,
            "fps": args.fps,
        },
        "seconds": times,
        "median": median,
        "per_minute_of_video": {name: value / minutes for name, value in median.items()},
        "rendition": {
            "width": facts.width,
            "height": facts.height,
            "video_codec": facts.video_codec,
            "audio_codec": facts.audio_codec,
            "frame_rate": facts.frame_rate,
            "bytes": rendition_bytes,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg(),
            "python": platform.python_version(),
            "pyav": av.__version__,
            "ffmpeg": av.library_versions.get("libavcodec"),
        },
    }
    (RESULTS / f"video-{stamp}.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

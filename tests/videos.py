"""Synthetic videos made with PyAV for the tests (never committed binaries)."""

import io
from fractions import Fraction

import av
from PIL import Image


def mp4(
    width: int = 320,
    height: int = 240,
    *,
    seconds: float = 3,
    fps: int = 25,
    audio: bool = True,
    container: str = "mp4",
) -> bytes:
    """A few seconds of H.264 (+ AAC) frames of changing colour."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=44100) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for i in range(round(seconds * fps)):
            picture = Image.new("RGB", (width, height), ((i * 7) % 256, 90, 160))
            for packet in video.encode(av.VideoFrame.from_image(picture)):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if sound is not None:
            samples = 0
            while samples < seconds * 44100:
                frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
                frame.planes[0].update(bytes(4096))
                frame.sample_rate, frame.pts = 44100, samples
                for packet in sound.encode(frame):
                    out.mux(packet)
                samples += 1024
            for packet in sound.encode():
                out.mux(packet)
    return buffer.getvalue()


def long_mp4(seconds: int = 4 * 3600) -> bytes:
    """A real ``seconds``-long video, cheaply: one small frame every ten minutes."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=1)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = Fraction(1, 1)
        for at in range(0, seconds + 1, 600):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 64), (at % 256, 0, 0)))
            frame.pts, frame.time_base = at, Fraction(1, 1)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return buffer.getvalue()

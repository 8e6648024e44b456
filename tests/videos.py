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
    codec: str = "libx264",
    audio_codec: str = "aac",
    rotation: int | None = None,
) -> bytes:
    """A few seconds of H.264 (+ AAC) frames of changing colour, with a red square in the
    top-left corner (to see which way up a picture is). ``codec`` / ``audio_codec`` make other
    kinds ("mpeg4", "pcm_s16le" in a "mov"); ``rotation`` writes a phone's rotation flag (the
    display matrix, degrees counter-clockwise as FFmpeg takes it: -90 is a phone held upright)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = out.add_stream(audio_codec, rate=44100) if audio else None
        sample_format = "s16" if audio_codec.startswith("pcm_s16") else "fltp"
        if sound is not None:
            sound.layout = "mono"
        for i in range(round(seconds * fps)):
            picture = Image.new("RGB", (width, height), ((i * 7) % 256, 90, 160))
            picture.paste((255, 0, 0), (0, 0, width // 4, height // 4))
            for packet in video.encode(av.VideoFrame.from_image(picture)):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if sound is not None:
            samples = 0
            while samples < seconds * 44100:
                frame = av.AudioFrame(format=sample_format, layout="mono", samples=1024)
                frame.planes[0].update(bytes(1024 * frame.format.bytes))
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

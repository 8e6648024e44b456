"""Images: fetching a URL as Meta does, recognising formats, and drawing the demo pictures."""

import hashlib
import struct
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import asdict, dataclass
from typing import Any

MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024
USER_AGENT = "facebookexternalhit/1.1 (sandbox; +https://developers.facebook.com/)"


@dataclass(slots=True)
class MediaSource:
    """Where an image came from and what the sandbox saw of it (never the bytes themselves)."""

    kind: str  # "url" or "upload"
    url: str | None = None
    fetched: bool = False
    http_status: int | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    image_format: str | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None
    # Videos (sandbox/video.py): the container format and what the MP4 boxes say.
    video_format: str | None = None
    duration_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MediaSource":
        return cls(**data)


class FetchError(Exception):
    def __init__(self, reason: str, *, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timeout = timeout


def is_http_url(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def sniff_format(data: bytes) -> str | None:
    """The image format from the magic bytes (what Meta trusts, not the Content-Type)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def image_size(data: bytes, image_format: str | None) -> tuple[int, int] | None:
    """Width and height of a JPEG (from its SOF segment) or a PNG (from IHDR)."""
    if image_format == "png" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if image_format != "jpeg":
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None


def describe(data: bytes, *, kind: str, url: str | None = None) -> MediaSource:
    image_format = sniff_format(data)
    size = image_size(data, image_format)
    return MediaSource(
        kind=kind,
        url=url,
        fetched=kind == "url",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        image_format=image_format,
        width=size[0] if size else None,
        height=size[1] if size else None,
    )


def fetch(url: str, *, timeout: float) -> MediaSource:
    """GET the URL like Meta's fetcher: follow redirects, expect a 200, keep what was seen."""
    status, content_type, data = download(url, timeout=timeout)
    source = describe(data, kind="url", url=url)
    source.http_status = status
    source.content_type = content_type
    return source


def download(
    url: str, *, timeout: float, max_bytes: int = MAX_DOWNLOAD_BYTES
) -> tuple[int, str | None, bytes]:
    """(status, Content-Type, bytes) of a GET of the URL, or FetchError."""
    if not is_http_url(url):
        raise FetchError("not an http(s) URL")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
    try:
        # The scheme is checked above: only http and https reach urlopen.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = int(response.status)
            content_type = response.headers.get("Content-Type")
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code}") from exc
    except TimeoutError as exc:
        raise FetchError("timed out", timeout=True) from exc
    except urllib.error.URLError as exc:
        timed_out = isinstance(exc.reason, TimeoutError)
        raise FetchError(f"could not connect: {exc.reason}", timeout=timed_out) from exc
    except (OSError, ValueError) as exc:
        raise FetchError(f"could not read: {exc}") from exc
    if status != 200:
        raise FetchError(f"HTTP {status}")
    if len(data) > max_bytes:
        raise FetchError("too large")
    return status, content_type, data


# --- the demo pictures ----------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def picture_png(seed: str, size: int = 100) -> bytes:
    """A small square PNG in colours derived from `seed`: two tones and a diagonal band."""
    digest = hashlib.sha256(seed.encode()).digest()
    background = bytes(64 + b % 160 for b in digest[:3])
    band = bytes(255 - b for b in background)
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")
        for x in range(size):
            row += band if abs(x - y) < size // 8 or abs(x + y - size) < size // 12 else background
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _png_chunk(b"IEND", b"")
    )

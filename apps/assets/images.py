"""The image pipeline of the brand asset library: uploads in, safe images and renditions out.

Pure functions over bytes: no models, no storage, no Django. The services call
`process_upload` once per upload, store `ProcessedImage.content` and `.thumbnail` under
`storage_name(...)`, show `image_check(...)`, and make `image_rendition(...)` when a post goes
to a network with image rules (Instagram). The rules themselves (`ImageRules`) belong to each
network's package (`apps/networks/*/limits.py`); nothing here knows a network. Every refusal
is an `ImageRejected` with a code and a message meant for the person who uploaded the file.
docs/assets.md ("Upload pipeline") describes the policy.

Nothing here changes Pillow's process-wide settings (`Image.MAX_IMAGE_PIXELS`,
`ImageFile.LOAD_TRUNCATED_IMAGES`, warning filters), so it is safe in threads.
"""

import hashlib
import io
import math
import re
import struct
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, TypeVar

from PIL import ExifTags, Image, ImageChops, ImageCms, ImageOps, JpegImagePlugin

from apps.core.exceptions import ApplicationError
from apps.networks.base import ImageRules

# --- What is accepted -------------------------------------------------------------------------

ACCEPTED_TYPES: Final[tuple[str, ...]] = ("image/jpeg", "image/png", "image/webp", "image/gif")
"""Content types accepted on upload (sniffed from the bytes). GIF only as a still image."""

SERVED_TYPES: Final[dict[str, str]] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}
"""Content types of what is stored and served, with their file extension (a GIF becomes a PNG)."""

# Pillow format id -> (content type of the upload, content type stored, extension stored)
_FORMATS: Final[dict[str, tuple[str, str, str]]] = {
    "JPEG": ("image/jpeg", "image/jpeg", "jpg"),
    "PNG": ("image/png", "image/png", "png"),
    "WEBP": ("image/webp", "image/webp", "webp"),
    "GIF": ("image/gif", "image/png", "png"),
}
_ACCEPTED_NAMES: Final = "JPEG, PNG, WebP or GIF"

JPEG_QUALITY: Final = 92
WEBP_QUALITY: Final = 90
THUMBNAIL_SIZE: Final = 400
THUMBNAIL_QUALITY: Final = 85
THUMBNAIL_CONTENT_TYPE: Final = "image/jpeg"

# --- File names ---------------------------------------------------------------------------------

FILENAME_MAX_LENGTH: Final = 150
FILENAME_FALLBACK: Final = "image"

_T = TypeVar("_T")
_MB: Final = 1024 * 1024
_BY: Final = " \N{MULTIPLICATION SIGN} "


class RejectionCode(StrEnum):
    """Why an upload was refused; `ImageRejected.code` holds one of these."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    TOO_MANY_PIXELS = "too_many_pixels"
    TRAILING_CONTENT = "trailing_content"
    TOO_SMALL = "too_small"
    ANIMATED = "animated"


class ImageRejected(ApplicationError):
    """An upload that is not an image we accept; the message says why and what to do."""

    default_code = "invalid_image"


@dataclass(frozen=True)
class ProcessedImage:
    """An accepted upload, re-encoded from its decoded pixels: nothing of the file survives but
    the picture (no metadata, no trailing bytes, no embedded payload)."""

    content: bytes = field(repr=False)
    content_type: str
    extension: str
    width: int
    height: int
    size: int
    sha256: str  # of the uploaded bytes: "the same file uploaded twice"
    original_format: str  # Pillow's name: JPEG, PNG, WEBP, GIF
    had_metadata: bool  # EXIF, XMP, IPTC, comments or text chunks were found and removed
    had_location: bool  # among them, GPS coordinates
    thumbnail: bytes = field(repr=False)
    thumbnail_content_type: str = THUMBNAIL_CONTENT_TYPE


# --- The pipeline -------------------------------------------------------------------------------


def process_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """Check an uploaded file and return the image to store, or raise `ImageRejected`.

    Checks, in order: empty, over `max_bytes`, type sniffed from the bytes, dimensions from the
    header against `max_pixels` (before any pixel is decoded), animation, `verify()`, a full decode,
    content appended after the image. The type never comes from the file name or the client.
    """
    check_upload_size(len(data), max_bytes=max_bytes)
    fmt = _sniff(data)
    width, height = _header_size(data, fmt)
    _check_pixels(width, height, max_pixels=max_pixels)

    with _open(data, fmt) as probe:
        _check_pixels(*probe.size, max_pixels=max_pixels)
        if getattr(probe, "is_animated", False) and probe.format != "MPO":
            # MPO is a phone JPEG with extra pictures (depth map, preview): its first frame is
            # the photo. Anything else with several frames is an animation.
            raise ImageRejected(
                "This image is animated; only still images can be posted. "
                "Upload a still JPEG or PNG instead.",
                code=RejectionCode.ANIMATED,
            )
        _pillow(probe.verify)

    with _open(data, fmt) as img:
        _pillow(img.load)
        _check_trailing_content(data, fmt)
        had_metadata, had_location = _pillow(lambda: _metadata_found(img))
        subsampling = JpegImagePlugin.get_sampling(img) if fmt == "JPEG" else -1
        lossless = fmt == "WEBP" and _webp_is_lossless(data)
        picture = _pillow(lambda: _to_srgb(ImageOps.exif_transpose(img)))

    _, content_type, extension = _FORMATS[fmt]
    content = _pillow(
        lambda: _encode(picture, content_type, subsampling=subsampling, lossless=lossless)
    )
    return ProcessedImage(
        content=content,
        content_type=content_type,
        extension=extension,
        width=picture.width,
        height=picture.height,
        size=len(content),
        sha256=hashlib.sha256(data).hexdigest(),
        original_format=fmt,
        had_metadata=had_metadata,
        had_location=had_location,
        thumbnail=_pillow(lambda: _thumbnail(picture)),
    )


def check_upload_size(size: int, *, max_bytes: int) -> None:
    """The first two checks of `process_upload`, usable before an upload is read into memory."""
    if size == 0:
        raise ImageRejected(
            "The file is empty (0 bytes). Choose the photo again and re-upload it.",
            code=RejectionCode.EMPTY,
        )
    if size > max_bytes:
        raise ImageRejected(
            f"This file is {_megabytes(size, round_up=True)}; "
            f"the limit is {_megabytes(max_bytes)}. Upload a smaller version of the photo.",
            code=RejectionCode.TOO_LARGE,
            extra={"size": size, "max_bytes": max_bytes},
        )


def image_rendition(content: bytes, *, rules: ImageRules) -> bytes:
    """A network-ready JPEG of a stored image: RGB, sRGB, transparency on white, at most
    ``rules.max_width`` x ``max_height`` (Instagram: 1440 x 1800), under ``max_bytes``. The same
    input always gives the same bytes."""
    fmt = _sniff(content)
    with _open(content, fmt) as img:
        _pillow(img.load)
        picture = _pillow(lambda: _flatten(_to_srgb(ImageOps.exif_transpose(img))))
    picture.thumbnail((rules.max_width, rules.max_height), Image.Resampling.LANCZOS)
    quality = rules.jpeg_quality
    while True:
        rendition = _jpeg(picture, quality=quality, subsampling=2)
        if len(rendition) <= rules.max_bytes:
            return rendition
        if quality > rules.min_jpeg_quality:
            quality -= 5
        else:  # cannot happen at 1440 x 1800, kept so the limit holds whatever the rules
            picture = picture.resize(
                (max(1, picture.width * 3 // 4), max(1, picture.height * 3 // 4)),
                Image.Resampling.LANCZOS,
            )


def image_check(
    *, rules: ImageRules, width: int, height: int, size: int, content_type: str
) -> list[str]:
    """Why an image cannot go to the network of ``rules``; an empty list when it can.

    Only what the automatic conversion cannot fix fails: the aspect ratio (Instagram: 4:5 to
    1.91:1) and a width under the minimum. Format and file size are fixed by `image_rendition`
    (see `image_notes`); the size limit fails only a file already in the network's form (a JPEG
    no wider than the maximum, i.e. a rendition), because nothing would recompress it.
    """
    problems: list[str] = []
    if width < 1 or height < 1:
        return ["The image has no pixels."]
    net = rules.network
    ratio = width / height
    shown = f"{width}{_BY}{height} px, ratio {ratio:.2f}"
    low, high = rules.min_aspect_label, rules.max_aspect_label
    if ratio < rules.min_aspect - rules.aspect_tolerance:
        problems.append(
            f"Too tall for {net} ({shown}): {net} accepts {low} ({rules.min_aspect:.2f}, "
            f"portrait) to {high} (landscape). Crop it to {low} or wider."
        )
    elif ratio > rules.max_aspect + rules.aspect_tolerance:
        problems.append(
            f"Too wide for {net} ({shown}): {net} accepts {low} (portrait) to "
            f"{high} ({rules.max_aspect:.2f}, landscape). Crop it to {high} or narrower."
        )
    if width < rules.min_width:
        problems.append(
            f"Too small for {net}: it is {width} px wide and {net} needs at least "
            f"{rules.min_width} px. Use a larger version of the photo."
        )
    if _is_ready(rules, width=width, content_type=content_type) and size > rules.max_bytes:
        problems.append(
            f"Too large for {net}: the file is {_megabytes(size, round_up=True)} "
            f"and {net} accepts at most {_megabytes(rules.max_bytes)}."
        )
    return problems


def image_notes(
    *, rules: ImageRules, width: int, height: int, size: int, content_type: str
) -> list[str]:
    """What the network's rendition will change (information, not problems)."""
    net = rules.network
    notes: list[str] = []
    if content_type not in rules.formats:
        notes.append(f"It will be converted to JPEG for {net} automatically.")
    if width > rules.max_width or height > rules.max_height:
        notes.append(f"It will be scaled down to at most {rules.max_width} px wide for {net}.")
    if size > rules.max_bytes and not _is_ready(rules, width=width, content_type=content_type):
        notes.append(
            f"It will be recompressed to stay under {net}'s {_megabytes(rules.max_bytes)} limit."
        )
    return notes


# --- Names --------------------------------------------------------------------------------------

_KEEP_FORMAT_CHARACTERS: Final = frozenset("\u200c\u200d")  # joiners inside emoji and scripts
_GRAPHEME_EXTENDERS: Final = frozenset("\u200c\u200d\ufe0e\ufe0f")


def safe_filename(name: str, *, max_length: int = FILENAME_MAX_LENGTH) -> str:
    """The display name of an uploaded file: no directory part, NFC, no control or bidi
    characters, single spaces, at most `max_length` characters with the extension kept, never
    empty. Only ever shown; files are stored under `storage_name`."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)  # "C:photo.jpg", a drive-relative Windows path
    kept: list[str] = []
    for char in name:
        category = unicodedata.category(char)
        if category in ("Zs", "Zl", "Zp") or char in "\t\n\r\v\f":
            kept.append(" ")
        elif category in ("Cc", "Cf", "Cs") and char not in _KEEP_FORMAT_CHARACTERS:
            continue  # controls, bidi overrides (U+202E), zero-width and tag characters
        else:
            kept.append(char)
    name = " ".join("".join(kept).split()).rstrip(" .")
    if name.startswith("."):
        name = FILENAME_FALLBACK + name  # ".jpg" -> "image.jpg"; no hidden files on download
    if len(name) > max_length:
        name = _shorten(name, max_length)
    return name or FILENAME_FALLBACK


def storage_name(
    sha256: str, extension: str, *, namespace: str | None = None, variant: str | None = None
) -> str:
    """Where a file is stored: `assets/[namespace/]ab/cd/<sha256>[.variant].<ext>`.

    Deterministic and known only to whoever has the bytes; never derived from the user's file
    name. `namespace` (e.g. the tenant id) keeps two tenants' identical uploads apart; `variant`
    names a derivative such as "thumb" or "instagram".
    """
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("sha256 must be 64 lowercase hexadecimal characters")
    if extension not in ("jpg", "png", "webp", "mp4", "mov"):
        raise ValueError(f"unexpected extension {extension!r}")
    prefix = "assets/"
    if namespace is not None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", namespace):
            raise ValueError("namespace must be 1-64 letters, digits, '-' or '_'")
        prefix += f"{namespace}/"
    suffix = ""
    if variant is not None:
        if not re.fullmatch(r"[a-z0-9]{1,32}", variant):
            raise ValueError("variant must be 1-32 lowercase letters or digits")
        suffix = f".{variant}"
    return f"{prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}.{extension}"


def _shorten(name: str, max_length: int) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 16 or " " in extension:
        stem, extension = name, ""
    room = max_length - (len(extension) + 1 if extension else 0)
    if room < 1:  # no space for the extension at this length
        stem, extension, room = name, "", max_length
    cut = room
    # Do not split a character from its accents or an emoji sequence from its joiners.
    while cut > 0 and (
        unicodedata.combining(stem[cut])
        or unicodedata.category(stem[cut]) in ("Mn", "Mc", "Me")
        or stem[cut] in _GRAPHEME_EXTENDERS
        or stem[cut - 1] in _GRAPHEME_EXTENDERS
    ):
        cut -= 1
    stem = stem[:cut].rstrip(" .") or FILENAME_FALLBACK
    return f"{stem}.{extension}" if extension else stem


# --- Sniffing -----------------------------------------------------------------------------------

_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})

# (prefix, what it is, code): checked against the first bytes of the file.
_BINARY_SIGNATURES: Final[tuple[tuple[bytes, str, RejectionCode], ...]] = (
    (b"%PDF-", "a PDF document", RejectionCode.NOT_AN_IMAGE),
    (b"PK\x03\x04", "a ZIP archive", RejectionCode.NOT_AN_IMAGE),
    (b"PK\x05\x06", "a ZIP archive", RejectionCode.NOT_AN_IMAGE),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an older Microsoft Office document",
        RejectionCode.NOT_AN_IMAGE,
    ),
    (b"MZ", "a Windows program", RejectionCode.NOT_AN_IMAGE),
    (b"\x7fELF", "a program", RejectionCode.NOT_AN_IMAGE),
    (b"\xcf\xfa\xed\xfe", "a program", RejectionCode.NOT_AN_IMAGE),
    (b"\xce\xfa\xed\xfe", "a program", RejectionCode.NOT_AN_IMAGE),
    (b"\xca\xfe\xba\xbe", "a program", RejectionCode.NOT_AN_IMAGE),
    (b"#!", "a script", RejectionCode.NOT_AN_IMAGE),
    (b"\x1f\x8b", "a compressed archive", RejectionCode.NOT_AN_IMAGE),
    (b"Rar!\x1a\x07", "a RAR archive", RejectionCode.NOT_AN_IMAGE),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", RejectionCode.NOT_AN_IMAGE),
    (b"\x1aE\xdf\xa3", "a video", RejectionCode.NOT_AN_IMAGE),
    (b"OggS", "an audio or video file", RejectionCode.NOT_AN_IMAGE),
    (b"ID3", "an audio file", RejectionCode.NOT_AN_IMAGE),
    (b"II*\x00", "a TIFF or camera RAW image", RejectionCode.UNSUPPORTED_FORMAT),
    (b"MM\x00*", "a TIFF or camera RAW image", RejectionCode.UNSUPPORTED_FORMAT),
    (b"8BPS", "a Photoshop document", RejectionCode.UNSUPPORTED_FORMAT),
    (b"\x00\x00\x01\x00", "an icon file", RejectionCode.UNSUPPORTED_FORMAT),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image", RejectionCode.UNSUPPORTED_FORMAT),
    (b"\xffO\xffQ", "a JPEG 2000 image", RejectionCode.UNSUPPORTED_FORMAT),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "a JPEG XL image", RejectionCode.UNSUPPORTED_FORMAT),
    (b"\xff\x0a", "a JPEG XL image", RejectionCode.UNSUPPORTED_FORMAT),
    (b"%!PS", "a PostScript or EPS file", RejectionCode.UNSUPPORTED_FORMAT),
)


def _sniff(data: bytes) -> str:
    """The Pillow format of an accepted image, from its magic number; or `ImageRejected`."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    raise _not_accepted(data)


def _not_accepted(data: bytes) -> ImageRejected:
    what, code = _identify(data)
    if code == RejectionCode.UNSUPPORTED_FORMAT:
        if what == "HEIC":
            message = (
                "This is a HEIC photo (the format iPhones use by default), which cannot be "
                "used here. Convert it to JPEG first (on an iPhone: Settings > Camera > "
                "Formats > Most Compatible), then upload it again."
            )
        elif what == "SVG":
            message = (
                "SVG drawings are not accepted because they can contain scripts. "
                "Export the drawing as PNG and upload that."
            )
        else:
            message = (
                f"This is {what}, which is not supported. Only {_ACCEPTED_NAMES} images are "
                "accepted: save it as JPEG or PNG and upload it again."
            )
    elif what:
        message = (
            f"This is not an image: it looks like {what}. "
            f"Upload a photo or picture in {_ACCEPTED_NAMES} format."
        )
    else:
        message = (
            "This file is not an image that can be read. "
            f"Upload a photo or picture in {_ACCEPTED_NAMES} format."
        )
    return ImageRejected(message, code=code)


def _identify(data: bytes) -> tuple[str, RejectionCode]:
    """Name a file that is not an accepted image, as well as the first bytes allow."""
    head = data[:4096]
    if head[4:8] == b"ftyp":
        box_end = min(int.from_bytes(head[:4], "big"), len(head))
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
        if brands & _AVIF_BRANDS:
            return "an AVIF image", RejectionCode.UNSUPPORTED_FORMAT
        if brands & _HEIF_BRANDS:
            return "HEIC", RejectionCode.UNSUPPORTED_FORMAT
        return "a video", RejectionCode.NOT_AN_IMAGE
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "):
        return "an audio or video file", RejectionCode.NOT_AN_IMAGE
    if head.startswith(b"BM") and len(head) > 14 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return "a BMP image", RejectionCode.UNSUPPORTED_FORMAT
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        for folder, document in (
            (b"word/", "a Word"),
            (b"xl/", "an Excel"),
            (b"ppt/", "a PowerPoint"),
        ):
            if folder in head:
                return f"{document} document", RejectionCode.NOT_AN_IMAGE
    for prefix, what, code in _BINARY_SIGNATURES:
        if head.startswith(prefix):
            return what, code
    if b"%PDF-" in head[:1024]:
        return "a PDF document", RejectionCode.NOT_AN_IMAGE

    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text:
        return "SVG", RejectionCode.UNSUPPORTED_FORMAT
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")) or (
        text.startswith(b"<") and b"<html" in text
    ):
        return "a web page (HTML)", RejectionCode.NOT_AN_IMAGE
    if text.startswith(b"<?php"):
        return "a PHP script", RejectionCode.NOT_AN_IMAGE
    if text.startswith(b"<?xml"):
        return "an XML document", RejectionCode.NOT_AN_IMAGE
    if _looks_like_text(head):
        return "a text file", RejectionCode.NOT_AN_IMAGE
    return "", RejectionCode.NOT_AN_IMAGE


def _looks_like_text(head: bytes) -> bool:
    text = head.decode("utf-8", errors="replace")  # a cut character counts as unprintable
    printable = sum(
        1 for char in text if char != "\ufffd" and (char.isprintable() or char in "\t\r\n")
    )
    return printable > 0.95 * len(text)


# --- Structure of the accepted formats ----------------------------------------------------------
# Just enough parsing to read the dimensions before Pillow does anything (so a decompression bomb
# is refused from its header) and to find where the image data ends (so what follows is known).

_JPEG_SOF: Final = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)}
)
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})


def _truncated() -> ImageRejected:
    return ImageRejected(
        "The image is incomplete (the upload was cut off or the file is damaged). "
        "Upload it again, or export it again from the original.",
        code=RejectionCode.TRUNCATED,
    )


def _corrupt() -> ImageRejected:
    return ImageRejected(
        "The image is damaged and cannot be read. Open it in a photo editor, save it again as "
        "JPEG or PNG, and upload that.",
        code=RejectionCode.CORRUPT,
    )


def _header_size(data: bytes, fmt: str) -> tuple[int, int]:
    try:
        if fmt == "PNG":
            if len(data) < 24:
                raise _truncated()
            if data[12:16] != b"IHDR":
                raise _corrupt()
            width, height = struct.unpack(">II", data[16:24])
        elif fmt == "GIF":
            if len(data) < 10:
                raise _truncated()
            width, height = struct.unpack("<HH", data[6:10])
        elif fmt == "WEBP":
            width, height = _webp_size(data)
        else:
            width, height = _jpeg_size(data)
    except (struct.error, IndexError) as error:
        raise _truncated() from error
    return int(width), int(height)


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start of payload, end of payload) of each JPEG segment, in order; the entropy
    coded data after each SOS is skipped. Stops after EOI; raises `_truncated()` at the end."""
    size = len(data)
    pos = 2
    while True:
        pos = data.find(b"\xff", pos)  # tolerates stray bytes between segments, like libjpeg
        while 0 <= pos < size and data[pos] == 0xFF:
            pos += 1  # fill bytes
        if pos < 0 or pos >= size:
            raise _truncated()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            yield marker, pos, pos
            return
        if marker in _JPEG_STANDALONE:
            continue
        if pos + 2 > size:
            raise _truncated()
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            raise _corrupt()
        end = pos + length
        if end > size:
            raise _truncated()
        yield marker, pos + 2, end
        pos = end
        if marker == 0xDA:  # SOS: entropy-coded data up to the next real marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= size:
                    raise _truncated()
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1 if following == 0xFF else 2
                    continue
                break


def _jpeg_size(data: bytes) -> tuple[int, int]:
    for marker, start, end in _jpeg_segments(data):
        if marker in _JPEG_SOF:
            if end - start < 5:
                raise _corrupt()
            height, width = struct.unpack(">HH", data[start + 1 : start + 5])
            return int(width), int(height)
    raise _corrupt()  # an EOI before any frame header


def _webp_size(data: bytes) -> tuple[int, int]:
    if len(data) < 30:
        raise _truncated()
    if 8 + int.from_bytes(data[4:8], "little") > len(data):
        raise _truncated()
    chunk = data[12:16]
    if chunk == b"VP8X":
        return (
            1 + int.from_bytes(data[24:27], "little"),
            1 + int.from_bytes(data[27:30], "little"),
        )
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise _corrupt()
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise _corrupt()
        return (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    raise _corrupt()


def _webp_chunks(data: bytes) -> Iterator[bytes]:
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    pos = 12
    while pos + 8 <= end:
        yield data[pos : pos + 4]
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        pos += 8 + length + (length & 1)


def _webp_is_lossless(data: bytes) -> bool:
    return b"VP8L" in _webp_chunks(data)


def _image_end(data: bytes, fmt: str) -> int:
    """Offset just after the image data: JPEG's first EOI, PNG's IEND chunk, the RIFF length of
    WebP, GIF's trailer. Raises `_truncated()` when the end is missing."""
    size = len(data)
    if fmt == "JPEG":
        for marker, _, end in _jpeg_segments(data):
            if marker == 0xD9:
                return end
        raise _truncated()
    if fmt == "PNG":
        pos = 8
        while pos + 12 <= size:
            length = int.from_bytes(data[pos : pos + 4], "big")
            end = pos + 12 + length
            if data[pos + 4 : pos + 8] == b"IEND" and end <= size:
                return end
            pos = end
        raise _truncated()
    if fmt == "WEBP":
        riff_size = int.from_bytes(data[4:8], "little")
        return 8 + riff_size + (riff_size & 1)
    return _gif_end(data)


def _gif_end(data: bytes) -> int:
    size = len(data)

    def skip_sub_blocks(pos: int) -> int:
        while pos < size:
            length = data[pos]
            pos += 1 + length
            if length == 0:
                return pos
        raise _truncated()

    pos = 13
    if data[10] & 0x80:
        pos += 3 * (2 << (data[10] & 0x07))
    while pos < size:
        block = data[pos]
        if block == 0x3B:  # trailer
            return pos + 1
        if block == 0x21:  # extension: label, then sub-blocks
            pos = skip_sub_blocks(pos + 2)
        elif block == 0x2C:  # image descriptor, local colour table, LZW code size, sub-blocks
            if pos + 10 > size:
                break
            flags = data[pos + 9]
            pos += 10
            if flags & 0x80:
                pos += 3 * (2 << (flags & 0x07))
            pos = skip_sub_blocks(pos + 1)
        else:
            raise _corrupt()
    raise _truncated()


# Markup or script found anywhere after the image: a polyglot meant to be served as HTML/SVG/PHP.
_SUSPICIOUS_TRAILER: Final = re.compile(
    rb"<(?:script|\?php|html|svg|!doctype|iframe|object|embed|body)\b|javascript:", re.IGNORECASE
)
# Other files glued on after the image (executables, archives such as a JAR, PDFs).
_SUSPICIOUS_TRAILER_START: Final = (
    b"MZ",
    b"\x7fELF",
    b"#!",
    b"PK\x03\x04",
    b"%PDF",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)


def _check_trailing_content(data: bytes, fmt: str) -> None:
    """Refuse markup, scripts and programs appended after the image. Other trailers (MPF pictures,
    motion-photo videos, Samsung's data) are harmless and disappear with the re-encoding."""
    try:
        end = _image_end(data, fmt)
    except IndexError as error:
        raise _truncated() from error
    trailer = data[end:]
    if not trailer:
        return
    if trailer.lstrip(b"\x00 \t\r\n").startswith(_SUSPICIOUS_TRAILER_START) or (
        _SUSPICIOUS_TRAILER.search(trailer)
    ):
        raise ImageRejected(
            "This image has something hidden after the picture (it looks like a web page, "
            "a script or a program), so it was refused for safety. Open the photo in a photo "
            "editor, export it again and upload that.",
            code=RejectionCode.TRAILING_CONTENT,
        )


# --- Decoding -----------------------------------------------------------------------------------

# Pillow's decoders raise all of these on malformed input.
_PILLOW_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
)


def _check_pixels(width: int, height: int, *, max_pixels: int) -> None:
    if width < 1 or height < 1:
        raise ImageRejected(
            f"This image has no pixels ({width}{_BY}{height}), so the file is damaged. "
            "Export the picture again and upload that.",
            code=RejectionCode.TOO_SMALL,
        )
    # Pillow's own limit (it warns above it, fails above twice it) caps ours: its check must
    # never fire, since turning its warning into an error would change process-wide state.
    limit = (
        max_pixels if Image.MAX_IMAGE_PIXELS is None else min(max_pixels, Image.MAX_IMAGE_PIXELS)
    )
    if width * height > limit:
        raise ImageRejected(
            f"This image is {width}{_BY}{height} pixels ({_megapixels(width * height)}); "
            f"the limit is {_megapixels(limit)}. Scale it down and upload it again.",
            code=RejectionCode.TOO_MANY_PIXELS,
            extra={"width": width, "height": height, "max_pixels": limit},
        )


def _open(data: bytes, fmt: str) -> Image.Image:
    """Open lazily (header only), with Pillow restricted to the sniffed format."""
    try:
        img = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Only reached when Pillow reads larger dimensions than the header check did.
        raise ImageRejected(
            "This image has too many pixels to be processed safely. Scale it down and upload it "
            "again.",
            code=RejectionCode.TOO_MANY_PIXELS,
        ) from error
    except _PILLOW_ERRORS as error:
        raise _classify(error) from error
    expected = {fmt, "MPO"} if fmt == "JPEG" else {fmt}
    if img.format not in expected:
        img.close()
        raise _corrupt()
    return img


def _pillow(step: Callable[[], _T]) -> _T:
    """Run a Pillow operation on untrusted data; its failures become `ImageRejected`."""
    try:
        return step()
    except Image.DecompressionBombError as error:
        raise ImageRejected(
            "This image has too many pixels to be processed safely.",
            code=RejectionCode.TOO_MANY_PIXELS,
        ) from error
    except _PILLOW_ERRORS as error:
        raise _classify(error) from error


def _classify(error: Exception) -> ImageRejected:
    text = str(error).lower()
    if isinstance(error, EOFError) or "truncated" in text or "premature end" in text:
        return _truncated()
    return _corrupt()


def _metadata_found(img: Image.Image) -> tuple[bool, bool]:
    """Whether the file carried EXIF, XMP, IPTC, comments or text, and GPS coordinates."""
    exif = img.getexif()
    gps = bool(exif.get_ifd(ExifTags.IFD.GPSInfo)) or ExifTags.Base.GPSInfo in exif
    xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", errors="replace")
    gps = gps or b"GPSLatitude" in xmp
    text = getattr(img, "text", None) if img.format == "PNG" else None
    found = (
        len(exif) > 0
        or bool(xmp)
        or any(key in img.info for key in ("exif", "photoshop", "comment", "Raw profile type exif"))
        or bool(text)
    )
    return found or gps, gps


def _to_srgb(img: Image.Image) -> Image.Image:
    """The picture alone, as L, RGB or RGBA in sRGB: converted through its ICC profile when it
    has one, 16-bit grey scaled to 8 bits, palettes expanded; no `info` (so no metadata)."""
    icc = img.info.get("icc_profile")
    transparency = img.info.get("transparency")
    alpha: Image.Image | None = None
    if img.mode == "I" or img.mode.startswith("I;16"):
        deep = img.convert("I")
        base = deep.point(lambda value: value / 257 + 0.5).convert("L")  # rounded
        if isinstance(transparency, int):
            # A 16-bit colour key: Pillow's own conversion would clip before comparing.
            above = deep.point(lambda value: (value - transparency) * 256).convert("L")
            below = deep.point(lambda value: (transparency - value) * 256).convert("L")
            alpha = ImageChops.lighter(above, below)
    elif img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or transparency is not None:
        rgba = img.convert("RGBA")
        alpha = rgba.getchannel("A")
        base = rgba.convert("RGB")
    elif img.mode in ("1", "L"):
        base = img.convert("L")
    elif img.mode == "CMYK":
        base = img  # its ICC profile, if any, describes CMYK: convert through it below
    else:
        base = img.convert("RGB")

    converted = _apply_icc(base, icc) if icc else None
    if converted is None:
        converted = base if base.mode in ("L", "RGB") else base.convert("RGB")
    if alpha is not None:
        converted = converted.convert("RGBA")
        converted.putalpha(alpha)
    if converted is img:
        converted = img.copy()
    converted.info = {}
    return converted


def _apply_icc(img: Image.Image, icc: bytes) -> Image.Image | None:
    """`img` converted from its embedded profile to sRGB, or None when the profile is unusable
    (then the pixels are taken as sRGB, as browsers do with untagged images)."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.profileToProfile(img, source, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _flatten(img: Image.Image) -> Image.Image:
    """RGB, with any transparency composed onto white."""
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")


def _jpeg(img: Image.Image, *, quality: int, subsampling: int) -> bytes:
    """Baseline JPEG with optimised Huffman tables. Pillow sizes the optimising encoder's buffer
    from the pixel count, which very detailed images overflow ("Suspension not allowed here"):
    those are written with the standard tables instead."""
    try:
        return _jpeg_bytes(img, quality=quality, subsampling=subsampling, optimize=True)
    except OSError:
        return _jpeg_bytes(img, quality=quality, subsampling=subsampling, optimize=False)


def _jpeg_bytes(img: Image.Image, *, quality: int, subsampling: int, optimize: bool) -> bytes:
    buffer = io.BytesIO()
    img.save(
        buffer,
        format="JPEG",
        quality=quality,
        subsampling=subsampling,
        optimize=optimize,
        progressive=False,
    )
    return buffer.getvalue()


def _encode(img: Image.Image, content_type: str, *, subsampling: int, lossless: bool) -> bytes:
    if content_type == "image/jpeg":
        # The original's chroma subsampling: neither inflate the file nor lose colour detail.
        return _jpeg(img, quality=JPEG_QUALITY, subsampling=subsampling if subsampling >= 0 else 2)
    buffer = io.BytesIO()
    if content_type == "image/png":
        img.save(buffer, format="PNG", compress_level=6)
    else:
        if lossless:
            img.save(buffer, format="WEBP", lossless=True, quality=80, method=4)
        else:
            img.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()


def _thumbnail(img: Image.Image) -> bytes:
    thumb = _flatten(img)
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    return _jpeg(thumb, quality=THUMBNAIL_QUALITY, subsampling=2)


def _is_ready(rules: ImageRules, *, width: int, content_type: str) -> bool:
    """Already in the network's form (what a rendition is): nothing would recompress it."""
    return content_type == rules.formats[0] and width <= rules.max_width


def _megabytes(size: int, *, round_up: bool = False) -> str:
    value = size / _MB
    value = math.ceil(value * 10) / 10 if round_up else round(value, 1)
    return f"{value:g} MB" if value >= 0.1 else f"{math.ceil(size / 1024)} KB"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:,.1f} megapixels".replace(".0 ", " ")

"""The upload pipeline: every image is generated here in memory with Pillow; no fixtures on disk."""

import hashlib
import io
import random
import struct
import time
import zlib
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageCms

from apps.assets import images
from apps.assets.images import ImageRejected, ProcessedImage
from apps.networks.instagram.limits import IMAGE_RULES as IG

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
RED = (255, 0, 0)


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def process(data: bytes, **limits: int) -> ProcessedImage:
    return images.process_upload(
        data,
        max_bytes=limits.get("max_bytes", MAX_BYTES),
        max_pixels=limits.get("max_pixels", MAX_PIXELS),
    )


def rejected(data: bytes, **limits: int) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        process(data, **limits)
    return info.value


def reopen(content: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(content))
    img.load()
    return img


def close_to(pixel: Any, expected: tuple[int, ...], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def channels(img: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = img.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_with_header(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` 1-bit pixels and holds a few bytes of data."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def photo(width: int = 64, height: int = 48, colour: Any = "white") -> Image.Image:
    img = Image.new("RGB", (width, height), colour)
    img.paste(RED, (0, 0, 8, 8))  # a marker in the top-left corner
    return img


# --- Accepted images ----------------------------------------------------------------------------


def test_jpeg_is_turned_upright_and_loses_exif_gps_xmp_and_comments() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored sideways: display rotated 90° clockwise
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0)}
    )
    data = encode(
        photo(80, 40), "JPEG", exif=exif, xmp=b"<x:xmpmeta>secret</x:xmpmeta>", comment=b"secret"
    )

    result = process(data)

    assert (result.width, result.height) == (40, 80)
    assert result.content_type == "image/jpeg"
    assert result.extension == "jpg"
    assert result.original_format == "JPEG"
    assert result.had_metadata is True
    assert result.had_location is True
    stored = reopen(result.content)
    assert stored.size == (40, 80)
    # The top-left corner of the sensor image is the top-right corner once upright.
    assert close_to(stored.getpixel((36, 3)), RED)
    assert close_to(stored.getpixel((3, 3)), (255, 255, 255))
    assert len(stored.getexif()) == 0
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(stored.info)
    for secret in (b"Exif", b"PhoneMaker", b"secret", b"xmpmeta"):
        assert secret not in result.content


def test_jpeg_without_metadata_says_so() -> None:
    result = process(encode(photo(), "JPEG"))

    assert result.had_metadata is False
    assert result.had_location is False


def test_png_keeps_its_transparency_and_the_thumbnail_is_flattened_on_white() -> None:
    img = Image.new("RGBA", (60, 40), (0, 0, 255, 255))
    img.paste((0, 0, 0, 0), (30, 0, 60, 40))  # right half fully transparent

    result = process(encode(img, "PNG"))

    assert (result.content_type, result.extension) == ("image/png", "png")
    stored = reopen(result.content)
    assert stored.mode == "RGBA"
    assert stored.getpixel((5, 5)) == (0, 0, 255, 255)
    assert channels(stored, (50, 5))[3] == 0
    thumb = reopen(result.thumbnail)
    assert result.thumbnail_content_type == "image/jpeg"
    assert thumb.format == "JPEG"
    assert thumb.mode == "RGB"
    assert close_to(thumb.getpixel((50, 5)), (255, 255, 255))
    assert close_to(thumb.getpixel((5, 5)), (0, 0, 255))


def test_palette_png_with_transparency_becomes_rgba() -> None:
    img = Image.new("P", (20, 20), 1)
    img.putpalette([255, 255, 255, 255, 0, 0] + [0] * 762)
    img.paste(0, (0, 0, 10, 20))

    result = process(encode(img, "PNG", transparency=0))

    stored = reopen(result.content)
    assert stored.mode == "RGBA"
    assert channels(stored, (5, 5))[3] == 0
    assert stored.getpixel((15, 5)) == (255, 0, 0, 255)


def test_png_text_chunks_are_metadata() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone")

    result = process(encode(photo(), "PNG", pnginfo=info))

    assert result.had_metadata is True
    assert b"someone" not in result.content


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    img = Image.new("I;16", (8, 8), 32896)  # 50 % grey in 16 bits

    result = process(encode(img, "PNG"))

    stored = reopen(result.content)
    assert stored.mode == "L"
    grey = stored.getpixel((0, 0))
    assert isinstance(grey, int)
    assert abs(grey - 128) <= 1


def test_sixteen_bit_grey_png_keeps_its_transparent_colour() -> None:
    img = Image.new("I;16", (8, 8), 500)
    img.putpixel((1, 1), 40_000)

    result = process(encode(img, "PNG", transparency=500))

    stored = reopen(result.content)
    assert stored.mode == "RGBA"
    assert channels(stored, (0, 0))[3] == 0
    assert channels(stored, (1, 1)) == (156, 156, 156, 255)


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_stays_webp(lossless: bool) -> None:
    result = process(encode(photo(), "WEBP", lossless=lossless, quality=90))

    assert (result.content_type, result.extension) == ("image/webp", "webp")
    assert result.original_format == "WEBP"
    stored = reopen(result.content)
    assert stored.format == "WEBP"
    assert close_to(stored.getpixel((2, 2)), RED, tolerance=40)


def test_still_gif_is_stored_as_png() -> None:
    img = photo(30, 20).convert("P")

    result = process(encode(img, "GIF"))

    assert result.original_format == "GIF"
    assert (result.content_type, result.extension) == ("image/png", "png")
    assert reopen(result.content).format == "PNG"


def test_one_pixel_image_is_accepted() -> None:
    result = process(encode(Image.new("RGB", (1, 1), RED), "PNG"))

    assert (result.width, result.height) == (1, 1)
    assert reopen(result.thumbnail).size == (1, 1)


def test_grey_jpeg_stays_grey() -> None:
    result = process(encode(Image.new("L", (16, 16), 90), "JPEG"))

    assert reopen(result.content).mode == "L"


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    img = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # red ink

    result = process(encode(img, "JPEG"))

    stored = reopen(result.content)
    assert stored.mode == "RGB"
    assert close_to(stored.getpixel((16, 16)), RED)


def swapped_primaries_profile() -> bytes:
    """The sRGB profile with its red and green primaries exchanged: "red" in it is sRGB green."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", profile[128:132])[0]
    entries = {}
    for index in range(count):
        start = 132 + 12 * index
        entries[bytes(profile[start : start + 4])] = start
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    profile[red + 4 : red + 12], profile[green + 4 : green + 12] = (
        profile[green + 4 : green + 12],
        profile[red + 4 : red + 12],
    )
    return bytes(profile)


def test_icc_profile_is_applied_and_not_kept() -> None:
    img = Image.new("RGB", (16, 16), RED)

    result = process(encode(img, "PNG", icc_profile=swapped_primaries_profile()))

    stored = reopen(result.content)
    assert "icc_profile" not in stored.info
    assert close_to(stored.getpixel((8, 8)), (0, 255, 0), tolerance=8)


def test_srgb_profile_leaves_colours_alone() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img = Image.new("RGB", (16, 16), (200, 120, 40))

    result = process(encode(img, "PNG", icc_profile=srgb))

    assert close_to(reopen(result.content).getpixel((8, 8)), (200, 120, 40), tolerance=2)


def test_unusable_icc_profile_is_ignored() -> None:
    result = process(encode(photo(), "JPEG", icc_profile=b"not a profile" * 20))

    assert "icc_profile" not in reopen(result.content).info


def test_phone_multi_picture_jpeg_is_its_first_picture() -> None:
    extra = Image.new("RGB", (10, 10), "blue")
    data = encode(photo(50, 30), "MPO", save_all=True, append_images=[extra])

    result = process(data)

    assert result.original_format == "JPEG"
    assert (result.width, result.height) == (50, 30)
    assert reopen(result.content).format == "JPEG"


def test_harmless_trailing_bytes_are_dropped() -> None:
    original = encode(photo(), "JPEG")
    trailer = b"\x00\x00SEFHSamsung" + random.Random(7).randbytes(300) + b"SEFT"

    result = process(original + trailer)

    assert result.content.endswith(b"\xff\xd9")
    assert b"SEFH" not in result.content
    assert result.sha256 == hashlib.sha256(original + trailer).hexdigest()


def test_thumbnail_is_at_most_400_pixels() -> None:
    result = process(encode(photo(1200, 600), "JPEG"))

    assert reopen(result.thumbnail).size == (400, 200)
    assert (result.width, result.height) == (1200, 600)


def test_sha256_is_of_the_uploaded_bytes() -> None:
    data = encode(photo(), "PNG")

    assert process(data).sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_processing_is_deterministic(fmt: str) -> None:
    data = encode(photo(120, 90, "teal"), fmt)

    first, second = process(data), process(data)

    assert first == second
    assert first.content == second.content
    assert first.thumbnail == second.thumbnail
    assert first.size == len(first.content)


def test_repr_does_not_dump_the_bytes() -> None:
    result = process(encode(photo(), "PNG"))

    assert "content=" not in repr(result)
    assert "thumbnail=" not in repr(result)


def test_very_detailed_jpeg_is_still_encoded() -> None:
    # Pure noise overflows the buffer Pillow gives its optimising JPEG encoder.
    noise = Image.frombytes("RGB", (400, 400), random.Random(3).randbytes(400 * 400 * 3))
    data = encode(noise, "JPEG", quality=95, subsampling=0)

    result = process(data)

    assert reopen(result.content).size == (400, 400)


# --- Refused uploads ----------------------------------------------------------------------------


def test_zero_bytes_are_refused() -> None:
    error = rejected(b"")

    assert error.code == "empty"
    assert "empty" in error.message


def test_oversized_file_is_refused_with_both_sizes() -> None:
    data = b"\xff" * int(14.2 * 1024 * 1024)

    error = rejected(data, max_bytes=10 * 1024 * 1024)

    assert error.code == "too_large"
    assert error.message.startswith("This file is 14.2 MB; the limit is 10 MB.")


def test_file_one_byte_over_the_limit_does_not_claim_to_be_within_it() -> None:
    error = rejected(b"\xff" * (MAX_BYTES + 1))

    assert error.message.startswith("This file is 10.1 MB; the limit is 10 MB.")


def test_check_upload_size_can_run_before_reading_the_file() -> None:
    with pytest.raises(ImageRejected) as info:
        images.check_upload_size(MAX_BYTES * 2, max_bytes=MAX_BYTES)

    assert info.value.code == "too_large"
    images.check_upload_size(100, max_bytes=MAX_BYTES)


def zip_file(name: str) -> bytes:
    return b"PK\x03\x04" + b"\x14\x00" * 12 + name.encode() + b"\x00" * 200


@pytest.mark.parametrize(
    ("data", "code", "phrase"),
    [
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_an_image", "a PDF", id="pdf"),
        pytest.param(
            b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
            "not_an_image",
            "web page",
            id="html",
        ),
        pytest.param(
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            b'onload="alert(1)"><rect width="10" height="10"/></svg>',
            "unsupported_format",
            "SVG",
            id="svg",
        ),
        pytest.param(b'<?xml version="1.0"?><menu/>', "not_an_image", "XML", id="xml"),
        pytest.param(zip_file("notes.txt"), "not_an_image", "ZIP", id="zip"),
        pytest.param(zip_file("word/document.xml"), "not_an_image", "Word", id="docx"),
        pytest.param(
            b"MZ\x90\x00\x03" + b"\x00" * 60 + b"PE\x00\x00",
            "not_an_image",
            "Windows program",
            id="exe",
        ),
        pytest.param(b"\x7fELF\x02\x01\x01" + b"\x00" * 50, "not_an_image", "program", id="elf"),
        pytest.param(b"#!/bin/sh\nrm -rf /\n", "not_an_image", "script", id="shebang"),
        pytest.param(
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40,
            "unsupported_format",
            "convert it to JPEG",
            id="heic",
        ),
        pytest.param(
            b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 40,
            "unsupported_format",
            "AVIF",
            id="avif",
        ),
        pytest.param(
            b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 40,
            "not_an_image",
            "video",
            id="mp4",
        ),
        pytest.param(
            b"Menu of the day: soup, bread.\n" * 5, "not_an_image", "text file", id="text"
        ),
        pytest.param(random.Random(1).randbytes(2048), "not_an_image", "not an image", id="random"),
    ],
)
def test_files_that_are_not_accepted_images_are_named(data: bytes, code: str, phrase: str) -> None:
    error = rejected(data)

    assert error.code == code
    assert phrase.lower() in error.message.lower()


@pytest.mark.parametrize(("fmt", "name"), [("TIFF", "TIFF"), ("BMP", "BMP"), ("ICO", "icon")])
def test_other_image_formats_are_unsupported(fmt: str, name: str) -> None:
    error = rejected(encode(photo(), fmt))

    assert error.code == "unsupported_format"
    assert name in error.message
    assert "JPEG" in error.message


def test_messages_never_echo_the_file() -> None:
    payload = b"<html><body><script>alert('owned')</script></body></html>"

    error = rejected(payload)

    assert "owned" not in error.message
    assert "<script" not in error.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_truncated_image_is_refused(fmt: str) -> None:
    data = encode(photo(200, 150, "orange"), fmt)

    error = rejected(data[: len(data) // 2])

    assert error.code == "truncated"
    assert "incomplete" in error.message


def test_jpeg_missing_only_its_end_marker_is_truncated() -> None:
    data = encode(photo(), "JPEG")

    assert rejected(data[:-2]).code == "truncated"


def test_png_with_a_damaged_chunk_is_corrupt() -> None:
    data = bytearray(encode(photo(), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # the CRC no longer matches

    error = rejected(bytes(data))

    assert error.code == "corrupt"
    assert "damaged" in error.message


def test_image_signature_followed_by_garbage_is_refused() -> None:
    error = rejected(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)

    assert error.code in ("corrupt", "truncated")


@pytest.mark.parametrize(
    "trailer",
    [
        b"<script>alert(1)</script>",
        b"\n<?php system($_GET['c']); ?>",
        b"<SVG onload=alert(1)>",
        b"<!DOCTYPE html><p>hi",
        b"MZ\x90\x00\x03\x00\x00\x00",
        b"PK\x03\x04\x14\x00META-INF/MANIFEST.MF",
    ],
)
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_markup_or_program_after_the_image_is_refused(fmt: str, trailer: bytes) -> None:
    error = rejected(encode(photo(), fmt) + trailer)

    assert error.code == "trailing_content"
    assert "hidden after the picture" in error.message


def test_script_inside_a_jpeg_comment_does_not_survive() -> None:
    data = encode(photo(), "JPEG", comment=b"<script>alert(1)</script>")

    result = process(data)

    assert b"<script" not in result.content


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_with_header(30_000, 30_000)
    started = time.perf_counter()

    error = rejected(bomb, max_pixels=MAX_PIXELS)

    assert time.perf_counter() - started < 0.5
    assert error.code == "too_many_pixels"
    assert error.message.startswith(
        "This image is 30000 \N{MULTIPLICATION SIGN} 30000 pixels (900 megapixels)"
    )
    assert "40 megapixels" in error.message


def with_patched_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(
            with_patched_jpeg_size(encode(photo(), "JPEG"), 20_000, 20_000), id="jpeg-sof"
        ),
        pytest.param(
            (lambda gif: gif[:6] + struct.pack("<HH", 65_535, 65_535) + gif[10:])(
                encode(photo().convert("P"), "GIF")
            ),
            id="gif-screen",
        ),
    ],
)
def test_bombs_in_other_formats_are_refused_from_their_header(bomb: bytes) -> None:
    assert rejected(bomb).code == "too_many_pixels"


def test_pillows_own_limit_caps_a_generous_max_pixels() -> None:
    # 150 megapixels: above Pillow's warning threshold, below its error threshold.
    error = rejected(png_with_header(15_000, 10_000), max_pixels=10**12)

    assert error.code == "too_many_pixels"


def test_image_without_pixels_is_too_small() -> None:
    assert rejected(png_with_header(0, 10)).code == "too_small"


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animation_is_refused(fmt: str) -> None:
    frames = [photo(20, 20, colour) for colour in ("white", "black", "blue")]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)

    error = rejected(data)

    assert error.code == "animated"
    assert "still" in error.message


# --- File names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("menu.jpg", "menu.jpg"),
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\x\\y.png", "y.png"),
        ("C:photo.png", "photo.png"),
        ("photos/", "image"),
        ("", "image"),
        ("   ", "image"),
        (".jpg", "image.jpg"),
        ("..", "image"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("a\x00b\x1b[31mc.png", "ab[31mc.png"),
        ("summer\t\n  menu .png", "summer menu .png"),
        ("Cafe\u0301 cre\u0300me.jpg", "Café crème.jpg"),
        ("chef 👨\u200d🍳 special.jpg", "chef 👨\u200d🍳 special.jpg"),
        ("\ufeffzero\u200bwidth.png", "zerowidth.png"),
        ("trailing dots...", "trailing dots"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert images.safe_filename(name) == expected


def test_safe_filename_caps_long_names_and_keeps_the_extension() -> None:
    name = "x" * 300 + ".jpeg"

    cleaned = images.safe_filename(name)

    assert len(cleaned) == 150
    assert cleaned.endswith("x.jpeg")


def test_safe_filename_does_not_cut_an_accent_from_its_letter() -> None:
    # "q" with two combining accents has no precomposed form, so NFC keeps three characters;
    # the cut at 146 falls between them and moves back before the "q".
    name = "a" * 144 + "q\u0323\u0302" + "b" * 50 + ".png"

    assert images.safe_filename(name) == "a" * 144 + ".png"


def test_safe_filename_does_not_cut_an_emoji_sequence() -> None:
    cook = "\U0001f468\u200d\U0001f373"  # man + zero-width joiner + cooking
    name = "a" * 144 + cook + ".jpg"

    assert images.safe_filename(name) == "a" * 144 + ".jpg"


def test_safe_filename_without_extension_is_capped_too() -> None:
    assert len(images.safe_filename("y" * 300)) == 150
    assert images.safe_filename("abcdefghij.jpeg", max_length=4) == "abcd"


def test_storage_name_is_derived_from_the_hash_only() -> None:
    digest = hashlib.sha256(b"bytes").hexdigest()

    assert images.storage_name(digest, "jpg") == f"assets/{digest[:2]}/{digest[2:4]}/{digest}.jpg"
    assert (
        images.storage_name(digest, "png", namespace="t42", variant="thumb")
        == f"assets/t42/{digest[:2]}/{digest[2:4]}/{digest}.thumb.png"
    )


@pytest.mark.parametrize(
    ("digest", "extension", "extra"),
    [
        ("../../etc/passwd", "jpg", {}),
        ("A" * 64, "jpg", {}),
        ("a" * 64, "exe", {}),
        ("a" * 64, "jpg", {"namespace": "../x"}),
        ("a" * 64, "jpg", {"variant": "x/y"}),
    ],
)
def test_storage_name_refuses_anything_but_a_hash(
    digest: str, extension: str, extra: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match=r"must be|unexpected"):
        images.storage_name(digest, extension, **extra)


# --- Instagram ----------------------------------------------------------------------------------


def check(
    width: int, height: int, size: int = 500_000, content_type: str = "image/jpeg"
) -> list[str]:
    return images.image_check(
        rules=IG, width=width, height=height, size=size, content_type=content_type
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [(1080, 1350), (1080, 1080), (1910, 1000), (1080, 566), (1080, 565), (320, 400)],
)
def test_instagram_accepts_4_5_to_1_91(width: int, height: int) -> None:
    assert check(width, height) == []


def test_instagram_refuses_too_tall() -> None:
    (problem,) = check(1000, 2000)

    assert problem.startswith("Too tall for Instagram")
    assert "0.50" in problem
    assert "4:5" in problem


def test_instagram_refuses_too_wide() -> None:
    (problem,) = check(2000, 1000)

    assert problem.startswith("Too wide for Instagram")
    assert "1.91:1" in problem


def test_instagram_refuses_narrow_images() -> None:
    (problem,) = check(200, 200)

    assert "200 px wide" in problem
    assert "320" in problem


def test_instagram_reports_every_problem() -> None:
    assert len(check(100, 400)) == 2


def test_instagram_size_limit_applies_to_a_file_sent_as_it_is() -> None:
    too_big = IG.max_bytes + 1

    (problem,) = check(1080, 1080, size=too_big, content_type="image/jpeg")

    assert "8 MB" in problem
    # A larger or non-JPEG original is recompressed by the rendition: a note, not a problem.
    assert check(4000, 3000, size=too_big, content_type="image/jpeg") == []
    assert check(1080, 1080, size=too_big, content_type="image/png") == []


def test_instagram_notes_say_what_the_rendition_changes() -> None:
    notes = images.image_notes(
        rules=IG, width=4000, height=3000, size=IG.max_bytes * 2, content_type="image/png"
    )

    assert len(notes) == 3
    assert any("JPEG" in note for note in notes)
    assert (
        images.image_notes(rules=IG, width=1080, height=1080, size=1000, content_type="image/jpeg")
        == []
    )


def test_instagram_rendition_of_transparent_png_is_an_rgb_jpeg_within_limits() -> None:
    img = Image.new("RGBA", (2000, 1600), (0, 128, 0, 255))
    img.paste((0, 0, 0, 0), (1000, 0, 2000, 1600))
    stored = process(encode(img, "PNG")).content

    rendition = images.image_rendition(stored, rules=IG)

    out = reopen(rendition)
    assert out.format == "JPEG"
    assert out.mode == "RGB"
    assert out.size == (1440, 1152)
    assert len(rendition) <= IG.max_bytes
    assert close_to(out.getpixel((1400, 100)), (255, 255, 255))
    assert close_to(out.getpixel((100, 100)), (0, 128, 0))
    assert not out.info.get("progressive")
    assert "exif" not in out.info
    assert images.image_rendition(stored, rules=IG) == rendition


def test_instagram_rendition_keeps_a_small_image_at_its_size() -> None:
    stored = process(encode(photo(400, 500), "WEBP")).content

    out = reopen(images.image_rendition(stored, rules=IG))

    assert out.size == (400, 500)


def test_instagram_rendition_of_a_tall_portrait_fits_1440_by_1800() -> None:
    stored = process(encode(photo(2000, 2500), "JPEG")).content

    assert reopen(images.image_rendition(stored, rules=IG)).size == (1440, 1800)


def test_instagram_rendition_refuses_a_non_image() -> None:
    with pytest.raises(ImageRejected):
        images.image_rendition(b"%PDF-1.4", rules=IG)

"""Fuzz of the upload pipeline (issue 8, "bad input"): random bytes, truncated and mutated valid
PNG/JPEG/GIF/WebP files and headers announcing huge dimensions give either a valid image or a
clear `ImageRejected` (an `ApplicationError`), never another exception; and a rejected upload
stores nothing — no row, no file."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from apps.assets import images
from apps.assets.models import BrandAsset
from apps.assets.services import asset_upload
from apps.core.exceptions import ApplicationError

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4_000_000


def _sample(fmt: str, size: tuple[int, int] = (40, 30), **params: object) -> bytes:
    buffer = io.BytesIO()
    mode = "P" if fmt == "GIF" else "RGB"
    Image.new(mode, size, "teal" if mode == "RGB" else 3).save(buffer, format=fmt, **params)
    return buffer.getvalue()


SAMPLES = {fmt: _sample(fmt) for fmt in ("PNG", "JPEG", "GIF", "WEBP")}


def _png_with_size(width: int, height: int, *, fix_crc: bool) -> bytes:
    """A valid PNG whose IHDR announces another size (a decompression bomb's header)."""
    data = bytearray(SAMPLES["PNG"])
    data[16:24] = struct.pack(">II", width, height)
    if fix_crc:
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _gif_with_size(width: int, height: int) -> bytes:
    data = bytearray(SAMPLES["GIF"])
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    data = bytearray(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    how = draw(st.sampled_from(["truncate", "flip", "splice", "append"]))
    if how == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        return bytes(data)
    if how == "splice":
        at = draw(st.integers(0, len(data)))
        return bytes(data[:at]) + draw(st.binary(max_size=64)) + bytes(data[at:])
    return bytes(data) + draw(st.binary(min_size=1, max_size=256))


huge_headers = st.one_of(
    st.builds(
        _png_with_size,
        st.integers(0, 2**31 - 1),
        st.integers(0, 2**31 - 1),
        fix_crc=st.booleans(),
    ),
    st.builds(_gif_with_size, st.integers(0, 65535), st.integers(0, 65535)),
)
bad_input = st.one_of(st.binary(max_size=2048), mutated_images(), huge_headers)


def _process(data: bytes) -> images.ProcessedImage | None:
    try:
        return images.process_upload(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    except images.ImageRejected as exc:
        message = exc.message
    assert message  # a sentence for the person who uploaded it
    return None


@given(data=bad_input)
def test_process_upload_gives_an_image_or_a_clear_rejection(data: bytes) -> None:
    processed = _process(data)
    if processed is not None:
        assert processed.width * processed.height <= MAX_PIXELS
        assert processed.content_type in images.ACCEPTED_TYPES


@given(size=st.tuples(st.integers(3000, 65535), st.integers(3000, 65535)))
def test_announced_dimensions_over_the_pixel_limit_are_rejected(size: tuple[int, int]) -> None:
    assert _process(_gif_with_size(*size)) is None
    assert _process(_png_with_size(*size, fix_crc=True)) is None


def _files(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.django_db
def test_asset_upload_stores_nothing_when_it_rejects(owner, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ASSET_MAX_UPLOAD_BYTES = MAX_BYTES
    settings.ASSET_MAX_PIXELS = MAX_PIXELS

    @given(data=bad_input)
    def check(data: bytes) -> None:
        rows, files = BrandAsset.objects.count(), _files(settings.MEDIA_ROOT)
        try:
            result = asset_upload(actor=owner, data=data, filename="fuzz.bin")
        except ApplicationError as exc:  # ImageRejected is one
            message = exc.message
        else:
            assert result.asset.tenant_id == owner.tenant_id
            assert (settings.MEDIA_ROOT / result.asset.file.name).is_file()
            return
        assert message
        assert BrandAsset.objects.count() == rows
        assert _files(settings.MEDIA_ROOT) == files

    check()
    # The valid samples themselves are accepted and stored (the fuzz is not vacuous).
    for data in SAMPLES.values():
        asset = asset_upload(actor=owner, data=data, filename="ok").asset
        assert (settings.MEDIA_ROOT / asset.file.name).is_file()

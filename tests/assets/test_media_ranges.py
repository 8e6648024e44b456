"""The public media view answers HTTP Range requests the way Meta's fetcher (and a browser's
<video>) uses them: 206 with Content-Range, 416 past the end, HEAD, streamed from storage."""

import tracemalloc

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from model_bakery import baker

from apps.assets import byte_ranges, media_urls
from apps.assets.models import BrandAsset

SIZE = 1000


def _video(tenant, data: bytes, content_type: str = "video/mp4") -> BrandAsset:
    extension = "mov" if content_type == "video/quicktime" else "mp4"
    name = default_storage.save(f"assets/test/clip.{extension}", ContentFile(data))
    return baker.make(
        BrandAsset,
        tenant=tenant,
        kind=BrandAsset.Kind.VIDEO,
        file=name,
        content_type=content_type,
        size=len(data),
        sha256="a" * 64,
    )


@pytest.fixture
def data() -> bytes:
    return bytes(i % 251 for i in range(SIZE))


@pytest.fixture
def path(tenant, data) -> str:
    return _path(media_urls.public_url(asset=_video(tenant, data), variant="video"))


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_whole_file_says_it_accepts_ranges(path, data):
    response = Client().get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(SIZE)
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == data


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, SIZE - 1),
        ("bytes=-10", SIZE - 10, SIZE - 1),
        ("bytes=990-5000", 990, SIZE - 1),  # an end past the file is the end of the file
        ("bytes=-5000", 0, SIZE - 1),  # a suffix longer than the file is the whole file
        ("bytes=5-5", 5, 5),
    ],
)
def test_one_range_is_answered_206_with_its_bytes(path, data, header, start, end):
    response = Client().get(path, HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == data[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_past_the_end_is_416_with_the_size(path, header):
    response = Client().get(path, HTTP_RANGE=header)

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-9,20-29",  # several ranges: the whole file (documented in byte_ranges)
        "bytes=9-0",  # invalid
        "items=0-9",  # another unit
        "bytes=abc",
    ],
)
def test_what_we_do_not_serve_as_a_range_gets_the_whole_file(path, data, header):
    response = Client().get(path, HTTP_RANGE=header)

    assert response.status_code == 200
    assert "Content-Range" not in response
    assert body(response) == data


def test_if_range_gets_the_whole_file(path, data):
    response = Client().get(path, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"some-etag"')

    assert response.status_code == 200
    assert body(response) == data


def test_head_has_the_headers_and_no_body(path):
    whole = Client().head(path)
    part = Client().head(path, HTTP_RANGE="bytes=10-19")

    assert whole.status_code == 200
    assert whole["Content-Length"] == str(SIZE)
    assert whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "video/mp4"
    assert body(whole) == b""
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 10-19/{SIZE}"
    assert part["Content-Length"] == "10"
    assert body(part) == b""


def test_a_post_is_not_allowed(path):
    assert Client().post(path).status_code == 405


def test_a_quicktime_video_keeps_its_type(tenant, data):
    url = media_urls.public_url(asset=_video(tenant, data, "video/quicktime"), variant="original")

    response = Client().get(_path(url), HTTP_RANGE="bytes=0-1")

    assert response.status_code == 206
    assert response["Content-Type"] == "video/quicktime"


def test_a_large_file_is_streamed_in_chunks_not_read_whole(tenant, media_root):
    size = 48 * 1024 * 1024
    name = "assets/test/large.mp4"
    (media_root / "assets/test").mkdir(parents=True)
    with open(media_root / name, "wb") as out:
        block = bytes(range(256)) * 4096  # 1 MiB
        for _ in range(size // len(block)):
            out.write(block)
    asset = baker.make(
        BrandAsset,
        tenant=tenant,
        kind=BrandAsset.Kind.VIDEO,
        file=name,
        content_type="video/mp4",
        size=size,
        sha256="b" * 64,
    )
    path = _path(media_urls.public_url(asset=asset, variant="video"))

    tracemalloc.start()
    try:
        response = Client().get(path, HTTP_RANGE="bytes=1048576-")
        assert response.streaming
        received = 0
        largest = 0
        for chunk in response.streaming_content:
            received += len(chunk)
            largest = max(largest, len(chunk))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 206
    assert response["Content-Length"] == str(size - 1048576)
    assert received == size - 1048576
    assert largest <= byte_ranges.CHUNK_BYTES
    assert peak < 8 * 1024 * 1024  # 47 MiB went out; a few chunks were ever held at once


def test_a_forged_or_expired_token_is_403_even_with_a_range(path, settings):
    token = path.split("/")[2]
    forged = Client().get(path.replace(token, token[:-2] + "xx"), HTTP_RANGE="bytes=0-9")
    settings.SIGNED_MEDIA_URL_TTL_SECONDS = -1
    expired = Client().get(path, HTTP_RANGE="bytes=0-9")
    expired_head = Client().head(path)

    for refused in (forged, expired, expired_head):
        assert refused.status_code == 403
        assert "Content-Range" not in refused


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-0", byte_ranges.ByteRange(0, 0)),
        ("bytes = 2 - 4", byte_ranges.ByteRange(2, 4)),
        ("BYTES=-3", byte_ranges.ByteRange(7, 9)),
        ("bytes=0-1, 3-4", None),
        ("bytes=-", None),
    ],
)
def test_parse_range(header, expected):
    assert byte_ranges.parse_range(header, size=10) == expected


def test_any_range_of_an_empty_file_is_unsatisfiable():
    for header in ("bytes=0-", "bytes=-1"):
        with pytest.raises(byte_ranges.Unsatisfiable):
            byte_ranges.parse_range(header, size=0)

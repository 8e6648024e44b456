"""HTTP byte ranges (RFC 9110, section 14) for the stored files this site serves itself.

Meta fetches a video's ``video_url`` with ``Range`` requests, and browsers seek in a ``<video>``
the same way. One range is answered ``206 Partial Content``; a range past the end is
``416 Range Not Satisfiable``. A request for several ranges at once is answered with the whole
file (``200``): ignoring ``Range`` is always allowed, it is what Django's own static server does,
and no client we serve asks for several. Anything we do not understand in the header — another
unit, bad syntax, an ``If-Range`` (we keep no validators to compare it with) — is ignored the
same way. The body is streamed from storage in chunks, never read whole into memory.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Final

CHUNK_BYTES: Final = 64 * 1024
_SPEC: Final = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class Unsatisfiable(Exception):
    """The range asks for bytes the file does not have: 416 with ``bytes */size``."""


def parse_range(header: str | None, *, size: int) -> ByteRange | None:
    """The one range ``header`` asks for within a file of ``size`` bytes, or None when the whole
    file is to be sent (no header, another unit, bad syntax, several ranges). Raises
    :class:`Unsatisfiable` for a range that starts at or past the end (or any range of an empty
    file)."""
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return None
    parts = specs.split(",")
    if len(parts) != 1:
        return None
    match = _SPEC.match(parts[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # "-n": the last n bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(start=max(size - suffix, 0), end=size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid syntax: ignored, the whole file
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start=start, end=min(end, size - 1))


def stream(file: IO[bytes], *, start: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``file`` from ``start``, chunk by chunk; closes the file at the end
    (or when the response is closed early, e.g. the client went away)."""
    try:
        file.seek(start)
        left = length
        while left > 0:
            chunk = file.read(min(CHUNK_BYTES, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        file.close()

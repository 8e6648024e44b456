"""`since` / `until` as the Graph API reads them: a Unix timestamp or "a strtotime() data value"
(Meta's words: PHP's strtotime). The sandbox understands the forms a client really sends — Unix
seconds, ISO 8601 (`2026-11-22T23:16:48+0000`, `…Z`, `…+00:00`, a date alone), `@<seconds>`,
`now` / `today` / `yesterday` / `tomorrow`, and relative times (`-2 days`, `3 hours ago`,
`+1 week`) — and refuses anything else with Meta's (#100) invalid-parameter error."""

import math
import re
from datetime import UTC, datetime

from . import errors

_UNITS = {
    "sec": 1,
    "second": 1,
    "min": 60,
    "minute": 60,
    "hour": 3600,
    "day": 86_400,
    "week": 7 * 86_400,
    "fortnight": 14 * 86_400,
    "month": 30 * 86_400,
    "year": 365 * 86_400,
}
_RELATIVE = re.compile(
    r"^(?P<number>[+-]?\d+)\s*(?P<unit>sec|second|min|minute|hour|day|week|fortnight|month|year)s?"
    r"(?P<ago>\s+ago)?$"
)
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _midnight(now: float, days: int) -> int:
    day = math.floor(now / 86_400) + days
    return day * 86_400


def parse_time_param(text: str | None, name: str, now: float) -> int | None:
    """Unix seconds for `text` (None when absent or empty), or the (#100) GraphError."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    lowered = value.lower()
    if _NUMBER.match(value):
        return math.floor(float(value))
    if lowered.startswith("@") and _NUMBER.match(lowered[1:]):
        return math.floor(float(lowered[1:]))
    named = {"now": math.floor(now), "today": _midnight(now, 0), "midnight": _midnight(now, 0)}
    named |= {"yesterday": _midnight(now, -1), "tomorrow": _midnight(now, 1)}
    if lowered in named:
        return named[lowered]
    match = _RELATIVE.match(lowered)
    if match:
        seconds = int(match.group("number")) * _UNITS[match.group("unit")]
        return math.floor(now) + (-seconds if match.group("ago") else seconds)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise errors.invalid_time(name, value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # strtotime() on Meta's side: no zone is UTC
    return math.floor(moment.timestamp())

"""Showing stored times in a business's timezone, also the ones Python cannot convert.

A time within a day of the ends of Python's calendar (9999-12-31T23:59:59Z, say: written before
the schedule horizon existed) has no local equivalent east (or west) of UTC: converting it
raises ``OverflowError``. Pages show such a time in UTC instead of failing.
"""

from datetime import UTC, datetime, tzinfo

from django.utils import timezone


def localtime_or_utc(value: datetime, zone: tzinfo | None = None) -> datetime:
    """``value`` in ``zone`` (the current timezone by default), or in UTC when it has no local
    equivalent there."""
    try:
        return timezone.localtime(value, zone)
    except OverflowError:
        return value.astimezone(UTC)

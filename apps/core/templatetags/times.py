"""``{{ value|local_date:"D j M Y, H:i" }}``: Django's ``date`` filter in the current timezone;
a time with no local equivalent (``apps.core.localtime``) is shown in UTC, and says so."""

from datetime import UTC, datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

register = template.Library()


@register.filter(expects_localtime=False)
def local_date(value: datetime | None, arg: str | None = None) -> str:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        return date_filter(value, arg)
    try:
        local = timezone.localtime(value)
    except OverflowError:
        return f"{date_filter(value.astimezone(UTC), arg)} UTC"
    return date_filter(local, arg)

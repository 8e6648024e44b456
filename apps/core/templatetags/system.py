from django import template

from apps.core import hooks

register = template.Library()


@register.simple_tag
def system_warnings() -> list[hooks.SystemWarning]:
    """The apps' warnings for operators (``apps.core.hooks``), for the admin's banner."""
    return hooks.system_warnings()

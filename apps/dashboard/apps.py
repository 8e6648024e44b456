from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The tenant's home page (the overview): it reads from every domain app, so it sits on top
    of them rather than in core, which imports none."""

    name = "apps.dashboard"
    label = "dashboard"

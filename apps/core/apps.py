from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: tenant-owned model base, domain errors, health checks, logging."""

    name = "apps.core"
    label = "core"

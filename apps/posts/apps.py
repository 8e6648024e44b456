from django.apps import AppConfig


class PostsConfig(AppConfig):
    """Posts, approval, publishing and engagement."""

    name = "apps.posts"
    label = "posts"

    def ready(self) -> None:
        from apps.core import hooks
        from apps.posts import metrics, tenant_data

        hooks.register(self.label, metrics=metrics.METRICS, tenant_data=tenant_data.TENANT_DATA)

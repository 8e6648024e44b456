from django.apps import AppConfig


class SocialConfig(AppConfig):
    """Facebook Pages and Instagram business accounts: connections, tokens, the Graph client."""

    name = "apps.social"
    label = "social"

    def ready(self) -> None:
        from apps.core import hooks
        from apps.core.health import register_readiness_check
        from apps.networks import meta
        from apps.social import metrics, tenant_data
        from apps.social.graph.versions import graph_version_warnings
        from apps.social.services import page_tasks_record, token_encryption_check

        register_readiness_check("token_encryption", token_encryption_check)
        # The Meta networks read a Page's tasks in the daily check; recording them is ours.
        meta.page_tasks_recorder_set(page_tasks_record)
        hooks.register(
            self.label,
            metrics=metrics.METRICS,
            tenant_data=tenant_data.TENANT_DATA,
            warnings=graph_version_warnings,
        )

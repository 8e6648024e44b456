from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """Insights (issue 16): daily snapshots of each publication's and account's figures, read
    from the networks, the insights page, best times to post, reports and their API."""

    name = "apps.insights"
    label = "insights"

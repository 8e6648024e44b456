from celery import shared_task

from apps.accounts import services


@shared_task(name="accounts.invitation_cleanup")
def invitation_cleanup() -> int:
    """Hourly: delete invitations that expired or were revoked beyond the retention period."""
    return services.invitation_cleanup()

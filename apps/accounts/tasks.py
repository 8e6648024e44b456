from celery import shared_task

from apps.accounts import services, tenant_data


@shared_task(name="accounts.invitation_cleanup")
def invitation_cleanup() -> int:
    """Hourly: delete invitations that expired or were revoked beyond the retention period."""
    return services.invitation_cleanup()


@shared_task(name="accounts.tenant_export_build")
def tenant_export_build(export_id: int) -> str | None:
    """Build one tenant export (queued on commit by ``tenant_export_request``); safe to run
    twice: a finished export is left alone and only one file is kept."""
    export = tenant_data.tenant_export_build(export_id=export_id)
    return export.status if export is not None else None


@shared_task(name="accounts.tenant_export_cleanup")
def tenant_export_cleanup() -> int:
    """Daily: delete expired exports and their files (``TENANT_EXPORT_DAYS``)."""
    return tenant_data.tenant_export_cleanup()

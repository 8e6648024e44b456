"""Celery tasks of the social app: thin, idempotent, ids in."""

from celery import shared_task

from apps.social import services


@shared_task(name="social.token_refresh_due")
def token_refresh_due() -> int:
    """Daily: re-exchange long-lived user tokens that expire within 7 days."""
    return services.token_refresh_due()


@shared_task(name="social.token_check_all")
def token_check_all() -> dict[str, int]:
    """Daily: ask Facebook (debug_token) about every stored token."""
    return services.token_check_all()


@shared_task(name="social.pending_connection_cleanup")
def pending_connection_cleanup() -> int:
    """Hourly: delete Facebook grants that were never turned into connections."""
    return services.pending_connection_cleanup()


@shared_task(
    name="social.data_deletion_run",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def data_deletion_run(request_id: int) -> None:
    """Carry out Meta's data-deletion request (safe to run twice)."""
    services.data_deletion_run(request_id=request_id)

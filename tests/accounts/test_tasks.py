from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from model_bakery import baker

from apps.accounts.models import Invitation
from apps.accounts.tasks import invitation_cleanup
from tests.conftest import wait_until


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_cleanup_task_against_the_database(celery_worker_process, tenant):
    now = timezone.now()
    stale = baker.make(
        Invitation, tenant=tenant, token_hash="a" * 64, expires_at=now - timedelta(days=90)
    )
    fresh = baker.make(
        Invitation, tenant=tenant, token_hash="b" * 64, expires_at=now + timedelta(days=3)
    )

    # Through the broker (Redis) to a worker in another process, which writes to the test database.
    invitation_cleanup.apply_async(queue=celery_worker_process)

    assert wait_until(lambda: not Invitation.objects.filter(pk=stale.pk).exists())
    assert Invitation.objects.filter(pk=fresh.pk).exists()


def test_the_cleanup_schedule_exists_by_default(db):
    task = PeriodicTask.objects.get(task="accounts.invitation_cleanup")

    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, "hours")

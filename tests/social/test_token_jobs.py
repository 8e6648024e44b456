"""Token jobs through a real Celery worker, and a database dump with no plaintext token in it."""

import subprocess

import pytest
from django.db import connection

from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount, TokenEvent
from apps.social.tasks import token_check_all
from tests.conftest import wait_until
from tests.social.test_connect import choices, connect


def _connect_demo_bistro(client) -> ConnectedAccount:
    connect(client)
    chosen = next(c["page"] for c in choices(client) if c["page"].name == "Demo Bistro")
    client.post("/connections/new/", {"page": [chosen.id], "instagram": [chosen.instagram.id]})
    return ConnectedAccount.objects.get(platform="facebook_page")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_marks_revoked_accounts_for_reconnection(
    celery_worker_process, client_for, owner, sandbox
):
    account = _connect_demo_bistro(client_for(owner.user))
    graph.revoke_permissions(user_token=AccessToken.objects.get(kind="user_long_lived").token)

    # Broker (Redis) → worker process → sandbox Graph API over HTTP → test database.
    token_check_all.apply_async(queue=celery_worker_process)

    assert wait_until(lambda: ConnectedAccount.objects.filter(status="needs_reauth").count() == 2)
    account.refresh_from_db()
    assert "Reconnect" in account.status_reason
    assert TokenEvent.objects.filter(kind="needs_reauth").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_plaintext_token(client_for, owner, sandbox):
    _connect_demo_bistro(client_for(owner.user))
    tokens = [t.token for t in AccessToken.objects.all()]
    assert len(tokens) == 3

    s = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            s["HOST"] or "127.0.0.1",
            "-p",
            str(s["PORT"] or 5432),
            "-U",
            s["USER"],
            s["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PGPASSWORD": s["PASSWORD"] or "", "PATH": "/usr/bin:/bin"},
    ).stdout

    assert "social_accesstoken" in dump  # the rows are there...
    for token in tokens:
        assert token not in dump  # ...encrypted

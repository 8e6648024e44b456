import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from config.celery import app as celery_app


def test_healthz_answers_ok(client: Client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_migrations_broker_and_cache(client: Client, db):
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200, body
    assert {"database", "migrations", "broker", "cache", "token_encryption"} <= set(body["checks"])
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_readyz_is_503_when_a_migration_is_not_applied(client: Client, db):
    MigrationRecorder(connection).migration_qs.filter(
        app="accounts", name="0002_default_schedules"
    ).delete()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {
        "status": "error",
        "duration_ms": pytest.approx(response.json()["checks"]["migrations"]["duration_ms"]),
        "error": "1 migration(s) not applied",
    }


def test_readyz_is_503_when_the_broker_is_down(client: Client, db, monkeypatch):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "error"
    assert response.json()["checks"]["database"]["status"] == "ok"

"""Fixtures for the common actors: tenants, their members by role, logged-in clients."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client
from model_bakery import baker

from apps.accounts.models import Membership, Role, Tenant, User

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(
        email: str | None = None, password: str = "correct horse battery", **extra: object
    ) -> User:
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        user = User.objects.create_user(email, password, **extra)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    return make


@pytest.fixture
def tenant(db: None) -> Tenant:
    return baker.make(Tenant, name="Chez Test", slug="chez-test")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return baker.make(Tenant, name="Other Place", slug="other-place")


@pytest.fixture
def make_member(make_user: Callable[..., User]) -> Callable[..., Membership]:
    def make(tenant: Tenant, role: str = Role.EDITOR, user: User | None = None) -> Membership:
        return Membership.objects.create(tenant=tenant, user=user or make_user(), role=role)

    return make


@pytest.fixture
def owner(tenant: Tenant, make_member: Callable[..., Membership]) -> Membership:
    return make_member(tenant, Role.OWNER)


@pytest.fixture
def manager(tenant: Tenant, make_member: Callable[..., Membership]) -> Membership:
    return make_member(tenant, Role.MANAGER)


@pytest.fixture
def editor(tenant: Tenant, make_member: Callable[..., Membership]) -> Membership:
    return make_member(tenant, Role.EDITOR)


@pytest.fixture
def viewer(tenant: Tenant, make_member: Callable[..., Membership]) -> Membership:
    return make_member(tenant, Role.VIEWER)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    return make_user(is_staff=True, is_superuser=True)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[str]:
    """A real Celery worker in its own process, consuming a private queue on Redis and using the
    test database. Yields the queue name to send tasks to."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(predicate: Callable[[], bool], *, timeout: float = 30.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes (a liveness bound, not a timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()

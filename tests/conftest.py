"""Fixtures for the common actors: tenants, their members by role, logged-in clients."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType
from urllib.parse import urlsplit

import httpx
import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.test import Client
from model_bakery import baker

from apps.accounts.models import Membership, Role, Tenant, User
from apps.social.graph import close_client
from sandbox import SandboxServer

ROOT = Path(__file__).resolve().parent.parent
# No plaintext token in any HTTP response, the database or the logs of the run (issue 8).
pytest_plugins = ["tests.secrets_guard"]


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


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    url = urlsplit(settings.SANDBOX_GRAPH_URL)
    server = SandboxServer(host=url.hostname or "127.0.0.1", port=url.port or 80)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The sandbox with fresh demo data, no faults and no latency."""
    httpx.post(f"{sandbox_server.base_url}/_sandbox/reset").raise_for_status()
    close_client()  # no pooled connection survives from another test
    yield sandbox_server
    close_client()


@pytest.fixture
def control(sandbox: SandboxServer) -> Callable[..., dict]:
    """A call to the sandbox's control API (``POST`` unless told), answering its JSON."""

    def call(path: str, payload: object | None = None, method: str = "POST") -> dict:
        response = httpx.request(
            method, f"{sandbox.base_url}/_sandbox/{path}", json=payload, timeout=10
        )
        response.raise_for_status()
        return response.json()

    return call


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class CeleryWorker:
    """A real Celery worker in its own process, consuming a private Redis queue and using the
    test database (the tests that use it commit their data: ``transaction=True``)."""

    def __init__(self, queue: str, **env: str) -> None:
        self.queue = queue
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": _database_url(),
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "CeleryWorker":
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                self.queue,
                "-P",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=self.env,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task, as on a crash or an OOM kill."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[str]:
    """One real worker; yields the queue name to send tasks to."""
    worker = CeleryWorker(f"test-{uuid.uuid4().hex[:10]}").start()
    try:
        yield worker.queue
    finally:
        worker.stop()


def wait_until(predicate: Callable[[], bool], *, timeout: float = 30.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes (a liveness bound, not a timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


# --- Order: the slow modules first ---------------------------------------------------------------
# `make test` runs two xdist processes with `--dist worksteal`: an idle process takes pending tests
# over from the busy one. The tests that take tens of seconds (real Celery workers, subprocesses,
# Chromium, schemathesis) go first, so that the end of the run is short tests the two processes
# share, not one process finishing a minute-long test while the other waits. Whole modules move,
# in their own order, so a module's fixtures are still set up once per process. This runs before
# pytest-django's own (stable) sort, which keeps Django's order: transactional tests after the
# others.
SLOW_FIXTURES = {"celery_worker_process", "live_server", "chromium", "new_page"}
SLOW_MARKERS = ("reliability", "browser")
SLOW_NAMES = {"CeleryWorker", "subprocess", "_manage"}


def _slow(item: pytest.Item) -> bool:
    if any(item.get_closest_marker(m) for m in SLOW_MARKERS):
        return True
    if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    if getattr(item, "module", None) is not None and hasattr(item.module, "schemathesis"):
        return True
    code = getattr(getattr(item, "function", None), "__code__", None)
    return code is not None and bool(SLOW_NAMES & _names(code))


def _names(code: CodeType) -> set[str]:
    """The global names a function uses, its comprehensions' and inner functions' included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names(const)
    return names


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow_modules = {item.nodeid.split("::")[0] for item in items if _slow(item)}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_modules)  # stable

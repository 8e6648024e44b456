"""Secrets guard for the whole test run (issue 8; SPEC 13: "no plaintext token in a dump of the
database or in the logs of a full test run").

Three kinds of secret, each matched only whole (`SECRETS`):

- sandbox Facebook tokens, `EAAS<payload>.<signature>` (sandbox/tokens.py);
- webhook signing secrets, `whsec_<43 url-safe characters>` (apps/webhooks/models.py);
- API keys, `sa_<8 hex prefix>_<43 url-safe characters>` (apps/accounts/services.py); the
  prefix shown in the dashboard (`sa_1a2b3c4d_…`) and the stored hash are not the key.

This plugin fails the run when one appears in plaintext:

- **HTTP responses** (sandbox tokens only: the API and the dashboard show a new webhook secret
  or API key once, at creation or rotation, by design): `ResponseScanMiddleware` (outermost,
  config/settings_test.py) scans the body, headers and cookies of every response Django
  produces in the tests (test client, DRF's APIClient, the live server); a finding fails the
  test that produced it.
- **The database** (every kind): after each test that used the database, before its
  transaction is rolled back or its tables flushed, every row of every table (as text,
  uncommitted rows included) is searched, and every Fernet-encrypted column is checked to hold
  ciphertext (`gAAAAA…`) or nothing. At the end of the session each test database is also
  `pg_dump`ed and the dump searched (before pytest-django drops it).
- **The logs** (every kind): the run's logs go to files under `var/test-logs/<run>/`
  (config/settings_test.py; every process, Celery workers included) at INFO; they are searched
  at the end of the session.

Messages name where a secret was found and its kind, never the secret.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

TOKEN_PATTERN = r"EAAS[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{32}"
TOKEN_RE = re.compile(TOKEN_PATTERN.encode())
WEBHOOK_SECRET_PATTERN = r"whsec_[A-Za-z0-9_-]{43}"
API_KEY_PATTERN = r"sa_[0-9a-f]{8}_[A-Za-z0-9_-]{43}"
# Kind -> pattern; valid both as Python (bytes) and PostgreSQL regular expressions.
SECRETS = {
    "sandbox token": TOKEN_PATTERN,
    "webhook secret": WEBHOOK_SECRET_PATTERN,
    "API key": API_KEY_PATTERN,
}
SECRET_RES = {kind: re.compile(pattern.encode()) for kind, pattern in SECRETS.items()}
ANY_SECRET_PATTERN = "|".join(f"({pattern})" for pattern in SECRETS.values())
# Fernet tokens are urlsafe base64 of a version byte 0x80 and a timestamp: always "gAAAAA".
FERNET_PREFIX = "gAAAAA"
DB_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
)

_http_findings: list[str] = []


def count_tokens(data: bytes | str) -> int:
    """How many plaintext sandbox tokens `data` holds."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return len(TOKEN_RE.findall(data))


def count_secrets(data: bytes | str) -> dict[str, int]:
    """How many plaintext secrets of each kind `data` holds (kinds with none left out)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    counts = {kind: len(pattern.findall(data)) for kind, pattern in SECRET_RES.items()}
    return {kind: n for kind, n in counts.items() if n}


def describe(counts: dict[str, int]) -> str:
    """`1 sandbox token, 2 API keys`."""
    return ", ".join(f"{n} {kind}{'s' * (n > 1)}" for kind, n in counts.items())


def scan_files(paths: list[Path]) -> list[str]:
    """`file (N sandbox tokens, …)` for each file holding a plaintext secret of any kind."""
    found = []
    for path in paths:
        counts = count_secrets(path.read_bytes())
        if counts:
            found.append(f"{path} ({describe(counts)})")
    return found


class ResponseScanMiddleware:
    """Test-only: records (never prints) where a response carried a plaintext token."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        where = []
        headers = response.serialize_headers() + str(response.cookies).encode()
        if count_tokens(headers):
            where.append("headers/cookies")
        if not getattr(response, "streaming", False) and count_tokens(response.content):
            where.append("body")
        if where:
            _http_findings.append(
                f"{request.method} {request.path} -> {response.status_code} ({', '.join(where)})"
            )
        return response


# --- The database -------------------------------------------------------------------------------

_scan_sql: str | None = None


def _encrypted_columns() -> list[tuple[str, str]]:
    from django.apps import apps
    from encrypted_model_fields.fields import EncryptedMixin

    return [
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedMixin)
    ]


def database_findings(connection: Any) -> list[str]:
    """Tables holding a plaintext secret (`table x (webhook secret)`), and encrypted columns
    holding something else than ciphertext, as this connection sees them (its open transaction
    included)."""
    global _scan_sql
    if _scan_sql is None:
        # Identifiers are the database's own table names, quoted; the patterns are constants.
        quote = connection.ops.quote_name
        parts = [
            f"SELECT 'table {table}' WHERE EXISTS (SELECT 1 FROM {quote(table)} t "  # noqa: S608
            f"WHERE t::text ~ '{ANY_SECRET_PATTERN}')"
            for table in sorted(connection.introspection.table_names())
        ]
        parts += [
            f"SELECT 'encrypted column {table}.{column} holds plaintext' WHERE EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {quote(table)} WHERE {quote(column)} <> '' "
            f"AND {quote(column)} NOT LIKE '{FERNET_PREFIX}%%')"
            for table, column in _encrypted_columns()
        ]
        _scan_sql = " UNION ALL ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(_scan_sql)
        findings = [row[0] for row in cursor.fetchall()]
        return [_with_kinds(cursor, connection, f) for f in findings]


def _with_kinds(cursor: Any, connection: Any, finding: str) -> str:
    """`table x` -> `table x (sandbox token, API key)`: which kinds (only looked up when found)."""
    if not finding.startswith("table "):
        return finding
    table = connection.ops.quote_name(finding.removeprefix("table "))
    kinds = []
    for kind, pattern in SECRETS.items():
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table} t WHERE t::text ~ %s)",  # noqa: S608
            [pattern],
        )
        if cursor.fetchone()[0]:
            kinds.append(kind)
    return f"{finding} ({', '.join(kinds)})"


def _uses_database(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & DB_FIXTURES) or item.get_closest_marker("django_db") is not None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    problems = [f"HTTP response {where}" for where in _http_findings]
    _http_findings.clear()
    if _uses_database(item) and os.environ.get("SECRETS_GUARD_DB", "1") == "1":
        from django.db import connection
        from pytest_django.plugin import blocking_manager_key

        try:
            with item.config.stash[blocking_manager_key].unblock():
                problems += [f"database: {where}" for where in database_findings(connection)]
        except Exception as exc:  # a test that broke its connection: nothing to scan
            if "connection" not in str(exc).lower() and "transaction" not in str(exc).lower():
                raise
    result = yield
    if problems:
        pytest.fail(
            "Plaintext secret found (tests/secrets_guard.py): " + "; ".join(problems),
            pytrace=False,
        )
    return result


# --- End of session: pg_dump and the logs -------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _secrets_guard_pg_dump(request: pytest.FixtureRequest) -> Generator[None]:
    """Set up after the test database (so torn down before it is dropped): pg_dump it."""
    request.getfixturevalue("django_db_setup")
    yield
    from django.db import connection

    s = connection.settings_dict
    if s["NAME"] != connection.creation._get_test_db_name():
        return  # no test in this run used the database: pytest-django did not create it
    counts = count_secrets(pg_dump(s))
    if counts:
        pytest.fail(
            f"Plaintext secret found (tests/secrets_guard.py): pg_dump of {s['NAME']} "
            f"({describe(counts)})",
            pytrace=False,
        )


def pg_dump(settings_dict: dict[str, Any]) -> bytes:
    """The database as `pg_dump` writes it (schema and data)."""
    s = settings_dict
    if not shutil.which("pg_dump"):
        pytest.fail("tests/secrets_guard.py: pg_dump not found (apt-get install postgresql-client)")
    return subprocess.run(
        [
            "pg_dump",
            *("-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432)),
            *("-U", s["USER"] or "postgres", "--no-owner", s["NAME"]),
        ],
        env={**os.environ, "PGPASSWORD": str(s.get("PASSWORD") or "")},
        capture_output=True,
        check=True,
    ).stdout


def log_dir() -> Path | None:
    value = os.environ.get("TEST_LOG_DIR")
    return Path(value) if value else None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller scans
        return
    directory = log_dir()
    if directory is None or not directory.is_dir():
        return
    found = scan_files(sorted(directory.glob("*.log")))
    if not found:  # clean: nothing worth keeping (var/test-logs/ would only grow)
        shutil.rmtree(directory, ignore_errors=True)
        return
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "Plaintext secret in the test run's logs: " + "; ".join(found)
        if reporter is not None:
            reporter.write_line(message, red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

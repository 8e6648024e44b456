"""Settings for the test suite: PostgreSQL and Redis, never SQLite (see README, `make test`)."""

import os
import socket
import sys
import time
from typing import Any, cast

os.environ["DJANGO_ENV_FILE"] = ""  # a developer's .env must not change what the tests see
# Facebook is the sandbox Graph API, served by the tests on a port chosen here, before
# django-allauth reads its URLs (once, at import). Worker processes inherit the variable.
os.environ["FACEBOOK_APP_ID"] = ""
os.environ["THREADS_APP_ID"] = ""
os.environ["INSTAGRAM_LOGIN_APP_ID"] = ""
os.environ["OPENAI_API_KEY"] = ""  # no test reaches a real AI provider
# Each pytest-xdist process serves its own sandbox (the variable is inherited from the parent).
_process = os.environ.get("PYTEST_XDIST_WORKER", "main")
if not os.environ.get("SANDBOX_GRAPH_URL") or os.environ.get("SANDBOX_GRAPH_URL_FOR") not in (
    None,
    _process,
):
    with socket.socket() as _probe:
        _probe.bind(("127.0.0.1", 0))
        os.environ["SANDBOX_GRAPH_URL"] = f"http://127.0.0.1:{_probe.getsockname()[1]}"
    os.environ["SANDBOX_GRAPH_URL_FOR"] = _process
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-key-not-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/social_automation")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The test client speaks plain http; production's redirect to https would answer every request 301.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
# The publishing engine at test speed: containers (Instagram's, Threads') polled each second,
# retries within seconds.
os.environ.setdefault("INSTAGRAM_CONTAINER_POLL_SECONDS", "1")
os.environ.setdefault("THREADS_CONTAINER_POLL_SECONDS", "1")
os.environ.setdefault("INSTAGRAM_VIDEO_POLL_SECONDS", "1")
os.environ.setdefault("FACEBOOK_VIDEO_POLL_SECONDS", "1")
os.environ.setdefault("PUBLISHING_RETRY_BASE_SECONDS", "1")
os.environ.setdefault("GRAPH_TIMEOUT_SECONDS", "3")
# Tests schedule at fixed future dates (2031, 2099); the horizon's own tests set it themselves.
os.environ.setdefault("POSTS_SCHEDULE_HORIZON_DAYS", "36500")
# A key for test data only; two of them, so that every test also runs with rotation configured.
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEY",
    "q4Yd8wVNcAF-2tPsPQP2b4qyKMzM9g5vQyGvjXxJm0E=,Ew1P3i0fpXk1hoI2Lr5o6fZ9QwzE3v0hVh8c0oYbC2Y=",
)

from config.settings import *  # noqa: F403
from config.settings import DATABASES, REDIS_URL

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "The tests run on PostgreSQL: set DATABASE_URL to a postgres:// URL."
    )

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test process gets a clean in-memory cache (allauth's login rate limits live there);
# tests about sharing state across processes use Redis explicitly.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# Serve static files from the finders; the tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# --- Secrets guard (tests/secrets_guard.py) ------------------------------------------------------
# Every response the tests produce is scanned for plaintext tokens (outermost, so it sees the
# final headers), and the run's logs go to files, at INFO, scanned at the end of the session.
# One directory per run (inherited by xdist and Celery worker processes), one file per process.
from config.settings import LOG_LEVEL, LOGGING, MIDDLEWARE, VAR_DIR

MIDDLEWARE = ["tests.secrets_guard.ResponseScanMiddleware", *MIDDLEWARE]
if "pytest" in sys.modules and "TEST_LOG_DIR" not in os.environ:  # not mypy, not a shell
    os.environ["TEST_LOG_DIR"] = str(
        VAR_DIR / "test-logs" / f"run-{int(time.time())}-{os.getpid()}"
    )
    os.makedirs(os.environ["TEST_LOG_DIR"], exist_ok=True)
if os.environ.get("TEST_LOG_DIR"):
    _handlers = cast(dict[str, dict[str, Any]], LOGGING["handlers"])
    _root = cast(dict[str, Any], LOGGING["root"])
    _handlers["default"]["level"] = LOG_LEVEL
    _handlers["test_file"] = {
        "class": "logging.FileHandler",
        "filename": os.path.join(os.environ["TEST_LOG_DIR"], f"{_process}-{os.getpid()}.log"),
        "formatter": "json",
        "level": "INFO",
        "delay": True,
    }
    _root["handlers"] = [*_root["handlers"], "test_file"]
    if LOG_LEVEL in ("WARNING", "ERROR", "CRITICAL"):
        _root["level"] = "INFO"

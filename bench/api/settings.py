"""Settings of the API benchmark: the production settings (``config.settings``) on the bench's
own PostgreSQL database and Redis db, persistent connections, quiet logs, throttling out of the
way, plus one bench-only route (``bench.api.urls``). ``bench/api/run.py`` sets the same
environment for the processes it starts; these defaults make the module usable on its own."""

import os

from cryptography.fernet import Fernet

_DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/sa_bench_api",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    "DJANGO_SECRET_KEY": "bench-only-not-secret",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_COOKIES": "false",
    "LOG_LEVEL": "WARNING",
    "DATABASE_CONN_MAX_AGE": "600",
    "DJANGO_ENV_FILE": "",
    "API_RATE_BASIC": "100000000/hour",
    "API_RATE_PRO": "100000000/hour",
    "API_RATE_ENTERPRISE": "100000000/hour",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)

from config.settings import *  # noqa: E402, F403

ROOT_URLCONF = "bench.api.urls"

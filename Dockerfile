# syntax=docker/dockerfile:1
# Production image: web (gunicorn, the default command), worker and beat all run from it
# (docker-compose.yml, deploy/k8s/). Two stages: the build stage installs the locked
# dependencies (uv.lock) into /opt/venv; the runtime stage copies that venv and the code only.
# Not built on the development machines (no Docker engine there); tests/core/test_deploy_files.py
# checks it statically.

FROM python:3.11-slim AS build
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
RUN pip install --no-cache-dir "uv>=0.9"
WORKDIR /app
COPY pyproject.toml uv.lock ./
# --frozen: exactly the lock file, never a re-resolution; no dev tools in the image.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    DJANGO_ENV_FILE="" \
    WEB_CONCURRENCY=3
RUN groupadd --gid 10001 app && useradd --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code belongs to root and is read-only for the app user; only var/ (media) is writable.
COPY . .
# collectstatic imports the settings, which insist on both keys: throwaway values, build only.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    FIELD_ENCRYPTION_KEY=$(python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())") \
    python manage.py collectstatic --noinput \
    && rm -rf var/celery var/cache \
    && mkdir -p var/media \
    && chown app:app var var/media
USER 10001:10001
EXPOSE 8000
# /healthz with a Host the site accepts (the first of DJANGO_ALLOWED_HOSTS); exempt from the
# redirect to https, so it works behind a TLS proxy too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('*.') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=4)"]
# gunicorn: WEB_CONCURRENCY processes x 4 threads; heartbeat files in /dev/shm (read-only root
# file system in Kubernetes); the request log comes from django-structlog, not gunicorn.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--threads", "4", \
     "--worker-tmp-dir", "/dev/shm", "--max-requests", "2000", "--max-requests-jitter", "200", \
     "--graceful-timeout", "30"]

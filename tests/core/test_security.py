"""Security hardening: `check --deploy` is clean in production, the CSP is strict, logins are
throttled on both entry points (the site's login page and /admin/login/)."""

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Membership, User

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"  # the make_user fixture's password


def _production_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "social.example.com,localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://social.example.com",
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/social_automation"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "LOG_LEVEL": "WARNING",
    }
    env.update(overrides)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


_PRINT_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
    "s.SECURE_PROXY_SSL_HEADER)"
)


def test_production_defaults_are_strict_and_debug_serves_plain_http() -> None:
    production = _manage("shell", "-v", "0", "-c", _PRINT_SETTINGS, env=_production_env())
    development = _manage(
        "shell", "-v", "0", "-c", _PRINT_SETTINGS, env=_production_env(DJANGO_DEBUG="true")
    )
    behind_proxy = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        _PRINT_SETTINGS,
        env=_production_env(DJANGO_BEHIND_TLS_PROXY="true"),
    )

    assert production.stdout.split() == ["True", "True", "True", "31536000", "True", "True", "None"]
    # `make run`: no redirect to https, cookies over http, no HSTS.
    assert development.stdout.split()[:4] == ["False", "False", "False", "0"]
    assert behind_proxy.stdout.strip().endswith("('HTTP_X_FORWARDED_PROTO', 'https')")


def test_probes_are_not_redirected_to_https() -> None:
    exempt = settings.SECURE_REDIRECT_EXEMPT
    assert {"healthz", "readyz"} <= {p.strip("^$") for p in exempt}


def _directives(header: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in header.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def test_dashboard_pages_send_a_strict_content_security_policy(
    owner: Membership, client_for: Callable[[User], Client]
) -> None:
    response = client_for(owner.user).get(reverse("dashboard:overview"))

    assert response.status_code == 200
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["form-action"][0] == "'self'"
    # "Connect Facebook" posts, then redirects to the OAuth dialog: form-action must allow it.
    assert settings.FACEBOOK_DIALOG_URL.startswith(csp["form-action"][1])
    assert set(csp["img-src"]) >= {"'self'", "data:"}
    assert not any("unsafe" in v for values in csp.values() for v in values)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_dashboard_html_has_no_inline_scripts_or_handlers(
    owner: Membership, client_for: Callable[[User], Client]
) -> None:
    html = client_for(owner.user).get(reverse("dashboard:overview")).content.decode()

    assert "<script>" not in html
    assert " onclick=" not in html
    assert ' style="' not in html


def test_swagger_ui_alone_allows_inline_styles_and_loads_no_inline_script(client: Client) -> None:
    response = client.get(reverse("api-docs"))

    csp = _directives(response["Content-Security-Policy"])
    assert response.status_code == 200
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in csp["style-src"]
    assert "<script>" not in response.content.decode()


# --- Login throttling ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


def _fail_until_refused(client: Client, email: str, login_url: str) -> int:
    """Wrong passwords until the form says "too many"; returns how many were wrong."""
    for attempt in range(1, 20):
        response = client.post(login_url, {"login": email, "password": "wrong password"})
        if "Too many failed login attempts" in response.content.decode():
            return attempt - 1
    raise AssertionError("the failed logins were never throttled")


def test_failed_logins_lock_the_login_page_even_for_the_right_password(
    make_user: Callable[..., User],
) -> None:
    user = make_user()
    client = Client()
    login_url = reverse("account_login")

    failures = _fail_until_refused(client, user.email, login_url)
    response = client.post(login_url, {"login": user.email, "password": PASSWORD})

    assert failures == 5
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_within_the_limit_still_works(make_user: Callable[..., User]) -> None:
    user = make_user()
    client = Client()
    for _ in range(4):
        client.post(reverse("account_login"), {"login": user.email, "password": "nope"})

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_admin_login_is_the_throttled_login_page(staff: User) -> None:
    client = Client()

    page = client.get(reverse("admin:login") + "?next=/admin/posts/post/")
    # The admin's own (unthrottled) form never authenticates anyone.
    posted = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})

    assert page.status_code == 302
    assert page["Location"] == reverse("account_login") + "?next=%2Fadmin%2Fposts%2Fpost%2F"
    assert posted.status_code == 302
    assert "_auth_user_id" not in client.session


def test_staff_are_locked_out_of_the_admin_after_failed_logins(staff: User) -> None:
    client = Client()
    login_url = client.get(reverse("admin:index"), follow=True).request["PATH_INFO"]
    assert login_url == reverse("account_login")
    login_with_next = f"{login_url}?next=/admin/"

    failures = _fail_until_refused(client, staff.email, login_with_next)
    refused = client.post(login_with_next, {"login": staff.email, "password": PASSWORD})
    admin = client.get(reverse("admin:index"))

    assert failures == 5
    assert "Too many failed login attempts" in refused.content.decode()
    assert admin.status_code == 302  # still not logged in


def test_staff_log_in_to_the_admin_through_the_login_page(staff: User) -> None:
    client = Client()

    response = client.post(
        reverse("account_login") + "?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("admin:login"))["Location"] == reverse("admin:index")


def test_signed_in_non_staff_get_403_not_a_redirect_loop(
    owner: Membership, client_for: Callable[[User], Client]
) -> None:
    assert client_for(owner.user).get(reverse("admin:login")).status_code == 403


def test_an_open_redirect_through_next_is_refused(client: Client) -> None:
    response = client.get(reverse("admin:login") + "?next=https://evil.example/")

    assert response["Location"] == reverse("account_login") + "?next=%2Fadmin%2F"


def test_login_rate_limits_use_the_shared_cache() -> None:
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"] == "10/m/ip,5/5m/key"
    # Production: REDIS_URL makes the default cache Redis, shared by every web process.
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'])",
        env=_production_env(),
    )
    assert result.stdout.strip() == "django.core.cache.backends.redis.RedisCache"

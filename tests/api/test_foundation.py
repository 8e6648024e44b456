"""The API's foundation: API keys, authentication, tenant scoping, the error shape, throttling."""

import os
import re
import subprocess
import sys
import textwrap

import pytest
import redis
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from model_bakery import baker

from apps.accounts import services
from apps.accounts.models import ApiKey
from apps.social.models import ConnectedAccount
from tests.conftest import ROOT, _database_url


@pytest.fixture
def api_key(owner):
    return services.api_key_create(actor=owner, name="Menu sync", scopes=["write"])


def api(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:social-automation:problem:{code}"
    assert body["title"]
    assert body["detail"]
    return body


def test_a_key_is_shown_once_and_only_its_hash_is_stored(api_key):
    stored = ApiKey.objects.get()
    assert api_key.key.startswith(f"sa_{stored.prefix}_")
    assert api_key.key not in stored.secret_hash
    assert stored.scopes == ["read", "write"]


def test_me_tells_the_tenant_and_the_key(api_key, tenant):
    body = api(api_key.key).get("/api/v1/me/").json()

    assert body["tenant"]["slug"] == tenant.slug
    assert body["role"] == "editor"
    assert body["api_key"] == {
        "name": "Menu sync",
        "prefix": api_key.api_key.prefix,
        "scopes": ["read", "write"],
    }


def test_accounts_are_listed_for_the_keys_tenant_only(api_key, tenant, other_tenant):
    mine = baker.make(
        ConnectedAccount, tenant=tenant, platform="facebook_page", platform_id="1", name="Mine"
    )
    baker.make(
        ConnectedAccount,
        tenant=other_tenant,
        platform="facebook_page",
        platform_id="2",
        name="Theirs",
    )

    body = api(api_key.key).get("/api/v1/accounts/").json()

    assert [a["id"] for a in body["results"]] == [mine.pk]
    assert "token" not in str(body).lower()


@pytest.mark.parametrize("header", ["Api-Key sa_deadbeef_nope", "Api-Key nonsense", "Bearer x"])
def test_wrong_credentials_are_401_problems(db, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/me/")

    assert_problem(
        response,
        401,
        "authentication_failed" if header.startswith("Api-Key") else "not_authenticated",
    )
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_revoked_key_stops_working_at_once(api_key, owner):
    client = api(api_key.key)
    assert client.get("/api/v1/me/").status_code == 200  # now cached

    services.api_key_revoke(actor=owner, api_key=api_key.api_key)

    assert_problem(client.get("/api/v1/me/"), 401, "authentication_failed")


def test_a_read_only_key_cannot_write(owner):
    read_only = services.api_key_create(actor=owner, name="Reporting", scopes=["read"]).key

    response = api(read_only).post("/api/v1/accounts/", {}, content_type="application/json")

    assert response.status_code in (403, 405)
    if response.status_code == 403:
        assert_problem(response, 403, "permission_denied")


def test_last_use_is_recorded(api_key):
    api(api_key.key).get("/api/v1/me/")

    assert ApiKey.objects.get().last_used_at is not None


def test_unknown_objects_are_404_problems(api_key):
    assert_problem(api(api_key.key).get("/api/v1/accounts/999999/"), 404, "not_found")


def test_the_session_works_for_the_dashboards_own_calls(client_for, owner):
    assert client_for(owner.user).get("/api/v1/me/").json()["role"] == "owner"


def test_the_api_session_acts_in_the_tenant_the_dashboard_shows(
    client_for, owner, other_tenant, make_member
):
    # One resolution (apps.accounts.middleware.membership_for_request) for pages and API calls.
    make_member(other_tenant, "viewer", user=owner.user)
    client = client_for(owner.user)
    assert client.get("/api/v1/me/").json()["tenant"]["id"] == owner.tenant_id

    client.post(f"/business/{other_tenant.pk}/switch/")

    me = client.get("/api/v1/me/").json()
    assert (me["tenant"]["id"], me["role"]) == (other_tenant.pk, "viewer")
    assert client.get("/").wsgi_request.tenant == other_tenant


def test_keys_are_managed_in_the_dashboard_by_owners_and_managers(client_for, owner, editor):
    client = client_for(owner.user)
    page = client.post(reverse("api_keys:list"), {"name": "Website", "scope": "read"})

    key = ApiKey.objects.get(name="Website")
    assert page.status_code == 200
    shown = re.search(rf"sa_{key.prefix}_[A-Za-z0-9_-]{{20,}}", page.content.decode())
    assert shown  # the whole key, once, on this page
    assert shown.group(0) not in client.get(reverse("api_keys:list")).content.decode()
    client.post(reverse("api_keys:revoke", args=[key.pk]))
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert client_for(editor.user).get(reverse("api_keys:list")).status_code == 403


def test_throttling_answers_429_with_retry_after(api_key, settings, tenant):
    settings.API_THROTTLE_RATES = {"basic": "3/hour", "pro": "500/hour", "enterprise": "2000/hour"}
    cache.clear()
    client = api(api_key.key)

    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    body = assert_problem(client.get("/api/v1/me/"), 429, "throttled")
    assert body["retry_after"] > 0


@pytest.mark.django_db(transaction=True)
def test_throttling_is_shared_by_processes_through_redis(api_key, tenant, settings):
    """Two separate processes, one Redis: together they hit the plan's limit."""
    script = textwrap.dedent(
        f"""
        import os, django
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
        django.setup()
        from django.conf import settings
        from django.test.utils import override_settings
        from django.test import Client
        caches = {{"default": {{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
                   "shared": {{"BACKEND": "django.core.cache.backends.redis.RedisCache",
                              "LOCATION": settings.REDIS_URL}}}}
        rates = {{"basic": "5/hour", "pro": "5/hour", "enterprise": "5/hour"}}
        with override_settings(CACHES=caches, API_THROTTLE_CACHE="shared",
                               API_THROTTLE_RATES=rates):
            client = Client(HTTP_AUTHORIZATION="Api-Key {api_key.key}", HTTP_HOST="localhost")
            print(",".join(str(client.get("/api/v1/me/").status_code) for _ in range(4)))
        """
    )
    shared = redis.Redis.from_url(settings.REDIS_URL)
    for key in shared.keys(f"*api-throttle:{tenant.pk}:*"):
        shared.delete(key)
    env = {**os.environ, "DATABASE_URL": _database_url()}

    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
        for _ in range(2)
    ]

    statuses = ",".join(runs).split(",")
    assert statuses.count("200") == 5, runs
    assert statuses.count("429") == 3, runs

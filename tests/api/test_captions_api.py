""" "Draft with AI" over the API: POST /api/v1/captions/suggestions/ with the offline provider,
validation, tenancy of account ids, roles, the monthly limit (429) and a failing provider (502,
against the fake OpenAI-compatible server of tests/posts/test_captions.py)."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from model_bakery import baker

from apps.accounts.models import Tenant
from apps.posts.captions import is_near_duplicate
from apps.posts.models import CaptionUsage
from apps.social.models import ConnectedAccount
from tests.api.helpers import assert_problem
from tests.posts.test_captions import FakeOpenAI

URL = "/api/v1/captions/suggestions/"
DETAILS = "Truffle risotto, 14 euros, this week only"


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def brand(tenant: Tenant) -> Tenant:
    tenant.name = "Trattoria Luca"
    tenant.category = "Italian"
    tenant.default_hashtags = "#trattorialuca #italianfood #oldtown #dinner"
    tenant.save()
    return tenant


@pytest.fixture
def fake_openai(settings: Any) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    settings.OPENAI_API_KEY = "sk-test-secret-123456"
    settings.OPENAI_BASE_URL = fake.base_url
    settings.CAPTION_MAX_RETRIES = 0
    settings.CAPTION_TIMEOUT_SECONDS = 2.0
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def suggest(client: Client, **body: Any):
    return client.post(URL, body, content_type="application/json")


def test_suggestions_from_the_offline_provider(api: Client, brand: Tenant, instagram):
    response = suggest(api, item_details=DETAILS, account_ids=[instagram.pk])

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["provider"] == "offline"
    assert body["usage"] == {"used": 1, "limit": 100}
    assert len(body["suggestions"]) == 3
    for suggestion in body["suggestions"]:
        assert set(suggestion) == {"text", "hashtags", "full_text"}
        assert DETAILS in suggestion["text"]
        assert "#trattorialuca" in suggestion["hashtags"]
        assert (
            suggestion["full_text"] == f"{suggestion['text']}\n\n{' '.join(suggestion['hashtags'])}"
        )
    assert CaptionUsage.objects.filter(tenant=brand).count() == 1


def test_the_platforms_follow_the_accounts_and_the_platforms_given(api: Client, page):
    facebook_only = suggest(api, item_details=DETAILS, account_ids=[page.pk]).json()
    by_name = suggest(api, item_details="Tiramisu", platforms=["facebook_page"]).json()
    both = suggest(
        api, item_details="Pizza", account_ids=[page.pk], platforms=["instagram_business"]
    ).json()

    assert all(len(s["hashtags"]) <= 3 for s in facebook_only["suggestions"])
    assert all(len(s["hashtags"]) <= 3 for s in by_name["suggestions"])
    assert all(len(s["hashtags"]) > 3 for s in both["suggestions"])  # Instagram's rules


def test_avoid_gives_fresh_suggestions_and_bypasses_the_cache(api: Client, brand: Tenant):
    first = suggest(api, item_details=DETAILS).json()["suggestions"]
    cached = suggest(api, item_details=DETAILS).json()["suggestions"]

    again = suggest(api, item_details=DETAILS, avoid=[s["text"] for s in first]).json()

    assert cached == first
    assert len(again["suggestions"]) == 3
    assert not any(
        is_near_duplicate(a["text"], b["text"]) for a in again["suggestions"] for b in first
    )
    assert again["usage"]["used"] == 2  # the cached answer was not counted


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "item_details"),
        ({"item_details": "   "}, "item_details"),
        ({"item_details": "x" * 1001}, "item_details"),
        ({"item_details": "Soup", "platforms": ["myspace"]}, "platforms.0"),
        ({"item_details": "Soup", "account_ids": ["abc"]}, "account_ids"),
        ({"item_details": "Soup", "avoid": ["a"] * 16}, "avoid"),
    ],
)
def test_invalid_requests_are_400_problems(api: Client, body: dict, field: str):
    response = api.post(URL, body, content_type="application/json")

    problem = assert_problem(response, 400, "invalid")
    assert field in [e["field"] for e in problem["errors"]], problem
    assert not CaptionUsage.objects.exists()


def test_another_tenants_account_is_refused_like_any_unknown_id(
    api: Client, other_tenant: Tenant, instagram
):
    foreign = baker.make(ConnectedAccount, tenant=other_tenant, platform="facebook_page")

    response = suggest(api, item_details=DETAILS, account_ids=[instagram.pk, foreign.pk])
    unknown = suggest(api, item_details=DETAILS, account_ids=[999999])
    # The posts API answers an unknown account id the same way.
    post = api.post("/api/v1/posts/", {"targets": [foreign.pk]}, content_type="application/json")

    for answer in (response, unknown, post):
        problem = assert_problem(answer, 400, "invalid")
        assert problem["errors"][0]["code"] == "does_not_exist"
    assert response.json()["errors"][0]["field"] == "account_ids"
    assert not CaptionUsage.objects.exists()


def test_the_monthly_limit_is_a_429_until_next_month(api: Client, brand: Tenant, settings):
    settings.CAPTION_MONTHLY_LIMITS = {"basic": 1, "pro": 1, "enterprise": 1}
    CaptionUsage.objects.create(tenant=brand, provider="offline")

    response = suggest(api, item_details=DETAILS)

    problem = assert_problem(response, 429, "caption_limit_reached")
    assert "1 AI caption drafts a month" in problem["detail"]
    assert int(response["Retry-After"]) == problem["retry_after"] > 0
    assert problem["retry_after"] <= 31 * 86400
    assert CaptionUsage.objects.filter(tenant=brand).count() == 1


def test_a_failing_provider_is_a_502(api: Client, fake_openai: FakeOpenAI):
    fake_openai.answer(503, {"error": "overloaded"})

    response = suggest(api, item_details=DETAILS)

    problem = assert_problem(response, 502, "caption_provider_error")
    assert problem["title"] == "Bad gateway"
    assert "unavailable (HTTP 503)" in problem["detail"]
    assert "sk-test-secret" not in response.content.decode()
    assert not CaptionUsage.objects.exists()


def test_the_openai_provider_is_named_in_the_answer(api: Client, fake_openai: FakeOpenAI):
    from tests.posts.test_captions import completion

    fake_openai.answer(200, completion())

    body = suggest(api, item_details=DETAILS).json()

    assert body["provider"] == "openai"
    assert len(body["suggestions"]) == 3


def test_read_only_keys_and_viewers_may_not_draft(
    key_client, owner, viewer, client_for, brand: Tenant
):
    read_only = key_client(owner, scopes=("read",))
    session = client_for(viewer.user)

    assert_problem(suggest(read_only, item_details=DETAILS), 403, "permission_denied")
    assert_problem(suggest(session, item_details=DETAILS), 403, "permission_denied")
    assert_problem(suggest(Client(), item_details=DETAILS), 401, "not_authenticated")
    assert not CaptionUsage.objects.exists()


def test_editors_may_draft_with_their_session(client_for, editor):
    response = suggest(client_for(editor.user), item_details=DETAILS)

    assert response.status_code == 200
    assert len(response.json()["suggestions"]) == 3


def test_it_is_throttled_like_the_other_endpoints(api: Client, settings):
    settings.API_THROTTLE_RATES = dict.fromkeys(("basic", "pro", "enterprise"), "1/hour")
    cache.clear()

    assert suggest(api, item_details=DETAILS).status_code == 200
    assert_problem(suggest(api, item_details=DETAILS), 429, "throttled")


def test_the_schema_describes_the_endpoint(client, db):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operation = document["paths"][URL]["post"]
    assert operation["summary"] == "Draft captions with AI"
    assert {"200", "400", "401", "403", "429", "502"} <= set(operation["responses"])
    assert "application/problem+json" in operation["responses"]["502"]["content"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = request.rsplit("/", 1)[-1]
    assert set(document["components"]["schemas"][name]["properties"]) == {
        "item_details",
        "account_ids",
        "platforms",
        "avoid",
    }

"""AI captions (SPEC 10): the offline generator, the OpenAI-compatible provider against a fake
server over HTTP and with respx, and the ``caption_suggest`` service."""

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import respx
from django.utils import timezone
from model_bakery import baker

from apps.accounts.models import Membership, Tenant
from apps.core.exceptions import ApplicationError
from apps.networks.registry import network_for
from apps.posts.captions import (
    CaptionError,
    CaptionRequest,
    OfflineProvider,
    OpenAICompatibleProvider,
    caption_suggest,
    is_near_duplicate,
)
from apps.posts.models import CaptionUsage, Post

API_KEY = "sk-test-secret-123456"
INSTAGRAM = "instagram_business"
FACEBOOK = "facebook_page"
INSTAGRAM_LIMITS = network_for(INSTAGRAM).limits
CAPTIONS = [
    "Our truffle risotto is back for autumn, creamy and rich. #risotto",
    "Lunch deal: risotto and a glass of wine for 15 euros, weekdays only.",
    "Chef Marco's favourite: wild mushroom risotto with fresh truffle shavings.",
]


@pytest.fixture(autouse=True)
def local_cache(settings: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def brand(tenant: Tenant) -> Tenant:
    tenant.name = "Trattoria Luca"
    tenant.description = "Family-run Italian kitchen in the old town since 1998."
    tenant.category = "Italian"
    tenant.tone_of_voice = "warm and playful"
    tenant.default_hashtags = "#trattorialuca #italianfood"
    tenant.save()
    return tenant


def request_for(tenant: Tenant, platforms: tuple[str, ...] = (INSTAGRAM,)) -> CaptionRequest:
    return CaptionRequest(
        name=tenant.name,
        description=tenant.description,
        category=tenant.category,
        tone_of_voice=tenant.tone_of_voice,
        default_hashtags=tenant.default_hashtags,
        item_details="Truffle risotto, 14 euros, this week only",
        platforms=platforms,
    )


def completion(captions: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": json.dumps({"captions": captions or CAPTIONS}),
                },
            }
        ],
        "usage": {"prompt_tokens": 300, "completion_tokens": 120, "total_tokens": 420},
        **extra,
    }


# --- a fake OpenAI-compatible server --------------------------------------------------------------


class FakeOpenAI:
    """Answers POST /v1/chat/completions from a script of (status, headers, body, delay)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes, float]] = []
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                status, headers, payload, delay = (
                    fake.script.pop(0) if fake.script else (200, {}, b"{}", 0.0)
                )
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(
        self,
        status: int = 200,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        delay: float = 0.0,
    ) -> None:
        payload = raw if raw is not None else json.dumps(body or {}).encode()
        self.script.append((status, headers or {}, payload, delay))


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def provider_for(base_url: str, sleeps: list[float], **kwargs: Any) -> OpenAICompatibleProvider:
    options: dict[str, Any] = {"timeout": 2.0, "max_retries": 2, "backoff_base": 0.01}
    options.update(kwargs)
    return OpenAICompatibleProvider(
        api_key=API_KEY,
        base_url=base_url,
        model="fake-model",
        sleep=sleeps.append,
        jitter=lambda: 0.0,
        **options,
    )


# --- offline provider -----------------------------------------------------------------------------


def test_offline_writes_three_distinct_captions_from_the_brand_profile(brand: Tenant) -> None:
    result = OfflineProvider().suggest(request_for(brand), avoid=[])

    texts = [s.text for s in result.suggestions]
    assert len(texts) == 3
    assert len(set(texts)) == 3
    assert all("Trattoria Luca" in t and "Truffle risotto, 14 euros" in t for t in texts)
    assert not any(is_near_duplicate(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :])
    assert any("Family-run Italian kitchen" in t for t in texts)
    tags = result.suggestions[0].hashtags
    assert tags[:2] == ["#trattorialuca", "#italianfood"]
    assert "#risotto" in tags
    assert "#truffle" in tags
    assert result.prompt_tokens == result.completion_tokens == 0


def test_offline_is_tone_aware(brand: Tenant) -> None:
    playful = OfflineProvider().suggest(request_for(brand), avoid=[]).suggestions[0].text
    brand.tone_of_voice = "elegant, refined"
    elegant = OfflineProvider().suggest(request_for(brand), avoid=[]).suggestions[0].text

    assert playful != elegant
    assert "An invitation." in elegant


def test_offline_gives_facebook_fewer_hashtags(brand: Tenant) -> None:
    brand.default_hashtags = " ".join(f"#tag{i}" for i in range(10))
    instagram = OfflineProvider().suggest(request_for(brand, (INSTAGRAM,)), avoid=[])
    facebook = OfflineProvider().suggest(request_for(brand, (FACEBOOK,)), avoid=[])

    assert len(instagram.suggestions[0].hashtags) > 10
    assert len(facebook.suggestions[0].hashtags) == 3


def test_offline_honours_instagrams_limits(brand: Tenant) -> None:
    brand.default_hashtags = " ".join(f"#tag{i}" for i in range(50))
    request = CaptionRequest(
        name=brand.name,
        default_hashtags=brand.default_hashtags,
        description="Very long story. " * 300,
        item_details="Pizza " + "with everything " * 200,
        platforms=(INSTAGRAM,),
    )
    suggestions = OfflineProvider().suggest(request, avoid=[]).suggestions
    assert len(suggestions) == 3
    for suggestion in suggestions:
        assert len(suggestion.hashtags) == INSTAGRAM_LIMITS.hashtags
        assert len(suggestion.full_text) <= INSTAGRAM_LIMITS.caption_chars


def test_offline_skips_a_phrasing_already_used(brand: Tenant) -> None:
    first = OfflineProvider().suggest(request_for(brand), avoid=[]).suggestions[0].text
    again = OfflineProvider().suggest(request_for(brand), avoid=[first]).suggestions

    assert len(again) == 3
    assert first not in [s.text for s in again]


# --- OpenAI-compatible provider over HTTP (fake server) -------------------------------------------


def test_fake_server_success(brand: Tenant, fake_openai: FakeOpenAI, sleeps: list[float]) -> None:
    fake_openai.answer(200, completion())

    result = provider_for(fake_openai.base_url, sleeps).suggest(request_for(brand), avoid=[])

    assert [s.text for s in result.suggestions] == [
        "Our truffle risotto is back for autumn, creamy and rich.",
        CAPTIONS[1],
        CAPTIONS[2],
    ]
    assert "#risotto" in result.suggestions[0].hashtags
    assert "#trattorialuca" in result.suggestions[0].hashtags
    assert (result.prompt_tokens, result.completion_tokens, result.model) == (
        300,
        120,
        "fake-model",
    )
    assert fake_openai.requests[0]["path"] == "/v1/chat/completions"
    assert sleeps == []


def test_fake_server_429_honours_retry_after(
    brand: Tenant, fake_openai: FakeOpenAI, sleeps: list[float]
) -> None:
    fake_openai.answer(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "7"})
    fake_openai.answer(200, completion())

    result = provider_for(fake_openai.base_url, sleeps).suggest(request_for(brand), avoid=[])

    assert len(result.suggestions) == 3
    assert sleeps == [7.0]
    assert len(fake_openai.requests) == 2


def test_fake_server_500_then_success(
    brand: Tenant, fake_openai: FakeOpenAI, sleeps: list[float]
) -> None:
    fake_openai.answer(500, {"error": "boom"})
    fake_openai.answer(200, completion())

    result = provider_for(fake_openai.base_url, sleeps).suggest(request_for(brand), avoid=[])

    assert len(result.suggestions) == 3
    assert sleeps == [0.01]  # backoff_base * 2**0 (jitter fixed at 0)


def test_fake_server_persistent_500_is_an_error_after_the_retries(
    brand: Tenant, fake_openai: FakeOpenAI, sleeps: list[float]
) -> None:
    for _ in range(3):
        fake_openai.answer(503, {"error": "down"})

    with pytest.raises(CaptionError) as exc_info:
        provider_for(fake_openai.base_url, sleeps).suggest(request_for(brand), avoid=[])

    assert exc_info.value.code == "caption_provider_error"
    assert "HTTP 503" in exc_info.value.message
    assert len(fake_openai.requests) == 3  # one try + CAPTION_MAX_RETRIES
    assert sleeps == [0.01, 0.02]  # exponential


@pytest.mark.parametrize(
    "raw",
    [
        b"<html>not json</html>",
        json.dumps({"choices": []}).encode(),
        json.dumps({"choices": [{"message": {"content": "Here are captions: ..."}}]}).encode(),
        json.dumps({"choices": [{"message": {"content": '{"captions": "one"}'}}]}).encode(),
    ],
    ids=["not-json", "no-choices", "content-not-json", "captions-not-a-list"],
)
def test_fake_server_malformed_answer_is_a_clear_error(
    brand: Tenant, fake_openai: FakeOpenAI, sleeps: list[float], raw: bytes
) -> None:
    fake_openai.answer(200, raw=raw)

    with pytest.raises(CaptionError) as exc_info:
        provider_for(fake_openai.base_url, sleeps).suggest(request_for(brand), avoid=[])

    assert exc_info.value.code == "caption_provider_error"
    assert "could not read" in exc_info.value.message or "not JSON" in exc_info.value.message
    assert len(fake_openai.requests) == 1  # not retried: the same question gets the same mess


def test_fake_server_timeout_is_an_error_after_the_retries(
    brand: Tenant, fake_openai: FakeOpenAI, sleeps: list[float]
) -> None:
    for _ in range(2):
        fake_openai.answer(200, completion(), delay=0.5)

    provider = provider_for(fake_openai.base_url, sleeps, timeout=0.1, max_retries=1)
    with pytest.raises(CaptionError) as exc_info:
        provider.suggest(request_for(brand), avoid=[])

    assert "timeout" in exc_info.value.message
    assert len(fake_openai.requests) == 2
    assert len(sleeps) == 1


# --- OpenAI-compatible provider: request shape (respx) --------------------------------------------


@pytest.fixture
def openai_mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url="https://llm.test/v1") as router:
        yield router


def test_request_shape(
    brand: Tenant,
    openai_mock: respx.MockRouter,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    route = openai_mock.post("/chat/completions").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json=completion())]
    )
    avoid = ["Pizza night every Friday!", "Our new terrace is open."]

    provider = provider_for("https://llm.test/v1/", sleeps)
    provider.suggest(request_for(brand, (INSTAGRAM, FACEBOOK)), avoid=avoid)

    sent = route.calls.last.request
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    body = json.loads(sent.content)
    assert body["model"] == "fake-model"
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system"
    assert user["role"] == "user"
    for fact in [
        "Trattoria Luca",
        "Family-run Italian kitchen",
        "Italian",
        "warm and playful",
        "#trattorialuca #italianfood",
        "2,200 characters",
        "Facebook Page",
        '{"captions"',
        *avoid,
    ]:
        assert fact in system["content"]
    assert "Truffle risotto, 14 euros, this week only" in user["content"]
    # The key is in the header only: not in logs, the provider's repr or error messages.
    assert caplog.records, "the retry was logged"
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(r.msg) for r in caplog.records)
    assert API_KEY not in repr(provider)


def test_a_4xx_is_not_retried_and_hides_the_key(
    brand: Tenant, openai_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = openai_mock.post("/chat/completions").respond(401, json={"error": "bad key"})

    with pytest.raises(CaptionError) as exc_info:
        provider_for("https://llm.test/v1", sleeps).suggest(request_for(brand), avoid=[])

    assert route.call_count == 1
    assert "HTTP 401" in exc_info.value.message
    assert API_KEY not in str(exc_info.value)


# --- the service ----------------------------------------------------------------------------------


@pytest.fixture
def openai_settings(settings: Any) -> Any:
    settings.OPENAI_API_KEY = API_KEY
    settings.OPENAI_BASE_URL = "https://llm.test/v1"
    settings.OPENAI_MODEL = "fake-model"
    settings.CAPTION_MAX_RETRIES = 0
    settings.CAPTION_COST_PER_1K_TOKENS = {"input": "0.15", "output": "0.60"}
    return settings


def test_without_a_key_the_offline_generator_answers(brand: Tenant, owner: Membership) -> None:
    suggestions = caption_suggest(
        actor=owner, item_details="Tiramisu, 6 euros", platforms=[INSTAGRAM]
    )

    assert len(suggestions) == 3
    assert all("Tiramisu, 6 euros" in s.text for s in suggestions)
    usage = CaptionUsage.objects.get(tenant=brand)
    assert (usage.provider, usage.cost_usd) == ("offline", Decimal("0"))


def test_offline_suggestions_do_not_repeat_captions_already_posted(
    brand: Tenant, owner: Membership
) -> None:
    first = caption_suggest(actor=owner, item_details="Tiramisu", platforms=[INSTAGRAM])
    for suggestion in first:
        baker.make(Post, tenant=brand, caption=suggestion.full_text)

    second = caption_suggest(actor=owner, item_details="Tiramisu!", platforms=[INSTAGRAM])

    assert len(second) == 3
    assert not any(is_near_duplicate(a.text, b.text) for a in second for b in first)


def test_with_a_key_records_tokens_and_cost(
    brand: Tenant, owner: Membership, openai_settings: Any, openai_mock: respx.MockRouter
) -> None:
    openai_mock.post("/chat/completions").respond(json=completion())

    suggestions = caption_suggest(
        actor=owner, item_details="Truffle risotto", platforms=[INSTAGRAM]
    )

    assert len(suggestions) == 3
    usage = CaptionUsage.objects.get(tenant=brand)
    assert (usage.provider, usage.model) == ("openai", "fake-model")
    assert (usage.prompt_tokens, usage.completion_tokens) == (300, 120)
    assert usage.cost_usd == Decimal("0.117000")  # 300 * 0.15/1k + 120 * 0.60/1k


def test_near_duplicates_of_recent_captions_and_of_each_other_are_dropped(
    brand: Tenant, owner: Membership, openai_settings: Any, openai_mock: respx.MockRouter
) -> None:
    baker.make(Post, tenant=brand, caption="Our truffle risotto is back for autumn, creamy & rich!")
    baker.make(Post, tenant=brand, caption="Something else entirely about desserts.")
    route = openai_mock.post("/chat/completions").respond(
        json=completion(
            [
                CAPTIONS[0],
                CAPTIONS[1],
                CAPTIONS[1].replace("15 euros", "15 euro"),
                CAPTIONS[2],
            ]
        )
    )

    suggestions = caption_suggest(
        actor=owner, item_details="Truffle risotto", platforms=[INSTAGRAM]
    )

    assert [s.text for s in suggestions] == [CAPTIONS[1]]
    system = json.loads(route.calls.last.request.content)["messages"][0]["content"]
    assert "creamy & rich!" in system  # recent captions were sent as ones to avoid


def test_only_the_20_most_recent_captions_are_sent_to_avoid(
    brand: Tenant, owner: Membership, openai_settings: Any, openai_mock: respx.MockRouter
) -> None:
    for i in range(25):
        baker.make(Post, tenant=brand, caption=f"Recent caption number {i:02d}")
    route = openai_mock.post("/chat/completions").respond(json=completion())

    caption_suggest(actor=owner, item_details="Truffle risotto", platforms=[INSTAGRAM])

    system = json.loads(route.calls.last.request.content)["messages"][0]["content"]
    assert system.count("Recent caption number") == 20
    assert "Recent caption number 24" in system
    assert "Recent caption number 04" not in system


def test_similarity_threshold() -> None:
    assert is_near_duplicate("Try our new pizza today! #pizza", "Try our new pizzas today")
    assert not is_near_duplicate(
        "Try our new pizza today!", "Friday pizza night: two for one, all evening."
    )


def test_an_identical_request_is_served_from_the_cache(
    brand: Tenant, owner: Membership, openai_settings: Any, openai_mock: respx.MockRouter
) -> None:
    route = openai_mock.post("/chat/completions").respond(json=completion())

    first = caption_suggest(actor=owner, item_details="Truffle risotto", platforms=[INSTAGRAM])
    second = caption_suggest(
        actor=owner, item_details="  truffle   risotto ", platforms=[INSTAGRAM]
    )
    caption_suggest(actor=owner, item_details="Truffle risotto", platforms=[FACEBOOK])

    assert second == first
    assert route.call_count == 2  # the Facebook request is a different question
    assert CaptionUsage.objects.filter(tenant=brand).count() == 2


@pytest.mark.parametrize(("plan", "limit"), [("basic", 100), ("pro", 1000), ("enterprise", 10000)])
def test_the_monthly_limit_follows_the_plan(
    brand: Tenant, owner: Membership, settings: Any, plan: str, limit: int
) -> None:
    assert settings.CAPTION_MONTHLY_LIMITS[plan] == limit
    settings.CAPTION_MONTHLY_LIMITS = {**settings.CAPTION_MONTHLY_LIMITS, plan: 2}
    brand.plan = plan
    brand.save()
    CaptionUsage.objects.bulk_create(
        [CaptionUsage(tenant=brand, provider="offline") for _ in range(2)]
    )

    with pytest.raises(ApplicationError) as exc_info:
        caption_suggest(actor=owner, item_details="Soup", platforms=[INSTAGRAM])

    assert exc_info.value.code == "caption_limit_reached"
    assert "2 AI caption drafts a month" in exc_info.value.message
    assert CaptionUsage.objects.filter(tenant=brand).count() == 2


def test_last_months_usage_does_not_count(
    brand: Tenant, owner: Membership, settings: Any, other_tenant: Tenant
) -> None:
    settings.CAPTION_MONTHLY_LIMITS = {"basic": 1, "pro": 1, "enterprise": 1}
    old = CaptionUsage.objects.create(tenant=brand, provider="offline")
    start_of_month = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    CaptionUsage.objects.filter(pk=old.pk).update(created_at=start_of_month - timedelta(seconds=1))
    CaptionUsage.objects.create(tenant=other_tenant, provider="offline")  # another tenant's

    assert caption_suggest(actor=owner, item_details="Soup", platforms=[INSTAGRAM])


def test_empty_details_are_refused(owner: Membership) -> None:
    with pytest.raises(ApplicationError) as exc_info:
        caption_suggest(actor=owner, item_details="   ", platforms=[INSTAGRAM])

    assert exc_info.value.code == "caption_details_required"


def test_a_retry_that_cannot_finish_before_the_deadline_is_not_started(
    brand: Tenant, openai_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    # Waiting the 30 s the provider asks for would pass the 20 s the person can wait.
    route = openai_mock.post("/chat/completions").respond(
        429, headers={"Retry-After": "30"}, json={"error": "slow down"}
    )

    with pytest.raises(CaptionError, match="rate limited"):
        provider_for("https://llm.test/v1", sleeps, deadline=20.0).suggest(
            request_for(brand), avoid=[]
        )

    assert route.call_count == 1
    assert sleeps == []


def test_retries_stop_at_the_deadline(
    brand: Tenant, openai_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    now = [0.0]

    def slow_answer(request: object) -> httpx.Response:
        now[0] += 8.0  # each failing attempt takes 8 s
        return httpx.Response(503, json={"error": "busy"})

    route = openai_mock.post("/chat/completions").mock(side_effect=slow_answer)
    provider = provider_for(
        "https://llm.test/v1",
        sleeps,
        timeout=10.0,
        max_retries=5,
        deadline=20.0,
        clock=lambda: now[0],
    )

    with pytest.raises(CaptionError, match="HTTP 503"):
        provider.suggest(request_for(brand), avoid=[])

    # 8 s, retry, 16 s: a third attempt would not get a useful share (5 s) of the 20 s.
    assert route.call_count == 2
    assert len(sleeps) == 1

"""``caption_suggest``: limits, provider choice, de-duplication, caching and usage accounting."""

import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.models import Membership, Tenant
from apps.core.exceptions import ApplicationError
from apps.posts.captions.providers import (
    MAX_SUGGESTION_CHARS,
    CaptionProvider,
    CaptionRequest,
    CaptionSuggestion,
    OfflineProvider,
    OpenAICompatibleProvider,
)
from apps.posts.captions.similarity import is_near_duplicate
from apps.posts.models import CaptionUsage, Post

RECENT_CAPTIONS = 20


class CaptionLimitReached(ApplicationError):
    """The plan's AI drafts for this month are used up (the API answers 429)."""

    default_code = "caption_limit_reached"


MAX_AVOID = 15  # suggestions already shown that "ask again" avoids (the latest ones)
MAX_AVOID_CHARS = MAX_SUGGESTION_CHARS  # a suggestion is never longer; bounds the similarity check
CACHE_PREFIX = "captions:v1"


def caption_provider() -> CaptionProvider:
    """OpenAI-compatible when ``OPENAI_API_KEY`` is set, the offline generator otherwise."""
    if settings.OPENAI_API_KEY:
        return OpenAICompatibleProvider(
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL,
            model=settings.OPENAI_MODEL,
            timeout=settings.CAPTION_TIMEOUT_SECONDS,
            max_retries=settings.CAPTION_MAX_RETRIES,
            deadline=settings.CAPTION_DEADLINE_SECONDS,
        )
    return OfflineProvider()


def caption_usage_this_month(*, tenant: Tenant) -> int:
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return CaptionUsage.objects.for_tenant(tenant).filter(created_at__gte=start).count()


def caption_monthly_limit(*, tenant: Tenant) -> int:
    limits: dict[str, int] = settings.CAPTION_MONTHLY_LIMITS
    return int(limits.get(tenant.plan, limits.get(Tenant.Plan.BASIC, 0)))


def caption_cost(*, prompt_tokens: int, completion_tokens: int) -> Decimal:
    rates = settings.CAPTION_COST_PER_1K_TOKENS
    cost = (
        Decimal(prompt_tokens) * Decimal(str(rates["input"]))
        + Decimal(completion_tokens) * Decimal(str(rates["output"]))
    ) / 1000
    return cost.quantize(Decimal("0.000001"))


def _recent_captions(tenant: Tenant) -> list[str]:
    captions = (
        Post.objects.for_tenant(tenant)
        .exclude(caption="")
        .order_by("-created_at", "-id")
        .values_list("caption", flat=True)[:RECENT_CAPTIONS]
    )
    return list(captions)


def _cache_key(request: CaptionRequest, tenant: Tenant, provider: CaptionProvider) -> str:
    raw = json.dumps(
        [
            tenant.pk,
            provider.name,
            getattr(provider, "model", ""),
            " ".join(request.item_details.split()).lower(),
            sorted(request.platforms),
            request.description,
            request.category,
            request.tone_of_voice,
            request.default_hashtags,
        ]
    )
    return f"{CACHE_PREFIX}:{hashlib.sha256(raw.encode()).hexdigest()}"


def caption_suggest(
    *,
    actor: Membership,
    item_details: str,
    platforms: list[str],
    provider: CaptionProvider | None = None,
    avoid: Sequence[str] = (),
) -> list[CaptionSuggestion]:
    """Up to three caption suggestions for ``actor``'s tenant, none a near-duplicate of
    its 20 most recent captions or of each other. Raises ``ApplicationError``
    (``CaptionLimitReached``) over the plan's monthly limit and ``CaptionError`` when the
    provider fails. A cached answer (same tenant, details, platforms, provider) costs nothing
    and is not counted. ``avoid`` ("ask again": the suggestions already shown) are avoided
    like recent captions, and such a request always asks the provider (no cache)."""
    tenant = actor.tenant
    item_details = item_details.strip()
    if not item_details:
        raise ApplicationError(
            "Tell us what the post is about, e.g. the dish, its price or the offer.",
            code="caption_details_required",
        )
    provider = provider or caption_provider()
    request = CaptionRequest(
        name=tenant.name,
        description=tenant.description,
        category=tenant.category,
        tone_of_voice=tenant.tone_of_voice,
        default_hashtags=tenant.default_hashtags,
        item_details=item_details[:1000],
        platforms=tuple(platforms),
    )
    shown = [a[:MAX_AVOID_CHARS] for a in avoid if a.strip()][-MAX_AVOID:]
    key = _cache_key(request, tenant, provider)
    cached = None if shown else cache.get(key)
    if cached is not None:
        return [CaptionSuggestion(text=t, hashtags=list(h)) for t, h in cached]

    limit = caption_monthly_limit(tenant=tenant)
    if caption_usage_this_month(tenant=tenant) >= limit:
        raise CaptionLimitReached(
            f"Your plan includes {limit} AI caption drafts a month and they are used up. "
            "Write this one yourself, or upgrade the plan for more."
        )

    recent = _recent_captions(tenant) + shown
    # No transaction is open here: the provider call may take seconds (STYLE: external calls).
    result = provider.suggest(request, avoid=recent)
    CaptionUsage.objects.create(
        tenant=tenant,
        provider=provider.name,
        model=result.model,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        cost_usd=caption_cost(
            prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens
        ),
    )
    kept: list[CaptionSuggestion] = []
    for suggestion in result.suggestions:
        seen = recent + [k.text for k in kept]
        if not any(is_near_duplicate(suggestion.text, other) for other in seen):
            kept.append(suggestion)
    kept = kept[: request.count]
    if not shown:
        cache.set(key, [(s.text, s.hashtags) for s in kept], settings.CAPTION_CACHE_SECONDS)
    return kept

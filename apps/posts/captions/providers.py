"""Caption providers: an offline template generator and an OpenAI-compatible chat-completions
client over httpx. No ORM in here; the service feeds them plain data."""

import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import structlog

from apps.core.exceptions import ApplicationError
from apps.networks import registry
from apps.posts.captions.similarity import is_near_duplicate

logger = structlog.get_logger(__name__)

# A suggestion's own bound, whatever the networks allow (also the API's bound on `avoid`): a
# caption longer than this is no longer a suggestion to edit.
MAX_SUGGESTION_CHARS = 2200


class CaptionError(ApplicationError):
    """The caption provider failed or answered something unusable."""

    default_code = "caption_provider_error"


@dataclass(frozen=True)
class CaptionRequest:
    name: str
    item_details: str
    platforms: tuple[str, ...] = ()
    description: str = ""
    category: str = ""
    tone_of_voice: str = ""
    default_hashtags: str = ""
    count: int = 3


@dataclass(frozen=True)
class CaptionSuggestion:
    text: str
    hashtags: list[str] = field(default_factory=list)

    @property
    def full_text(self) -> str:
        return f"{self.text}\n\n{' '.join(self.hashtags)}" if self.hashtags else self.text


@dataclass(frozen=True)
class ProviderResult:
    suggestions: list[CaptionSuggestion]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""


class CaptionProvider(Protocol):
    name: str

    def suggest(self, request: CaptionRequest, *, avoid: list[str]) -> ProviderResult: ...


# --- hashtags -------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = {
    "the", "and", "with", "for", "our", "your", "a", "an", "of", "to", "in", "on", "at", "only",
    "now", "this", "that", "new", "today", "all", "off", "per", "from", "is", "are", "by",
    # Prices and offers make poor hashtags.
    "euro", "euros", "eur", "usd", "dollar", "dollars", "pound", "pounds", "price", "offer",
    "free", "week", "weekend", "day", "days", "month", "until", "each", "special", "deal",
}  # fmt: skip


def parse_hashtags(text: str) -> list[str]:
    """``"#pizza, napoli #Food"`` → ``["#pizza", "#napoli", "#Food"]`` (deduplicated, in order)."""
    seen: set[str] = set()
    tags: list[str] = []
    for word in re.split(r"[\s,;]+", text):
        word = word.strip().lstrip("#")
        if word and _WORD.fullmatch(word) and word.lower() not in seen:
            seen.add(word.lower())
            tags.append(f"#{word}")
    return tags


def derived_hashtags(*texts: str, limit: int = 4) -> list[str]:
    words: list[str] = []
    for text in texts:
        for word in _WORD.findall(text):
            if len(word) > 2 and not word.isdigit() and word.lower() not in _STOPWORDS:
                words.append(word.lower())
    return parse_hashtags(" ".join(words))[:limit]


def platform_hashtags(request: CaptionRequest, extra: list[str] | None = None) -> list[str]:
    """Default hashtags + extra/derived, as many as the chosen network that carries the most
    suggests (Instagram 30, a Facebook Page alone 3); no network chosen: every network."""
    tags = parse_hashtags(
        " ".join(
            [
                request.default_hashtags,
                *(extra or []),
                *derived_hashtags(request.item_details, request.category),
            ]
        )
    )
    most = max(n.limits.suggested_hashtags for n in registry.chosen(request.platforms))
    return tags[:most]


def caption_chars(platforms: tuple[str, ...]) -> int:
    """How long a suggestion may be: the strictest caption limit of the chosen networks (every
    network when none is chosen), and never more than MAX_SUGGESTION_CHARS."""
    limits = (n.limits.caption_chars for n in registry.chosen(platforms))
    return min(MAX_SUGGESTION_CHARS, *limits)


def fit_caption(text: str, hashtags: list[str], *, limit: int = MAX_SUGGESTION_CHARS) -> str:
    """Trim ``text`` so that text + hashtags fit ``limit`` characters."""
    room = limit - (len(" ".join(hashtags)) + 2 if hashtags else 0)
    text = text.strip()
    if len(text) > room:
        text = text[: max(room - 1, 0)].rstrip() + "…"
    return text


# --- offline --------------------------------------------------------------------------------------

_OPENERS = {
    "playful": ["Guess what's back? 😋", "Psst… you're going to want this. 👀", "Treat time! 🎉"],
    "elegant": ["An invitation.", "Crafted with care.", "For the discerning guest."],
    "friendly": ["Hello, friends! 👋", "Good news!", "Something for you today:"],
}
_BODIES = [
    "{details} — now at {name}.",
    "Come and try {details} at {name}.",
    "{name} presents: {details}.",
    "Today at {name}: {details}.",
    "This one is for you: {details}, only at {name}.",
]
_CLOSERS = [
    "See you soon!",
    "Tag someone you'd share it with.",
    "Drop by and tell us what you think.",
    "Book your table or stop by.",
    "Don't miss it.",
]


def _tone_key(tone: str) -> str:
    tone = tone.lower()
    if any(w in tone for w in ("fun", "playful", "cheeky", "casual", "witty", "young")):
        return "playful"
    if any(w in tone for w in ("elegant", "formal", "refined", "premium", "luxur", "sophistic")):
        return "elegant"
    return "friendly"


class OfflineProvider:
    """Deterministic captions from templates: no network, no cost. Varies opener, body and closer
    per suggestion and skips any phrasing too close to one in ``avoid`` or already chosen."""

    name = "offline"

    def suggest(self, request: CaptionRequest, *, avoid: list[str]) -> ProviderResult:
        # Capped so that trimming to Instagram's length never cuts off what tells variants apart.
        details = " ".join(request.item_details.split())[:300].rstrip(".") or "something new"
        name = request.name or "us"
        openers = _OPENERS[_tone_key(request.tone_of_voice)]
        about = (request.description or "").strip().split(".")[0].strip()[:200]
        hashtags = platform_hashtags(request)
        suggestions: list[CaptionSuggestion] = []
        taken: list[str] = []
        variants = len(_BODIES) * len(openers)
        for i in range(variants):
            if len(suggestions) >= request.count:
                break
            body = _BODIES[i % len(_BODIES)].format(details=details, name=name)
            parts = [openers[i % len(openers)], body]
            if about and i % 2 == 0:
                parts.append(about.rstrip(".") + ".")
            elif request.category and i % 2 == 1:
                parts.append(f"Your favourite {request.category} spot.")
            parts.append(_CLOSERS[i % len(_CLOSERS)])
            text = fit_caption(" ".join(parts), hashtags, limit=caption_chars(request.platforms))
            if any(is_near_duplicate(text, other) for other in [*avoid, *taken]):
                continue
            taken.append(text)
            suggestions.append(CaptionSuggestion(text=text, hashtags=list(hashtags)))
        return ProviderResult(suggestions=suggestions, model="templates")


# --- OpenAI-compatible ----------------------------------------------------------------------------


def _guidance(platform: str) -> str:
    return (
        registry.network_for(platform).caption_guidance
        if registry.is_network(platform)
        else platform
    )


def build_messages(request: CaptionRequest, avoid: list[str]) -> list[dict[str, str]]:
    rules = [_guidance(p) for p in request.platforms] or [
        n.caption_guidance for n in registry.networks()
    ]
    lines = [
        "You write social media captions for a local business.",
        f"Business: {request.name}.",
        f"Category: {request.category or 'not given'}.",
        f"About: {request.description or 'not given'}.",
        f"Tone of voice: {request.tone_of_voice or 'friendly and clear'}.",
        f"Hashtags the business always uses: {request.default_hashtags or 'none'}.",
        "Platform rules: " + " ".join(rules),
        f"Write {request.count} distinct captions. Put hashtags in the text only at the end.",
        'Answer only with JSON: {"captions": ["...", "...", "..."]}.',
    ]
    if avoid:
        lines.append("Do not repeat or closely paraphrase these recent captions:")
        lines.extend(f"- {' '.join(a.split())[:300]}" for a in avoid)
    return [
        {"role": "system", "content": "\n".join(lines)},
        {"role": "user", "content": f"Item details: {request.item_details}"},
    ]


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None


class OpenAICompatibleProvider:
    """POST ``{base_url}/chat/completions``. Retries 429 (honouring Retry-After), 5xx and
    timeouts with exponential backoff + jitter, at most ``max_retries`` times, and never past
    ``deadline`` seconds in all: the person is waiting (a proxy in front would answer 504 after a
    minute), so a retry that cannot finish in time is not started. The API key goes only into the
    Authorization header: never into logs or exception text."""

    name = "openai"
    MAX_RETRY_AFTER = 30.0

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        model: str,
        timeout: float = 20.0,
        max_retries: int = 2,
        deadline: float = 45.0,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self.clock = clock
        self.backoff_base = backoff_base
        self.sleep = sleep
        self.jitter = jitter
        self.transport = transport

    def __repr__(self) -> str:
        return f"OpenAICompatibleProvider(base_url={self.base_url!r}, model={self.model!r})"

    def suggest(self, request: CaptionRequest, *, avoid: list[str]) -> ProviderResult:
        payload = {
            "model": self.model,
            "messages": build_messages(request, avoid),
            "response_format": {"type": "json_object"},
            "temperature": 0.8,
        }
        data = self._post(payload)
        return self._parse(data, request)

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/chat/completions"
        headers = {"Authorization": f"Bearer {self._api_key}"}
        give_up_at = self.clock() + self.deadline
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            for attempt in range(self.max_retries + 1):
                # No attempt may run past the deadline either.
                remaining = give_up_at - self.clock()
                client.timeout = httpx.Timeout(max(0.1, min(self.timeout, remaining)))
                try:
                    return self._attempt(client, url, headers, payload)
                except _Retryable as exc:
                    logger.warning("caption_provider_retry", reason=exc.reason, attempt=attempt + 1)
                    delay = self.backoff_base * (2**attempt + self.jitter())
                    if exc.retry_after is not None:
                        delay = min(max(delay, exc.retry_after), self.MAX_RETRY_AFTER)
                    # A retry needs its wait and then a useful share of an attempt's time.
                    out_of_time = self.clock() + delay + min(self.timeout, 5.0) > give_up_at
                    if attempt >= self.max_retries or out_of_time:
                        raise CaptionError(
                            f"The caption service is unavailable ({exc.reason}). "
                            "Try again in a minute.",
                        ) from None
                    self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self, client: httpx.Client, url: str, headers: dict[str, str], payload: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            response = client.post(url, headers=headers, json=payload)
        except httpx.TimeoutException:
            raise _Retryable("timeout") from None
        except httpx.TransportError as exc:
            raise _Retryable(type(exc).__name__) from None
        if response.status_code == 429:
            raise _Retryable("rate limited", _retry_after(response))
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            logger.warning("caption_provider_refused", status=response.status_code)
            raise CaptionError(
                f"The caption service refused the request (HTTP {response.status_code})."
            )
        try:
            data = response.json()
        except ValueError:
            raise CaptionError("The caption service sent an answer that is not JSON.") from None
        if not isinstance(data, dict):
            raise CaptionError("The caption service sent an unexpected answer.")
        return data

    def _parse(self, data: dict[str, Any], request: CaptionRequest) -> ProviderResult:
        try:
            content = data["choices"][0]["message"]["content"]
            captions = json.loads(content)["captions"]
            if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
                raise TypeError("captions is not a list of strings")
        except (KeyError, IndexError, TypeError, ValueError):
            logger.warning("caption_provider_malformed")
            raise CaptionError(
                "The caption service sent an answer we could not read. Try again."
            ) from None
        usage = data.get("usage") or {}
        suggestions = []
        for caption in captions:
            text, tags = split_hashtags(caption)
            tags = platform_hashtags(request, tags)
            if text:
                suggestions.append(
                    CaptionSuggestion(
                        text=fit_caption(text, tags, limit=caption_chars(request.platforms)),
                        hashtags=tags,
                    )
                )
        if not suggestions:
            raise CaptionError("The caption service sent no captions. Try again.")
        return ProviderResult(
            suggestions=suggestions[: request.count],
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            model=str(data.get("model") or self.model),
        )


_TRAILING_TAGS = re.compile(r"(?:\s*#[^\W_]+)+\s*$", re.UNICODE)


def split_hashtags(caption: str) -> tuple[str, list[str]]:
    """Separate the trailing block of hashtags from a caption."""
    caption = caption.strip()
    match = _TRAILING_TAGS.search(caption)
    if not match:
        return caption, []
    return caption[: match.start()].strip(), parse_hashtags(match.group(0))

"""AI caption drafting (SPEC 10): providers behind one interface and the service that picks one.

``caption_suggest`` is the entry point; see ``docs/captions.md``.
"""

from apps.posts.captions.providers import (
    CaptionError,
    CaptionProvider,
    CaptionRequest,
    CaptionSuggestion,
    OfflineProvider,
    OpenAICompatibleProvider,
    ProviderResult,
)
from apps.posts.captions.service import CaptionLimitReached, caption_suggest
from apps.posts.captions.similarity import SIMILARITY_THRESHOLD, is_near_duplicate

__all__ = [
    "SIMILARITY_THRESHOLD",
    "CaptionError",
    "CaptionLimitReached",
    "CaptionProvider",
    "CaptionRequest",
    "CaptionSuggestion",
    "OfflineProvider",
    "OpenAICompatibleProvider",
    "ProviderResult",
    "caption_suggest",
    "is_near_duplicate",
]

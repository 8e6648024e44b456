"""When two captions say the same thing (SPEC 10: suggestions do not repeat recent captions)."""

import re
from difflib import SequenceMatcher

# Two captions count as the same when difflib's ratio on their normalised words (lower case,
# hashtags and punctuation dropped) is at least this: catches re-worded copies ("Try our new
# pizza today!" vs "Try our new pizzas today") while leaving different captions about the same
# dish alone (those typically score 0.4-0.7).
SIMILARITY_THRESHOLD = 0.85

_TOKEN = re.compile(r"#?[^\W_]+", re.UNICODE)


def _normalise(text: str) -> str:
    return " ".join(t for t in _TOKEN.findall(text.lower()) if not t.startswith("#"))


def is_near_duplicate(a: str, b: str, *, threshold: float = SIMILARITY_THRESHOLD) -> bool:
    na, nb = _normalise(a), _normalise(b)
    if not na or not nb:
        return na == nb
    return na == nb or SequenceMatcher(None, na, nb).ratio() >= threshold

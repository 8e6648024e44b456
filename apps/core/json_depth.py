"""How deep a JSON text nests, checked before parsing it.

Python's ``json`` recurses once per ``[`` / ``{``: a body of 100,000 brackets exhausts the stack
(``RecursionError``, a 500). Catching that deep in the stack is neither cheap nor a limit anyone
chose, so texts that could nest too deep are scanned first: strings are cut out (a bracket inside
one is text), then the brackets are counted with an early exit at the limit. The scan is linear
in the text, which the body-size limit bounds, and most bodies skip it: with no more opening
brackets than the limit in all, the text cannot nest deeper.
"""

import re

# A JSON string, escapes included (the "unrolled loop" form: linear, no backtracking).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth_exceeds(text: str, *, limit: int) -> bool:
    """Whether ``text``, read as JSON, opens more than ``limit`` arrays / objects inside each
    other. An unterminated string counts its brackets: such a text is not JSON anyway."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in _NOT_A_BRACKET.sub("", _STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False

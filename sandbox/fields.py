"""The `fields` parameter of the Graph API, parsed as Meta parses it.

`fields=id,name,picture.type(large){url},likes.summary(true).limit(0),
instagram_business_account{id,username}` becomes a list of `FieldSpec`: a name, its modifiers
(`.summary(true)` → `{"summary": "true"}`) and the nested fields asked for (`{...}`).
"""

from dataclasses import dataclass, field

from .errors import syntax_error

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclass(slots=True)
class FieldSpec:
    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    children: list["FieldSpec"] | None = None

    def flag(self, modifier: str) -> bool:
        """A boolean modifier such as `.summary(true)`."""
        return self.modifiers.get(modifier, "").strip().lower() in ("true", "1")

    def int_modifier(self, modifier: str, default: int) -> int:
        try:
            return int(self.modifiers[modifier])
        except (KeyError, ValueError):
            return default


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, expected: str) -> None:
        found = self.text[self.pos] if self.pos < len(self.text) else "end of string"
        raise syntax_error(
            f'"Expected {expected} instead of "{found}"." at character {self.pos}: {self.text}'
        )

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_spaces()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def name(self) -> str:
        self.skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
            self.pos += 1
        if start == self.pos:
            self.fail("a field name")
        return self.text[start : self.pos]

    def argument(self) -> str:
        # After "(": everything up to the matching ")".
        depth, start = 1, self.pos
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    value = self.text[start : self.pos]
                    self.pos += 1
                    return value.strip()
            self.pos += 1
        self.fail('")"')
        return ""

    def field_list(self, closing: str) -> list[FieldSpec]:
        specs: list[FieldSpec] = []
        while True:
            if self.peek() == closing:
                if closing == "":
                    return specs
                self.fail("a field name")
            specs.append(self.field())
            char = self.peek()
            if char == ",":
                self.pos += 1
                continue
            if char == closing:
                return specs
            self.fail('"," or end of string' if closing == "" else f'"," or "{closing}"')

    def field(self) -> FieldSpec:
        spec = FieldSpec(self.name())
        while self.peek() == ".":
            self.pos += 1
            modifier = self.name()
            if self.peek() != "(":
                self.fail('"("')
            self.pos += 1
            spec.modifiers[modifier] = self.argument()
        if self.peek() == "{":
            self.pos += 1
            spec.children = self.field_list("}")
            self.pos += 1  # the closing brace
            # Modifiers may also follow the braces: picture{url}.type(large)
            while self.peek() == ".":
                self.pos += 1
                modifier = self.name()
                if self.peek() != "(":
                    self.fail('"("')
                self.pos += 1
                spec.modifiers[modifier] = self.argument()
        return spec


def parse_fields(text: str | None) -> list[FieldSpec] | None:
    """The parsed `fields` parameter, or None when absent or empty (the node's defaults)."""
    if text is None or not text.strip():
        return None
    parser = _Parser(text)
    specs = parser.field_list("")
    if parser.pos < len(text) and text[parser.pos :].strip():
        parser.fail("end of string")
    return specs


def specs_for(names: tuple[str, ...] | list[str]) -> list[FieldSpec]:
    return [FieldSpec(name) for name in names]

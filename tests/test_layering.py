"""The layers (docs/architecture.md): read from the source with ``ast``, so an import hidden in
a function or behind ``TYPE_CHECKING`` counts as much as one at the top of a module."""

import ast
from collections.abc import Iterator
from pathlib import Path

APPS = Path(__file__).resolve().parent.parent / "apps"


def module_name(path: Path) -> str:
    parts = path.relative_to(APPS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every import in the file; ``from a import b`` yields ``a`` and
    ``a.b`` (``b`` may be a module), relative imports resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], base]).strip(".")
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts)


def test_core_imports_no_domain_app():
    domain_apps = {p.name for p in APPS.iterdir() if (p / "apps.py").exists()} - {"core"}
    offenders = [
        f"{path.relative_to(APPS.parent)}:{line} imports {name}"
        for path in python_files(APPS / "core")
        for line, name in imported_modules(path)
        if name.split(".")[:2] in (["apps", app] for app in domain_apps)
    ]
    assert offenders == [], "apps/core must not depend on a domain app:\n" + "\n".join(offenders)

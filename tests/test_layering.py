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


def test_social_services_reach_meta_only_through_the_network_packages():
    """The connect flow, the Page tasks and revoking call Meta through ``apps.networks``
    (``meta_facebook.connect``, ``meta``) and catch only the neutral errors; the services keep
    the writes (docs/architecture.md, "How to add a network")."""
    path = APPS / "social" / "services.py"
    offenders = [
        f"{path.relative_to(APPS.parent)}:{line} imports {name}"
        for line, name in imported_modules(path)
        if name == "apps.social.graph" or name.startswith("apps.social.graph.")
    ]
    assert offenders == []


def test_the_network_packages_write_through_no_app_service():
    """A network reads and decides; apps.social records (a recorder it registers, never an
    import of its services, views or tasks from a network package)."""
    writers = ("services", "views", "tasks", "admin")
    offenders = [
        f"{path.relative_to(APPS.parent)}:{line} imports {name}"
        for path in python_files(APPS / "networks")
        for line, name in imported_modules(path)
        if name.startswith("apps.")
        and not name.startswith("apps.networks")
        and any(part in writers for part in name.split(".")[2:])
    ]
    assert offenders == []


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ``apps`` it imports (anywhere in it, lazily too)."""
    files = {module_name(path): path for path in python_files(APPS)}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        graph[module] = {name for _, name in imported_modules(path) if name in files} - {module}
    return graph


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start → … → start, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        module, path = stack.pop()
        for name in sorted(graph.get(module, ())):
            if name == start:
                return [*path, start]
            if name not in seen:
                seen.add(name)
                stack.append((name, [*path, name]))
    return None


def test_no_import_cycle_through_an_apps_tasks():
    """Tasks import services; services (and anything a task imports) queue tasks by name
    (``apps.core.queueing``), never by importing them, at the top or inside a function."""
    graph = import_graph()
    tasks_modules = sorted(m for m in graph if m.endswith(".tasks"))
    assert {"apps.accounts.tasks", "apps.posts.tasks", "apps.social.tasks"} <= set(tasks_modules)
    cycles = [" → ".join(c) for m in tasks_modules if (c := cycle_through(graph, m))]
    assert cycles == []


def test_the_cycle_check_sees_a_lazy_import(tmp_path):
    # The check itself: a lazy import back from a service is a cycle.
    graph = {"a.tasks": {"a.services"}, "a.services": {"a.models"}, "a.models": set()}
    assert cycle_through(graph, "a.tasks") is None
    graph["a.services"].add("a.tasks")
    assert cycle_through(graph, "a.tasks") == ["a.tasks", "a.services", "a.tasks"]


def test_no_template_and_no_code_outside_the_networks_names_a_network():
    # Adding a network must not mean editing templates or the engine: they ask the registry
    # (``network_site``, ``network_label``, the preview's ``requires_media``).
    from apps.social.models import Platform

    ids = [f'"{platform}"' for platform in Platform.values]
    templates = sorted((APPS.parent / "templates").rglob("*.html"))
    code = [
        p
        for p in python_files(APPS)
        if "networks" not in p.parts and p.name not in {"models.py"} and "tests" not in p.parts
    ]
    found = [
        f"{path.relative_to(APPS.parent)}: {name}"
        for path in [*templates, *code]
        for name in ids
        if name in path.read_text() or name.replace('"', "'") in path.read_text()
    ]

    assert found == []

"""The library's shape: it names no app, its packages are layered, every module imports on its
own, none is oversized."""

from __future__ import annotations

import ast
import graphlib
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "shared" / "src"
PACKAGE = SRC / "doorstep_shared"
APP_PACKAGES = re.compile(r"\bdoorstep_(gateway|catalog|proxy|stations)\b")
MAX_LINES = 600

# Which parts of the library a part may import (besides itself and the leaf modules).
LEAVES = {"clock", "types", "pii", "audit_anchor", "textsearch", "search", "rules", "directory"}
LAYERS = {
    "http": set(),
    "auth": {"http"},
    "db": {"http", "auth"},
    "config": set(),
    "background": set(),
    "periods": {"http"},
    "app": {"http", "auth", "db", "config", "background"},
    "webhooks": {"http", "auth", "db", "config"},
    "directory_copy": {"http", "config", "background", "db"},
    "staff_roster": {"http", "auth", "background"},
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def imported_modules(path: Path, name: str) -> list[str]:
    """Absolute names of what ``path`` imports (``from .x import y`` resolved against ``name``)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                out.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                out.append(node.module)
    return out


def part_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "doorstep_shared" and len(parts) > 1 else None


def test_the_library_names_no_app_and_imports_nothing_from_the_toolshed() -> None:
    for name, path in modules():
        assert not APP_PACKAGES.search(path.read_text()), f"{name} names an app"
        for imported in imported_modules(path, name):
            assert not imported.startswith("doorstep_tools"), f"{name} imports {imported}"


def test_each_part_imports_only_the_parts_below_it() -> None:
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    for name, path in modules():
        own = part_of(name)
        for imported in imported_modules(path, name):
            if not imported.startswith("doorstep_shared."):
                continue
            target = part_of(imported)
            # A package's __init__ imports everything under it: import the module that defines a name.
            assert target not in packages or imported.count(".") >= 2 or target == own, (
                f"{name} imports the package facade {imported}"
            )
            if own in LEAVES or own is None:
                assert target in LEAVES, f"the leaf {name} imports {imported}"
            elif target != own and target not in LEAVES:
                assert target in LAYERS[own], f"{name} ({own}) imports {imported} ({target})"


def test_no_import_cycle_whichever_module_is_imported_first() -> None:
    """A module needs each module it imports from complete, and (entered from outside) that
    module's package too: importing ``a.b`` first runs all of ``a/__init__.py``, which imports
    what it re-exports. None of these chains may lead back to the module."""
    names = {name for name, _ in modules()}
    graph: dict[str, set[str]] = {}
    for name, path in modules():
        deps = graph.setdefault(name, set())
        for imported in imported_modules(path, name):
            while imported and imported not in names:  # ``from m import x``: x is an attribute of m
                imported = imported.rpartition(".")[0]
            parts = imported.split(".")
            for prefix in (".".join(parts[:i]) for i in range(2, len(parts) + 1)):
                if prefix != name and not name.startswith(prefix + "."):  # its own packages are running
                    deps.add(prefix)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_no_module_is_oversized() -> None:
    for name, path in modules():
        assert len(path.read_text().splitlines()) <= MAX_LINES, name


def test_every_package_states_its_public_surface() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        name = f"doorstep_shared.{init.parent.name}"
        module = importlib.import_module(name)
        assert module.__all__, name
        assert all(hasattr(module, attr) for attr in module.__all__), name

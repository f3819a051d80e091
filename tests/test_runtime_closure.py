"""`make run` and the image install what the apps need, not the test and lint tools.

The closure of the root project's runtime dependencies in uv.lock (what `uv sync --no-dev`
installs, and what `make run` and deploy/Dockerfile ask for) holds none of the dev tools."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV_ONLY = {"pytest", "mypy", "ruff", "schemathesis", "hypothesis", "import-linter", "pyinstrument", "time-machine"}


def _runtime_closure() -> set[str]:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo = [d["name"] for d in packages["doorstep"].get("dependencies", [])]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        package = packages[name]
        todo += [d["name"] for d in package.get("dependencies", [])]
        for extra in package.get("optional-dependencies", {}).values():  # extras asked for anywhere
            todo += [d["name"] for d in extra]
    return seen


def test_the_runtime_closure_holds_no_test_or_lint_tool() -> None:
    closure = _runtime_closure()
    assert "fastapi" in closure and "uvicorn" in closure
    assert not closure & DEV_ONLY, sorted(closure & DEV_ONLY)


def test_make_run_and_the_image_install_without_the_dev_group() -> None:
    makefile = (REPO / "Makefile").read_text()
    run_deps = re.search(r"^run: (\S+)", makefile, re.M)
    assert run_deps and run_deps.group(1) == "$(VENV)/.synced-run"
    recipe = re.search(r"^\$\(VENV\)/\.synced-run:.*\n\t(.+)", makefile, re.M)
    assert recipe and "--no-dev" in recipe.group(1)
    assert "--no-dev" in (REPO / "deploy" / "Dockerfile").read_text()

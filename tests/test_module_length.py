"""No source module grows past 600 lines unless its top docstring says why.

A module that long usually holds two things that want their own homes. When it really is one
thing (a generated table, a protocol spelled out in full), its docstring carries a line that
starts with ``Long because:`` and gives the reason, so the next reader knows it was decided.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    ROOT / "shared" / "src",
    ROOT / "tools" / "src",
    ROOT / "gateway" / "src",
    *(ROOT / "services").glob("*/src"),
]
MAX_LINES = 600
MARKER = "Long because:"


def stated_reason(source: str) -> str | None:
    """The text after the ``Long because:`` line of the module's docstring, if any."""
    docstring = ast.get_docstring(ast.parse(source)) or ""
    for line in docstring.splitlines():
        if line.strip().startswith(MARKER):
            return line.strip().removeprefix(MARKER).strip() or None
    return None


def lacks_a_reason(source: str) -> bool:
    return len(source.splitlines()) > MAX_LINES and not stated_reason(source)


def test_no_module_is_over_600_lines_without_a_stated_reason() -> None:
    files = [path for src in SOURCES for path in src.rglob("*.py")]
    assert len(files) > 200  # every source tree was found
    offenders = [str(path.relative_to(ROOT)) for path in files if lacks_a_reason(path.read_text(encoding="utf-8"))]
    assert offenders == [], f"over {MAX_LINES} lines: split them, or state '{MARKER} …' in the docstring"


def test_the_guard_wants_a_reason_not_just_the_marker() -> None:
    body = "x = 1\n" * MAX_LINES
    assert lacks_a_reason('"""A long table."""\n' + body)
    assert lacks_a_reason('"""A long table.\n\nLong because:\n"""\n' + body)
    assert not lacks_a_reason('"""A long table.\n\nLong because: one table, from the 2025 notice.\n"""\n' + body)
    assert not lacks_a_reason('"""Short."""\n' + "x = 1\n" * 10)

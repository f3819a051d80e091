"""Application code reads the wall clock only through ``doorstep_shared.clock``.

That module is what a test moves (``pytest --at=…``, time-machine); a ``date.today()`` anywhere
else answers in the machine's time zone instead of Asia/Shanghai and escapes the tests' clock.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "shared" / "src", ROOT / "gateway" / "src", *sorted((ROOT / "services").glob("*/src"))]
CLOCK = ROOT / "shared" / "src" / "doorstep_shared" / "clock.py"

# (object name, attribute): datetime.now(), dt.date.today(), time.time(), …
FORBIDDEN = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "strftime"),
}


def wall_clock_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in FORBIDDEN:
                found.append(f"{path}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    files = [p for src in SOURCES for p in src.rglob("*.py") if p != CLOCK]
    assert len(files) > 50
    offenders = [hit for path in files for hit in wall_clock_reads(path)]
    assert offenders == []


def test_the_guard_sees_the_spellings_it_forbids(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime as dt, time\ndt.date.today()\ndt.datetime.now(dt.UTC)\ntime.time()\n")
    assert len(wall_clock_reads(sample)) == 3

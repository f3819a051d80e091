"""Directory files shipped with the library: the demo county's, for development and tests."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def demo_directory_file() -> Path:
    """The demo directory (import CSV format); make run and the tests follow it like any county's."""
    return Path(str(files("doorstep_shared.directory") / "hexian.csv"))

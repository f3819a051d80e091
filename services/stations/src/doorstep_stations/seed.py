"""The demo-data entry point the launcher and the test harnesses call (``<package>.seed.seed``,
see ``doorstep_tools.launcher``); the data and how it is laid down are in ``demo/``."""

from __future__ import annotations

from .demo.service import seed

__all__ = ["seed"]

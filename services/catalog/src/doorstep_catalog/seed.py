"""The demo-data entry point the launcher and the test harnesses call (``<package>.seed.seed``,
see ``doorstep_tools.launcher``); the handbook and how it is loaded are in ``demo/``.

``ITEMS``, ``R`` and ``_content`` (``demo.handbook.item_content``) are re-exported for code
outside this package that still reads the handbook from here (``tests/proxy/discovery``,
``bench/bench_discovery.py``).
"""

from __future__ import annotations

from .demo.handbook import ITEMS, R, item_content
from .demo.service import seed

_content = item_content

__all__ = ["ITEMS", "R", "_content", "seed"]

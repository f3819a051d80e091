"""Demo data, all under one roof: invented residents (``residents``), the four clears
(``four_clears``), cases and visits (``cases``), and the statements that write them
(``repository``). ``seed.py`` at the package's root runs them in order for the launcher.

Tests and benches build valid ID numbers and invented residents with the two functions below.
"""

from __future__ import annotations

from .residents import generate, make_id_number

__all__ = ["generate", "make_id_number"]

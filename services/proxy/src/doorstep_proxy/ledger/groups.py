"""The special groups (重点人群) the ledger counts and filters by."""

from __future__ import annotations

GROUPS: tuple[str, ...] = ("elderly_80", "disabled", "serious_illness", "living_alone", "dibao")

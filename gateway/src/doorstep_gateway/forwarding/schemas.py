"""Shapes the gateway reads from the services for its own endpoints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CatalogView:
    """The published catalogue as the export gives it: items by code, category names."""

    revision: int = 0
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    confirmed_at: dt.datetime | None = None  # the catalog's last 200 or 304 for it

    @classmethod
    def of_export(cls, body: Any) -> CatalogView:
        """The view of an export document: its published items, its categories."""
        return cls(
            revision=int(body.get("revision", 0)),
            items={str(i["code"]): i for i in body.get("items", []) if i.get("status") == "published"},
            categories={str(c["code"]): c for c in body.get("categories", [])},
        )

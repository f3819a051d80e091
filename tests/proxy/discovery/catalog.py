"""The real 68-item catalogue (rules, materials) as the proxy sees it, from the catalog's seed."""

from __future__ import annotations

from typing import Any

from doorstep_catalog import seed as catalog_seed
from doorstep_proxy.catalog_client import CatalogItem, CatalogSnapshot


def seed_items() -> dict[str, CatalogItem]:
    items: dict[str, CatalogItem] = {}
    for row in catalog_seed.ITEMS:
        code, name, category, content = catalog_seed._content(row)
        items[code] = CatalogItem.model_validate({**content, "code": code, "name": name, "category": category})
    return items


def seed_snapshot(revision: int = 1) -> CatalogSnapshot:
    return CatalogSnapshot(revision=revision, items=seed_items())


def snapshot_with(rules: dict[str, Any], revision: int = 1, **extra: Any) -> CatalogSnapshot:
    """A small catalogue: one published item per rule (code → rule)."""
    items = {
        code: CatalogItem(
            code=code,
            name=f"测试事项{i}",
            eligibility_rule=rule,
            proxy_eligible=True,
            channels=["window", "doorstep"],
            materials=[{"name": "身份证复印件"}],  # type: ignore[list-item]
            **extra,
        )
        for i, (code, rule) in enumerate(rules.items())
    }
    return CatalogSnapshot(revision=revision, items=items)

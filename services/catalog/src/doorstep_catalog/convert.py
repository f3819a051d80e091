"""Row → API shape conversions shared by the service modules."""

from __future__ import annotations

from .models import Item
from .schemas import ItemRead


def item_read(item: Item, category_code: str, category_name: str) -> ItemRead:
    return ItemRead.model_validate(
        {
            **item.content,
            "code": item.code,
            "name": item.name,
            "category": category_code,
            "category_name": category_name,
            "status": item.status,
            "version": item.version,
            "published_version": item.published_version,
            "updated_at": item.updated_at,
            "updated_by": item.updated_by,
            "proxy_eligible": item.proxy_eligible,
            "channels": [c for c in item.channel_tags.split(",") if c],
        }
    )

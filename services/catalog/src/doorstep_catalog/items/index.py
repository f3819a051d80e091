"""The catalogue as this replica holds it in memory: search index, compiled rules, export body.

Rebuilt from the database whenever the catalogue's revision counter (one cheap row read per
request) differs from the one it was built at, so several replicas stay correct.
"""

from __future__ import annotations

import asyncio
import gc
import json
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow
from doorstep_shared.rules import CompiledRule, RuleError, compile_rule
from doorstep_shared.textsearch import FieldSpec, TextIndex

from ..http import export_etag
from . import repository
from .schemas import CatalogExport, CategoryRead, ItemRead, item_read

ITEM_FIELDS = (
    FieldSpec("name", 3.0, pinyin=True),
    FieldSpec("alias", 2.0, pinyin=True),
    FieldSpec("text", 1.0),
)


def item_document(item: ItemRead) -> dict[str, str | list[str]]:
    """The searchable text of an item: name > aliases > everything else a worker might type."""
    other = [
        item.code,
        item.summary,
        item.audience,
        item.conditions,
        item.department,
        *(m.name for m in item.materials),
        *(f"{p.title} {p.number}" for p in item.policy_basis),
    ]
    return {"name": item.name, "alias": item.aliases, "text": [t for t in other if t]}


@dataclass
class Snapshot:
    key: tuple[str, int]
    index: TextIndex
    items: dict[str, ItemRead]  # every item, in catalogue order
    rules: dict[str, CompiledRule]  # published items that carry a valid rule
    categories: list[CategoryRead]
    _export: bytes | None = field(default=None, repr=False)

    @property
    def revision(self) -> int:
        return self.key[1]

    @property
    def export_etag(self) -> str:
        return export_etag(self.key)

    def export_body(self) -> bytes:
        if self._export is None:
            body = CatalogExport(
                revision=self.revision,
                generated_at=utcnow(),
                categories=self.categories,
                items=[i for i in self.items.values() if i.status == "published"],
            )
            data = body.model_dump(mode="json", exclude_none=True)
            self._export = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return self._export


class CatalogIndex:
    """Per-app holder of the current snapshot (one per replica)."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()
        self.builds = 0

    async def current(self, session: AsyncSession) -> Snapshot:
        key = await repository.catalog_revision(session)
        snap = self._snapshot
        if snap is not None and snap.key == key:
            return snap
        async with self._lock:
            snap = self._snapshot
            if snap is not None and snap.key == key:
                return snap
            snap = await build_snapshot(session, key)
            self._snapshot = snap
            self.builds += 1
            # The index is millions of long-lived, acyclic objects: keep them out of the cyclic
            # collector's full passes (which would otherwise stall requests for tens of ms).
            # Refcounting still frees an old snapshot when it is replaced.
            gc.freeze()
            return snap


async def build_snapshot(session: AsyncSession, key: tuple[str, int]) -> Snapshot:
    rows = await repository.all_items(session)
    categories = [CategoryRead.model_validate(c) for c in await repository.list_categories(session)]
    items: dict[str, ItemRead] = {}
    index = TextIndex(ITEM_FIELDS)
    for item, category_code, category_name in rows:
        read = item_read(item, category_code, category_name)
        items[read.code] = read
        index.add(read.code, item_document(read))
    labels = {code: i.name for code, i in items.items()}
    rules: dict[str, CompiledRule] = {}
    for code, read in items.items():
        if read.status == "published" and read.eligibility_rule is not None:
            try:
                rules[code] = compile_rule(read.eligibility_rule, member_labels=labels)
            except RuleError:  # validated on save; a bad stored rule is skipped, not fatal
                continue
    return Snapshot(key, index, items, rules, categories)

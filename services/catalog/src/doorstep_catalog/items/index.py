"""The catalogue as this replica holds it in memory: search index, compiled rules, export body.

Refreshed from the database whenever the catalogue's revision counter (one cheap row read)
differs from the one it was built at, so several replicas stay correct. The search index is
updated in place: only items whose version, category or tips changed are re-indexed.

Hot reads (an item, the categories) go through ``served``: the revision is re-read at most
every ``check_interval`` seconds, and at once after this process commits a revision bump, so
a replica answers its own writes at once and another replica's within the interval (a check
due by time runs behind the reads, which get the snapshot held meanwhile: ``RevisionGate``). The
snapshot keeps each item's response body and ETag serialised once.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow
from doorstep_shared.db.revision_gate import RevisionGate
from doorstep_shared.rules import CompiledRule, RuleError, compile_rule
from doorstep_shared.search import Field, FuzzyPinyin, SearchIndex

from ..http import export_etag, item_etag
from . import repository
from .models import Item
from .schemas import CatalogExport, CategoryRead, ItemRead, item_read

MAX_PAGES = 512  # browsing pages kept per snapshot

# Field weights: name > alias > summary > materials > tips > the rest. Names, aliases and
# material names are also the words query segmentation knows.
ITEM_FIELDS = (
    Field("name", 5.0, typical_length=6, pinyin=True, initials=True, words=True),
    Field("alias", 4.0, typical_length=5, pinyin=True, initials=True, words=True),
    Field("summary", 1.5, typical_length=40, pinyin=True),
    Field("materials", 1.0, typical_length=8, pinyin=True, words=True),
    Field("tips", 0.8, typical_length=60),
    Field("text", 0.6, typical_length=30),
)


def item_document(item: ItemRead, tips: Sequence[str] = ()) -> dict[str, str | list[str]]:
    """The searchable text of an item, by field."""
    other = [
        item.code,
        item.audience,
        item.conditions,
        item.department,
        *(f"{p.title} {p.number or ''}" for p in item.policy_basis),
    ]
    return {
        "name": item.name,
        "alias": item.aliases,
        "summary": item.summary,
        "materials": [m.name for m in item.materials],
        "tips": list(tips),
        "text": [t for t in other if t],
    }


def new_search_index(fuzzy: FuzzyPinyin | None = None, synonyms: Sequence[Sequence[str]] = ()) -> SearchIndex:
    return SearchIndex(ITEM_FIELDS, fuzzy=fuzzy, synonyms=synonyms)


class IndexSources(Protocol):
    """What the index needs from outside the items (wired in ``main.py``): visible tips per
    (county, item code), synonym groups, and how often each item is opened (ties in ranking)."""

    async def tips(self, session: AsyncSession) -> Mapping[tuple[str, str], Sequence[str]]: ...

    async def synonyms(self, session: AsyncSession) -> Sequence[Sequence[str]]: ...

    async def popularity(self, session: AsyncSession) -> Mapping[tuple[str, str], float]: ...


class NoSources:
    async def tips(self, session: AsyncSession) -> Mapping[tuple[str, str], Sequence[str]]:
        return {}

    async def synonyms(self, session: AsyncSession) -> Sequence[Sequence[str]]:
        return []

    async def popularity(self, session: AsyncSession) -> Mapping[tuple[str, str], float]:
        return {}


@dataclass
class Snapshot:
    """One county's handbook at one revision."""

    key: tuple[str, int]
    index: SearchIndex  # shared with the snapshots before and after it (updated in place)
    items: dict[str, ItemRead]  # every item, in catalogue order
    rules: dict[str, CompiledRule]  # published items that carry a valid rule
    categories: list[CategoryRead]
    fingerprints: dict[str, tuple[object, ...]] = field(default_factory=dict, repr=False)
    county: str = ""
    _export: bytes | None = field(default=None, repr=False)
    _bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict, repr=False)
    _categories: bytes | None = field(default=None, repr=False)
    _pages: dict[tuple[object, ...], bytes] = field(default_factory=dict, repr=False)

    @property
    def revision(self) -> int:
        return self.key[1]

    @property
    def export_etag(self) -> str:
        return export_etag(self.key, self.county)

    def published(self) -> list[ItemRead]:
        return [i for i in self.items.values() if i.status == "published"]

    def export_body(self) -> bytes:
        if self._export is None:
            self._export = _export_body(self.revision, self.county, self.categories, self.published())
        return self._export

    def item_body(self, code: str) -> tuple[bytes, str]:
        """An item's response body (what ``ItemRead.model_dump_json`` gives) and ETag."""
        found = self._bodies.get(code)
        if found is None:
            item = self.items[code]
            found = self._bodies[code] = (item.model_dump_json().encode(), item_etag(item))
        return found

    def page_body(self, key: tuple[object, ...], build: Callable[[], bytes]) -> bytes:
        """A browsing page's body, built once per parameters (at most ``MAX_PAGES`` kept: a
        client making up parameters costs itself the build, not the replica its memory)."""
        body = self._pages.get(key)
        if body is None:
            body = build()
            if len(self._pages) < MAX_PAGES:
                self._pages[key] = body
        return body

    def categories_body(self) -> bytes:
        if self._categories is None:
            self._categories = json.dumps(
                [c.model_dump(mode="json") for c in self.categories], ensure_ascii=False, separators=(",", ":")
            ).encode()
        return self._categories


def _export_body(revision: int, county: str | None, categories: list[CategoryRead], items: list[ItemRead]) -> bytes:
    body = CatalogExport(revision=revision, county=county, generated_at=utcnow(), categories=categories, items=items)
    data = body.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Handbooks:
    """Every county's handbook at one revision: a snapshot per county (``of``), and the export
    of them all (what services following the catalogue read, each item naming its county)."""

    key: tuple[str, int]
    counties: dict[str, Snapshot]
    categories: list[CategoryRead]
    fuzzy: FuzzyPinyin | None = field(default=None, repr=False)
    synonyms: Sequence[Sequence[str]] = field(default=(), repr=False)
    _export: bytes | None = field(default=None, repr=False)
    _categories: bytes | None = field(default=None, repr=False)

    @property
    def revision(self) -> int:
        return self.key[1]

    def of(self, county: str) -> Snapshot:
        """``county``'s handbook; an empty one for a county with no item yet (kept, so it is
        built once per revision)."""
        snap = self.counties.get(county)
        if snap is None:
            snap = Snapshot(self.key, new_search_index(self.fuzzy, self.synonyms), {}, {}, self.categories)
            snap.county = county
            self.counties[county] = snap
        return snap

    @property
    def export_etag(self) -> str:
        return export_etag(self.key, None)

    def categories_body(self) -> bytes:
        if self._categories is None:
            self._categories = json.dumps(
                [c.model_dump(mode="json") for c in self.categories], ensure_ascii=False, separators=(",", ":")
            ).encode()
        return self._categories

    def export_body(self) -> bytes:
        if self._export is None:
            items = [i for county in sorted(self.counties) for i in self.counties[county].published()]
            self._export = _export_body(self.revision, None, self.categories, items)
        return self._export


class CatalogIndex:
    """Per-app holder of the current handbooks (one per replica)."""

    def __init__(
        self, sources: IndexSources | None = None, fuzzy: FuzzyPinyin | None = None, *, check_interval: float = 0.0
    ) -> None:
        self._snapshot: Handbooks | None = None
        self._lock = asyncio.Lock()
        self._gate: RevisionGate[Handbooks] = RevisionGate(repository.committed_bumps, check_interval=check_interval)
        self.checks = 0  # revision reads so far
        self._sources: IndexSources = sources or NoSources()
        self._fuzzy = fuzzy
        self.builds = 0
        self.reindexed = 0  # items (re)indexed since start: a refresh touches only changed ones

    @property
    def check_interval(self) -> float:
        """Seconds between revision reads on ``served``."""
        return self._gate.check_interval

    def expire(self) -> None:
        """Re-read the revision on the next ``served`` (the database changed behind this
        process's back without a revision bump: a restore, a test emptying tables)."""
        self._gate.expire()

    async def served(self, sessions: async_sessionmaker[AsyncSession]) -> Handbooks:
        """The snapshot, re-reading the revision when the last read is older than
        ``check_interval`` (in the background, serving the snapshot held meanwhile) or this
        process has committed a revision bump since (before answering): ``RevisionGate``. No
        database session otherwise."""

        async def check() -> Handbooks:
            async with sessions() as session:
                return await self.current(session)

        return await self._gate.served(lambda: self._snapshot, check)

    async def close(self) -> None:
        """Stop a revision check running in the background (the app is shutting down)."""
        await self._gate.close()

    async def current(self, session: AsyncSession) -> Handbooks:
        """The handbooks at the database's current revision (one row read, every call)."""
        started = self._gate.start()
        key = await repository.catalog_revision(session)
        self.checks += 1
        snap = self._snapshot
        if snap is not None and snap.key == key:
            self._gate.checked(started)
            return snap
        async with self._lock:
            snap = self._snapshot
            if snap is not None and snap.key == key:
                self._gate.checked(started)
                return snap
            snap = await self._refresh(session, key, snap)
            self._snapshot = snap
            self._gate.checked(started)
            self.builds += 1
            # The index is millions of long-lived, acyclic objects: keep them out of the cyclic
            # collector's full passes (which would otherwise stall requests for tens of ms).
            # Refcounting still frees an old snapshot when it is replaced.
            gc.freeze()
            return snap

    async def _refresh(self, session: AsyncSession, key: tuple[str, int], old: Handbooks | None) -> Handbooks:
        rows = await repository.all_items(session)
        categories = [CategoryRead.model_validate(c) for c in await repository.list_categories(session)]
        tips = await self._sources.tips(session)
        popularity = await self._sources.popularity(session)
        synonyms = await self._sources.synonyms(session)
        if old is not None and old.key[0] != key[0]:
            old = None  # another epoch (a restored or recreated database): start afresh
        by_county: dict[str, list[tuple[Item, str, str]]] = {}
        for row in rows:
            by_county.setdefault(row[0].county, []).append(row)
        counties = {}
        for county, county_rows in by_county.items():
            previous = old.counties.get(county) if old is not None else None
            counties[county] = self._refresh_county(
                county, county_rows, key, previous, categories, tips, popularity, synonyms
            )
        return Handbooks(key, counties, categories, self._fuzzy, synonyms)

    def _refresh_county(
        self,
        county: str,
        rows: Sequence[tuple[Item, str, str]],
        key: tuple[str, int],
        old: Snapshot | None,
        categories: list[CategoryRead],
        tips: Mapping[tuple[str, str], Sequence[str]],
        popularity: Mapping[tuple[str, str], float],
        synonyms: Sequence[Sequence[str]],
    ) -> Snapshot:
        index = old.index if old is not None else new_search_index(self._fuzzy, synonyms)
        if old is not None:
            index.set_synonyms(synonyms)
        known = old.fingerprints if old is not None else {}
        items: dict[str, ItemRead] = {}
        fingerprints: dict[str, tuple[object, ...]] = {}
        for item, category_code, category_name in rows:
            item_tips = tuple(tips.get((county, item.code), ()))
            score = popularity.get((county, item.code), 0.0)
            fingerprint = (item.id, item.version, item.updated_at, category_code, category_name, item_tips)
            previous = old.items.get(item.code) if old is not None else None
            if previous is not None and known.get(item.code) == fingerprint:
                read = previous
            else:
                read = item_read(item, category_code, category_name)
                index.upsert(read.code, item_document(read, item_tips), popularity=score)
                self.reindexed += 1
            index.set_popularity(read.code, score)
            items[read.code] = read
            fingerprints[read.code] = fingerprint
        for gone in set(known) - set(items):
            index.remove(gone)
        snap = Snapshot(key, index, items, _compile_rules(items), categories, fingerprints)
        snap.county = county
        return snap


def _compile_rules(items: dict[str, ItemRead]) -> dict[str, CompiledRule]:
    labels = {code: i.name for code, i in items.items()}
    rules: dict[str, CompiledRule] = {}
    for code, read in items.items():
        if read.status == "published" and read.eligibility_rule is not None:
            try:
                rules[code] = compile_rule(read.eligibility_rule, member_labels=labels)
            except RuleError:  # validated on save; a bad stored rule is skipped, not fatal
                continue
    return rules

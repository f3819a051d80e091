"""The proxy's view of the catalogue: items, materials, time limits and rules, read over HTTP.

The proxy never imports the catalog service. It reads the published catalogue through
``GET /api/v1/catalog/export`` with its own service token (signed with its own key, verified by
the catalog: no token endpoint in between, see ``doorstep_shared.auth.service_keys``), keeps the
last copy in memory and in its database, and asks again with ``If-None-Match`` at most every
``ttl`` seconds, so a catalogue edit reaches every replica within ``ttl`` and an unchanged
catalogue costs a 304.

Degrade, don't fail: while the catalog cannot be reached (or refuses the proxy's token), the
last good copy keeps serving and every response that used it carries
``Doorstep-Catalogue-Stale-Since`` (when the catalog last confirmed the copy); the dependency
``catalog`` is ``degraded`` on /readyz and in the metrics, and recovers by itself at the next
successful refresh. With no copy at all (a first start during an outage), what needs the
catalogue answers 503 ``catalog_unavailable``.

Every county has its own handbook: the export (read with a service token, which names no
county) holds every county's published items, each naming its ``county``.
``CatalogSnapshot.handbook(county)`` is one county's; :meth:`CatalogClient.item_for` finds an
item in the handbook of a community's county, through the proxy's copy of the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.service_keys import ServiceCredentials
from doorstep_shared.clock import utcnow
from doorstep_shared.directory_copy import DirectoryCopy
from doorstep_shared.http.conditional import Copy, if_none_match, revalidated
from doorstep_shared.http.errors import ServiceUnavailable
from doorstep_shared.http.health import Dependencies, DependencyState, mark_response

from . import catalog_copy

logger = logging.getLogger("doorstep.proxy.catalog")


class CatalogMaterial(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    form: str = "copy"
    count: int = 1
    notes: str = ""
    collectable_at_home: bool = True
    evidence: str | None = None  # "photo": ticking it collected needs a file on the case


class CatalogStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str
    detail: str = ""


class CatalogItem(BaseModel):
    """The part of a catalogue item the proxy uses (and snapshots into cases)."""

    model_config = ConfigDict(extra="ignore")

    county: str = ""  # whose handbook ('' in an export from before counties)
    code: str
    name: str
    category: str = ""
    status: str = "published"
    version: int = 1
    conditions: str = ""
    eligibility_rule: Any | None = None
    materials: list[CatalogMaterial] = Field(default_factory=list)
    steps: list[CatalogStep] = Field(default_factory=list)
    statutory_days: int | None = None
    promised_days: int | None = None
    department: str = ""
    contact: str = ""
    channels: list[str] = Field(default_factory=list)
    proxy_eligible: bool = False
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class CatalogSnapshot(BaseModel):
    revision: int
    # Every county's items by code. With several counties a code may be in more than one:
    # the first county (in code order) holds it here; ``handbook`` is exact.
    items: dict[str, CatalogItem]
    counties: dict[str, dict[str, CatalogItem]] = Field(default_factory=dict)  # county → code → item

    @classmethod
    def of_export(cls, body: Any) -> CatalogSnapshot:
        """The snapshot of an export document (``GET /api/v1/catalog/export``)."""
        counties: dict[str, dict[str, CatalogItem]] = {}
        for raw in body["items"]:
            item = CatalogItem.model_validate(raw)
            counties.setdefault(item.county, {})[item.code] = item
        items: dict[str, CatalogItem] = {}
        for county in sorted(counties):
            for code, item in counties[county].items():
                items.setdefault(code, item)
        if set(counties) <= {""}:
            counties = {}  # an export from before counties: ``items`` is the one handbook
        return cls(revision=int(body.get("revision", 0)), items=items, counties=counties)

    def handbook(self, county: str | None) -> dict[str, CatalogItem]:
        """``county``'s published items by code (none for a county without a handbook); with no
        county known, or an export without counties, every item (``items``)."""
        if county is None or not self.counties:
            return self.items
        return self.counties.get(county, {})


STALE_HEADER = "Doorstep-Catalogue-Stale-Since"
DEPENDENCY = "catalog"
AUDIENCE = "catalog"  # the catalog's service name: its tokens are good there only
CONFIRM_EVERY = dt.timedelta(minutes=5)  # a 304 is written down at most this often per replica
# An item missing from a copy older than this is asked for again at once (a conditional GET, a
# 304 when nothing changed): an item a county has just published is accepted within seconds, not
# after the copy's ttl; a client sending unknown codes costs at most one revalidation this often.
RECHECK_MISS_AFTER = dt.timedelta(seconds=1)


class CatalogClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        credentials: ServiceCredentials | None,
        ttl: float = 30.0,
        *,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        dependencies: Dependencies | None = None,
        wait: float = 2.0,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.ttl = dt.timedelta(seconds=ttl)
        self.wait = wait  # longest a request waits for a refresh while a copy could serve it
        self.sessionmaker = sessionmaker
        self.dependencies = dependencies
        self._snapshot: CatalogSnapshot | None = None
        self._etag: str | None = None
        self._checked: dt.datetime | None = None  # last refresh attempt (success or not)
        self._confirmed: dt.datetime | None = None  # last time the catalog confirmed the copy
        self._stored: dt.datetime | None = None  # last confirmation written to the database
        self.stale_since: dt.datetime | None = None  # set while the copy could not be confirmed
        self._refreshing: asyncio.Task[None] | None = None
        self._storing: set[asyncio.Task[None]] = set()
        # The proxy's copy of the directory (set by the app): a community's county, so a
        # resident's case uses their county's handbook.
        self.directory: DirectoryCopy | None = None
        if dependencies is not None:
            dependencies.register(DEPENDENCY, self.probe)

    def prime(self, snapshot: CatalogSnapshot) -> None:
        """Install a known catalogue (tests, or a warm start)."""
        self._snapshot = snapshot
        self._checked = self._confirmed = utcnow()
        self.stale_since = None

    async def load_copy(self) -> None:
        """Start from the copy in the database (it is revalidated at first use)."""
        if self.sessionmaker is None or self._snapshot is not None:
            return
        try:
            async with self.sessionmaker() as session:
                row = await catalog_copy.load(session)
        except Exception as exc:  # the app starts anyway: the first use fetches
            logger.warning("could not read the stored catalogue: %s", type(exc).__name__)
            return
        if row is not None:
            self._snapshot = CatalogSnapshot.of_export(json.loads(row.body))
            self._etag, self._confirmed, self._stored = row.etag, row.confirmed_at, row.confirmed_at

    def _due(self) -> bool:
        return self._checked is None or utcnow() - self._checked >= self.ttl

    async def snapshot(self) -> CatalogSnapshot:
        if self._snapshot is None or self._due():
            task = self._refreshing
            if task is None or task.done():
                task = self._refreshing = asyncio.create_task(self._refresh_guarded())
            try:
                # Shielded: a caller that stops waiting leaves the refresh running for the others.
                await asyncio.wait_for(asyncio.shield(task), None if self._snapshot is None else self.wait)
            except TimeoutError:
                self._mark_stale("the catalog is slow to answer")
        if self._snapshot is None:
            raise ServiceUnavailable("The catalogue is not reachable; retry shortly.", code="catalog_unavailable")
        if self.stale_since is not None:
            mark_response(STALE_HEADER, self.stale_since.isoformat())
        return self._snapshot

    async def probe(self) -> None:
        """/readyz and /metrics: revalidate if due, so the state is current without traffic."""
        if self._snapshot is None or self._due():
            with contextlib.suppress(ServiceUnavailable):  # already marked unavailable
                await self.snapshot()

    async def _refresh_guarded(self) -> None:
        try:
            await self._refresh()
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            logger.debug("catalogue refresh failed: %s", type(exc).__name__)
            self._checked = utcnow()  # serve the last good copy; try again after ttl
            self._mark_stale(f"refresh failed: {type(exc).__name__}")

    def _mark_stale(self, detail: str) -> None:
        if self._snapshot is None:
            if self.dependencies is not None:
                self.dependencies.mark(DEPENDENCY, DependencyState.UNAVAILABLE, detail=f"no copy; {detail}")
            return
        self.stale_since = self._confirmed or self.stale_since or utcnow()
        if self.dependencies is not None:
            self.dependencies.mark(DEPENDENCY, DependencyState.DEGRADED, stale_since=self.stale_since, detail=detail)

    def _mark_fresh(self) -> None:
        self.stale_since = None
        if self.dependencies is not None:
            self.dependencies.mark(DEPENDENCY, DependencyState.OK)

    async def _refresh(self) -> None:
        held = Copy(self._snapshot, self._etag) if self._snapshot is not None else None
        headers = if_none_match(held)
        if self.credentials:
            headers["Authorization"] = f"Bearer {self.credentials.token(AUDIENCE)}"
        resp = await self.http.get(f"{self.base_url}/api/v1/catalog/export", headers=headers)
        fresh = revalidated(resp, held, CatalogSnapshot.of_export)
        if fresh is None:
            raise httpx.HTTPStatusError(
                f"the catalogue export answered {resp.status_code}", request=resp.request, response=resp
            )
        now = utcnow()
        self._checked = self._confirmed = now
        self._mark_fresh()
        if fresh is held:  # a 304: the copy is confirmed; written down at most every CONFIRM_EVERY
            if self._stored is None or now - self._stored >= CONFIRM_EVERY:
                self._store_later(None, now)
            return
        self._snapshot, self._etag = fresh.value, fresh.etag
        self._store_later(resp.text, now)

    def _store_later(self, body: str | None, now: dt.datetime) -> None:
        """Write the copy down in its own task, off the path of the requests waiting for it.

        A request that reads the catalogue inside its own write transaction (accepting a case)
        may be the one waiting for this refresh: on SQLite, a store on that path waits for the
        request's write lock while the request waits for the store — until the gateway gives up.
        """
        task = asyncio.create_task(self._store(body, now))
        self._storing.add(task)
        task.add_done_callback(self._storing.discard)

    async def stored(self) -> None:
        """Wait until the copies being written are down (tests)."""
        while self._storing:
            await asyncio.gather(*self._storing)

    async def _store(self, body: str | None, now: dt.datetime) -> None:
        """Write the copy (or its confirmation) down; a failure costs only the warm restart."""
        if self.sessionmaker is None or self._snapshot is None:
            return
        try:
            async with self.sessionmaker() as session:
                await catalog_copy.save(
                    session, revision=self._snapshot.revision, etag=self._etag, body=body, confirmed_at=now
                )
                await session.commit()
            self._stored = now
        except Exception as exc:
            logger.warning("could not store the catalogue copy: %s", type(exc).__name__)

    def county_of(self, community: str | None) -> str | None:
        """The county whose handbook serves ``community``'s residents (None: unknown)."""
        directory = self.directory.current if self.directory is not None else None
        return directory.county_of(community) if directory is not None else None

    async def item_for(self, code: str, community: str | None) -> CatalogItem | None:
        """Item ``code`` of the handbook of ``community``'s county (see :meth:`item`)."""
        return await self.item(code, self.county_of(community))

    async def item(self, code: str, county: str | None = None) -> CatalogItem | None:
        """Item ``code`` of ``county``'s handbook (any county's, without one)."""
        snapshot = await self.snapshot()
        found = snapshot.handbook(county).get(code)
        if found is None and self._checked is not None and utcnow() - self._checked >= RECHECK_MISS_AFTER:
            self._checked = None  # due now
            found = (await self.snapshot()).handbook(county).get(code)
        if found is None and self.stale_since is not None:
            # The item may have been added since the copy: say we cannot tell, not that it is unknown.
            raise ServiceUnavailable(
                "The catalogue is not reachable and this item is not in the last copy; retry shortly.",
                code="catalog_unavailable",
            )
        return found

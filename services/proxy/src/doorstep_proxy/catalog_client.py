"""The proxy's view of the catalogue: items, materials, time limits and rules, read over HTTP.

The proxy never imports the catalog service. It reads the published catalogue through
``GET /api/v1/catalog/export`` with its own machine credentials (OAuth2 client credentials at
the gateway's token endpoint), keeps the last copy in memory and asks again with
``If-None-Match`` at most every ``ttl`` seconds, so a catalogue edit reaches every replica
within ``ttl`` and an unchanged catalogue costs a 304. If the catalog is down, the last good
copy keeps serving; with no copy at all, callers get a 503 problem.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from doorstep_shared.http.conditional import Copy, if_none_match, revalidated
from doorstep_shared.http.errors import ServiceUnavailable

logger = logging.getLogger("doorstep.proxy.catalog")


class CatalogMaterial(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    form: str = "copy"
    count: int = 1
    notes: str = ""
    collectable_at_home: bool = True


class CatalogStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str
    detail: str = ""


class CatalogItem(BaseModel):
    """The part of a catalogue item the proxy uses (and snapshots into cases)."""

    model_config = ConfigDict(extra="ignore")

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
    items: dict[str, CatalogItem]

    @classmethod
    def of_export(cls, body: Any) -> CatalogSnapshot:
        """The snapshot of an export document (``GET /api/v1/catalog/export``)."""
        items = {raw["code"]: CatalogItem.model_validate(raw) for raw in body["items"]}
        return cls(revision=int(body.get("revision", 0)), items=items)


class ServiceToken:
    """A machine token from the gateway (client credentials), renewed a minute before expiry."""

    def __init__(self, http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str) -> None:
        self.http = http
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        if self._token and time.monotonic() < self._expires:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires:
                return self._token
            resp = await self.http.post(
                self.token_url,
                data={"grant_type": "client_credentials", "scope": "catalog:read"},
                auth=(self.client_id, self.client_secret),
            )
            resp.raise_for_status()
            body = resp.json()
            self._token = str(body["access_token"])
            self._expires = time.monotonic() + max(30, int(body.get("expires_in", 300)) - 60)
            return self._token

    def forget(self) -> None:
        self._token = None


class CatalogClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: ServiceToken, ttl: float = 30.0) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ttl = ttl
        self._snapshot: CatalogSnapshot | None = None
        self._etag: str | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()

    def prime(self, snapshot: CatalogSnapshot) -> None:
        """Install a known catalogue (tests, or a warm start)."""
        self._snapshot = snapshot
        self._checked = time.monotonic()

    async def snapshot(self) -> CatalogSnapshot:
        if self._snapshot is not None and time.monotonic() - self._checked < self.ttl:
            return self._snapshot
        async with self._lock:
            if self._snapshot is not None and time.monotonic() - self._checked < self.ttl:
                return self._snapshot
            try:
                await self._refresh()
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                logger.warning("catalogue refresh failed: %s", type(exc).__name__)
                if self._snapshot is None:
                    raise ServiceUnavailable(
                        "The catalogue is not reachable; retry shortly.", code="catalog_unavailable"
                    ) from exc
                self._checked = time.monotonic()  # serve the last good copy; retry after ttl
            assert self._snapshot is not None
            return self._snapshot

    async def _refresh(self) -> None:
        for attempt in range(2):
            held = Copy(self._snapshot, self._etag) if self._snapshot is not None else None
            headers = {"Authorization": f"Bearer {await self.token.get()}", **if_none_match(held)}
            resp = await self.http.get(f"{self.base_url}/api/v1/catalog/export", headers=headers)
            if resp.status_code == 401 and attempt == 0:
                self.token.forget()
                continue
            fresh = revalidated(resp, held, CatalogSnapshot.of_export)
            if fresh is None:
                raise httpx.HTTPStatusError(
                    f"the catalogue export answered {resp.status_code}", request=resp.request, response=resp
                )
            self._snapshot, self._etag = fresh.value, fresh.etag
            self._checked = time.monotonic()
            return

    async def item(self, code: str) -> CatalogItem | None:
        return (await self.snapshot()).items.get(code)

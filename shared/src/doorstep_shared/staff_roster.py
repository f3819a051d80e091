"""The staff roster the services follow: the gateway's staff records of field roles, as data.

Staff accounts are the gateway's (``/api/v1/staff``). The proxy's worker roster (代办人员) and
the stations' keepers are not a second place to add a person: they follow the gateway's export,
``GET {gateway}/api/v1/roster/export`` (services only: a service token granted ``staff:roster``;
ETag = the quoted revision, a content hash; 304 on ``If-None-Match``). The document names, for
every account holding ``social_worker`` or ``station_keeper``: username, display name, roles,
county, community, grid, the stations it keeps, and whether it is active. No phone, no password
state: nothing the services do not need.

:class:`RosterCopy` polls it every ``poll_seconds`` beside the directory copy (the same degrade
rules: a failed poll keeps the last copy and marks ``staff_roster`` degraded on /readyz) and
hands each new revision to the app's listeners, which bring their own tables to it (idempotent;
one that fails is called again at the next poll). Without a URL the roster is not followed.
The demo county's roster is a data file (``demo_staff_file()``), read by the demo seeds through
the same listeners.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx

from .auth.service_keys import ServiceCredentials
from .background import BackgroundWork
from .clock import utcnow
from .http.conditional import Copy, if_none_match, revalidated
from .http.health import Dependencies, DependencyState

logger = logging.getLogger("doorstep.staff_roster")

DEPENDENCY = "staff_roster"
EXPORT_PATH = "/api/v1/roster/export"
AUDIENCE = "gateway"
SOCIAL_WORKER = "social_worker"
STATION_KEEPER = "station_keeper"
FIELD_ROLES = frozenset({SOCIAL_WORKER, STATION_KEEPER})


@dataclasses.dataclass(frozen=True, slots=True)
class StaffRecord:
    """One account as the services see it (identity attributes only; the services own the rest)."""

    username: str
    display_name: str
    roles: tuple[str, ...]
    county: str | None
    community: str | None
    grid: str | None
    stations: tuple[str, ...] = ()
    active: bool = True

    @property
    def is_worker(self) -> bool:
        return SOCIAL_WORKER in self.roles and self.community is not None

    @property
    def is_keeper(self) -> bool:
        return STATION_KEEPER in self.roles

    def to_export(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "roles": list(self.roles),
            "county": self.county,
            "community": self.community,
            "grid": self.grid,
            "stations": list(self.stations),
            "active": self.active,
        }

    @classmethod
    def from_export(cls, doc: Mapping[str, Any]) -> StaffRecord:
        return cls(
            username=str(doc["username"]),
            display_name=str(doc["display_name"]),
            roles=tuple(sorted(str(r) for r in doc.get("roles") or ())),
            county=doc.get("county"),
            community=doc.get("community"),
            grid=doc.get("grid"),
            stations=tuple(sorted(str(s) for s in doc.get("stations") or ())),
            active=bool(doc.get("active", True)),
        )


@dataclasses.dataclass(frozen=True)
class StaffRoster:
    """The roster document in memory: records by username, and its revision (a content hash)."""

    records: tuple[StaffRecord, ...]
    revision: str

    @classmethod
    def of(cls, records: Iterable[StaffRecord]) -> StaffRoster:
        """Field-role holders only, by username; the revision hashes exactly what is exported."""
        kept = tuple(sorted((r for r in records if FIELD_ROLES & set(r.roles)), key=lambda r: r.username))
        body = json.dumps([r.to_export() for r in kept], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return cls(kept, hashlib.sha256(body.encode()).hexdigest()[:32])

    def to_export(self) -> dict[str, Any]:
        return {"revision": self.revision, "staff": [r.to_export() for r in self.records]}

    @classmethod
    def from_export(cls, doc: Mapping[str, Any]) -> StaffRoster:
        return cls.of(StaffRecord.from_export(r) for r in doc["staff"])

    @property
    def workers(self) -> list[StaffRecord]:
        """Social workers with a community: the proxy's roster."""
        return [r for r in self.records if r.is_worker]

    def keepers_of(self) -> dict[str, list[str]]:
        """Station code → the usernames of its active keepers, sorted."""
        out: dict[str, list[str]] = {}
        for r in self.records:
            if r.is_keeper and r.active:
                for station in r.stations:
                    out.setdefault(station, []).append(r.username)
        return {station: sorted(names) for station, names in out.items()}


def demo_staff_file() -> Path:
    """The demo county's staff records (CSV: username, display_name, roles, community, grid,
    stations, login); the gateway's seed creates them, the services' demo seeds follow them."""
    return Path(str(files("doorstep_shared.directory") / "hexian-staff.csv"))


def read_staff_file(path: Path, county: str | None = None) -> list[dict[str, Any]]:
    """The rows of a staff file: roles and stations split on ``;``, ``login`` as a bool."""
    rows: list[dict[str, Any]] = []
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
        rows.append(
            {
                "username": row["username"].strip(),
                "display_name": row["display_name"].strip(),
                "roles": [r for r in row["roles"].split(";") if r],
                "county": county,
                "community": row["community"].strip() or None,
                "grid": row["grid"].strip() or None,
                "stations": [s for s in row["stations"].split(";") if s],
                "login": row["login"].strip().lower() in {"1", "true", "yes"},
            }
        )
    return rows


def demo_roster(county: str | None = None) -> StaffRoster:
    """The demo county's roster as the gateway exports it once its seed ran."""
    return StaffRoster.of(
        StaffRecord(
            username=r["username"],
            display_name=r["display_name"],
            roles=tuple(sorted(r["roles"])),
            county=county,
            community=r["community"],
            grid=r["grid"],
            stations=tuple(sorted(r["stations"])),
        )
        for r in read_staff_file(demo_staff_file(), county)
    )


Listener = Callable[[StaffRoster], Awaitable[None]]


class RosterCopy:
    """The app's copy of the gateway's staff roster (``state.roster``): see the module's documentation."""

    def __init__(
        self,
        *,
        url: str | None,
        http: httpx.AsyncClient | None,
        credentials: ServiceCredentials | None,
        dependencies: Dependencies | None = None,
    ) -> None:
        self.url = url.rstrip("/") + EXPORT_PATH if url and not url.endswith(EXPORT_PATH) else url
        self.http = http
        self.credentials = credentials
        self.dependencies = dependencies
        self._held: Copy[StaffRoster] | None = None
        self.confirmed_at: dt.datetime | None = None  # when the gateway last confirmed the copy
        self._applied: str | None = None  # the revision every listener has applied
        self._listeners: list[Listener] = []
        if dependencies is not None and self.url:
            dependencies.register(DEPENDENCY)

    @property
    def following(self) -> bool:
        """Whether this app follows a roster (a URL is configured): staff records are then the
        only source of who works here."""
        return self.url is not None

    @property
    def current(self) -> StaffRoster | None:
        return self._held.value if self._held is not None else None

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def refresh(self) -> bool:
        """One poll, then the listeners if the revision is new to them. True when the copy
        changed. Never raises for a bad answer."""
        before = self.current
        if self.url is not None and self.http is not None:
            await self._from_url()
        await self._apply()
        return self.current is not None and (before is None or before.revision != self.current.revision)

    async def _from_url(self) -> None:
        assert self.url is not None and self.http is not None
        headers = if_none_match(self._held)
        if self.credentials is not None:
            headers["Authorization"] = f"Bearer {self.credentials.token(AUDIENCE)}"
        try:
            resp = await self.http.get(self.url, headers=headers)
            fresh = revalidated(resp, self._held, StaffRoster.from_export)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self._failed(type(exc).__name__)
            return
        if fresh is None:
            self._failed(f"the export answered {resp.status_code}")
            return
        if self._held is None or fresh.value.revision != self._held.value.revision:
            logger.info("staff roster revision %s", fresh.value.revision)
        self._held = fresh
        self.confirmed_at = utcnow()
        self._mark(DependencyState.OK)

    def _failed(self, detail: str) -> None:
        # Degraded, never unavailable: without the roster the app still serves; only staff
        # changes wait (the last copy applied, or none yet, stays in the app's tables).
        logger.debug("staff roster refresh failed: %s", detail)
        self._mark(DependencyState.DEGRADED, f"refresh failed: {detail}")

    def _mark(self, state: DependencyState, detail: str = "") -> None:
        if self.dependencies is None or not self.url:
            return
        stale = (self.confirmed_at or utcnow()) if state is DependencyState.DEGRADED else None
        self.dependencies.mark(DEPENDENCY, state, stale_since=stale, detail=detail)

    async def _apply(self) -> None:
        current = self.current
        if current is None or self._applied == current.revision:
            return
        try:
            for listener in self._listeners:
                await listener(current)
        except Exception:  # the next poll applies it again (listeners are idempotent)
            logger.exception("applying staff roster revision %s failed; retrying at the next poll", current.revision)
            return
        self._applied = current.revision


def roster_url(directory_url: str | None) -> str | None:
    """The roster export of the gateway the app follows the directory from (its base URL or the
    directory export's full URL); None when the app follows no gateway."""
    if not directory_url:
        return None
    base = directory_url.rstrip("/").removesuffix("/api/v1/directory/export")
    return base + EXPORT_PATH


def following_roster(copy: RosterCopy, poll_seconds: float, service: str) -> BackgroundWork:
    """The background task that polls the roster every ``poll_seconds`` (0 or no URL: never)."""
    work = BackgroundWork(service, enabled=poll_seconds > 0 and copy.following, logger=logger)
    work.every("staff-roster", copy.refresh, interval=poll_seconds or 1.0, delay=poll_seconds, quiet=True)
    return work

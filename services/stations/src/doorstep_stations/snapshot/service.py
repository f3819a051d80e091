"""The station directory as this process holds it in memory: every station with its services,
opening-hours rules and exceptions, for the reads every phone makes all day (a station, its
hours, the station search, stations near a point and open now; issue #23).

They change a few times a year, so the snapshot is built from the database once per revision
(``stations_state``, bumped in the transaction of every write that changes what these reads
show: ``stations.service.bump_revision``) and shared by every request until the next one. As
the catalogue's handbook (``doorstep_catalog.items.index``): ``served`` re-reads the revision
at most every ``check_interval`` seconds, and at once after this process committed a bump, so
a process answers its own writes at once and another process's within the interval.

Each station keeps what its reads show already shaped: its ``StationRead`` as JSON bytes with
its ETag, and per service (and for the station itself) the rules and exceptions ``GET …/hours``
lists and the schedule they make. Whether a station is open is never kept: it depends on the
clock, so it is computed per request from the schedules (only a day's opening windows, a pure
function of the rules and the date, are remembered).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.db.revision_gate import RevisionGate

from ..hours import schedule as h
from ..hours import service as hours_service
from ..hours.models import HoursException, HoursRule
from ..http import station_etag
from ..stations import service as stations_service
from ..stations.models import Station, StationService

T = TypeVar("T")
# Seconds between two reads of the revision by the hot reads (as the catalogue's default): a
# process sees its own writes at once, another process's within this time.
CHECK_INTERVAL = 0.25
# Days whose opening windows a schedule remembers: the week the hours show, the days up to the
# next opening (a year and more for a station without hours: ``schedule.state_at``'s horizon).
DAYS_REMEMBERED = 512


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """A station's service as the reads need it (every service, active or not)."""

    id: int
    code: str
    name: str
    kind: str
    description: str
    active: bool


class HoursShown:
    """What ``GET …/hours`` lists for one service of a station (or the station itself), as
    JSON-ready dicts in the response models' shape, and the schedule they make."""

    __slots__ = ("_days", "exceptions", "rules", "schedule")

    def __init__(self, rules: list[dict[str, Any]], exceptions: list[dict[str, Any]], schedule: h.Schedule) -> None:
        self.rules, self.exceptions, self.schedule = rules, exceptions, schedule
        self._days: dict[dt.date, tuple[h.Interval, ...]] = {}

    def windows(self, schedule: h.Schedule, day: dt.date) -> tuple[h.Interval, ...]:
        """``schedule.intervals_on(schedule, day)`` (``schedule`` is this one's), remembered: a
        day's windows depend on the rules and the date alone (``schedule.Days``)."""
        found = self._days.get(day)
        if found is None:
            if len(self._days) >= DAYS_REMEMBERED:
                self._days.clear()
            found = self._days[day] = tuple(h.intervals_on(schedule, day))
        return found


class StationEntry:
    """One station at one revision: what its reads show, shaped once."""

    __slots__ = (
        "_windows",
        "active",
        "address",
        "body",
        "code",
        "community",
        "compound",
        "description",
        "etag",
        "hit_head",
        "hours",
        "kinds",
        "latitude",
        "longitude",
        "name",
        "read",
        "services",
    )

    def __init__(
        self,
        station: Station,
        services: Sequence[StationService],
        rules: Sequence[HoursRule],
        exceptions: Sequence[HoursException],
    ) -> None:
        read = stations_service.station_read(station, services)
        self.code, self.name, self.community, self.compound = (
            station.code,
            station.name,
            station.community,
            station.compound,
        )
        self.address, self.description = station.address, station.description
        self.latitude, self.longitude = station.latitude, station.longitude
        # StationRead's JSON values: a station's read writes them, a search hit adds its own two.
        self.read: dict[str, Any] = read.model_dump(mode="json")
        self.body: bytes = to_json(self.read)
        # A search hit is the read and two more fields: its JSON up to the distance's value.
        self.hit_head = self.body[:-1] + b',"distance_km":'
        self.etag = station_etag(read)
        self.services: dict[str, ServiceEntry] = {
            s.code: ServiceEntry(s.id or 0, s.code, s.name, str(s.kind), s.description, s.active) for s in services
        }
        self.active = tuple(s for s in self.services.values() if s.active)
        self.kinds = frozenset(s.kind for s in self.active)
        codes: dict[int | None, str] = {s.id: s.code for s in services}
        self.hours: dict[int | None, HoursShown] = {}
        for service_id in (None, *(s.id for s in self.services.values())):
            shown = hours_service.shown_hours(rules, exceptions, codes, service_id)
            self.hours[service_id] = HoursShown(
                [r.model_dump(mode="json") for r in shown.rules],
                [e.model_dump(mode="json") for e in shown.exceptions],
                shown.schedule,
            )
        self._windows: dict[dt.date, tuple[h.Interval, ...]] = {}

    def open_at(self, local: dt.datetime) -> bool:
        """Open at ``local`` (Asia/Shanghai): the station itself or any of its active services,
        as ``hours.service.StationsHours.is_open`` says from the database."""
        day = local.date()
        windows = self._windows.get(day)
        if windows is None:
            if len(self._windows) >= 4:  # today's, mostly
                self._windows.clear()
            shown = [self.hours[sid] for sid in (None, *(s.id for s in self.active))]
            windows = self._windows[day] = tuple(w for one in shown for w in one.windows(one.schedule, day))
        # ``schedule.is_open`` compares datetimes of one day in one zone: the wall-clock times.
        now = local.time()
        return any(opens <= now < closes for opens, closes in windows)


@dataclass
class Snapshot:
    """Every station at one revision, in the order the database lists them (by code)."""

    key: tuple[str, int]
    stations: tuple[StationEntry, ...]
    by_code: dict[str, StationEntry]
    _derived: dict[str, tuple[object, object]] = field(default_factory=dict, repr=False)

    @property
    def revision(self) -> int:
        return self.key[1]

    def station(self, code: str) -> StationEntry | None:
        return self.by_code.get(code)

    def derived(self, name: str, source: object, build: Callable[[], T]) -> T:
        """What ``build`` makes of this snapshot and ``source`` (e.g. the keyword index of a
        directory), built once per source (the last one kept per name, compared by identity)."""
        found = self._derived.get(name)
        if found is None or found[0] is not source:
            found = self._derived[name] = (source, build())
        return cast(T, found[1])


async def build(session: AsyncSession, key: tuple[str, int]) -> Snapshot:
    """Every station, service, rule and exception, read once (four queries, each in the order
    the database path reads them)."""
    stations = await stations_service.find_stations(session)
    services: dict[int, list[StationService]] = {}
    for svc in await stations_service.all_services(session):
        services.setdefault(svc.station_id, []).append(svc)
    hours = await hours_service.hours_of_stations(session, None)
    entries = tuple(
        StationEntry(
            s, services.get(s.id or 0, []), hours.rules.get(s.id or 0, []), hours.exceptions.get(s.id or 0, [])
        )
        for s in stations
    )
    return Snapshot(key, entries, {e.code: e for e in entries})


class StationsSnapshot:
    """Per-process holder of the current snapshot (one per app instance)."""

    def __init__(self, *, check_interval: float = 0.0) -> None:
        self._snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()
        self._engine: Any = None  # the engine whose committed bumps this process counts
        self._gate: RevisionGate[Snapshot] = RevisionGate(
            lambda: stations_service.committed_bumps(self._engine), check_interval=check_interval
        )
        self.checks = 0  # revision reads so far
        self.builds = 0

    @property
    def check_interval(self) -> float:
        """Seconds between revision reads on ``served``."""
        return self._gate.check_interval

    @check_interval.setter
    def check_interval(self, seconds: float) -> None:
        self._gate.check_interval = seconds

    def expire(self) -> None:
        """Re-read the revision on the next ``served`` (the database changed behind this
        process's back without a revision bump: a restore, a test emptying tables)."""
        self._gate.expire()

    async def served(self, sessions: async_sessionmaker[AsyncSession]) -> Snapshot:
        """The snapshot, re-reading the revision when the last read is older than
        ``check_interval`` (in the background, serving the snapshot held meanwhile) or this
        process has committed a revision bump since (before answering): ``RevisionGate``. No
        database session otherwise."""

        async def check() -> Snapshot:
            async with sessions() as session:
                return await self.current(session)

        return await self._gate.served(lambda: self._snapshot, check)

    async def close(self) -> None:
        """Stop a revision check running in the background (the app is shutting down)."""
        await self._gate.close()

    async def current(self, session: AsyncSession) -> Snapshot:
        """The snapshot at the database's current revision (one row read, every call; a
        build when the revision is not the snapshot's)."""
        self._engine = session.sync_session.bind
        started = self._gate.start()
        key = await stations_service.revision(session)
        self.checks += 1
        snap = self._snapshot
        if snap is None or snap.key != key:
            async with self._lock:
                snap = self._snapshot
                if snap is None or snap.key != key:
                    # Read after the revision: a write committed meanwhile is in the snapshot
                    # already, and its newer revision rebuilds it at the next check.
                    snap = self._snapshot = await build(session, key)
                    self.builds += 1
        self._gate.checked(started)
        return snap

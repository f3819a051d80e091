"""Demo data for stations (idempotent): one station per compound, 78 in the county.

朝阳社区's seven stations carry the featured services of the source (爱心裁缝铺, 翰墨飘香,
暑期课堂, 宝妈工坊) and three invented ones; the others a generic consultation service.
Coordinates are deterministic, scattered around He County's town centre.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import SHANGHAI, local_today
from doorstep_shared.directory import Directory, demo_directory_file
from doorstep_shared.directory_copy import read_directory_file
from doorstep_shared.staff_roster import demo_roster

from ..bookings.models import ServiceSession
from ..config import get_settings
from ..hours.models import HoursException, HoursRule
from ..stations import service as stations_service
from ..stations.models import ServiceKind, Station, StationService
from . import repository as repo

CENTRE = (31.71, 118.36)

# compound → (service code, name, kind, description)
FEATURED: dict[str, tuple[str, str, ServiceKind, str]] = {
    "shuxiang": (
        "tailoring",
        "爱心裁缝铺",
        ServiceKind.DROP_OFF,
        "免费缝补：改裤脚、换拉链、收腰，婴儿衣领磨软；可留衣物和纸条，修好后通知领取。",
    ),
    "zhongyang": ("painting", "翰墨飘香", ServiceKind.CLASS, "书画兴趣班，每周六上午。"),
    "anliang": ("summer", "暑期课堂", ServiceKind.CLASS, "面向小学生的暑期托管与兴趣课。"),
    "jingdu": ("mothers", "宝妈工坊", ServiceKind.CLASS, "宝妈手工与育儿交流活动。"),
    "binjiang": ("haircut", "爱心理发", ServiceKind.APPOINTMENT, "为老年人免费理发，按时段预约。"),
    "chaoyangxincun": ("repair", "家电义修", ServiceKind.DROP_OFF, "小家电免费检修，可寄存登记。"),
    "jinchengyuan": ("health", "健康小屋", ServiceKind.APPOINTMENT, "测血压、血糖，健康咨询预约。"),
}

WEEKDAYS = [0, 1, 2, 3, 4]
HOURS_FROM = dt.date(2026, 6, 1)  # 爱心裁缝铺: Thursdays only until then, Monday–Friday after


def national_days(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """国庆 (1–7 October) of the seeding year and the next: the demo's holiday closure."""
    return [(dt.date(year, 10, 1), dt.date(year, 10, 7)) for year in (today.year, today.year + 1)]


def location(code: str, chaoyang: bool) -> tuple[float, float]:
    digest = hashlib.sha256(code.encode()).digest()
    spread = 0.008 if chaoyang else 0.03
    dlat = (int.from_bytes(digest[:4], "big") / 2**32 - 0.5) * 2 * spread
    dlon = (int.from_bytes(digest[4:8], "big") / 2**32 - 0.5) * 2 * spread
    return round(CENTRE[0] + dlat, 6), round(CENTRE[1] + dlon, 6)


def _rules(station_id: int, service_id: int | None, weekdays: list[int], windows: list[tuple[dt.time, dt.time]], effective_from: dt.date | None = None, effective_to: dt.date | None = None) -> list[HoursRule]:  # fmt: skip
    return [
        HoursRule(
            station_id=station_id,
            service_id=service_id,
            weekday=d,
            opens=o,
            closes=c,
            effective_from=effective_from,
            effective_to=effective_to,
        )
        for d in weekdays
        for o, c in windows
    ]


T = dt.time
OFFICE = [(T(8, 30), T(12, 0)), (T(14, 0), T(17, 30))]


def demo_directory() -> Directory:
    """The directory the demo loads: the stations' directory file (the demo county's by default)."""
    _, file = get_settings().directory_source()
    return read_directory_file(file or demo_directory_file())


async def seed(session: AsyncSession, directory: Directory | None = None) -> None:
    """A station for each of the directory's compounds (the demo's file by default), once."""
    directory = directory or demo_directory()
    # Keepers from the demo county's staff records (the file the gateway's seed creates them from).
    keepers = demo_roster().keepers_of()
    existing = await repo.station_codes(session)
    stations: list[Station] = []
    for compound in directory.compounds:
        if compound.code in existing:
            continue
        lat, lon = location(compound.code, compound.community == "chaoyang")
        stations.append(
            Station(
                code=compound.code,
                name=f"{compound.name}党群驿站",
                community=compound.community,
                compound=compound.code,
                address=f"{compound.address}小区内",
                latitude=lat,
                longitude=lon,
                keepers=keepers.get(compound.code, []),
                contact="0555-5300000",
                description="一个党群驿站提供一项特色服务。",
            )
        )
    if stations:
        await _add_stations(session, stations)
        await stations_service.bump_revision(session)
    await top_up_sessions(session)


async def _add_stations(session: AsyncSession, stations: list[Station]) -> None:
    session.add_all(stations)
    await session.flush()
    services: list[StationService] = []
    for station in stations:
        assert station.id is not None
        code, name, kind, description = FEATURED.get(
            station.code,
            ("consult", "政策咨询", ServiceKind.APPOINTMENT, "政策咨询与代办预约。"),
        )
        services.append(StationService(station_id=station.id, code=code, name=name, kind=kind, description=description))
    session.add_all(services)
    await session.flush()
    for station, svc in zip(stations, services, strict=True):
        assert station.id is not None and svc.id is not None
        session.add_all(_rules(station.id, None, WEEKDAYS, OFFICE))
        if station.code == "shuxiang":
            # The source's story: Thursdays only, then Monday–Friday all day, closed for 国庆.
            session.add_all(
                _rules(station.id, svc.id, [3], [(T(9, 0), T(17, 0))], None, HOURS_FROM - dt.timedelta(days=1))
            )  # fmt: skip
            session.add_all(_rules(station.id, svc.id, WEEKDAYS, [(T(8, 30), T(17, 30))], HOURS_FROM))
            session.add_all(
                HoursException(
                    station_id=station.id,
                    service_id=svc.id,
                    kind="closed",
                    start_date=first,
                    end_date=last,
                    reason="国庆节休息",
                )
                for first, last in national_days(local_today())
            )
    await session.flush()


# service code → (starts, ends, capacity, minimum participants, seats per booking)
SESSION_SPECS: dict[str, tuple[dt.time, dt.time, int, int, int]] = {
    "painting": (T(9, 30), T(11, 0), 12, 4, 1),
    "summer": (T(14, 0), T(16, 0), 20, 0, 3),
    "mothers": (T(9, 0), T(10, 30), 10, 3, 2),
    "haircut": (T(9, 0), T(9, 30), 2, 0, 1),
    "health": (T(8, 30), T(9, 0), 4, 0, 1),
}
UPCOMING = 4  # sessions per service the demo keeps ahead of today
LEAD_DAYS = 2  # the first one at least this many local days ahead: more than a day away at any hour


def session_days(today: dt.date, kind: str, count: int = UPCOMING) -> list[dt.date]:
    """The demo's next ``count`` session days: Saturdays for classes, Wednesdays for appointments.

    The first is at least :data:`LEAD_DAYS` days after ``today`` (Asia/Shanghai), so whatever the
    weekday and the hour of seeding, what the demo calls upcoming is more than a day away.
    """
    weekday = 2 if kind == ServiceKind.APPOINTMENT else 5
    first = today + dt.timedelta(days=LEAD_DAYS)
    first += dt.timedelta(days=(weekday - first.weekday()) % 7)
    return [first + dt.timedelta(days=7 * week) for week in range(count)]


async def top_up_sessions(session: AsyncSession, now: dt.datetime | None = None) -> None:
    """Keep :data:`UPCOMING` sessions ahead for 朝阳社区's classes and appointments (idempotent).

    Run on every seed, so a demo loaded last week still shows upcoming sessions today; a day that
    already has a session of the service is left as it is (bookings on it are kept).
    """
    today = local_today(now)
    for station, svc in await repo.services_with_sessions(session, "chaoyang"):
        assert station.id is not None and svc.id is not None
        start_t, end_t, capacity, minimum, per_resident = SESSION_SPECS.get(svc.code, (T(9, 0), T(10, 0), 10, 0, 1))
        days = session_days(today, svc.kind)
        horizon = (
            dt.datetime.combine(days[0], T(0), tzinfo=SHANGHAI),
            dt.datetime.combine(days[-1] + dt.timedelta(days=1), T(0), tzinfo=SHANGHAI),
        )
        taken = await repo.session_starts(session, svc.id, *horizon)
        taken_days = {local_today(at) for at in taken}
        for day in days:
            if day in taken_days:
                continue
            starts = dt.datetime.combine(day, start_t, tzinfo=SHANGHAI).astimezone(dt.UTC)
            ends = dt.datetime.combine(day, end_t, tzinfo=SHANGHAI).astimezone(dt.UTC)
            session.add(
                ServiceSession(
                    service_id=svc.id,
                    station_id=station.id,
                    community=station.community,
                    title=svc.name,
                    starts_at=starts,
                    ends_at=ends,
                    capacity=capacity,
                    min_participants=minimum,
                    min_cutoff_at=starts - dt.timedelta(days=1) if minimum else None,
                    booking_closes_at=starts - dt.timedelta(hours=1),
                    cancel_cutoff_at=starts - dt.timedelta(hours=2),
                    max_seats_per_booking=per_resident,
                )
            )
    await session.flush()

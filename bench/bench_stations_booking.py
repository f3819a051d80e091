"""Booking throughput under contention, and the proof that no session is overbooked.

Runs the stations app in-process (ASGI, real JWTs, real migrations) and fires concurrent
booking requests:

- ``one session``: N clients at once on one session with fewer seats than clients;
- ``50 sessions``: N clients, each booking several times across 50 sessions.

Each scenario runs twice in the same process: through the real endpoint (one conditional
UPDATE takes the seats) and through a naive read-check-write endpoint mounted only here,
the baseline to beat. For each it prints bookings/s and the overbooking found by counting
confirmed seats per session in the database. The real endpoint must never overbook (the
script exits non-zero otherwise); the naive one may, and how much is reported.

    .venv/bin/python bench/bench_stations_booking.py --quick
    DOORSTEP_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/bench_stations_booking.py
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy import func, text
from sqlmodel import col, select

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import require
from doorstep_shared.auth.tokens import KeySet, Principal, SigningKey, TokenSigner
from doorstep_shared.clock import utcnow
from doorstep_shared.db import create_engine, migrations
from doorstep_shared.http.errors import Conflict
from doorstep_shared.pii import mask_phone
from doorstep_stations.bookings.models import Booking, BookingStatus, ServiceSession
from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app
from doorstep_stations.stations.models import ServiceKind, Station, StationService

PACKAGE = "doorstep_stations"


@dataclass
class Result:
    backend: str
    scenario: str
    mode: str
    requests: int
    seconds: float
    confirmed_seats: int
    capacity: int
    overbooked_sessions: int
    overbooked_seats: int
    errors: int
    unavailable: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def add_naive_route(app: FastAPI) -> None:
    """The baseline: read the count, check it, write it back (a lost-update race)."""

    @app.post("/bench/naive/{session_id}", status_code=201, include_in_schema=False)
    async def naive_book(
        session_id: int,
        body: dict[str, Any],
        session: DbSession,
        principal: Annotated[Principal, Depends(require(Permission.BOOKINGS_WRITE))],
    ) -> dict[str, str]:
        cipher = app.state.pii
        s = await session.get(ServiceSession, session_id)
        assert s is not None
        seats = int(body.get("seats", 1))
        phone = str(body["phone"])
        phone_hash = cipher.lookup_hash(phone, kind="phone")
        dup = (
            await session.exec(
                select(Booking.id).where(Booking.session_id == session_id, Booking.phone_hash == phone_hash)
            )
        ).first()
        if dup is not None:
            raise Conflict("duplicate")
        if s.booked + seats <= s.capacity:
            s.booked = s.booked + seats  # written back as a value: concurrent writers collide
            status = BookingStatus.CONFIRMED
        else:
            status = BookingStatus.WAITLISTED
        session.add(s)
        session.add(
            Booking(
                session_id=session_id,
                station_id=s.station_id,
                community=s.community,
                name=str(body["name"]),
                phone_cipher=cipher.encrypt(phone, context="phone"),
                phone_hash=phone_hash,
                phone_masked=mask_phone(phone) or "",
                seats=seats,
                status=status,
                booked_by=principal.subject,
            )
        )
        return {"status": status}


async def make_sessions(app: FastAPI, count: int, capacity: int) -> list[int]:
    async with app.state.sessionmaker() as db:
        station = (await db.exec(select(Station).where(Station.code == "bench"))).first()
        if station is None:
            station = Station(
                code="bench",
                name="基准驿站",
                community="chaoyang",
                compound="bench",
                latitude=31.71,
                longitude=118.36,
            )
            db.add(station)
            await db.flush()
            db.add(StationService(station_id=station.id or 0, code="class", name="课", kind=ServiceKind.CLASS))
            await db.flush()
        svc = (await db.exec(select(StationService).where(StationService.station_id == station.id))).one()
        starts = utcnow() + dt.timedelta(days=7)
        rows = [
            ServiceSession(
                service_id=svc.id or 0,
                station_id=station.id or 0,
                community="chaoyang",
                title="bench",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
                capacity=capacity,
                max_seats_per_booking=5,
            )
            for _ in range(count)
        ]
        db.add_all(rows)
        await db.commit()
        return [r.id or 0 for r in rows]


async def audit(app: FastAPI, session_ids: list[int]) -> tuple[int, int, int, int]:
    """Confirmed seats, total capacity, sessions overbooked, seats over capacity."""
    async with app.state.sessionmaker() as db:
        caps = dict(
            (
                await db.exec(
                    select(ServiceSession.id, ServiceSession.capacity).where(col(ServiceSession.id).in_(session_ids))
                )
            ).all()
        )
        seats = dict(
            (
                await db.exec(
                    select(Booking.session_id, func.sum(Booking.seats))
                    .where(
                        col(Booking.session_id).in_(session_ids),
                        Booking.status == BookingStatus.CONFIRMED,
                    )
                    .group_by(col(Booking.session_id))
                )
            ).all()
        )
    confirmed = sum(int(v) for v in seats.values())
    over = [int(seats.get(sid, 0)) - caps[sid] for sid in session_ids]
    return (
        confirmed,
        sum(caps.values()),
        sum(1 for o in over if o > 0),
        sum(o for o in over if o > 0),
    )


async def scenario(
    app: FastAPI,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    backend: str,
    name: str,
    mode: str,
    clients: int,
    per_client: int,
    sessions: int,
    capacity: int,
) -> Result:
    ids = await make_sessions(app, sessions, capacity)
    rng = random.Random(42)
    phone_base = rng.randrange(10**7)
    errors = 0
    unavailable = 0

    async def one_client(c: int) -> None:
        nonlocal errors, unavailable
        for k in range(per_client):
            sid = ids[rng.randrange(len(ids))]
            body = {"name": "居民", "phone": f"13{(phone_base + c * 1000 + k) % 10**9:09d}"}
            url = f"/api/v1/stations/sessions/{sid}/bookings" if mode == "atomic" else f"/bench/naive/{sid}"
            r = await client.post(url, json=body, headers=headers)
            if r.status_code == 503:
                unavailable += 1  # pool exhausted under overload: refused, not overbooked
            elif r.status_code != 201:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(one_client(c) for c in range(clients)))
    seconds = time.perf_counter() - started
    confirmed, cap, over_sessions, over_seats = await audit(app, ids)
    return Result(
        backend,
        name,
        mode,
        clients * per_client,
        seconds,
        confirmed,
        cap,
        over_sessions,
        over_seats,
        errors,
        unavailable,
    )


async def run_backend(backend: str, url: str, args: argparse.Namespace) -> list[Result]:
    schema = f"bench_stations_{uuid.uuid4().hex[:8]}" if backend == "postgresql" else None
    await asyncio.to_thread(migrations.upgrade, PACKAGE, url, schema)
    key = SigningKey.generate("bench")
    signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
    principal = Principal(
        subject="chaoyang.worker",
        kind="user",
        name="bench",
        roles=frozenset({"social_worker"}),
        community="chaoyang",
    )
    headers = {"Authorization": f"Bearer {signer.access_token(principal)[0]}"}
    settings = StationsSettings(
        environment="test",
        database_url=url,
        database_schema=schema,
        database_pool_size=args.pool,
        worker_enabled=False,
        log_level="WARNING",
        log_json=False,
        var_dir=Path(tempfile.mkdtemp(prefix="bench-stations-")),
    )
    app = create_app(settings, key_set=KeySet(keys={key.kid: key.private_key.public_key()}))
    add_naive_route(app)
    results: list[Result] = []
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for mode in ("atomic", "naive"):
                    results.append(
                        await scenario(
                            app,
                            client,
                            headers,
                            backend=backend,
                            name="one session",
                            mode=mode,
                            clients=args.clients,
                            per_client=1,
                            sessions=1,
                            capacity=args.clients // 4,
                        )
                    )
                    results.append(
                        await scenario(
                            app,
                            client,
                            headers,
                            backend=backend,
                            name="50 sessions",
                            mode=mode,
                            clients=args.clients,
                            per_client=args.per_client,
                            sessions=50,
                            capacity=max(1, args.clients * args.per_client // 100),
                        )
                    )
    finally:
        if schema:
            engine = create_engine(url, null_pool=True)
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()
    return results


def report(results: list[Result]) -> None:
    print(
        f"{'backend':<11}{'scenario':<13}{'mode':<8}{'requests':>9}{'seconds':>9}"
        f"{'book/s':>9}{'confirmed':>10}{'capacity':>9}{'overbooked':>11}{'errors':>7}{'503':>6}"
    )
    for r in results:
        over = f"{r.overbooked_seats} ({r.overbooked_sessions}s)" if r.overbooked_seats else "0"
        print(
            f"{r.backend:<11}{r.scenario:<13}{r.mode:<8}{r.requests:>9}{r.seconds:>9.2f}"
            f"{r.rate:>9.0f}{r.confirmed_seats:>10}{r.capacity:>9}{over:>11}{r.errors:>7}"
            f"{r.unavailable:>6}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (well under a minute)")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients")
    parser.add_argument("--per-client", type=int, default=None, help="bookings per client (50 sessions)")
    parser.add_argument("--pool", type=int, default=30, help="PostgreSQL pool size (and as many overflow)")
    args = parser.parse_args()
    if args.per_client is None:
        args.per_client = 1 if args.quick else 10
    backends: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-stations-") as tmp:
        backends.append(("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'stations.db'}"))
        pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL")
        if pg:
            backends.append(("postgresql", pg))
        results: list[Result] = []
        for backend, url in backends:
            results.extend(asyncio.run(run_backend(backend, url, args)))
    report(results)
    bad = [r for r in results if r.mode == "atomic" and (r.overbooked_seats or r.errors)]
    naive_over = sum(r.overbooked_seats for r in results if r.mode == "naive")
    print(f"\nnaive read-check-write overbooked {naive_over} seat(s) in total")
    if bad:
        print("FAIL: the atomic booking path overbooked or failed", file=sys.stderr)
        return 1
    print("OK: no session overbooked by the atomic booking path")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

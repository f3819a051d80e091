"""The field app's sync feed: a first full sync and a delta of 50 changes, vs a full re-download.

    .venv/bin/python bench/bench_proxy_sync.py [--quick] [--residents N] [--cases-per-resident K]

A worker whose scope (community chaoyang) holds 5,000 residents and 20,000 cases (``--quick``:
1,000 and 4,000). Runs on a fresh SQLite file, and on PostgreSQL too when
DOORSTEP_BENCH_DATABASE_URL is set (a throw-away schema). Everything goes through the real
endpoint (``GET /api/v1/proxy/sync``, pages of 1,000). The baseline, measured in the same run,
is what a client without a cursor must do after 50 changes: download everything again.
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
import warnings
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from doorstep_proxy.cases.models import ProxyCase
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.ledger.models import Household, Resident
from doorstep_proxy.ledger.personal_data import ID_CTX, PHONE_CTX
from doorstep_proxy.main import create_app
from doorstep_proxy.seed import seed_compounds
from doorstep_proxy.versions import sequence_value, set_sequence_value
from doorstep_shared.auth.tokens import KeySet, SigningKey, TokenSigner
from doorstep_shared.clock import utcnow
from doorstep_shared.db import create_engine, migrations

COMPOUNDS = ["binjiang", "jingdu", "shuxiang", "zhongyang", "anliang", "chaoyangxincun", "jinchengyuan"]
GRIDS = {
    "binjiang": "chaoyang-g6",
    "jingdu": "chaoyang-g2",
    "shuxiang": "chaoyang-g3",
    "zhongyang": "chaoyang-g4",
    "anliang": "chaoyang-g5",
    "chaoyangxincun": "chaoyang-g1",
    "jinchengyuan": "chaoyang-g7",
}
SNAPSHOT = {
    "code": "elderly-allowance",
    "name": "高龄补贴",
    "materials": [{"name": "居民身份证复印件", "form": "copy"}, {"name": "户口簿复印件", "form": "copy"}],
    "steps": [],
    "promised_days": 15,
    "department": "和县民政局",
}


async def populate(app: Any, residents: int, per_resident: int) -> None:
    cipher = app.state.pii
    rng = random.Random(5)
    now = utcnow()
    async with app.state.sessionmaker() as session:
        await seed_compounds(session)
        await session.commit()
    households: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    version = 0
    for i in range(residents):
        compound = COMPOUNDS[i % len(COMPOUNDS)]
        building, room = str(1 + i // 700 % 12), str(101 + i % 600)
        hid = uuid.uuid4()
        version += 1
        households.append(
            {
                "id": hid,
                "community": "chaoyang",
                "grid": GRIDS[compound],
                "compound_code": compound,
                "building": building,
                "unit": "1",
                "room": room,
                "version": 1,
                "row_version": version,
                "created_at": now,
            }
        )
        number = f"340523{1940 + i % 60}0101{i % 10000:04d}"
        rid = uuid.uuid4()
        version += 1
        people.append(
            {
                "id": rid,
                "community": "chaoyang",
                "grid": GRIDS[compound],
                "compound_code": compound,
                "household_id": hid,
                "building": building,
                "unit": "1",
                "room": room,
                "name": f"居民{i}",
                "id_number_enc": cipher.encrypt(number, context=ID_CTX),
                "id_number_hash": cipher.lookup_hash(f"{number}-{i}", kind="id_number"),
                "id_last4": number[-4:],
                "phone_enc": cipher.encrypt(f"138{i:08d}", context=PHONE_CTX),
                "pii_kid": "bench",
                "birth_date": dt.date(1940 + i % 60, 1, 1),
                "gender": "male" if i % 2 else "female",
                "status": "active",
                "version": 1,
                "row_version": version,
                "created_at": now,
                "created_by": "bench",
                "updated_at": now,
                "updated_by": "bench",
            }
        )
        for k in range(per_resident):
            version += 1
            cases.append(
                {
                    "id": uuid.uuid4(),
                    "resident_id": rid,
                    "household_id": hid,
                    "community": "chaoyang",
                    "grid": GRIDS[compound],
                    "item_code": f"item-{k}",
                    "item_name": "高龄补贴",
                    "snapshot": SNAPSHOT,
                    "catalog_revision": 1,
                    "channel": rng.choice(["window", "doorstep"]),
                    "status": "accepted",
                    "accepted_by": "chaoyang.worker",
                    "accepted_at": now,
                    "assigned_grid": GRIDS[compound],
                    "due_date": dt.date(2026, 12, 20),
                    "due_basis": "promised",
                    "version": 1,
                    "row_version": version,
                    "created_at": now,
                    "updated_at": now,
                    "updated_by": "bench",
                }
            )
    async with app.state.sessionmaker() as session:
        for table, rows in ((Household, households), (Resident, people), (ProxyCase, cases)):
            for start in range(0, len(rows), 2000):
                await session.execute(insert(table), rows[start : start + 2000])
        # The app may have stamped a change of its own at start-up (the counter's row exists then).
        await set_sequence_value(session, "changes", max(version, await sequence_value(session, "changes")))
        await session.commit()


async def drain(client: httpx.AsyncClient, headers: dict[str, str], since: str | None) -> tuple[int, str, int]:
    """(records, cursor, pages) of a sync from ``since`` to the end."""
    records, pages, cursor = 0, 0, since
    while True:
        params: dict[str, Any] = {"limit": 1000, "scope": "community"}  # the whole community, as measured since
        if cursor:
            params["since"] = cursor
        resp = await client.get("/api/v1/proxy/sync", params=params, headers=headers)
        resp.raise_for_status()
        page = resp.json()
        pages += 1
        records += sum(len(page[k]) for k in ("residents", "households", "cases", "visits", "demands", "tombstones"))
        cursor = page["cursor"]
        if not page["has_more"]:
            assert cursor is not None
            return records, cursor, pages


async def run(backend: str, url: str, schema: str | None, residents: int, per_resident: int) -> None:
    await asyncio.to_thread(migrations.upgrade, "doorstep_proxy", url, schema)
    key = SigningKey.generate("bench")
    signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
    principal = common.chaoyang_worker()
    headers = {"Authorization": f"Bearer {signer.access_token(principal)[0]}"}
    settings = ProxySettings(
        environment="test", database_url=url, database_schema=schema, log_json=False, log_level="WARNING"
    )
    app = create_app(settings, key_set=KeySet(keys={key.kid: key.private_key.public_key()}))
    async with app.router.lifespan_context(app):
        t0 = time.perf_counter()
        await populate(app, residents, per_resident)
        print(
            f"[{backend}] populated {residents:,} residents, {residents * per_resident:,} cases in {time.perf_counter() - t0:.1f} s"
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
            t0 = time.perf_counter()
            records, cursor, pages = await drain(client, headers, None)
            full = time.perf_counter() - t0
            print(f"[{backend}] first full sync: {records:,} records in {pages} pages, {full:.2f} s")

            # 50 changes by other writers: row_version moves on, the phone's clock is irrelevant.
            async with app.state.sessionmaker() as session:
                top = (
                    await session.execute(text("SELECT value FROM change_sequence WHERE name = 'changes'"))
                ).scalar_one()
                ids = (
                    (await session.execute(text("SELECT id FROM proxy_case ORDER BY row_version LIMIT 50")))
                    .scalars()
                    .all()
                )
                for n, case_id in enumerate(ids, start=1):
                    stmt = (
                        update(ProxyCase)
                        .where(ProxyCase.id == (case_id if isinstance(case_id, uuid.UUID) else uuid.UUID(str(case_id))))  # type: ignore[arg-type]
                        .values(status="scheduled", version=2, row_version=top + n)
                    )
                    await session.execute(stmt)
                await session.execute(
                    text(f"UPDATE change_sequence SET value = {top + len(ids)} WHERE name = 'changes'")
                )
                await session.commit()

            timings = []
            for _ in range(5):
                t0 = time.perf_counter()
                delta_records, _, _ = await drain(client, headers, cursor)
                timings.append(time.perf_counter() - t0)
            delta = sorted(timings)[len(timings) // 2]
            print(f"[{backend}] delta sync: {delta_records} records in {delta * 1000:.1f} ms (median of 5)")

            t0 = time.perf_counter()
            again, _, _ = await drain(client, headers, None)
            baseline = time.perf_counter() - t0
            print(f"[{backend}] baseline full re-download: {again:,} records in {baseline:.2f} s")
            print(f"[{backend}] delta vs re-download: {baseline / delta:,.0f}x faster")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 residents and 4,000 cases (under a minute)")
    parser.add_argument("--residents", type=int, default=None)
    parser.add_argument("--cases-per-resident", type=int, default=4)
    args = parser.parse_args()
    residents = args.residents or (1000 if args.quick else 5000)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench-sync.db'}"
        await run("sqlite", url, None, residents, args.cases_per_resident)
    pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL")
    if pg:
        schema = f"bench_sync_{uuid.uuid4().hex[:8]}"
        try:
            await run("postgresql", pg, schema, residents, args.cases_per_resident)
        finally:
            engine = create_engine(pg, null_pool=True)
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

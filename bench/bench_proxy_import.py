"""Survey-sheet import: the bulk upsert vs a naive one-INSERT-per-row baseline, same run.

    .venv/bin/python bench/bench_proxy_import.py [--quick] [--rows N]

Runs on a fresh SQLite file, and also on PostgreSQL when DOORSTEP_BENCH_DATABASE_URL is set
(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test; a throw-away schema is used). The import
goes through the real endpoint (multipart upload, parsing, validation, encryption, upsert);
the baseline parses and encrypts the same way but checks and inserts one row at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

from doorstep_proxy.config import ProxySettings
from doorstep_proxy.demo import generate
from doorstep_proxy.ledger.models import Household, Resident, ResidentBenefit
from doorstep_proxy.ledger.personal_data import CERT_CTX, ID_CTX, PHONE_CTX
from doorstep_proxy.main import create_app
from doorstep_proxy.seed import seed_compounds
from doorstep_proxy.survey_import.columns import validate_row
from doorstep_proxy.survey_import.sheet import FIELDS, read_sheet
from doorstep_shared.auth.tokens import KeySet, Principal, SigningKey, TokenSigner
from doorstep_shared.clock import utcnow
from doorstep_shared.db import create_engine, migrations
from doorstep_shared.pii import PiiCipher

HEADER = [
    "姓名",
    "身份证号",
    "手机号",
    "小区",
    "楼栋",
    "单元",
    "房号",
    "本县户籍",
    "残疾类别",
    "残疾等级",
    "残疾证号",
    "重病",
    "独居",
    "低保",
    "就业状态",
    "养老保险",
    "子女数",
    "住房困难",
    "已享受待遇",
]
TYPES = {
    "physical": "肢体",
    "visual": "视力",
    "hearing": "听力",
    "speech": "言语",
    "intellectual": "智力",
    "mental": "精神",
    "multiple": "多重",
}
JOBS = {
    "employed": "在职",
    "unemployed": "失业",
    "flexible": "灵活就业",
    "retired": "已退休",
    "student": "在校",
    "none": "无业",
}


def _yn(v: Any) -> str:
    return "" if v is None else ("是" if v else "否")


def make_csv(rows: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for p in generate(rows)[:rows]:
        f = p.facts
        w.writerow(
            [
                p.name,
                p.id_number,
                p.phone or "",
                p.compound,
                p.building,
                p.unit,
                p.room,
                _yn(f["hukou_local"]),
                TYPES.get(f["disability_type"] or "", ""),
                f["disability_grade"] or "",
                p.disability_certificate_no or "",
                _yn(f["serious_illness"]),
                _yn(f["living_alone"]),
                _yn(f["dibao"]),
                JOBS.get(f["employment_status"] or "", ""),
                _yn(f["pension_insured"]),
                "" if f["children_count"] is None else f["children_count"],
                _yn(f["housing_difficulty"]),
                ";".join(f"{c}@{d}" if d else c for c, d in p.benefits.items()),
            ]
        )
    return buf.getvalue().encode()


class Target:
    def __init__(self, backend: str, url: str, schema: str | None) -> None:
        self.backend, self.url, self.schema = backend, url, schema


async def fresh(backend: str, base_dir: Path, pg_url: str) -> Target:
    if backend == "sqlite":
        t = Target(backend, f"sqlite+aiosqlite:///{base_dir / f'bench-{uuid.uuid4().hex[:6]}.db'}", None)
    else:
        t = Target(backend, pg_url, f"bench_proxy_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(migrations.upgrade, "doorstep_proxy", t.url, t.schema)
    return t


async def drop(t: Target) -> None:
    if t.schema:
        engine = create_engine(t.url, null_pool=True)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{t.schema}" CASCADE'))
        await engine.dispose()


async def bulk_import(t: Target, data: bytes, base_dir: Path) -> tuple[float, float, dict[str, Any]]:
    key = SigningKey.generate("bench")
    signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
    token = signer.access_token(
        Principal(subject="bench.admin", kind="user", name="bench", roles=frozenset({"county_admin"}))
    )[0]
    settings = ProxySettings(
        environment="test",
        database_url=t.url,
        database_schema=t.schema,
        log_json=False,
        log_level="WARNING",
        var_dir=base_dir,
        import_max_rows=max(20_000, data.count(b"\n")),
    )
    app = create_app(settings, key_set=KeySet(keys={key.kid: key.private_key.public_key()}))
    async with app.router.lifespan_context(app):
        async with app.state.sessionmaker() as session:
            await seed_compounds(session)
            await session.commit()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://b", timeout=600
        ) as client:

            async def once() -> tuple[float, dict[str, Any]]:
                started = time.perf_counter()
                resp = await client.post(
                    "/api/v1/proxy/residents/import",
                    params={"mode": "valid_rows"},
                    files={"file": ("sheet.csv", data, "text/csv")},
                    headers={"Authorization": f"Bearer {token}"},
                )
                elapsed = time.perf_counter() - started
                resp.raise_for_status()
                return elapsed, resp.json()

            first, report = await once()
            again, report2 = await once()
    assert report2["unchanged"] == report["created"], "re-import must change nothing"
    return first, again, report


async def naive_import(t: Target, data: bytes, cipher: PiiCipher) -> float:
    """Same parsing and encryption; then per row: look up, insert household, insert resident."""
    engine = create_engine(t.url, schema=t.schema)
    from doorstep_shared.db import make_sessionmaker

    maker = make_sessionmaker(engine)
    async with maker() as session:
        await seed_compounds(session)
        await session.commit()
    started = time.perf_counter()
    sheet = read_sheet(data, "sheet.csv", max_rows=10**6)
    from doorstep_proxy.ledger.models import Compound

    async with maker() as session:
        compounds = {c.code: c for c in (await session.execute(select(Compound))).scalars()}
        lookup = {c: c for c in compounds}
        now = utcnow()
        for row in sheet.rows:
            r = validate_row(row, sheet.columns, lookup)
            if isinstance(r, list):
                continue
            h = cipher.lookup_hash(r.id_number, kind="id_number")
            found = (await session.execute(select(Resident.id).where(Resident.id_number_hash == h))).first()
            if found:
                continue
            c = compounds[r.compound]
            hh = (
                await session.execute(
                    select(Household.id).where(
                        Household.compound_code == r.compound,
                        Household.building == r.building,
                        Household.unit == r.unit,
                        Household.room == r.room,
                    )
                )
            ).scalar()
            if hh is None:
                household = Household(
                    community=c.community,
                    grid=c.grid,
                    compound_code=c.code,
                    building=r.building,
                    unit=r.unit,
                    room=r.room,
                    created_at=now,
                )
                session.add(household)
                await session.flush()
                hh = household.id
            resident = Resident(
                community=c.community,
                grid=c.grid,
                compound_code=c.code,
                household_id=hh,
                building=r.building,
                unit=r.unit,
                room=r.room,
                name=r.name,
                id_number_enc=cipher.encrypt(r.id_number, context=ID_CTX),
                id_number_hash=h,
                id_last4=r.id_number[-4:],
                phone_enc=cipher.encrypt(r.phone, context=PHONE_CTX) if r.phone else None,
                phone_hash=cipher.lookup_hash(r.phone, kind="phone") if r.phone else None,
                disability_cert_enc=cipher.encrypt(r.disability_certificate_no, context=CERT_CTX)
                if r.disability_certificate_no
                else None,
                pii_kid=cipher.active_kid,
                birth_date=r.birth_date,
                gender=r.gender,
                created_at=now,
                created_by="naive",
                updated_at=now,
                updated_by="naive",
                **r.facts,
            )
            session.add(resident)
            await session.flush()
            for code, since in r.benefits.items():
                session.add(ResidentBenefit(resident_id=resident.id, item_code=code, since=since))
                await session.flush()
        await session.commit()
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


async def run(rows: int) -> None:
    pg_url = os.environ.get("DOORSTEP_BENCH_DATABASE_URL", "")
    backends = ["sqlite"] + (["postgresql"] if pg_url else [])
    data = make_csv(rows)
    print(f"survey sheet: {rows} rows, {len(data) / 1e6:.1f} MB CSV, columns: {len(FIELDS)} known")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        cipher = PiiCipher.dev(base / "keys")
        for backend in backends:
            bulk_target = await fresh(backend, base, pg_url)
            naive_target = await fresh(backend, base, pg_url)
            try:
                first, again, report = await bulk_import(bulk_target, data, base)
                naive = await naive_import(naive_target, data, cipher)
            finally:
                await drop(bulk_target)
                await drop(naive_target)
            print(
                f"[{backend}] bulk import: {first:6.2f} s ({report['created']} created, "
                f"{report['rejected']} rejected) | re-import (all unchanged): {again:6.2f} s"
            )
            print(f"[{backend}] naive one-INSERT-per-row: {naive:6.2f} s | bulk is {naive / first:4.1f}x faster")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows instead of 10,000")
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (2_000 if args.quick else 10_000)
    # SQLModel nags about session.execute(); the baseline uses it on purpose.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    asyncio.run(run(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

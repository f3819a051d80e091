"""Demo data of the four clears (idempotent; bulk statements, a second or two): compounds from
the org directory, worker profiles from the demo staff records, a few thousand invented
residents (``residents.py``) and a few hundred demands.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import uuid
from importlib.resources import files
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory, demo_directory_file
from doorstep_shared.directory_copy import read_directory_file
from doorstep_shared.pii import PiiCipher
from doorstep_shared.staff_roster import demo_roster

from ..config import get_settings
from ..demands.models import Demand
from ..ledger import service as ledger
from ..ledger.bulk import upsert_residents
from ..ledger.schemas import ResidentRow
from ..placement import service as placement
from ..survey_import.sheet import FIELDS
from ..workers import service as workers
from . import repository as repo
from .residents import DemoResident, generate

SEED_ACTOR = "seed"
RESIDENTS = 3000

DEMAND_TEXTS = [
    ("consultation", "elderly-allowance", "咨询高龄补贴申领条件和所需材料"),
    ("request", "severe-disability-care-subsidy", "家中老人肢体残疾，希望上门帮助办理残疾人补贴"),
    ("consultation", "pension_claim", "快到退休年龄了，想了解养老金怎么申领"),
    ("request", None, "楼道灯坏了，请社区协调物业维修"),
    ("consultation", "pension_check", "养老金资格认证手机刷脸总是失败"),
    ("request", "disability_certificate", "想办理残疾证，行动不便，希望上门评估"),
    ("consultation", "birth_registration", "咨询生育登记需要带什么材料"),
    ("consultation", "employment_4050", "咨询4050灵活就业社保补贴"),
    ("request", "low_rent_housing", "咨询廉租房申请，家里住房困难"),
    ("consultation", "party_transfer", "党组织关系转接到本社区怎么办"),
]
CHANNELS = ["window", "window", "phone", "doorstep", "doorstep", "hotline", "platform"]


def demo_directory() -> Directory:
    """The directory the demo loads: the proxy's directory file (the demo county's by default)."""
    _, file = get_settings().directory_source()
    return read_directory_file(file or demo_directory_file())


async def seed_compounds(session: AsyncSession, directory: Directory | None = None) -> None:
    """The directory's compounds, through the same code that follows the gateway's revisions."""
    await placement.follow(session, directory or demo_directory())


async def seed_workers(session: AsyncSession) -> None:
    """The demo county's workers, from its staff records (the data file the gateway's seed
    creates them from) through the same code that follows the gateway's roster; then what the
    proxy owns of them (categories, on leave) from ``workers.csv``, where not set yet."""
    await workers.enrol(session, demo_roster().workers)
    data = (files("doorstep_proxy.demo") / "workers.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(data)):
        await repo.set_field_attributes(
            session, row["username"], sorted(c for c in row["categories"].split(";") if c), row["status"]
        )


def _rows(people: list[DemoResident]) -> list[ResidentRow]:
    return [
        ResidentRow(
            number=i + 2,
            name=p.name,
            id_number=p.id_number,
            birth_date=p.birth_date,
            gender=p.gender,
            phone=p.phone,
            compound=p.compound,
            building=p.building,
            unit=p.unit,
            room=p.room,
            facts=dict(p.facts),
            disability_certificate_no=p.disability_certificate_no,
            benefits=dict(p.benefits),
        )
        for i, p in enumerate(people)
    ]


async def seed_residents(session: AsyncSession, cipher: PiiCipher, count: int = RESIDENTS) -> None:
    """Once: skipped when the demo residents are already there (the run is not re-applied, so
    the resident turning 80 keeps the birth date of the day the demo was first loaded)."""
    if await repo.residents_created_by(session, SEED_ACTOR):
        return
    seeder = Principal(subject=SEED_ACTOR, kind="user", name="demo seed", roles=frozenset({"county_admin"}))
    compounds = await ledger.compounds_by_code(session, seeder)
    buildings = {code: c.buildings for code, c in compounds.items()}
    people = [p for p in generate(count, buildings=buildings) if p.compound in compounds]
    # as a survey sheet with every column
    await upsert_residents(session, seeder, cipher, _rows(people), compounds, set(FIELDS))


async def seed_demands(session: AsyncSession, count: int = 300) -> None:
    if await repo.demands_logged_by(session, SEED_ACTOR):
        return
    rng = random.Random(11)
    residents = await repo.resident_places(session, SEED_ACTOR, 400)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for i in range(count):
        kind, item, text = DEMAND_TEXTS[i % len(DEMAND_TEXTS)]
        channel = rng.choice(CHANNELS)
        at = now - dt.timedelta(days=rng.randrange(0, 120), minutes=rng.randrange(0, 600))
        resident = rng.choice(residents) if residents and rng.random() < 0.7 else None
        community = resident[1] if resident else rng.choice(("chaoyang", "zhenhuai"))
        status = rng.choice(("answered", "answered", "closed", "converted", "open"))
        if kind == "consultation" and status == "converted":
            status = "answered"
        rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "community": community,
                "grid": resident[2] if resident else None,
                "resident_id": resident[0] if resident else None,
                "channel": channel,
                "kind": kind,
                "item_code": item,
                "text": text,
                "contact_name": None,
                "contact_phone_enc": None,
                "status": status,
                "answer": "已当场解答，告知所需材料" if status in ("answered", "closed") else None,
                "answered_at": at if status in ("answered", "closed") else None,
                "answered_by": SEED_ACTOR if status in ("answered", "closed") else None,
                "case_ref": f"demo-case-{i}" if status == "converted" else None,
                "logged_by": SEED_ACTOR,
                "source_client": "hotline-12345" if channel in ("hotline", "platform") else None,
                "external_ref": None,
                "version": 1,
                "row_version": 0,
                "created_at": at,
                "updated_at": at,
            }
        )
    await repo.insert_rows(session, Demand, rows)

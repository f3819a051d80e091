"""Bulk upsert of residents keyed by the ID number's lookup hash (the survey import, the demo).

A handful of set-based statements per 1,000 rows (select existing by hash, insert households,
insert/update residents, replace benefits) instead of round trips per row. :func:`plan_upsert`
only reads: which rows create, update, change nothing, or cannot be taken (the same person
twice, a person registered in another community); :func:`apply_upsert` writes the plan, so a
caller can decide in between not to write at all (all-or-nothing imports). Re-importing the
same sheet finds every row unchanged and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.pii import PiiCipher

from ..events.residents import residents_changed
from ..versions import next_row_versions
from . import personal_data
from . import repository as repo
from .models import Compound
from .schemas import FACT_FIELDS, ResidentRow
from .service import ensure_households

Written = list[tuple[int, uuid.UUID]]  # (row number, resident id)


@dataclass
class UpsertPlan:
    """What :func:`plan_upsert` found for each row (by row number)."""

    hashes: dict[int, str] = field(default_factory=dict)
    creates: list[ResidentRow] = field(default_factory=list)
    updates: list[tuple[ResidentRow, Any]] = field(default_factory=list)
    unchanged: Written = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)  # why, about the ID number


def _differs(
    r: Any,
    row: ResidentRow,
    present: set[str],
    new_phone_hash: str | None,
    cert: str | None,
    cipher: PiiCipher,
) -> bool:
    if r.status != "active" or r.name != row.name or r.compound_code != row.compound:
        return True
    if (r.building, r.unit, r.room) != (row.building, row.unit, row.room):
        return True
    if "phone" in present and r.phone_hash != new_phone_hash:
        return True
    for fact, value in row.facts.items():
        if getattr(r, fact) != value:
            return True
    return "disability_certificate_no" in present and personal_data.plain_certificate(cipher, r) != cert


def _placement(
    row: ResidentRow, compounds: dict[str, Compound], households: dict[repo.AddressKey, uuid.UUID]
) -> dict[str, Any]:
    """Where a row's resident lives (community and grid from the compound), and their name."""
    c = compounds[row.compound]
    return {
        "community": c.community,
        "grid": c.grid,
        "compound_code": c.code,
        "household_id": households[(row.compound, row.building, row.unit, row.room)],
        "building": row.building,
        "unit": row.unit,
        "room": row.room,
        "name": row.name,
    }


async def plan_upsert(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    rows: Sequence[ResidentRow],
    present: set[str],
) -> UpsertPlan:
    """Match rows to the register by ID number. ``present``: the fields the rows carry (an
    absent one leaves existing residents' values as they are)."""
    plan = UpsertPlan()
    first_row: dict[str, int] = {}
    accepted: list[ResidentRow] = []
    for row in rows:
        h = personal_data.id_number_hash(cipher, row.id_number)
        if h in first_row:
            plan.rejected[row.number] = f"same person as row {first_row[h]}"
            continue
        first_row[h] = row.number
        plan.hashes[row.number] = h
        accepted.append(row)
    existing = await repo.residents_by_id_hashes(session, list(plan.hashes.values()))
    benefits = await repo.benefits_of(session, [r.id for r in existing.values()])
    for row in accepted:
        found = existing.get(plan.hashes[row.number])
        if found is None:
            plan.creates.append(row)
            continue
        if not principal.sees_community(found.community):
            plan.rejected[row.number] = "already registered in another community"
            continue
        new_phone_hash = personal_data.phone_hash(cipher, row.phone)
        same_benefits = (
            "benefits" not in present or {b.item_code: b.since for b in benefits.get(found.id, [])} == row.benefits
        )
        if same_benefits and not _differs(found, row, present, new_phone_hash, row.disability_certificate_no, cipher):
            plan.unchanged.append((row.number, found.id))
        else:
            plan.updates.append((row, found))
    return plan


async def apply_upsert(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    plan: UpsertPlan,
    compounds: dict[str, Compound],
    present: set[str],
) -> tuple[Written, Written]:
    """Write the plan's creates and updates; returns (created, updated) with the resident ids."""
    keys = {
        (r.compound, r.building, r.unit, r.room): compounds[r.compound]
        for r in [*plan.creates, *(u[0] for u in plan.updates)]
    }
    households = await ensure_households(session, keys) if keys else {}
    creates, updates, hashes = plan.creates, plan.updates, plan.hashes
    count = len(creates) + len(updates)
    last = await next_row_versions(session, count) if count else 0
    seq = iter(range(last - count + 1, last + 1))
    now = utcnow()
    actor = principal.subject

    created: list[tuple[int, uuid.UUID]] = []
    updated: list[tuple[int, uuid.UUID]] = []
    insert_rows: list[dict[str, Any]] = []
    benefit_rows: list[dict[str, Any]] = []
    for row in creates:
        rid = uuid.uuid4()
        values: dict[str, Any] = dict.fromkeys(FACT_FIELDS)
        values.update(row.facts)
        values.update(
            id=rid,
            **_placement(row, compounds, households),
            **personal_data.id_number_columns(cipher, row.id_number, hashes[row.number]),
            **personal_data.phone_columns(cipher, row.phone),
            **personal_data.certificate_columns(cipher, row.disability_certificate_no),
            pii_kid=cipher.active_kid,
            birth_date=row.birth_date,
            gender=row.gender,
            surveyed_at=now,
            surveyed_by=actor,
            status="active",
            removed_at=None,
            removed_reason=None,
            removed_by=None,
            version=1,
            row_version=next(seq),
            created_at=now,
            created_by=actor,
            updated_at=now,
            updated_by=actor,
        )
        insert_rows.append(values)
        benefit_rows.extend(
            {"resident_id": rid, "item_code": code, "since": since} for code, since in row.benefits.items()
        )
        created.append((row.number, rid))

    update_rows: list[dict[str, Any]] = []
    replaced: list[uuid.UUID] = []
    for row, found in updates:
        values = dict(row.facts)
        values.update(
            id=found.id,
            **_placement(row, compounds, households),
            status="active",
            removed_at=None,
            removed_reason=None,
            removed_by=None,
            surveyed_at=now,
            surveyed_by=actor,
            version=found.version + 1,
            row_version=next(seq),
            updated_at=now,
            updated_by=actor,
        )
        if "phone" in present:
            values.update(personal_data.phone_columns(cipher, row.phone))
        if "disability_certificate_no" in present:
            values.update(personal_data.certificate_columns(cipher, row.disability_certificate_no))
        update_rows.append(values)
        if "benefits" in present:
            replaced.append(found.id)
            benefit_rows.extend(
                {"resident_id": found.id, "item_code": code, "since": since} for code, since in row.benefits.items()
            )
        updated.append((row.number, found.id))

    await repo.insert_residents(session, insert_rows)
    await repo.update_residents(session, update_rows)
    await repo.replace_benefits(session, replaced, benefit_rows)
    await residents_changed.publish(session, [r["id"] for r in insert_rows] + [r["id"] for r in update_rows])
    if len(insert_rows) >= 1000:
        await repo.refresh_statistics(session)
    return created, updated


async def upsert_residents(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    rows: Sequence[ResidentRow],
    compounds: dict[str, Compound],
    present: set[str],
) -> UpsertPlan:
    """Plan and apply at once (rows that cannot be taken are left out)."""
    plan = await plan_upsert(session, principal, cipher, rows, present)
    await apply_upsert(session, principal, cipher, plan, compounds, present)
    return plan

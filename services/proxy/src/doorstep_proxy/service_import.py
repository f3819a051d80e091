"""Bulk upsert of survey rows, keyed by the ID number's lookup hash.

Used by the import endpoint and the demo seed. A handful of set-based statements per 1,000
rows (select existing by hash, insert households, insert/update residents, replace benefits)
instead of round trips per row. Re-importing the same sheet finds every row unchanged and
writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow
from doorstep_shared.errors import Invalid
from doorstep_shared.pii import PiiCipher
from doorstep_shared.tokens import Principal

from .audit import audit_log
from .events.residents import residents_changed
from .importer import LABEL, ResidentRow, RowProblem, Sheet, validate_row
from .ledger import repository as repo
from .ledger.models import Compound
from .ledger.personal_data import (
    certificate_columns,
    id_number_columns,
    id_number_hash,
    phone_columns,
    phone_hash,
    plain_certificate,
)
from .ledger.service import FACT_FIELDS, ensure_households
from .survey_import.schemas import ImportMode, ImportReport, ImportRowResult, RowError
from .versions import next_row_versions


@dataclass
class Outcome:
    created: list[tuple[int, uuid.UUID]] = field(default_factory=list)
    updated: list[tuple[int, uuid.UUID]] = field(default_factory=list)
    unchanged: list[tuple[int, uuid.UUID]] = field(default_factory=list)
    rejected: dict[int, list[RowProblem]] = field(default_factory=dict)


def compound_lookup(compounds: dict[str, Compound]) -> dict[str, str]:
    """Codes and names a sheet may use in the 小区 column → code (names only when unique)."""
    out = {code: code for code in compounds}
    names: dict[str, list[str]] = {}
    for c in compounds.values():
        names.setdefault(c.name, []).append(c.code)
    for name, codes in names.items():
        if len(codes) == 1:
            out.setdefault(name, codes[0])
    return out


async def import_sheet(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    sheet: Sheet,
    mode: ImportMode,
    *,
    file_name: str = "",
) -> ImportReport:
    compounds = await repo.compounds_by_code(session, principal)
    lookup = compound_lookup(compounds)
    valid: list[ResidentRow] = []
    outcome = Outcome()
    for row in sheet.rows:
        result = validate_row(row, sheet.columns, lookup)
        if isinstance(result, list):
            outcome.rejected[row.number] = result
        else:
            valid.append(result)
    present = set(sheet.columns)
    await upsert_rows(session, principal, cipher, valid, compounds, present, outcome, dry_run=False, mode=mode)
    report = _report(mode, len(sheet.rows), outcome, sheet.ignored_columns)
    if mode == "all_or_nothing" and outcome.rejected:
        raise Invalid(
            f"{len(outcome.rejected)} row(s) rejected; nothing was imported.",
            code="import_rejected",
            report=report.model_dump(mode="json"),
        )
    # Chained audit entry: counts only (no names, no ID numbers; of the file name its length).
    await audit_log.record(
        session,
        principal,
        "residents.import",
        "resident_import",
        principal.community or "county",
        community=principal.community,
        mode=mode,
        total=report.total,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=report.rejected,
        file_name_length=len(file_name),
    )
    return report


def _report(mode: str, total: int, o: Outcome, ignored: list[str]) -> ImportReport:
    rows: list[ImportRowResult] = []
    for status, items in (
        ("created", o.created),
        ("updated", o.updated),
        ("unchanged", o.unchanged),
    ):
        rows.extend(ImportRowResult(row=n, status=status, resident_id=rid) for n, rid in items)
    rows.extend(
        ImportRowResult(
            row=n,
            status="rejected",
            errors=[RowError(column=p.column, message=p.message) for p in problems],
        )
        for n, problems in o.rejected.items()
    )
    rows.sort(key=lambda r: r.row)
    applied = not (mode == "all_or_nothing" and o.rejected)
    return ImportReport(
        mode=mode,
        applied=applied,
        total=total,
        created=len(o.created) if applied else 0,
        updated=len(o.updated) if applied else 0,
        unchanged=len(o.unchanged),
        rejected=len(o.rejected),
        ignored_columns=ignored,
        rows=rows,
    )


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
    return "disability_certificate_no" in present and plain_certificate(cipher, r) != cert


async def upsert_rows(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    rows: Sequence[ResidentRow],
    compounds: dict[str, Compound],
    present: set[str],
    outcome: Outcome,
    *,
    dry_run: bool = False,
    mode: ImportMode = "valid_rows",
) -> Outcome:
    """Create or update residents by ID number; ``outcome`` collects what happened per row."""
    hashes: dict[int, str] = {}
    first_row: dict[str, int] = {}
    accepted: list[ResidentRow] = []
    for row in rows:
        h = id_number_hash(cipher, row.id_number)
        if h in first_row:
            outcome.rejected[row.number] = [RowProblem(LABEL["id_number"], f"same person as row {first_row[h]}")]
            continue
        first_row[h] = row.number
        hashes[row.number] = h
        accepted.append(row)
    existing = await repo.residents_by_id_hashes(session, list(hashes.values()))
    benefits = await repo.benefits_of(session, [r.id for r in existing.values()])

    creates: list[ResidentRow] = []
    updates: list[tuple[ResidentRow, Any]] = []
    for row in accepted:
        found = existing.get(hashes[row.number])
        if found is None:
            creates.append(row)
            continue
        if not principal.sees_community(found.community):
            outcome.rejected[row.number] = [RowProblem(LABEL["id_number"], "already registered in another community")]
            continue
        new_phone_hash = phone_hash(cipher, row.phone)
        same_benefits = (
            "benefits" not in present or {b.item_code: b.since for b in benefits.get(found.id, [])} == row.benefits
        )
        if same_benefits and not _differs(found, row, present, new_phone_hash, row.disability_certificate_no, cipher):
            outcome.unchanged.append((row.number, found.id))
        else:
            updates.append((row, found))
    if dry_run or (mode == "all_or_nothing" and outcome.rejected):
        outcome.created.extend((r.number, uuid.uuid4()) for r in creates)
        outcome.updated.extend((r.number, f.id) for r, f in updates)
        return outcome

    keys = {
        (r.compound, r.building, r.unit, r.room): compounds[r.compound] for r in [*creates, *(u[0] for u in updates)]
    }
    households = await ensure_households(session, keys) if keys else {}
    count = len(creates) + len(updates)
    last = await next_row_versions(session, count) if count else 0
    seq = iter(range(last - count + 1, last + 1))
    now = utcnow()
    actor = principal.subject

    insert_rows: list[dict[str, Any]] = []
    benefit_rows: list[dict[str, Any]] = []
    for row in creates:
        rid = uuid.uuid4()
        c = compounds[row.compound]
        values: dict[str, Any] = dict.fromkeys(FACT_FIELDS)
        values.update(row.facts)
        values.update(
            id=rid,
            community=c.community,
            grid=c.grid,
            compound_code=c.code,
            household_id=households[(row.compound, row.building, row.unit, row.room)],
            building=row.building,
            unit=row.unit,
            room=row.room,
            name=row.name,
            **id_number_columns(cipher, row.id_number, hashes[row.number]),
            **phone_columns(cipher, row.phone),
            **certificate_columns(cipher, row.disability_certificate_no),
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
        outcome.created.append((row.number, rid))

    update_rows: list[dict[str, Any]] = []
    replaced: list[uuid.UUID] = []
    for row, found in updates:
        c = compounds[row.compound]
        values = dict(row.facts)
        values.update(
            id=found.id,
            community=c.community,
            grid=c.grid,
            compound_code=c.code,
            household_id=households[(row.compound, row.building, row.unit, row.room)],
            building=row.building,
            unit=row.unit,
            room=row.room,
            name=row.name,
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
            values.update(phone_columns(cipher, row.phone))
        if "disability_certificate_no" in present:
            values.update(certificate_columns(cipher, row.disability_certificate_no))
        update_rows.append(values)
        if "benefits" in present:
            replaced.append(found.id)
            benefit_rows.extend(
                {"resident_id": found.id, "item_code": code, "since": since} for code, since in row.benefits.items()
            )
        outcome.updated.append((row.number, found.id))

    await repo.insert_residents(session, insert_rows)
    await repo.update_residents(session, update_rows)
    await repo.replace_benefits(session, replaced, benefit_rows)
    await residents_changed.publish(session, [r["id"] for r in insert_rows] + [r["id"] for r in update_rows])
    if len(insert_rows) >= 1000:
        await repo.refresh_statistics(session)
    return outcome

"""The survey import: every row of a sheet checked (``columns.py``), the valid ones upserted by
ID number (``ledger.bulk``), a report of every row, and one chained audit entry.

``all_or_nothing`` writes nothing when any row is rejected (422 with the report);
``valid_rows`` writes the valid ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.directory import Directory
from doorstep_shared.http.errors import Invalid
from doorstep_shared.pii import PiiCipher

from ..audit import audit_log
from ..ledger import bulk
from ..ledger import service as ledger
from ..ledger.models import Compound
from ..ledger.schemas import ResidentRow
from .columns import RowProblem, validate_row
from .schemas import ImportMode, ImportReport, ImportRowResult, RowError
from .sheet import LABEL, Sheet


@dataclass
class Outcome:
    """What became of each row of the sheet (by row number)."""

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
    directory: Directory | None = None,
) -> ImportReport:
    compounds = await ledger.compounds_by_code(session, principal)
    if directory is not None:  # a compound the directory dropped takes no one new
        compounds = {code: c for code, c in compounds.items() if directory.compound(code) is not None}
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
    plan = await bulk.plan_upsert(session, principal, cipher, valid, present)
    outcome.rejected.update({n: [RowProblem(LABEL["id_number"], why)] for n, why in plan.rejected.items()})
    outcome.unchanged.extend(plan.unchanged)
    if mode == "all_or_nothing" and outcome.rejected:  # nothing is written: what would have been
        outcome.created.extend((r.number, uuid.uuid4()) for r in plan.creates)
        outcome.updated.extend((r.number, found.id) for r, found in plan.updates)
    else:
        created, updated = await bulk.apply_upsert(session, principal, cipher, plan, compounds, present)
        outcome.created.extend(created)
        outcome.updated.extend(updated)
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

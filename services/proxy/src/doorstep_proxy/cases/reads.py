"""The lean read path for cases and visits (issue #23 part 2): a case as ``CaseRead`` shows it,
a visit as ``VisitRead`` shows it, "my day" as ``DayPlan`` and "my week" as ``WeekPlan``, built
as plain dicts from Core rows (``repository.CASE_COLUMNS``, ``VISIT_COLUMNS``; a visit's or one
case's resident joined in the same statement), the materials, the covered cases and a case
page's residents in one query each, masked and redacted in one pass.

The dicts have exactly the models' fields, in their order, with the values their serialisers
would write (free text redacted, residents named by ``faces.sees_in_full``), so the hot routes
write them as JSON at once (``doorstep_shared.http.sparse.json_page`` / ``json_response``) and
answer the bytes the models would; the sync feed (``sync.py``) builds its cases and visits with
them too. Writes keep the model path (``service.case_reads``, ``visits.visit_reads``);
``tests/proxy/cases/test_lean_reads.py`` compares the two over the demo data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today
from doorstep_shared.db.driver import HotReader
from doorstep_shared.pii import PiiCipher, redact_text

from ..ledger import service as ledger
from . import case_rows, day_rows, deadlines
from . import repository as repo
from .schemas import ItemSnapshot
from .service import TRANSITIONS, is_open

# --- the catalogue snapshot a case carries -------------------------------------------------
#
# ``ItemSnapshot`` validates the stored JSON (extra keys dropped, defaults filled in, in its
# field order). A snapshot whose values already have the fields' exact types (what intake and
# the demo write) comes out of the model unchanged, so it is rebuilt here by hand; anything
# else (a string for a number, say) goes through the model itself.

_REQUIRED = object()
_STR, _INT, _BOOL, _LIST = (str,), (int,), (bool,), (list,)  # exact types: no bool for an int
_OPT_STR, _OPT_INT = (str, type(None)), (int, type(None))
Fields = tuple[tuple[str, Any, tuple[type, ...]], ...]

# (field, default, exact types) in the models' field order (a test holds them to the models).
MATERIAL_FIELDS: Fields = (
    ("name", _REQUIRED, _STR),
    ("form", "copy", _STR),
    ("count", 1, _INT),
    ("notes", "", _STR),
    ("collectable_at_home", True, _BOOL),
    ("evidence", None, _OPT_STR),
)
STEP_FIELDS: Fields = (("title", _REQUIRED, _STR), ("detail", "", _STR))
SNAPSHOT_FIELDS: Fields = (
    ("code", _REQUIRED, _STR),
    ("name", _REQUIRED, _STR),
    ("category", "", _STR),
    ("version", 1, _INT),
    ("materials", [], _LIST),  # replaced by a new list of its own
    ("steps", [], _LIST),
    ("statutory_days", None, _OPT_INT),
    ("promised_days", None, _OPT_INT),
    ("department", "", _STR),
    ("contact", "", _STR),
)


class _NotPlain(Exception):
    pass


def _shaped(data: Any, fields: Fields) -> dict[str, Any]:
    if type(data) is not dict:
        raise _NotPlain
    out: dict[str, Any] = {}
    for name, default, kinds in fields:
        value = data.get(name, default)
        if type(value) not in kinds:  # _REQUIRED (missing) is of none of them
            raise _NotPlain
        out[name] = value
    return out


def snapshot_item(raw: Any) -> dict[str, Any]:
    """The stored snapshot as ``ItemSnapshot`` writes it (a plain dict in its shape)."""
    try:
        out = _shaped(raw, SNAPSHOT_FIELDS)
        out["materials"] = [_shaped(m, MATERIAL_FIELDS) for m in out["materials"]]
        out["steps"] = [_shaped(s, STEP_FIELDS) for s in out["steps"]]
    except _NotPlain:
        return ItemSnapshot.model_validate(raw).model_dump(mode="json")
    return out


# --- cases ---------------------------------------------------------------------------------


def _redacted(text: str | None) -> str | None:
    return redact_text(text) if text else text


def case_item(c: Any, materials: Sequence[Any], today: dt.date, resident: dict[str, Any] | None) -> dict[str, Any]:
    """One case as ``CaseRead`` shows it, as a plain dict in its field order. ``c`` is a row of
    ``repo.CASE_COLUMNS`` (or a ``ProxyCase``), ``materials`` its checklist rows in position
    order (``case_rows.material_rows``), ``resident`` its ``resident_brief_item``."""
    overdue, soon = deadlines.flags(c.due_date, today, is_open(c.status))
    checklist = [dict(zip(repo.MATERIAL_READ, m[1:], strict=True)) for m in materials]
    missing = [m["name"] for m in checklist if m["collected"] is None]
    return {
        "id": c.id,
        "resident_id": c.resident_id,
        "resident": resident,
        "household_id": c.household_id,
        "community": c.community,
        "grid": c.grid,
        "item_code": c.item_code,
        "item_name": c.item_name,
        "snapshot": snapshot_item(c.snapshot),
        "catalog_revision": c.catalog_revision,
        "channel": c.channel,
        "demand_id": c.demand_id,
        "status": c.status,
        "allowed_next": list(TRANSITIONS.get(c.status, ())),
        "accepted_by": c.accepted_by,
        "accepted_at": c.accepted_at,
        "assigned_grid": c.assigned_grid,
        "assigned_to": c.assigned_to,
        "department_ref": c.department_ref,
        "filed_at": c.filed_at,
        "decided_at": c.decided_at,
        "closed_at": c.closed_at,
        "due_date": c.due_date,
        "due_basis": c.due_basis,
        "due_override_reason": _redacted(c.due_override_reason),
        "overdue": overdue,
        "due_soon": soon,
        "materials": checklist,
        "materials_complete": not missing,
        "materials_missing": missing,
        "note": _redacted(c.note),
        "version": c.version,
        "row_version": c.row_version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def _brief(row: Any, cipher: PiiCipher, principal: Principal) -> dict[str, Any] | None:
    """The resident read beside a case or visit (``repo.RESIDENT_BRIEF``) as ``ResidentBrief``."""
    if row.resident_community is None:  # pragma: no cover - a record keeps its resident (FK)
        return None
    return ledger.resident_brief_item(ledger.ResidentColumns(row), cipher, principal)


async def case_items(
    conn: HotReader, cases: Sequence[Any], cipher: PiiCipher, principal: Principal
) -> list[dict[str, Any]]:
    """``case_item`` of each case: rows of ``repo.CASE_COLUMNS`` with their resident's
    ``repo.RESIDENT_BRIEF`` beside them (``case_rows.case_page``, ``repo.case_row``); the
    checklists of all of them in one query."""
    materials = await case_rows.material_rows(conn, [c.id for c in cases])
    today = local_today()
    return [case_item(c, materials[c.id], today, _brief(c, cipher, principal)) for c in cases]


# --- visits and "my day" -------------------------------------------------------------------


def visit_item(
    v: Any, resident: dict[str, Any] | None, cases: Sequence[Any], missing: dict[Any, list[str]]
) -> dict[str, Any]:
    """One visit as ``VisitRead`` shows it, as a plain dict in its field order. ``v`` is a row of
    ``repo.VISIT_COLUMNS``, ``cases`` the covered cases it shows (``repo.visit_case_rows``),
    ``missing`` the names of their missing materials by case id."""
    return {
        "id": v.id,
        "community": v.community,
        "grid": v.grid,
        "resident": resident,
        "household_id": v.household_id,
        "worker": v.worker,
        "planned_date": v.planned_date,
        "window_start": v.window_start,
        "window_end": v.window_end,
        "status": v.status,
        "check_in_at": v.check_in_at,
        "check_out_at": v.check_out_at,
        "outcome": v.outcome,
        "come_back_date": v.come_back_date,
        "follow_up_date": v.follow_up_date,
        "notes": _redacted(v.notes),
        "cases": [
            {
                "id": c.id,
                "item_code": c.item_code,
                "item_name": c.item_name,
                "status": c.status,
                "materials_missing": missing.get(c.id, []),
            }
            for c in cases
        ],
        "version": v.version,
        "row_version": v.row_version,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
    }


async def visit_items(
    conn: HotReader, visits: Sequence[Any], cipher: PiiCipher, principal: Principal
) -> list[dict[str, Any]]:
    """``visit_item`` of each visit (rows of ``repo.VISIT_COLUMNS`` with their resident's
    ``repo.RESIDENT_BRIEF``): the covered cases (for a machine client only those it sees) and
    their missing materials read in one query each (``day_rows``)."""
    covered = await day_rows.visit_case_rows(conn, principal, [v.id for v in visits])
    case_ids = [c.id for rows in covered.values() for c in rows]
    missing = await day_rows.missing_materials(conn, case_ids) if case_ids else {}
    return [visit_item(v, _brief(v, cipher, principal), covered[v.id], missing) for v in visits]


async def day_plan_item(
    conn: HotReader, principal: Principal, cipher: PiiCipher, day: dt.date, worker: str
) -> dict[str, Any]:
    """ "My day" as ``DayPlan`` shows it (``visits.day_plan`` checks the date and the worker)."""
    rows = await day_rows.visit_rows(conn, principal, worker=worker, date_from=day, date_to=day)
    return {"date": day, "worker": worker, "visits": await visit_items(conn, rows, cipher, principal)}


async def week_plan_item(
    conn: HotReader, principal: Principal, cipher: PiiCipher, start: dt.date, worker: str
) -> dict[str, Any]:
    """ "My week" (Monday ``start`` to Sunday) as ``WeekPlan`` shows it: seven ``DayPlan``s."""
    end = start + dt.timedelta(days=6)
    rows = await day_rows.visit_rows(conn, principal, worker=worker, date_from=start, date_to=end)
    items = await visit_items(conn, rows, cipher, principal)
    days = [start + dt.timedelta(days=i) for i in range(7)]
    return {
        "worker": worker,
        "start": start,
        "days": [
            {"date": day, "worker": worker, "visits": [v for v in items if v["planned_date"] == day]} for day in days
        ],
    }

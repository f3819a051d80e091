"""Directory rules: the current directory (the app's copy, rebuilt when the stored one moved),
records of each kind created, read and changed with their history, and imports."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory, RowError, parse_rows
from doorstep_shared.http.conditional import check_if_match, etag_of
from doorstep_shared.http.errors import Conflict, Forbidden, Invalid, NotFound
from doorstep_shared.http.pagination import cursor_text, read_cursor

from ..db import audit
from ..identity import service as identity
from . import repository
from .importing import Plan, plan_import
from .schemas import CommunityRead, GridRead, ImportReport, UserRead
from .sheet import read_records
from .snapshot import DirectoryCopy, build, next_change

SINGULAR = {"counties": "county", "communities": "community", "grids": "grid", "compounds": "compound"}
PARENT = {"communities": ("county", "counties"), "grids": ("community", "communities"), "compounds": ("grid", "grids")}


# --- the current directory -------------------------------------------------------------------


async def current(session: AsyncSession, copy: DirectoryCopy) -> Directory:
    """The active directory: the app's copy, rebuilt if a write (here or on another replica)
    or a scheduled start or end moved it since."""
    now = utcnow()
    generation = await repository.generation(session)
    if copy.fresh(generation, now):
        return copy.directory
    kinds = [await repository.all_of(session, kind) for kind in SINGULAR]
    directory = build(kinds[0], kinds[1], kinds[2], kinds[3], now)
    copy.install(directory, generation, next_change((r for rows in kinds for r in rows), now))
    return directory


def tree(directory: Directory, county: str | None) -> dict[str, Any]:
    """The active directory nested: counties → communities → grids → compounds."""
    if county is not None and directory.county(county) is None:
        raise NotFound(f"No active county {county!r}.")
    grids: dict[str, list[dict[str, Any]]] = {}
    compounds: dict[str, list[dict[str, Any]]] = {}
    for c in directory.compounds:
        compounds.setdefault(c.grid, []).append(
            {"code": c.code, "name": c.name, "address": c.address, "latitude": c.latitude, "longitude": c.longitude}
        )
    for g in directory.grids:
        grids.setdefault(g.community, []).append(
            {"code": g.code, "name": g.name, "number": g.number, "compounds": compounds.get(g.code, [])}
        )
    return {
        "revision": directory.revision,
        "counties": [
            {
                "code": k.code,
                "name": k.name,
                "communities": [
                    {"code": c.code, "name": c.name, "grids": grids.get(c.code, [])}
                    for c in directory.communities_of(k.code)
                ],
            }
            for k in directory.counties
            if county is None or k.code == county
        ],
    }


# --- records ---------------------------------------------------------------------------------


def record_etag(kind: str, record: Any) -> str:
    return etag_of(kind, record.model_dump(mode="json"))


async def communities(session: AsyncSession) -> list[CommunityRead]:
    by_community: dict[str, list[GridRead]] = {}
    for g in await repository.list_grids(session):
        by_community.setdefault(g.community, []).append(GridRead.model_validate(g))
    return [
        CommunityRead(**c.model_dump(), grids=by_community.get(c.code, []))
        for c in await repository.list_communities(session)
    ]


async def records(session: AsyncSession, kind: str) -> list[Any]:
    return list(await repository.all_of(session, kind))


async def compound_page(
    session: AsyncSession, cursor: str | None, limit: int, *, community: str | None, grid: str | None
) -> tuple[list[Any], str | None]:
    """One page of compounds by code, and the last code when there is more."""
    after = read_cursor(cursor, cursor_text)
    found = list(
        await repository.compounds_page(session, after[0] if after else None, limit, community=community, grid=grid)
    )
    return found[:limit], found[limit - 1].code if len(found) > limit else None


async def record(session: AsyncSession, kind: str, code: str, *, for_update: bool = False) -> Any:
    found = await repository.one(session, kind, code, for_update=for_update)
    if found is None:
        raise NotFound(f"No {SINGULAR[kind]} {code!r}.")
    return found


async def community_read(session: AsyncSession, community: Any) -> CommunityRead:
    grids = [GridRead.model_validate(g) for g in await repository.list_grids(session) if g.community == community.code]
    return CommunityRead(**community.model_dump(), grids=grids)


def _change(kind: str, code: str, action: str, changes: dict[str, Any], actor: str, source: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "code": code,
        "action": action,
        "changes": changes,
        "actor": actor[:64],
        "source": source,
        "at": utcnow(),
    }


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


async def _parent(session: AsyncSession, kind: str, code: str, field: str, at: dt.datetime | None = None) -> Any:
    """The active parent a record names, or a 422 naming the field."""
    parent_field, parent_kind = PARENT[kind]
    found = await repository.one(session, parent_kind, code)
    now = at or utcnow()
    if found is None or (found.active_to is not None and found.active_to <= now):
        raise Invalid.field(
            f"body.{field}", f"no active {SINGULAR[parent_kind]} {code!r}", code=f"unknown_{parent_field}"
        )
    return found


OUTSIDE_COUNTY = "you manage the directory of your own county only"


async def _county_of(session: AsyncSession, kind: str, values: Mapping[str, Any]) -> str | None:
    """The county a record (as ``values``) lies in, through its parents."""
    if kind == "counties":
        return str(values["code"])
    if kind == "communities":
        return values["county"]  # type: ignore[no-any-return]
    if kind == "compounds":
        grid = await repository.one(session, "grids", values["grid"])
        values = {"community": grid.community if grid is not None else None}
    community = await repository.one(session, "communities", values["community"])
    return community.county if community is not None else None


def _ensure_county(principal: Principal, kind: str, county: str | None, *, creating: bool = False) -> None:
    """A county admin edits its own county's records (and creates no county); platform staff
    and a deployment-wide admin (no county in the token) edit any."""
    if principal.county is None:
        return
    if (creating and kind == "counties") or county != principal.county:
        raise Forbidden(
            f"{OUTSIDE_COUNTY}.", code="outside_scope", errors=[{"field": "body", "message": OUTSIDE_COUNTY}]
        )


async def create(session: AsyncSession, principal: Principal, kind: str, body: BaseModel) -> Any:
    """A new record under an active parent; 409 if the code is taken (active or not)."""
    values = body.model_dump()
    code = values["code"]
    await repository.lock_generation(session)
    if await repository.one(session, kind, code) is not None:
        raise Conflict(f"A {SINGULAR[kind]} {code!r} exists already.", code="duplicate_code")
    if kind == "grids":
        await _parent(session, kind, values["community"], "community")
        if values["number"] is None:
            taken = [g.number for g in await repository.list_grids(session) if g.community == values["community"]]
            values["number"] = max(taken, default=0) + 1
    elif kind == "communities":
        await _parent(session, kind, values["county"], "county")
    elif kind == "compounds":
        grid = await _parent(session, kind, values["grid"], "grid")
        values["community"] = grid.community
    _ensure_county(principal, kind, await _county_of(session, kind, values), creating=True)
    model = repository.KINDS[kind]
    created = model(**values)
    await repository.add(session, created)
    changes = {k: [None, _json(v)] for k, v in values.items() if k != "code"}
    await repository.record_changes(session, [_change(kind, code, "created", changes, principal.subject, "api")])
    await repository.bump_generation(session)
    await audit.record(session, principal, f"directory.{SINGULAR[kind]}_created", SINGULAR[kind], code)
    return created


async def update(
    session: AsyncSession, principal: Principal, kind: str, code: str, body: BaseModel, if_match: str | None
) -> Any:
    """Change the fields the body names (``active_to`` too: deactivate, or null to reactivate).

    A compound's new grid redraws it (its community follows). Deactivating a record whose
    children stay active past that instant is a 409."""
    await repository.lock_generation(session)
    found = await record(session, kind, code, for_update=True)
    _ensure_county(principal, kind, await _county_of(session, kind, found.model_dump()))
    check_if_match(if_match, record_etag(kind, found), what=SINGULAR[kind])
    wanted = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k == "active_to"}
    if kind == "compounds" and "grid" in wanted and wanted["grid"] != found.grid:
        grid = await _parent(session, kind, wanted["grid"], "grid")
        wanted["community"] = grid.community
        _ensure_county(principal, kind, await _county_of(session, kind, wanted))
    ending = wanted.get("active_to")
    if (
        ending is not None
        and kind != "compounds"
        and await repository.count_active_children(session, kind, code, ending)
    ):
        raise Conflict(
            f"The {SINGULAR[kind]} {code!r} has records under it still active then; end them first.",
            code="has_active_children",
        )
    if "active_to" in wanted and wanted["active_to"] is None and kind != "counties":
        parent_field, _ = PARENT[kind]
        await _parent(session, kind, getattr(found, parent_field), parent_field)
    diff = {k: [_json(getattr(found, k)), _json(v)] for k, v in wanted.items() if getattr(found, k) != v}
    if not diff:
        return found
    for k, v in wanted.items():
        setattr(found, k, v)
    await repository.add(session, found)
    await repository.record_changes(session, [_change(kind, code, "updated", diff, principal.subject, "api")])
    await repository.bump_generation(session)
    await audit.record(
        session, principal, f"directory.{SINGULAR[kind]}_updated", SINGULAR[kind], code, fields=sorted(diff)
    )
    return found


async def history(session: AsyncSession, kind: str, code: str) -> list[Any]:
    await record(session, kind, code)
    return list(await repository.history(session, kind, code))


# --- imports ---------------------------------------------------------------------------------


async def _stored(session: AsyncSession) -> dict[str, dict[str, dict[str, Any]]]:
    return {kind: {r.code: r.model_dump() for r in await repository.all_of(session, kind)} for kind in SINGULAR}


def _read_and_plan(
    data: bytes,
    filename: str,
    max_rows: int,
    stored: dict[str, dict[str, dict[str, Any]]],
    now: dt.datetime,
    county: str | None = None,
) -> Plan:
    """The import's plan; with ``county`` (a county admin's), a row of another county is an error."""
    records, columns = read_records(data, filename, max_rows=max_rows)
    rows, errors = parse_rows(records)
    if county is not None:
        errors += [
            RowError(r.line, "county_code", "outside_scope", OUTSIDE_COUNTY) for r in rows if r.county.code != county
        ]
        rows = [r for r in rows if r.county.code == county]
    return plan_import(rows, errors, stored, columns, now)


async def import_file(
    session: AsyncSession,
    copy: DirectoryCopy,
    principal: Principal | None,
    data: bytes,
    filename: str,
    *,
    dry_run: bool,
    max_rows: int,
    source: str = "import",
) -> ImportReport:
    """Bring the stored directory to the file: every row or none (any error: nothing written).

    Reading, parsing and planning run in a worker thread; the writes are a few bulk statements."""
    if not dry_run:
        await repository.lock_generation(session)  # one import (or edit) at a time plans and writes
    before = await current(session, copy)
    stored = await _stored(session)
    county = principal.county if principal is not None else None
    plan = await asyncio.to_thread(
        functools.partial(_read_and_plan, data, filename, max_rows, stored, utcnow(), county)
    )
    report = ImportReport(
        dry_run=dry_run, applied=False, revision=before.revision, counts=plan.counts(), rows=plan.rows
    )
    if plan.failed:
        problems = [
            {"field": f"line {r.line}: {e.field}", "message": f"{e.code}: {e.detail}"}
            for r in plan.rows
            for e in r.errors
        ]
        raise Invalid(
            f"{report.counts['error']} row(s) have errors; nothing was imported.",
            code="import_rejected",
            errors=problems[:200],
            **report.model_dump(mode="json", exclude={"applied"}),
            applied=False,
        )
    if dry_run or not plan.changes:
        return report
    actor = principal.subject if principal else "system"
    for kind in SINGULAR:
        await repository.insert_many(session, kind, plan.inserts.get(kind, []))
        await repository.update_many(session, kind, plan.updates.get(kind, []))
    await repository.record_changes(
        session, [_change(c.kind, c.code, c.action, plan.history_of(c), actor, source) for c in plan.changes]
    )
    await repository.bump_generation(session)
    if principal is not None:  # an API import; the seed's (no one's action) is in the history only
        await audit.record(
            session, principal, "directory.imported", "directory", filename[:128] or "upload", counts=report.counts
        )
    after = await current(session, copy)
    return report.model_copy(update={"applied": True, "revision": after.revision})


async def staff_visible_to(session: AsyncSession, principal: Principal) -> list[UserRead]:
    """Users of the caller's own community; county roles see their county's."""
    # a county role: every user of its county (county-level staff hold no community)
    communities = None if principal.is_county else principal.visible_communities
    users = await identity.staff(session, communities, principal.county)
    return [UserRead.model_validate(u) for u in users]

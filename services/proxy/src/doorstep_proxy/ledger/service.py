"""Ledger rules: compounds, households, residents, personal data and its reveal.

No FastAPI here and no commit: the request's session commits once when the handler returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.db.driver import HotReader
from doorstep_shared.directory import Directory
from doorstep_shared.http import check_if_match, etag_of
from doorstep_shared.http.errors import Conflict, Invalid, NotFound
from doorstep_shared.http.observability import request_id_var
from doorstep_shared.http.pagination import encode_cursor
from doorstep_shared.pii import PiiCipher, mask_id_number, mask_name

from ..audit import audit_log
from ..events.residents import residents_changed
from ..versions import next_row_versions
from . import read_rows
from . import repository as repo
from .faces import resident_face as resident_face  # the one rule, for every sub-domain
from .idnumbers import check_id_number, check_phone
from .models import Compound, Household, Resident, RevealAudit
from .personal_data import (
    certificate_columns,
    id_number_columns,
    id_number_hash,
    phone_columns,
    phone_hash,
    plain_certificate,
    plain_id_number,
    plain_phone,
)
from .reads import ResidentColumns as ResidentColumns
from .reads import compound_item as compound_item
from .reads import household_item as household_item
from .reads import household_items as household_items
from .reads import resident_brief_item as resident_brief_item
from .reads import resident_item as resident_item
from .reads import resident_items as resident_items
from .reads import row_items as row_items
from .schemas import (
    FACT_FIELDS,
    BenefitIn,
    CompoundUpdate,
    HouseholdRead,
    ResidentBrief,
    ResidentCreate,
    ResidentLookup,
    ResidentQuery,
    ResidentRead,
    ResidentRemove,
    ResidentUpdate,
    RevealRead,
    RevealRequest,
)

# --- versions and ETags ---------------------------------------------------------------


def resident_etag(resident: Any) -> str:
    """A ``Resident`` or a row with its id and version."""
    return etag_of("resident", str(resident.id), resident.version)


def compound_etag(compound: Compound) -> str:
    return etag_of("compound", compound.code, compound.version)


# --- compounds ------------------------------------------------------------------------


async def compounds(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    after: str | None,
    limit: int,
) -> Sequence[Compound]:
    return await repo.list_compounds(session, principal, community=community, grid=grid, after=after, limit=limit)


async def compounds_by_code(session: AsyncSession, principal: Principal) -> dict[str, Compound]:
    """Every compound the caller sees, by code."""
    return await repo.compounds_by_code(session, principal)


async def compound(session: AsyncSession, principal: Principal, code: str) -> Compound:
    found = await repo.get_compound(session, principal, code)
    if found is None:
        raise NotFound("No such compound.", code="compound_not_found")
    return found


async def update_compound(
    session: AsyncSession,
    principal: Principal,
    code: str,
    data: CompoundUpdate,
    if_match: str | None,
) -> Compound:
    found = await repo.get_compound(session, principal, code, for_update=True)
    if found is None:
        raise NotFound("No such compound.", code="compound_not_found")
    check_if_match(if_match, compound_etag(found), current_version=found.version)
    for key, value in data.model_dump(exclude_unset=True).items():
        if key in ("name", "address", "buildings", "households") and value is None:
            raise Invalid.field(f"body.{key}", "may not be null")
        setattr(found, key, value)
    found.version += 1
    found.row_version = await next_row_versions(session)
    found.updated_at = utcnow()
    await repo.flush_add(session, found)
    return found


# --- households -----------------------------------------------------------------------


async def ensure_households(
    session: AsyncSession, keys: dict[repo.AddressKey, Compound]
) -> dict[repo.AddressKey, uuid.UUID]:
    """The household at each address, created when missing (concurrency-safe upsert)."""
    found = await repo.households_for(session, set(keys))
    missing = [k for k in keys if k not in found]
    if missing:
        now = utcnow()
        last = await next_row_versions(session, len(missing))
        rows = [
            {
                "id": uuid.uuid4(),
                "community": keys[k].community,
                "grid": keys[k].grid,
                "compound_code": k[0],
                "building": k[1],
                "unit": k[2],
                "room": k[3],
                "version": 1,
                "row_version": last - len(missing) + 1 + i,
                "created_at": now,
            }
            for i, k in enumerate(missing)
        ]
        await repo.insert_households(session, rows)
        found.update(await repo.households_for(session, set(missing)))
    return found


async def household_page(
    session: HotReader,
    principal: Principal,
    *,
    compound: str | None,
    grid: str | None,
    building: str | None,
    after: Sequence[Any] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of households as ``HouseholdRead`` shows them (plain dicts, the lean path) and the
    next page's cursor."""
    rows = await read_rows.household_rows(
        session, principal, compound=compound, grid=grid, building=building, after=after, limit=limit + 1
    )
    items = [household_item(h, h.members) for h in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode_cursor([last.compound_code, last.building, last.unit, last.room, str(last.id)])
    return items, nxt


def household_read(h: Household, members: int) -> HouseholdRead:
    return HouseholdRead(
        id=h.id,
        community=h.community,
        grid=h.grid,
        compound=h.compound_code,
        building=h.building,
        unit=h.unit,
        room=h.room,
        members=members,
    )


async def household(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> Household:
    found = await repo.get_household(session, principal, household_id)
    if found is None:
        raise NotFound("No such household.", code="household_not_found")
    return found


# --- residents: reading ---------------------------------------------------------------


async def reads(
    session: AsyncSession, residents: Sequence[Any], cipher: PiiCipher, principal: Principal
) -> list[ResidentRead]:
    """The masked views as models (a write's answer): ``resident_items`` validated."""
    return [ResidentRead.model_validate(item) for item in await resident_items(session, residents, cipher, principal)]


def resident_brief(r: Resident, cipher: PiiCipher, principal: Principal | None) -> ResidentBrief:
    """A resident as a case or visit shows them: the name as ``principal`` may read it at
    ``/residents/{id}`` (``faces.resident_face``; masked for no principal), the masked name and
    phone, the address."""
    face = resident_face(principal, cipher, r, local_today())
    return ResidentBrief(
        id=r.id,
        name=face.name,
        name_masked=mask_name(r.name) or "",
        phone_masked=face.phone_masked,
        compound=r.compound_code,
        building=r.building,
        unit=r.unit,
        room=r.room,
    )


async def residents_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Resident]:
    """Residents by id, whoever asks: for ids taken from records the caller already sees."""
    return await repo.residents_by_ids(session, ids)


async def resident_briefs(
    session: AsyncSession, ids: Sequence[uuid.UUID], cipher: PiiCipher, principal: Principal | None = None
) -> dict[uuid.UUID, ResidentBrief]:
    found = await repo.residents_by_ids(session, ids)
    return {rid: resident_brief(r, cipher, principal) for rid, r in found.items()}


async def resident(session: AsyncSession, principal: Principal, resident_id: uuid.UUID) -> Resident:
    found = await visible_resident(session, principal, resident_id)
    if found is None:
        raise NotFound("No such resident.", code="resident_not_found")
    return found


async def resident_row(session: HotReader, principal: Principal, resident_id: uuid.UUID) -> Any:
    """The resident as a read row (``read_rows``: what ``row_items`` takes); 404 when the caller
    does not see them."""
    found = await read_rows.resident_row(session, principal, resident_id)
    if found is None:
        raise NotFound("No such resident.", code="resident_not_found")
    return found


async def visible_resident(session: AsyncSession, principal: Principal, resident_id: uuid.UUID) -> Resident | None:
    """The resident, if the caller sees them (other sub-domains decide what "absent" means)."""
    return await repo.get_resident(session, principal, resident_id)


async def search_items(
    session: HotReader,
    principal: Principal,
    cipher: PiiCipher,
    query: ResidentQuery,
    *,
    phone: str | None,
    after: Sequence[Any] | None,
    limit: int,
    phone_field: str = "query.phone",
) -> tuple[list[dict[str, Any]], Any | None]:
    """Residents matching the query, a page at a time, as ``resident_item`` dicts; the last row
    seeds the next cursor (``resident_cursor_key``)."""
    if phone is not None:
        query.phone_hash = phone_hash(cipher, check_phone(phone, field=phone_field))
    query.today = local_today()
    rows = await read_rows.search_residents(session, principal, query, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return row_items(rows, cipher, principal), (rows[-1] if more else None)


async def search(
    session: AsyncSession, principal: Principal, cipher: PiiCipher, query: ResidentQuery, **options: Any
) -> tuple[list[ResidentRead], Any | None]:
    """``search_items`` as models (where a page sits inside another answer)."""
    items, last = await search_items(session, principal, cipher, query, **options)
    return [ResidentRead.model_validate(item) for item in items], last


async def lookup(
    session: AsyncSession, principal: Principal, cipher: PiiCipher, data: ResidentLookup
) -> list[ResidentRead]:
    """Residents with exactly this ID number and/or phone (any status), via the lookup hashes."""
    query = ResidentQuery(statuses=())
    if data.id_number:
        number = check_id_number(data.id_number, field="body.id_number").number
        query.id_number_hash = id_number_hash(cipher, number)
    phone = data.phone or None
    items, _ = await search(
        session, principal, cipher, query, phone=phone, after=None, limit=50, phone_field="body.phone"
    )
    return items


def resident_cursor_key(r: Any) -> list[Any]:
    return [r.compound_code, r.building, r.unit, r.room, r.name, str(r.id)]


# --- residents: writing ---------------------------------------------------------------


async def _visible_compound(
    session: AsyncSession, principal: Principal, directory: Directory, code: str, field: str
) -> Compound:
    """A compound the caller sees and the directory still lists (one it dropped takes no one new)."""
    found = await repo.get_compound(session, principal, code)
    if found is None or directory.compound(code) is None:
        raise Invalid.field(field, "unknown compound", code="unknown_compound")
    return found


def duplicate_conflict(existing: Resident, principal: Principal, cipher: PiiCipher) -> Conflict:
    """409 pointing at the record already holding this ID number (masked; only if visible)."""
    if not principal.sees_community(existing.community):
        return Conflict(
            "This person is already registered in another community.",
            code="duplicate_resident",
            existing=None,
        )
    plain = plain_id_number(cipher, existing)
    return Conflict(
        "This person is already registered.",
        code="duplicate_resident",
        existing={
            "id": str(existing.id),
            "name": mask_name(existing.name),
            "id_number_masked": mask_id_number(plain),
            "compound": existing.compound_code,
            "status": existing.status,
        },
    )


def _benefit_rows(resident_id: uuid.UUID, benefits: Sequence[BenefitIn]) -> list[dict[str, Any]]:
    by_code = {b.item_code: b.since for b in benefits}  # a repeated code keeps its last date
    return [{"resident_id": resident_id, "item_code": c, "since": s} for c, s in by_code.items()]


async def create_resident(
    session: AsyncSession, principal: Principal, directory: Directory, cipher: PiiCipher, data: ResidentCreate
) -> Resident:
    facts = check_id_number(data.id_number, field="body.id_number", birth_date=data.birth_date, gender=data.gender)
    phone = check_phone(data.phone, field="body.phone") if data.phone else None
    compound_row = await _visible_compound(session, principal, directory, data.compound, "body.compound")
    id_hash = id_number_hash(cipher, facts.number)
    existing = await repo.resident_by_id_hash(session, id_hash)
    if existing is not None:
        raise duplicate_conflict(existing, principal, cipher)
    key = (compound_row.code, data.building, data.unit, data.room)
    household_id = (await ensure_households(session, {key: compound_row}))[key]
    now = utcnow()
    resident_row = Resident(
        community=compound_row.community,
        grid=compound_row.grid,
        compound_code=compound_row.code,
        household_id=household_id,
        building=data.building,
        unit=data.unit,
        room=data.room,
        name=data.name,
        **id_number_columns(cipher, facts.number, id_hash),
        **phone_columns(cipher, phone),
        **certificate_columns(cipher, data.disability_certificate_no),
        pii_kid=cipher.active_kid,
        birth_date=facts.birth_date,
        gender=facts.gender,
        surveyed_at=now,
        surveyed_by=principal.subject,
        row_version=await next_row_versions(session),
        created_at=now,
        created_by=principal.subject,
        updated_at=now,
        updated_by=principal.subject,
        **{f: getattr(data, f) for f in FACT_FIELDS},
    )
    await repo.flush_add(session, resident_row)
    if data.benefits:
        await repo.replace_benefits(session, [resident_row.id], _benefit_rows(resident_row.id, data.benefits))
    await residents_changed.publish(session, [resident_row.id])  # subscribers (discovery) catch up
    return resident_row


async def _locked_resident(
    session: AsyncSession, principal: Principal, resident_id: uuid.UUID, if_match: str | None
) -> Resident:
    """The resident, locked for the write; 404 when not visible, 412 when If-Match is stale."""
    r = await repo.get_resident(session, principal, resident_id, for_update=True)
    if r is None:
        raise NotFound("No such resident.", code="resident_not_found")
    check_if_match(if_match, resident_etag(r), current_version=r.version)
    return r


async def update_resident(
    session: AsyncSession,
    principal: Principal,
    directory: Directory,
    cipher: PiiCipher,
    resident_id: uuid.UUID,
    data: ResidentUpdate,
    if_match: str | None,
) -> Resident:
    r = await _locked_resident(session, principal, resident_id, if_match)
    sent = data.model_fields_set
    for required in ("name", "compound", "building", "unit", "room", "id_number"):
        if required in sent and getattr(data, required) is None:
            raise Invalid.field(f"body.{required}", "may not be null")
    changes: dict[str, Any] = {}
    if data.id_number is not None:
        facts = check_id_number(data.id_number, field="body.id_number")
        id_hash = id_number_hash(cipher, facts.number)
        if id_hash != r.id_number_hash:
            existing = await repo.resident_by_id_hash(session, id_hash)
            if existing is not None:
                raise duplicate_conflict(existing, principal, cipher)
            changes.update(
                id_number_columns(cipher, facts.number, id_hash), birth_date=facts.birth_date, gender=facts.gender
            )
    if "phone" in sent:
        phone = check_phone(data.phone, field="body.phone") if data.phone else None
        changes.update(phone_columns(cipher, phone))
    if "disability_certificate_no" in sent:
        changes.update(certificate_columns(cipher, data.disability_certificate_no))
    for column, value in changes.items():
        setattr(r, column, value)
    if data.name is not None:
        r.name = data.name
    for fact in FACT_FIELDS:
        if fact in sent:
            setattr(r, fact, getattr(data, fact))
    if r.disability_grade is not None and r.disability_type is None:
        raise Invalid.field("body.disability_type", "a disability grade needs a disability type")
    if sent & {"compound", "building", "unit", "room"}:
        code = data.compound or r.compound_code
        compound_row = await _visible_compound(session, principal, directory, code, "body.compound")
        key = (
            code,
            data.building if data.building is not None else r.building,
            data.unit if data.unit is not None else r.unit,
            data.room if data.room is not None else r.room,
        )
        r.household_id = (await ensure_households(session, {key: compound_row}))[key]
        r.compound_code, r.building, r.unit, r.room = key
        r.community, r.grid = compound_row.community, compound_row.grid
    if data.benefits is not None:
        await repo.replace_benefits(session, [r.id], _benefit_rows(r.id, data.benefits))
    now = utcnow()
    r.version += 1
    r.row_version = await next_row_versions(session)
    r.updated_at = r.surveyed_at = now
    r.updated_by = r.surveyed_by = principal.subject
    await repo.flush_add(session, r)
    await residents_changed.publish(session, [r.id])
    return r


async def remove_resident(
    session: AsyncSession,
    principal: Principal,
    resident_id: uuid.UUID,
    data: ResidentRemove,
    if_match: str | None,
) -> Resident:
    """Soft delete: the record stays (history, sync tombstone) with the reason it left."""
    r = await _locked_resident(session, principal, resident_id, if_match)
    if r.status != "active":
        raise Conflict("The resident is already off the register.", code="already_removed")
    now = utcnow()
    r.status = data.status
    r.removed_reason = data.reason
    r.removed_at = now
    r.removed_by = principal.subject
    r.version += 1
    r.row_version = await next_row_versions(session)
    r.updated_at = now
    r.updated_by = principal.subject
    await repo.flush_add(session, r)
    await residents_changed.publish(session, [r.id])
    await audit_log.record(
        session,
        principal,
        "resident.remove",
        "resident",
        str(r.id),
        community=r.community,
        status=data.status,
        version=r.version,
        reason_length=len(data.reason),
    )
    return r


async def reveal(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    resident_id: uuid.UUID,
    data: RevealRequest,
) -> RevealRead:
    """Plain personal data for one resident, recorded (who, whom, what, why, request) first."""
    r = await repo.get_resident(session, principal, resident_id)
    if r is None:
        raise NotFound("No such resident.", code="resident_not_found")
    fields = sorted(set(data.fields))
    record = await repo.append_reveal(
        session,
        RevealAudit(
            at=utcnow(),
            actor=principal.subject,
            actor_kind=principal.kind,
            actor_roles=",".join(sorted(principal.roles))[:200],
            resident_id=r.id,
            community=r.community,
            fields=",".join(fields),
            reason=data.reason,
            request_id=request_id_var.get(),
        ),
    )
    assert record.id is not None
    # Chained entry: which fields and the reveal record; never the values, and of the free-text
    # reason (which may name people) only its length.
    await audit_log.record(
        session,
        principal,
        "resident.reveal",
        "resident",
        str(r.id),
        community=r.community,
        fields=fields,
        reveal_audit_id=record.id,
        reason_length=len(data.reason),
    )
    out = RevealRead(resident_id=r.id, audit_id=record.id)
    if "id_number" in fields:
        out.id_number = plain_id_number(cipher, r)
    if "phone" in fields:
        out.phone = plain_phone(cipher, r)
    if "disability_certificate_no" in fields:
        out.disability_certificate_no = plain_certificate(cipher, r)
    return out


async def reveals(
    session: AsyncSession,
    principal: Principal,
    *,
    resident_id: uuid.UUID | None,
    actor: str | None,
    after: int | None,
    limit: int,
) -> Sequence[RevealAudit]:
    return await repo.list_reveals(session, principal, resident_id=resident_id, actor=actor, after=after, limit=limit)

"""Intake of proxy cases (代办件): a case accepted at the window, at the doorstep or from a platform,
with a snapshot of the catalogue item (later catalogue edits never change it), its deadline and
materials checklist; a demand it came from is converted with it. No FastAPI here and no commit.

``create_case`` is also the entry point discovery calls to convert a lead; ``convert_demand``
links a demand to an existing case (``POST /demands/{id}/conversion``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.http.errors import Conflict, Invalid

from ..catalog_client import CatalogClient, CatalogItem
from ..demands import service as demands
from ..demands.models import Demand
from ..demands.schemas import DemandConvert
from ..ledger import service as ledger
from ..versions import next_row_versions
from . import deadlines
from . import repository as repo
from .models import ProxyCase
from .schemas import ItemSnapshot
from .service import record_event

SNAPSHOT_FIELDS = (
    "code",
    "name",
    "category",
    "version",
    "materials",
    "steps",
    "statutory_days",
    "promised_days",
    "department",
    "contact",
)


def snapshot_of(item: CatalogItem) -> dict[str, Any]:
    data = item.model_dump(mode="json", include=set(SNAPSHOT_FIELDS))
    return ItemSnapshot.model_validate(data).model_dump(mode="json")


def check_item(item: CatalogItem | None, channel: str) -> CatalogItem:
    """422 with the reason when the item cannot be taken on (unknown, retired, not proxy-eligible)."""
    if item is None:
        raise Invalid.field("body.item_code", "not in the catalogue", code="unknown_item")
    if item.status == "retired":
        raise Invalid.field(
            "body.item_code", "the item is retired and no longer accepted", code="item_retired", reason="retired"
        )
    if item.status != "published":
        raise Invalid.field(
            "body.item_code", "the item is not published yet", code="item_not_published", reason=item.status
        )
    today = local_today()
    if (item.valid_from and today < item.valid_from) or (item.valid_until and today > item.valid_until):
        raise Invalid.field(
            "body.item_code", "the item is outside its validity period", code="item_retired", reason="expired"
        )
    if channel == "doorstep" and not item.proxy_eligible:
        raise Invalid.field(
            "body.channel",
            "the item is not proxy-eligible: it cannot be handled at the doorstep",
            code="item_not_proxy_eligible",
            reason="not_proxy_eligible",
        )
    return item


async def create_case(
    session: AsyncSession,
    principal: Principal,
    catalog: CatalogClient,
    *,
    resident_id: uuid.UUID,
    item_code: str,
    channel: str,
    case_id: uuid.UUID | None = None,
    demand_id: uuid.UUID | None = None,
    keep: bool = False,
    note: str | None = None,
) -> ProxyCase:
    """Accept a case (any worker of the resident's community may). See :func:`accept_case`."""
    case, _ = await accept_case(
        session,
        principal,
        catalog,
        resident_id=resident_id,
        item_code=item_code,
        channel=channel,
        case_id=case_id,
        demand_id=demand_id,
        keep=keep,
        note=note,
    )
    return case


async def accept_case(
    session: AsyncSession,
    principal: Principal,
    catalog: CatalogClient,
    *,
    resident_id: uuid.UUID,
    item_code: str,
    channel: str,
    case_id: uuid.UUID | None = None,
    demand_id: uuid.UUID | None = None,
    keep: bool = False,
    note: str | None = None,
) -> tuple[ProxyCase, bool]:
    """Accept a case; returns (case, created). A retried create with the same client id and the
    same resident and item returns the existing case (created False) instead of a duplicate."""
    if channel not in ("window", "doorstep", "platform"):
        raise Invalid.field("body.channel", "one of window, doorstep, platform")
    # Taking the change number first serialises writers (its row lock is held until commit), so
    # the duplicate checks below see any concurrent intake that committed before us.
    row_version = await next_row_versions(session)
    if case_id is not None:
        existing = await repo.get_case(session, None, case_id)
        if existing is not None:
            if (
                principal.sees_community(existing.community)
                and existing.resident_id == resident_id
                and existing.item_code == item_code
            ):
                return existing, False
            raise Conflict("This case id is already taken; generate a new UUID.", code="case_id_taken")
    resident = await ledger.visible_resident(session, principal, resident_id)
    if resident is None:
        raise Invalid.field("body.resident_id", "unknown resident", code="unknown_resident")
    if resident.status != "active":
        raise Invalid.field("body.resident_id", f"the resident is {resident.status}", code="resident_inactive")
    # The handbook of the resident's county: its materials, time limits and steps.
    item = check_item(await catalog.item_for(item_code, resident.community), channel)
    open_case = await repo.open_case_for(session, resident_id, item_code)
    if open_case is not None:
        raise Conflict(
            "The resident already has an open case for this item.",
            code="open_case_exists",
            existing_id=str(open_case.id),
        )
    now = utcnow()
    snapshot = snapshot_of(item)
    days, basis = deadlines.time_limit(snapshot)
    due = deadlines.add_working_days(local_today(now), days) if days is not None else None
    revision = (await catalog.snapshot()).revision
    case = ProxyCase(
        id=case_id or uuid.uuid4(),
        resident_id=resident.id,
        household_id=resident.household_id,
        community=resident.community,
        grid=resident.grid,
        item_code=item.code,
        item_name=item.name,
        snapshot=snapshot,
        catalog_revision=revision,
        channel=channel,
        demand_id=None,
        status="accepted",
        accepted_by=principal.subject,
        accepted_at=now,
        assigned_grid=resident.grid,
        assigned_to=principal.subject if keep else None,
        due_date=due.date if due else None,
        due_basis=basis,
        note=note,
        row_version=row_version,
        created_at=now,
        updated_at=now,
        updated_by=principal.subject,
    )
    if demand_id is not None:
        demand = await demands.convert_into_case(
            session,
            principal,
            demand_id,
            case_id=case.id,
            community=case.community,
            resident_id=case.resident_id,
            row_version=row_version,
            now=now,
        )
        case.demand_id = demand.id
    await repo.save(session, case)
    await repo.insert_materials(
        session,
        [
            {
                "case_id": case.id,
                "position": i,
                "name": m["name"][:200],
                "form": str(m.get("form") or "copy")[:32],
                "count": int(m.get("count") or 1),
                "collectable_at_home": bool(m.get("collectable_at_home", True)),
            }
            for i, m in enumerate(snapshot.get("materials") or [], start=1)
        ],
    )
    details: dict[str, Any] = {"channel": channel, "assigned_grid": case.assigned_grid}
    if due is not None:
        details.update(due_date=due.date.isoformat(), due_basis=basis, due_official=due.official)
    if demand_id is not None:
        details["demand_id"] = str(demand_id)
    await record_event(
        session, case, "transition", principal.subject, now, to_status="accepted", note=note, details=details
    )
    return case, True


async def link_demand(session: AsyncSession, principal: Principal, demand: Demand, case_ref: str) -> None:
    """The case a demand is converted into must exist (a case of the same community); it gets
    the link. Passed to the demands sub-domain as its ``link_case``."""
    try:
        case_id = uuid.UUID(case_ref)
    except ValueError:
        raise Invalid.field("body.case_ref", "not a case id (create the case first)", code="unknown_case") from None
    case = await repo.get_case(session, principal, case_id, for_update=True)
    if case is None or case.community != demand.community:
        raise Invalid.field("body.case_ref", "unknown case", code="unknown_case")
    if case.demand_id is None:
        case.demand_id = demand.id
        case.version += 1
        case.row_version = await next_row_versions(session)
        case.updated_at = utcnow()
        case.updated_by = principal.subject
        await repo.save(session, case)


async def convert_demand(
    session: AsyncSession, principal: Principal, demand_id: uuid.UUID, data: DemandConvert, if_match: str | None
) -> Demand:
    """A demand marked as converted into an existing case (``POST /demands/{id}/conversion``)."""
    return await demands.transition_demand(
        session, principal, demand_id, "convert", data, if_match, link_case=link_demand
    )

"""Rules for demands (群众诉求): logging, the answer / conversion / closure machine, webhooks.

Converting a demand into a case needs the cases sub-domain (the case must exist and gets the
link); it calls :func:`transition_demand` with its ``link_case``, so demands never import cases.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory
from doorstep_shared.http import check_if_match, etag_of
from doorstep_shared.http.errors import Conflict, Invalid, NotFound
from doorstep_shared.http.observability import redact
from doorstep_shared.periods import day_after, day_start
from doorstep_shared.pii import PiiCipher, mask_phone

from ..events import webhooks
from ..inputs import YEARS
from ..ledger import service as ledger
from ..ledger.idnumbers import check_phone
from ..versions import next_row_versions
from . import repository as repo
from .models import Demand
from .schemas import DemandAnswer, DemandClose, DemandConvert, DemandCreate, DemandRead

DEMAND_PHONE_CTX = "demand.contact_phone"

# Checks the case a demand is converted into and links it (the cases sub-domain's rule).
CaseLink = Callable[[AsyncSession, Principal, Demand, str], Awaitable[None]]


def demand_etag(d: Demand) -> str:
    return etag_of("demand", str(d.id), d.version)


def demand_read(d: Demand, cipher: PiiCipher) -> DemandRead:
    phone = cipher.decrypt(d.contact_phone_enc, context=DEMAND_PHONE_CTX) if d.contact_phone_enc else None
    return DemandRead(
        id=d.id,
        community=d.community,
        grid=d.grid,
        resident_id=d.resident_id,
        channel=d.channel,
        kind=d.kind,
        item_code=d.item_code,
        text=d.text,
        contact_name=d.contact_name,
        contact_phone_masked=mask_phone(phone),
        status=d.status,
        answer=d.answer,
        answered_at=d.answered_at,
        answered_by=d.answered_by,
        case_ref=d.case_ref,
        logged_by=d.logged_by,
        source_client=d.source_client,
        external_ref=d.external_ref,
        version=d.version,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


def _demand_community(principal: Principal, directory: Directory, wanted: str | None) -> str:
    if wanted is None:
        if principal.kind == "user" and principal.community:
            return principal.community
        visible = principal.visible_communities
        if visible is not None and len(visible) == 1:
            return next(iter(visible))
        raise Invalid.field("body.community", "required (which community the demand is for)")
    if directory.community(wanted) is None or not principal.sees_community(wanted):
        raise Invalid.field("body.community", "unknown community")
    return wanted


async def create_demand(
    session: AsyncSession, principal: Principal, directory: Directory, cipher: PiiCipher, data: DemandCreate
) -> Demand:
    community = _demand_community(principal, directory, data.community)
    grid = data.grid
    if grid is not None:
        info = directory.grid(grid)
        if info is None or info.community != community:
            raise Invalid.field("body.grid", "not a grid of the community")
    if data.resident_id is not None:
        resident = await ledger.visible_resident(session, principal, data.resident_id)
        if resident is None or resident.community != community:
            raise Invalid.field("body.resident_id", "unknown resident")
        grid = grid or resident.grid
    phone = check_phone(data.contact_phone, field="body.contact_phone") if data.contact_phone else None
    now = utcnow()
    demand = Demand(
        community=community,
        grid=grid,
        resident_id=data.resident_id,
        channel=data.channel,
        kind=data.kind,
        item_code=data.item_code,
        # Free text is where people type phone and ID numbers: they are masked before storage.
        text=redact(data.text),
        contact_name=data.contact_name or None,
        contact_phone_enc=cipher.encrypt(phone, context=DEMAND_PHONE_CTX) if phone else None,
        logged_by=principal.subject,
        source_client=principal.subject if principal.kind == "client" else None,
        external_ref=data.external_ref,
        row_version=await next_row_versions(session),
        created_at=now,
        updated_at=now,
    )
    if data.answer:
        demand.status = "answered"
        demand.answer = redact(data.answer)
        demand.answered_at = now
        demand.answered_by = principal.subject
    await repo.save(session, demand)
    await webhooks.demand_created(session, demand)
    return demand


async def demand(session: AsyncSession, principal: Principal, demand_id: uuid.UUID) -> Demand:
    found = await repo.get_demand(session, principal, demand_id)
    if found is None:
        raise NotFound("No such demand.", code="demand_not_found")
    return found


async def demands(
    session: AsyncSession,
    principal: Principal,
    *,
    day_from: dt.date | None,
    day_to: dt.date | None,
    after: Sequence[Any] | None,
    limit: int,
    **filters: Any,
) -> Sequence[Demand]:
    """Demands newest first; ``day_from``/``day_to`` are local days (both included)."""
    since = day_start(day_from, years=YEARS) if day_from else None
    until = day_start(day_after(day_to), "query.to", years=YEARS) if day_to else None
    return await repo.list_demands(session, principal, since=since, until=until, after=after, limit=limit, **filters)


TRANSITIONS = {
    "answer": ({"open", "answered"}, "answered"),
    "convert": ({"open", "answered"}, "converted"),
    "close": ({"open", "answered", "converted"}, "closed"),
}


async def transition_demand(
    session: AsyncSession,
    principal: Principal,
    demand_id: uuid.UUID,
    action: str,
    data: DemandAnswer | DemandConvert | DemandClose,
    if_match: str | None,
    *,
    link_case: CaseLink | None = None,
) -> Demand:
    """Answer, convert or close a demand; converting needs ``link_case`` (see the module doc)."""
    found = await repo.get_demand(session, principal, demand_id, for_update=True)
    if found is None:
        raise NotFound("No such demand.", code="demand_not_found")
    check_if_match(if_match, demand_etag(found), current_version=found.version)
    allowed_from, target = TRANSITIONS[action]
    if found.status not in allowed_from:
        raise Conflict(
            f"A {found.status} demand cannot be moved to {target}.",
            code="illegal_transition",
            allowed=sorted(a for a, (src, _) in TRANSITIONS.items() if found.status in src),
        )
    now = utcnow()
    if isinstance(data, DemandAnswer):
        found.answer = redact(data.answer)
        found.answered_at = now
        found.answered_by = principal.subject
    elif isinstance(data, DemandConvert):
        if link_case is None:
            raise ValueError("converting a demand needs the cases sub-domain's link_case")
        await link_case(session, principal, found, data.case_ref)
        found.case_ref = data.case_ref
    found.status = target
    found.version += 1
    found.row_version = await next_row_versions(session)
    found.updated_at = now
    await repo.save(session, found)
    if target == "answered":
        await webhooks.demand_answered(session, found)
    return found


async def convert_into_case(
    session: AsyncSession,
    principal: Principal,
    demand_id: uuid.UUID,
    *,
    case_id: uuid.UUID,
    community: str,
    resident_id: uuid.UUID,
    row_version: int,
    now: dt.datetime,
) -> Demand:
    """A case is being accepted from this demand: it becomes ``converted`` with the case's id
    (422 when it is not a demand of the case's community or is about another resident)."""
    demand = await repo.get_demand(session, principal, demand_id, for_update=True)
    if demand is None or demand.community != community:
        raise Invalid.field("body.demand_id", "unknown demand", code="unknown_demand")
    if demand.status not in ("open", "answered"):
        raise Conflict(f"The demand is {demand.status}; it cannot become a case.", code="demand_not_convertible")
    if demand.resident_id is not None and demand.resident_id != resident_id:
        raise Invalid.field("body.demand_id", "the demand is about another resident")
    demand.status = "converted"
    demand.case_ref = str(case_id)
    demand.resident_id = demand.resident_id or resident_id
    demand.version += 1
    demand.row_version = row_version
    demand.updated_at = now
    await repo.save(session, demand)
    return demand

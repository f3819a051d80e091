"""Tips (实战窍门) and morning briefings (晨会): the rules around them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import SHANGHAI, utcnow
from doorstep_shared.directory import Directory
from doorstep_shared.http.errors import Invalid, NotFound
from doorstep_shared.http.pagination import cursor_instant, cursor_int, encode_cursor, read_cursor

from .. import audit
from ..cursors import int_cursor
from ..items import service as items_service
from ..items.index import CatalogIndex
from ..versions import service as versions_service
from . import repository
from .models import Briefing, BriefingAttendee, Tip
from .schemas import (
    AgendaPointRead,
    BriefingCreate,
    BriefingPage,
    BriefingRead,
    ChangedItem,
    SinceBriefing,
    TipPage,
    TipRead,
)
from .sheet import ServiceWindow, SheetPage, render_sheet

MAX_CHANGES_SINCE = 500


def tip_read(tip: Tip, item_code: str) -> TipRead:
    return TipRead(
        id=tip.id or 0,
        item_code=item_code,
        body=tip.body,
        author=tip.author,
        community=tip.community,
        created_at=tip.created_at,
        hidden=tip.hidden,
    )


async def add_tip(session: AsyncSession, principal: Principal, county: str, code: str, body: str) -> TipRead:
    item = await items_service.readable_item(session, principal, county, code)
    tip = Tip(item_id=item.id or 0, body=body, author=principal.subject, community=principal.community)
    session.add(tip)
    await session.flush()
    await audit.record(session, principal, "tip.create", "tip", str(tip.id), community=tip.community, item=code)
    return tip_read(tip, code)


async def list_tips(
    session: AsyncSession,
    principal: Principal,
    county: str,
    code: str,
    *,
    include_hidden: bool,
    cursor: str | None,
    limit: int,
) -> TipPage:
    item = await items_service.readable_item(session, principal, county, code)
    after = int_cursor(cursor, 1)
    rows = await repository.tips_of(
        session,
        item.id or 0,
        include_hidden=include_hidden and items_service.is_admin(principal),
        # A community admin moderates their own community's tips, not another's (#17 §6).
        hidden_of=principal.visible_communities,
        after_id=after[0] if after else None,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return TipPage(
        items=[tip_read(t, code) for t in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None,
    )


async def hide_tip(session: AsyncSession, principal: Principal, county: str, tip_id: int, reason: str) -> TipRead:
    """A community admin hides tips left in their community; a county admin any tip of the
    county's handbook."""
    rows = await repository.tips_by_ids(session, county, [tip_id])
    if not rows or not principal.sees_community(rows[0][0].community):
        raise NotFound(f"No tip {tip_id}.")
    tip, code = rows[0]
    if not tip.hidden:
        tip.hidden = True
        tip.hidden_by = principal.subject
        tip.hidden_at = utcnow()
        tip.hidden_reason = reason or None
        session.add(tip)
        await session.flush()
        await audit.record(session, principal, "tip.hide", "tip", str(tip_id), community=tip.community, item=code)
    return tip_read(tip, code)


async def tip_exists(session: AsyncSession, item_id: int, body: str) -> bool:
    """Whether the item already carries a tip with exactly this text."""
    return await repository.tip_exists(session, item_id, body)


# ---------------------------------------------------------------- briefings


async def _briefing_reads(session: AsyncSession, county: str, rows: Sequence[Briefing]) -> list[BriefingRead]:
    ids = [b.id or 0 for b in rows]
    attendees = await repository.attendees_of(session, ids)
    tip_ids = {t for b in rows for t in b.tip_ids}
    tips = {t.id: tip_read(t, code) for t, code in await repository.tips_by_ids(session, county, tip_ids)}
    codes = {p.get("item_code") for b in rows for p in b.agenda if p.get("item_code")}
    names = await items_service.item_names(session, county, {str(c) for c in codes})
    out = []
    for b in rows:
        out.append(
            BriefingRead(
                id=b.id or 0,
                community=b.community,
                held_on=b.held_on,
                held_at=b.held_at,
                title=b.title,
                agenda=[
                    AgendaPointRead(
                        item_code=p.get("item_code"),
                        item_name=names.get(str(p.get("item_code"))),
                        note=str(p.get("note", "")),
                    )
                    for p in b.agenda
                ],
                tips=[tips[t] for t in b.tip_ids if t in tips],
                attendees=attendees.get(b.id or 0, []),
                created_by=b.created_by,
            )
        )
    return out


async def create_briefing(
    session: AsyncSession, principal: Principal, directory: Directory, county: str, data: BriefingCreate
) -> BriefingRead:
    if (
        directory.community(data.community) is None
        or directory.county_of(data.community) != county
        or not principal.sees_community(data.community)
    ):
        raise Invalid.field("body.community", "not a community you may record briefings for")
    codes = {p.item_code for p in data.agenda if p.item_code}
    names = await items_service.item_names(session, county, codes)
    missing = sorted(codes - set(names))
    if missing:
        raise Invalid.field("body.agenda", f"unknown items: {', '.join(missing[:5])}")
    found = {t.id for t, _ in await repository.tips_by_ids(session, county, data.tip_ids)}
    if set(data.tip_ids) - found:
        raise Invalid.field("body.tip_ids", "unknown tips")
    held_at = data.held_at
    if held_at is None:
        held_at = dt.datetime.combine(data.held_on, dt.time(8, 30), SHANGHAI)
    elif held_at.tzinfo is None:
        held_at = held_at.replace(tzinfo=SHANGHAI)
    briefing = Briefing(
        community=data.community,
        held_on=data.held_on,
        held_at=held_at.astimezone(dt.UTC),
        title=data.title,
        agenda=[p.model_dump(mode="json") for p in data.agenda],
        tip_ids=data.tip_ids,
        created_by=principal.subject,
    )
    session.add(briefing)
    await session.flush()
    for username in dict.fromkeys(data.attendees):
        session.add(BriefingAttendee(briefing_id=briefing.id or 0, username=username))
    await session.flush()
    await audit.record(
        session,
        principal,
        "briefing.create",
        "briefing",
        str(briefing.id),
        community=data.community,
        held_on=data.held_on.isoformat(),
        items=sorted(codes),
        tips=sorted(set(data.tip_ids)),
    )
    return (await _briefing_reads(session, county, [briefing]))[0]


async def get_briefing(session: AsyncSession, principal: Principal, county: str, briefing_id: int) -> BriefingRead:
    briefing = await repository.briefing_by_id(session, briefing_id, principal.visible_communities)
    if briefing is None:
        raise NotFound(f"No briefing {briefing_id}.")
    return (await _briefing_reads(session, county, [briefing]))[0]


async def list_briefings(
    session: AsyncSession,
    principal: Principal,
    county: str,
    *,
    community: str | None,
    cursor: str | None,
    limit: int,
) -> BriefingPage:
    raw = read_cursor(cursor, cursor_instant, cursor_int)
    after = (raw[0], raw[1]) if raw else None
    rows = await repository.list_briefings(
        session, principal.visible_communities, community=community, after=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return BriefingPage(
        items=await _briefing_reads(session, county, rows),
        next_cursor=encode_cursor([rows[-1].held_at.isoformat(), rows[-1].id]) if more and rows else None,
    )


async def changes_since_my_last_briefing(session: AsyncSession, principal: Principal, county: str) -> SinceBriefing:
    """Items whose published content changed after the last briefing the caller attended."""
    last = await repository.last_attended(session, principal.subject, principal.visible_communities)
    since = last.held_at if last else None
    grouped: dict[str, ChangedItem] = {}
    for change in await versions_service.changes_since(session, county, since, limit=MAX_CHANGES_SINCE):
        code = change.item_code
        entry = grouped.get(code)
        if entry is None:
            entry = grouped[code] = ChangedItem(
                item_code=code, item_name=change.item_name, status=change.status, changes=[]
            )
        entry.changes.append(change)
        entry.item_name, entry.status = change.item_name, change.status
    return SinceBriefing(
        last_briefing=(await _briefing_reads(session, county, [last]))[0] if last else None,
        since=since,
        items=list(grouped.values()),
    )


async def item_sheet(
    session: AsyncSession,
    index: CatalogIndex,
    principal: Principal | None,
    county: str,
    code: str,
    *,
    url: str,
    window: ServiceWindow,
    large: bool,
) -> SheetPage:
    """Staff see the sheet of any item they may read, with colleagues' tips; anyone else only
    the sheet of a published item (public information), without tips, which are staff notes.
    A draft, retired or unknown item is the same 404 to them, so drafts do not leak."""
    if principal is None:
        snap = await items_service.handbook(session, index, county)
        item = snap.items.get(code)
        if item is None or item.status != "published":
            raise NotFound(f"No item {code!r}.")
        return render_sheet(item, [], url=url, window=window, large=large)
    read = await items_service.get_item(session, index, principal, county, code)
    tips = await list_tips(session, principal, county, code, include_hidden=False, cursor=None, limit=5)
    return render_sheet(read, tips.items, url=url, window=window, large=large)

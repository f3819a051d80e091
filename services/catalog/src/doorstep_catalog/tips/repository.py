"""Every tips and briefings query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..items.models import Item
from .models import Briefing, BriefingAttendee, Tip

# ---------------------------------------------------------------- tips


async def tips_of(
    session: AsyncSession,
    item_id: int,
    *,
    include_hidden: bool,
    hidden_of: Collection[str] | None = None,
    after_id: int | None,
    limit: int,
) -> Sequence[Tip]:
    """An item's tips; hidden ones too when asked, but only those left in ``hidden_of`` (all: None)."""
    stmt = select(Tip).where(Tip.item_id == item_id)
    if not include_hidden:
        stmt = stmt.where(col(Tip.hidden).is_(False))
    elif hidden_of is not None:
        stmt = stmt.where(or_(col(Tip.hidden).is_(False), col(Tip.community).in_(list(hidden_of))))
    if after_id is not None:
        stmt = stmt.where(col(Tip.id) > after_id)
    return (await session.exec(stmt.order_by(col(Tip.id)).limit(limit))).all()


async def tips_by_ids(session: AsyncSession, county: str, ids: Collection[int]) -> Sequence[tuple[Tip, str]]:
    """The tips with these ids on ``county``'s items, with their item's code."""
    if not ids:
        return []
    stmt = (
        select(Tip, Item.code)
        .join(Item, col(Item.id) == col(Tip.item_id))
        .where(col(Tip.id).in_(list(ids)), col(Item.county) == county)
        .order_by(col(Tip.id))
    )
    return (await session.exec(stmt)).all()


async def tip_exists(session: AsyncSession, item_id: int, body: str) -> bool:
    stmt = select(Tip.id).where(Tip.item_id == item_id, Tip.body == body)
    return (await session.exec(stmt)).first() is not None


# ---------------------------------------------------------------- briefings


async def briefing_by_id(
    session: AsyncSession, briefing_id: int, communities: frozenset[str] | None
) -> Briefing | None:
    stmt = select(Briefing).where(Briefing.id == briefing_id)
    if communities is not None:
        stmt = stmt.where(col(Briefing.community).in_(list(communities)))
    return (await session.exec(stmt)).first()


async def list_briefings(
    session: AsyncSession,
    communities: frozenset[str] | None,
    *,
    community: str | None,
    after: tuple[dt.datetime, int] | None,
    limit: int,
) -> Sequence[Briefing]:
    """Newest first; keyset on (held_at, id)."""
    stmt = select(Briefing)
    if communities is not None:
        stmt = stmt.where(col(Briefing.community).in_(list(communities)))
    if community is not None:
        stmt = stmt.where(Briefing.community == community)
    if after is not None:
        held_at = after[0]
        stmt = stmt.where(
            or_(
                col(Briefing.held_at) < held_at,
                (col(Briefing.held_at) == held_at) & (col(Briefing.id) < after[1]),
            )
        )
    stmt = stmt.order_by(col(Briefing.held_at).desc(), col(Briefing.id).desc()).limit(limit)
    return (await session.exec(stmt)).all()


async def attendees_of(session: AsyncSession, briefing_ids: Collection[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in briefing_ids}
    if not briefing_ids:
        return out
    stmt = (
        select(BriefingAttendee)
        .where(col(BriefingAttendee.briefing_id).in_(list(briefing_ids)))
        .order_by(col(BriefingAttendee.username))
    )
    for row in (await session.exec(stmt)).all():
        out[row.briefing_id].append(row.username)
    return out


async def last_attended(session: AsyncSession, username: str, communities: frozenset[str] | None) -> Briefing | None:
    stmt = (
        select(Briefing)
        .join(BriefingAttendee, col(BriefingAttendee.briefing_id) == col(Briefing.id))
        .where(BriefingAttendee.username == username)
    )
    if communities is not None:
        stmt = stmt.where(col(Briefing.community).in_(list(communities)))
    stmt = stmt.order_by(col(Briefing.held_at).desc(), col(Briefing.id).desc()).limit(1)
    return (await session.exec(stmt)).first()

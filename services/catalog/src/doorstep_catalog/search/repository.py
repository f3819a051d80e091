"""Every search query: search events (record, mark opened, misses, popularity) and synonyms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..items.models import Item
from ..tips.models import Tip
from .models import SearchEvent, SearchSynonym


async def add_events(session: AsyncSession, events: Sequence[Mapping[str, Any]]) -> None:
    """Search events (``SearchEvent``'s columns by name) in one statement."""
    await session.execute(insert(SearchEvent), [dict(e) for e in events])


async def mark_opened(session: AsyncSession, search_id: str, code: str, at: dt.datetime) -> bool:
    """The first open after a search counts; a later one changes nothing."""
    result = await session.exec(
        update(SearchEvent)
        .where(col(SearchEvent.id) == search_id, col(SearchEvent.opened_code).is_(None))
        .values(opened_code=code, opened_at=at)
    )
    return result.rowcount == 1


async def event_exists(session: AsyncSession, search_id: str) -> bool:
    return (await session.exec(select(SearchEvent.id).where(SearchEvent.id == search_id))).first() is not None


def _missed() -> ColumnElement[bool]:
    return (col(SearchEvent.hits) == 0) | col(SearchEvent.opened_code).is_(None)


async def top_misses(
    session: AsyncSession, county: str, since: dt.datetime, communities: Collection[str] | None, limit: int
) -> Sequence[tuple[str, int, int, int, dt.datetime]]:
    """(normalised query, searches, found nothing, not opened, last seen) of unresolved misses,
    the most frequent first."""
    nothing = func.sum(case((col(SearchEvent.hits) == 0, 1), else_=0))
    not_opened = func.sum(case(((col(SearchEvent.hits) > 0) & col(SearchEvent.opened_code).is_(None), 1), else_=0))
    stmt = (
        core_select(
            col(SearchEvent.normalised),
            func.count(),
            nothing,
            not_opened,
            func.max(col(SearchEvent.at)),
        )
        .where(
            col(SearchEvent.county) == county,
            col(SearchEvent.at) >= since,
            col(SearchEvent.resolved_at).is_(None),
            _missed(),
        )
        .group_by(col(SearchEvent.normalised))
        .order_by(func.count().desc(), func.max(SearchEvent.at).desc(), col(SearchEvent.normalised))
        .limit(limit)
    )
    if communities is not None:
        stmt = stmt.where(col(SearchEvent.community).in_(list(communities)))
    rows = (await session.execute(stmt)).all()
    return [(str(q), int(n), int(z or 0), int(o or 0), at) for q, n, z, o, at in rows]


async def sample_query(session: AsyncSession, normalised: str) -> str | None:
    stmt = select(SearchEvent.query).where(SearchEvent.normalised == normalised).order_by(col(SearchEvent.at).desc())
    return (await session.exec(stmt.limit(1))).first()


async def resolve(
    session: AsyncSession, county: str, normalised: str, communities: Collection[str] | None, at: dt.datetime
) -> int:
    stmt = update(SearchEvent).where(
        col(SearchEvent.county) == county,
        col(SearchEvent.normalised) == normalised,
        col(SearchEvent.resolved_at).is_(None),
        _missed(),
    )
    if communities is not None:
        stmt = stmt.where(col(SearchEvent.community).in_(list(communities)))
    result = await session.exec(stmt.values(resolved_at=at))
    return int(result.rowcount or 0)


async def opens_since(session: AsyncSession, since: dt.datetime) -> dict[tuple[str, str], int]:
    """How often each (county, item code) was opened from a search since ``since``."""
    stmt = (
        select(SearchEvent.county, SearchEvent.opened_code, func.count())
        .where(col(SearchEvent.opened_code).is_not(None), col(SearchEvent.opened_at) >= since)
        .group_by(col(SearchEvent.county), col(SearchEvent.opened_code))
    )
    return {(str(county or ""), str(code)): int(n) for county, code, n in (await session.exec(stmt)).all()}


async def claim_unassigned(session: AsyncSession, county: str) -> int:
    """Searches from before counties (county NULL) become ``county``'s."""
    result = await session.exec(update(SearchEvent).where(col(SearchEvent.county).is_(None)).values(county=county))
    return int(result.rowcount or 0)


async def synonym_groups(session: AsyncSession) -> list[list[str]]:
    rows = (await session.exec(select(SearchSynonym.words).order_by(col(SearchSynonym.id)))).all()
    return [str(w).split() for w in rows]


async def add_synonym_groups(session: AsyncSession, groups: Sequence[Sequence[str]]) -> int:
    known = {tuple(g) for g in await synonym_groups(session)}
    new = [g for g in groups if tuple(g) not in known]
    for group in new:
        session.add(SearchSynonym(words=" ".join(group)))
    await session.flush()
    return len(new)


async def visible_tips(session: AsyncSession) -> dict[tuple[str, str], list[str]]:
    """The visible tips of every item, by (county, item code)."""
    stmt = (
        select(Item.county, Item.code, Tip.body)
        .join(Item, col(Item.id) == col(Tip.item_id))
        .where(col(Tip.hidden).is_(False))
        .order_by(col(Tip.id))
    )
    out: dict[tuple[str, str], list[str]] = {}
    for county, code, body in (await session.exec(stmt)).all():
        out.setdefault((str(county), str(code)), []).append(str(body))
    return out

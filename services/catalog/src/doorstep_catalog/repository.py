"""Every catalog query."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Briefing, BriefingAttendee, CatalogState, Category, Item, ItemVersion, Tip

# ---------------------------------------------------------------- revision counter


# Every catalogue read starts with this: a Core select of the two columns, built once (no ORM
# entity, no per-request statement construction; the compiled form is cached by SQLAlchemy).
_STATE = CatalogState.__table__  # type: ignore[attr-defined]
_REVISION = select(_STATE.c.epoch, _STATE.c.revision)


async def catalog_revision(session: AsyncSession) -> tuple[str, int]:
    row = (await session.exec(_REVISION)).first()
    return (row[0], row[1]) if row else ("", 0)


async def bump_revision(session: AsyncSession) -> None:
    """+1 in the writer's transaction; creates the row race-free the first time."""
    for _ in range(2):
        result = await session.exec(
            update(CatalogState).where(col(CatalogState.id) == 1).values(revision=CatalogState.revision + 1)
        )
        if result.rowcount:
            return
        dialect = (await session.connection()).dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.exec(
            insert(CatalogState)
            .values(id=1, epoch=uuid.uuid4().hex, revision=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )


# ---------------------------------------------------------------- categories


async def list_categories(session: AsyncSession) -> Sequence[Category]:
    result = await session.exec(select(Category).order_by(col(Category.position), col(Category.code)))
    return result.all()


async def category_by_code(session: AsyncSession, code: str) -> Category | None:
    return (await session.exec(select(Category).where(Category.code == code))).first()


async def category_by_id(session: AsyncSession, category_id: int) -> Category | None:
    return await session.get(Category, category_id)


# ---------------------------------------------------------------- items


async def item_by_code(session: AsyncSession, code: str) -> Item | None:
    return (await session.exec(select(Item).where(Item.code == code))).first()


async def all_items(session: AsyncSession) -> Sequence[tuple[Item, str, str]]:
    """Every item with its category code and name, in a stable order."""
    stmt = (
        select(Item, Category.code, Category.name)
        .join(Category, col(Item.category_id) == col(Category.id))
        .order_by(col(Category.position), col(Item.id))
    )
    return (await session.exec(stmt)).all()


async def list_items(
    session: AsyncSession,
    *,
    statuses: Collection[str],
    category: str | None,
    proxy_eligible: bool | None,
    channel: str | None,
    codes: Collection[str] | None,
    after_code: str | None,
    limit: int | None,
) -> Sequence[tuple[Item, str]]:
    stmt = (
        select(Item, Category.code)
        .join(Category, col(Item.category_id) == col(Category.id))
        .where(col(Item.status).in_(list(statuses)))
    )
    if category is not None:
        stmt = stmt.where(Category.code == category)
    if proxy_eligible is not None:
        stmt = stmt.where(Item.proxy_eligible == proxy_eligible)
    if channel is not None:
        stmt = stmt.where(col(Item.channel_tags).contains(f",{channel},"))
    if codes is not None:
        stmt = stmt.where(col(Item.code).in_(list(codes)))
    if after_code is not None:
        stmt = stmt.where(col(Item.code) > after_code)
    stmt = stmt.order_by(col(Item.code))
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.exec(stmt)).all()


async def item_names(session: AsyncSession, codes: Collection[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await session.exec(select(Item.code, Item.name).where(col(Item.code).in_(list(codes))))
    return {str(code): str(name) for code, name in rows.all()}


# ---------------------------------------------------------------- versions and changes


async def latest_version(session: AsyncSession, item_id: int) -> ItemVersion | None:
    stmt = select(ItemVersion).where(ItemVersion.item_id == item_id).order_by(col(ItemVersion.number).desc()).limit(1)
    return (await session.exec(stmt)).first()


async def versions_of(session: AsyncSession, item_id: int, *, before: int | None, limit: int) -> Sequence[ItemVersion]:
    stmt = select(ItemVersion).where(ItemVersion.item_id == item_id)
    if before is not None:
        stmt = stmt.where(col(ItemVersion.number) < before)
    stmt = stmt.order_by(col(ItemVersion.number).desc()).limit(limit)
    return (await session.exec(stmt)).all()


async def version_of(session: AsyncSession, item_id: int, number: int) -> ItemVersion | None:
    stmt = select(ItemVersion).where(ItemVersion.item_id == item_id, ItemVersion.number == number)
    return (await session.exec(stmt)).first()


async def changes(
    session: AsyncSession,
    *,
    after_id: int | None,
    since: dt.datetime | None,
    limit: int,
    item_ids: Collection[int] | None = None,
) -> Sequence[tuple[ItemVersion, str]]:
    stmt = select(ItemVersion, Item.code).join(Item, col(Item.id) == col(ItemVersion.item_id))
    if after_id is not None:
        stmt = stmt.where(col(ItemVersion.id) > after_id)
    if since is not None:
        stmt = stmt.where(col(ItemVersion.changed_at) >= since)
    if item_ids is not None:
        stmt = stmt.where(col(ItemVersion.item_id).in_(list(item_ids)))
    stmt = stmt.order_by(col(ItemVersion.id)).limit(limit)
    return (await session.exec(stmt)).all()


async def last_change_id(session: AsyncSession) -> int:
    value = (await session.exec(select(func.max(ItemVersion.id)))).first()
    return int(value or 0)


# ---------------------------------------------------------------- tips


async def tips_of(
    session: AsyncSession, item_id: int, *, include_hidden: bool, after_id: int | None, limit: int
) -> Sequence[Tip]:
    stmt = select(Tip).where(Tip.item_id == item_id)
    if not include_hidden:
        stmt = stmt.where(col(Tip.hidden).is_(False))
    if after_id is not None:
        stmt = stmt.where(col(Tip.id) > after_id)
    return (await session.exec(stmt.order_by(col(Tip.id)).limit(limit))).all()


async def tip_by_id(session: AsyncSession, tip_id: int) -> Tip | None:
    return await session.get(Tip, tip_id)


async def tips_by_ids(session: AsyncSession, ids: Collection[int]) -> Sequence[tuple[Tip, str]]:
    if not ids:
        return []
    stmt = (
        select(Tip, Item.code)
        .join(Item, col(Item.id) == col(Tip.item_id))
        .where(col(Tip.id).in_(list(ids)))
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

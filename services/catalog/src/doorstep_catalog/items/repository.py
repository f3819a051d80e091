"""Every items query: the revision counter, categories, items and their latest version."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import CatalogRevision, Category, Item, ItemVersion

# ---------------------------------------------------------------- revision counter

# Every catalogue read starts with this: a Core select of the two columns, built once (no ORM
# entity, no per-request statement construction; the compiled form is cached by SQLAlchemy).
_STATE = CatalogRevision.__table__  # type: ignore[attr-defined]
_REVISION = select(_STATE.c.epoch, _STATE.c.revision)


# Revision bumps this process has committed: a replica's snapshot re-checks the revision at
# once after one (read-your-writes), and only every few hundred ms otherwise.
_committed_bumps = 0


def committed_bumps() -> int:
    return _committed_bumps


def _count_commit(_session: object) -> None:
    global _committed_bumps
    _committed_bumps += 1


async def catalog_revision(session: AsyncSession) -> tuple[str, int]:
    row = (await session.exec(_REVISION)).first()
    return (row[0], row[1]) if row else ("", 0)


async def bump_revision(session: AsyncSession) -> None:
    """+1 in the writer's transaction; creates the row race-free the first time. Counted in
    ``committed_bumps`` when (if) the transaction commits."""
    sync = session.sync_session
    if not sync.info.get("counts_revision_commits"):
        sync.info["counts_revision_commits"] = True
        event.listen(sync, "after_commit", _count_commit)
    for _ in range(2):
        result = await session.exec(
            update(CatalogRevision).where(col(CatalogRevision.id) == 1).values(revision=CatalogRevision.revision + 1)
        )
        if result.rowcount:
            return
        dialect = (await session.connection()).dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.exec(
            insert(CatalogRevision)
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


async def item_by_code(session: AsyncSession, county: str, code: str) -> Item | None:
    return (await session.exec(select(Item).where(Item.county == county, Item.code == code))).first()


async def item_codes(session: AsyncSession, county: str) -> set[str]:
    """Every code in ``county``'s handbook, whatever its status."""
    return set((await session.exec(select(Item.code).where(Item.county == county))).all())


async def published_items(session: AsyncSession, county: str) -> Sequence[Item]:
    """``county``'s published items, in catalogue order."""
    stmt = select(Item).where(Item.county == county, Item.status == "published").order_by(col(Item.id))
    return (await session.exec(stmt)).all()


async def claim_unassigned(session: AsyncSession, county: str) -> int:
    """Give the items from before counties (county '') to ``county``; how many there were."""
    result = await session.exec(update(Item).where(col(Item.county) == "").values(county=county))
    return int(result.rowcount or 0)


async def all_items(session: AsyncSession) -> Sequence[tuple[Item, str, str]]:
    """Every item with its category code and name, in a stable order."""
    stmt = (
        select(Item, Category.code, Category.name)
        .join(Category, col(Item.category_id) == col(Category.id))
        .order_by(col(Category.position), col(Item.id))
    )
    return (await session.exec(stmt)).all()


async def item_names(session: AsyncSession, county: str, codes: Collection[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await session.exec(
        select(Item.code, Item.name).where(Item.county == county, col(Item.code).in_(list(codes)))
    )
    return {str(code): str(name) for code, name in rows.all()}


async def latest_version(session: AsyncSession, item_id: int) -> ItemVersion | None:
    stmt = select(ItemVersion).where(ItemVersion.item_id == item_id).order_by(col(ItemVersion.number).desc()).limit(1)
    return (await session.exec(stmt)).first()


async def update_item_if_version(session: AsyncSession, item_id: int, version: int, values: dict[str, Any]) -> bool:
    """Write an edit conditional on the version it was read at; False if another got there first."""
    result = await session.exec(
        update(Item).where(col(Item.id) == item_id, col(Item.version) == version).values(**values)
    )
    return result.rowcount == 1

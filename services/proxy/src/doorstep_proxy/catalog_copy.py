"""The last good catalogue, kept in the proxy's database: a restart during a catalog outage (or a
new replica) still has the copy every replica last confirmed, and says how old it is."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Text
from sqlmodel import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.db.columns import UTCDateTime

from .db import ProxyModel

KEY = "export"


class CatalogueCopy(ProxyModel, table=True):
    """One row: the catalog's export as last received, its ETag, and when the catalog last
    confirmed it (a 200 or a 304)."""

    __tablename__ = "catalogue_copy"

    key: str = Field(primary_key=True, max_length=16)
    revision: int
    etag: str | None = Field(default=None, max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    confirmed_at: dt.datetime = Field(sa_type=UTCDateTime)


async def load(session: AsyncSession) -> CatalogueCopy | None:
    return await session.get(CatalogueCopy, KEY)


async def save(
    session: AsyncSession, *, revision: int, etag: str | None, body: str | None, confirmed_at: dt.datetime
) -> None:
    """Store a new copy (``body``), or only its confirmation (``body=None``); an older revision
    never replaces a newer one another replica stored."""
    row = await session.get(CatalogueCopy, KEY, with_for_update=True)
    if row is None:
        if body is None:
            return
        session.add(CatalogueCopy(key=KEY, revision=revision, etag=etag, body=body, confirmed_at=confirmed_at))
    elif body is not None and revision >= row.revision:
        row.revision, row.etag, row.body, row.confirmed_at = revision, etag, body, confirmed_at
    elif revision == row.revision:
        row.confirmed_at = max(row.confirmed_at, confirmed_at)
    await session.flush()

"""The last directory a service received from the gateway, kept in its own database: a restart
(or a new replica) while the gateway is down still validates against the copy every replica
last confirmed, and says how old it is."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from .columns import UTCDateTime

logger = logging.getLogger("doorstep.directory")

KEY = "export"


def directory_copy_table(metadata: MetaData) -> Table:
    """One row: the gateway's export as last received, its ETag, when the gateway confirmed it."""
    return Table(
        "directory_copy",
        metadata,
        Column("key", String(16), primary_key=True),
        Column("revision", String(64), nullable=False),
        Column("etag", String(200), nullable=True),
        Column("body", Text(), nullable=False),
        Column("confirmed_at", UTCDateTime(), nullable=False),
    )


@dataclass(frozen=True)
class StoredDirectory:
    document: dict[str, Any]
    etag: str | None
    confirmed_at: dt.datetime


class DirectoryStore:
    """Reads and writes the one row; a failure is logged and costs only the warm restart."""

    def __init__(self, table: Table, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.table = table
        self.sessionmaker = sessionmaker

    async def load(self) -> StoredDirectory | None:
        try:
            async with self.sessionmaker() as session:
                row = (await session.execute(select(self.table).where(self.table.c.key == KEY))).first()
        except Exception as exc:  # not migrated yet, database down: start without it
            logger.warning("could not read the stored directory: %s", type(exc).__name__)
            return None
        if row is None:
            return None
        return StoredDirectory(json.loads(row.body), row.etag, row.confirmed_at)

    async def save(self, document: dict[str, Any], etag: str | None, confirmed_at: dt.datetime) -> None:
        values = {
            "revision": str(document.get("revision", "")),
            "etag": etag,
            "body": json.dumps(document, ensure_ascii=False, separators=(",", ":")),
            "confirmed_at": confirmed_at,
        }
        try:
            async with self.sessionmaker() as session:
                done = await session.execute(update(self.table).where(self.table.c.key == KEY).values(**values))
                if not getattr(done, "rowcount", 0):
                    await session.execute(self.table.insert().values(key=KEY, **values))
                await session.commit()
        except Exception as exc:  # another replica inserted first, or the database is down
            logger.warning("could not store the directory copy: %s", type(exc).__name__)

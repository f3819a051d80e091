"""The proxy's one MetaData and the base of every table, the idempotency store, and what bulk
statements share (IN-list chunks, the dialect's INSERT … ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.db import new_registry
from doorstep_shared.db.idempotency import idempotency_table


class ProxyModel(SQLModel, registry=new_registry()):
    """Base of this service's tables: its own MetaData, so services never share tables."""


metadata = ProxyModel.metadata

# Every POST of the proxy honours Idempotency-Key (offline phones retry): see CASES.md.
IDEMPOTENCY = idempotency_table(metadata)

CHUNK = 500  # IN-list size: well under SQLite's and asyncpg's bind limits


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def dialect_insert(session: AsyncSession) -> Any:
    """``insert`` of the session's dialect, the one with ``on_conflict_do_…`` (PostgreSQL or SQLite)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert

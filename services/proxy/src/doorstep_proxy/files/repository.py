"""Every query for material files and their sealed parts.

Tenancy (``tenancy.scoped``): a file is visible exactly when its case is (the file's query
joins the case and scopes the case), so another community's file is absent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal

from ..cases.models import ProxyCase
from ..db import chunks
from ..tenancy import scoped
from .models import CaseFile, CaseFilePart


def _visible(stmt: Any, principal: Principal) -> Any:
    """Files of the cases the principal may see: the case's own rule (a machine client sees the
    files of the cases made from its requests, and no other)."""
    return scoped(stmt.join(ProxyCase, col(ProxyCase.id) == col(CaseFile.case_id)), ProxyCase, principal)


async def get_file(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, file_id: uuid.UUID, *, for_update: bool = False
) -> CaseFile | None:
    stmt = _visible(select(CaseFile), principal).where(col(CaseFile.id) == file_id, col(CaseFile.case_id) == case_id)
    if for_update:
        stmt = stmt.with_for_update(of=CaseFile)  # the file's row, not its case's
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_any(session: AsyncSession, file_id: uuid.UUID) -> CaseFile | None:
    """A file by id whatever its case (a retried client id must not land on another case)."""
    return await session.get(CaseFile, file_id)


async def files_of(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> list[CaseFile]:
    stmt = _visible(select(CaseFile), principal).where(col(CaseFile.case_id) == case_id)
    stmt = stmt.order_by(col(CaseFile.position), col(CaseFile.created_at), col(CaseFile.id))
    return list((await session.execute(stmt)).scalars().all())


async def count_ready(session: AsyncSession, case_id: uuid.UUID, position: int) -> int:
    stmt = select(func.count()).where(
        col(CaseFile.case_id) == case_id, col(CaseFile.position) == position, col(CaseFile.status) == "ready"
    )
    return int((await session.execute(stmt)).scalar_one())


def add(session: AsyncSession, *rows: Any) -> None:
    session.add_all(rows)


async def parts(session: AsyncSession, file_id: uuid.UUID, kind: str) -> list[CaseFilePart]:
    stmt = (
        select(CaseFilePart)
        .where(col(CaseFilePart.file_id) == file_id, col(CaseFilePart.kind) == kind)
        .order_by(col(CaseFilePart.offset))
    )
    return list((await session.execute(stmt)).scalars().all())


async def drop_parts(session: AsyncSession, file_id: uuid.UUID, kind: str) -> None:
    await session.execute(
        delete(CaseFilePart).where(col(CaseFilePart.file_id) == file_id, col(CaseFilePart.kind) == kind)
    )


async def delete_file(session: AsyncSession, file_id: uuid.UUID) -> None:
    await session.execute(delete(CaseFilePart).where(col(CaseFilePart.file_id) == file_id))
    await session.execute(delete(CaseFile).where(col(CaseFile.id) == file_id))


async def erase_for_residents(session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> int:
    """Delete every file (and part) of these residents' cases; returns the files deleted."""
    erased = 0
    for batch in chunks(list(resident_ids)):
        cases = select(col(ProxyCase.id)).where(col(ProxyCase.resident_id).in_(list(batch)))
        ids = list(
            (await session.execute(select(col(CaseFile.id)).where(col(CaseFile.case_id).in_(cases)))).scalars().all()
        )
        for id_batch in chunks(ids):
            await session.execute(delete(CaseFilePart).where(col(CaseFilePart.file_id).in_(list(id_batch))))
            result: Any = await session.execute(delete(CaseFile).where(col(CaseFile.id).in_(list(id_batch))))
            erased += int(result.rowcount or 0)
    return erased

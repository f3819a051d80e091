"""Every query for files (a case's materials', a visit's) and their sealed parts.

Tenancy (``tenancy.scoped``): a file is visible exactly when its case (or visit) is (the file's
query joins the case or visit and scopes it), so another community's file is absent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal

from ..cases.models import ProxyCase, Visit
from ..db import chunks
from ..tenancy import scoped
from .models import CaseFile, CaseFilePart, VisitFile, VisitFilePart

AnyFile = CaseFile | VisitFile
PARTS: dict[type, Any] = {CaseFile: CaseFilePart, VisitFile: VisitFilePart}


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


async def parts(session: AsyncSession, f: AnyFile, kind: str) -> list[Any]:
    part = PARTS[type(f)]
    stmt = select(part).where(col(part.file_id) == f.id, col(part.kind) == kind).order_by(col(part.offset))
    return list((await session.execute(stmt)).scalars().all())


async def drop_parts(session: AsyncSession, f: AnyFile, kind: str) -> None:
    part = PARTS[type(f)]
    await session.execute(delete(part).where(col(part.file_id) == f.id, col(part.kind) == kind))


async def delete_file(session: AsyncSession, f: AnyFile) -> None:
    await session.execute(delete(PARTS[type(f)]).where(col(PARTS[type(f)].file_id) == f.id))
    await session.execute(delete(type(f)).where(col(type(f).id) == f.id))


# --- visit files ---------------------------------------------------------------------------


def _visible_on_visits(stmt: Any, principal: Principal) -> Any:
    """Files of the visits the principal may see (the visit's own rule)."""
    return scoped(stmt.join(Visit, col(Visit.id) == col(VisitFile.visit_id)), Visit, principal)


async def get_visit_file(
    session: AsyncSession, principal: Principal, visit_id: uuid.UUID, file_id: uuid.UUID, *, for_update: bool = False
) -> VisitFile | None:
    stmt = _visible_on_visits(select(VisitFile), principal).where(
        col(VisitFile.id) == file_id, col(VisitFile.visit_id) == visit_id
    )
    if for_update:
        stmt = stmt.with_for_update(of=VisitFile)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_any_visit_file(session: AsyncSession, file_id: uuid.UUID) -> VisitFile | None:
    return await session.get(VisitFile, file_id)


async def files_of_visit(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> list[VisitFile]:
    stmt = _visible_on_visits(select(VisitFile), principal).where(col(VisitFile.visit_id) == visit_id)
    stmt = stmt.order_by(col(VisitFile.created_at), col(VisitFile.id))
    return list((await session.execute(stmt)).scalars().all())


async def erase_for_residents(session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> int:
    """Delete every file (and part) of these residents' cases and visits; returns the files deleted."""
    erased = 0
    for batch in chunks(list(resident_ids)):
        cases = select(col(ProxyCase.id)).where(col(ProxyCase.resident_id).in_(list(batch)))
        visits = select(col(Visit.id)).where(col(Visit.resident_id).in_(list(batch)))
        for model, owner, owners in ((CaseFile, CaseFile.case_id, cases), (VisitFile, VisitFile.visit_id, visits)):
            ids = list((await session.execute(select(col(model.id)).where(col(owner).in_(owners)))).scalars().all())
            part = PARTS[model]
            for id_batch in chunks(ids):
                await session.execute(delete(part).where(col(part.file_id).in_(list(id_batch))))
                result: Any = await session.execute(delete(model).where(col(model.id).in_(list(id_batch))))
                erased += int(result.rowcount or 0)
    return erased

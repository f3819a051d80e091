"""Rules for a visit's files (the signed 代办委托书, the notice left on a door, the state of a
home): the same resumable upload, check by content, metadata stripping, sealed storage and
audited reads as a material's files (``service.py``), on a visit instead of a case's material.

A visit takes files whatever its status (a photo is often sent once the signal is back, after
check-out); whoever may see the visit (``tenancy.scoped`` on the visit) sees its files, and
whoever may change visits (``cases:write``) may add or delete them. They go with the visit (a
planned visit deleted) and with its resident under the retention rule. No FastAPI, no commit.
"""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http.errors import Conflict, NotFound
from doorstep_shared.pii import PiiCipher

from ..cases import visits
from . import repository as repo
from .models import VisitFile
from .schemas import FileStart, VisitFileRead
from .service import Download, Limits, add_upload, read_audited, read_fields, take_chunk


def visit_file_read(f: VisitFile) -> VisitFileRead:
    return VisitFileRead(**read_fields(f, f"/api/v1/proxy/visits/{f.visit_id}/files/{f.id}"), visit_id=f.visit_id)


async def _file(
    session: AsyncSession, principal: Principal, visit_id: uuid.UUID, file_id: uuid.UUID, *, for_update: bool = False
) -> VisitFile:
    await visits.get_visit(session, principal, visit_id)  # 404 for a visit the caller may not see
    found = await repo.get_visit_file(session, principal, visit_id, file_id, for_update=for_update)
    if found is None:
        raise NotFound("No such file on this visit.", code="visit_file_not_found")
    return found


async def start_upload(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    visit_id: uuid.UUID,
    data: FileStart,
    limits: Limits,
) -> tuple[VisitFile, bool]:
    """A new upload of ``data.size`` bytes on the visit (or the one already started under ``data.id``)."""
    visit = await visits.get_visit(session, principal, visit_id)
    if data.id is not None:
        existing = await repo.get_any_visit_file(session, data.id)
        if existing is not None:
            if existing.visit_id != visit.id or existing.size != data.size:
                raise Conflict("This file id is already taken; generate a new UUID.", code="file_id_taken")
            return existing, False
    owner = {"visit_id": visit.id, "community": visit.community, "grid": visit.grid}
    row = await add_upload(session, VisitFile, principal, cipher, data, limits, owner)
    return row, True


async def receive_chunk(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    visit_id: uuid.UUID,
    file_id: uuid.UUID,
    content_range: str | None,
    body: bytes,
    limits: Limits,
) -> VisitFile:
    """As a material file's chunk (``service.receive_chunk``): idempotent, resumable."""
    f = await _file(session, principal, visit_id, file_id, for_update=True)
    await take_chunk(session, cipher, f, content_range, body, limits)
    return f


async def get_file(session: AsyncSession, principal: Principal, visit_id: uuid.UUID, file_id: uuid.UUID) -> VisitFile:
    return await _file(session, principal, visit_id, file_id)


async def list_files(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> list[VisitFile]:
    await visits.get_visit(session, principal, visit_id)
    return await repo.files_of_visit(session, principal, visit_id)


async def download(
    session: AsyncSession, principal: Principal, cipher: PiiCipher, visit_id: uuid.UUID, file_id: uuid.UUID, kind: str
) -> Download:
    """The stored file or its thumbnail, the read recorded in the audit log (``visit_file.*_read``)."""
    f = await _file(session, principal, visit_id, file_id)
    return await read_audited(session, principal, cipher, f, kind, "visit_file", {"visit_id": str(f.visit_id)})


async def delete_file(session: AsyncSession, principal: Principal, visit_id: uuid.UUID, file_id: uuid.UUID) -> None:
    f = await _file(session, principal, visit_id, file_id, for_update=True)
    await repo.delete_file(session, f)

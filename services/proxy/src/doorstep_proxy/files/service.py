"""Rules for material files: starting an upload, taking its chunks (idempotent, resumable, a cut
chunk keeps the bytes that arrived), checking and storing the finished file sealed with the PII
keys, reading it back (audited), and erasing a resident's files. The upload, storage and audited
read are shared with a visit's files (``visit_files.py``). No FastAPI here and no commit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.db.audit import AuditEvent
from doorstep_shared.http.errors import Conflict, Invalid, NotFound, PayloadTooLarge
from doorstep_shared.pii import PiiCipher

from ..audit import audit_log
from ..cases import service as cases
from ..cases.models import ProxyCase
from ..cases.schemas import ItemSnapshot
from . import content
from . import repository as repo
from .models import CaseFile, CaseFilePart, VisitFile
from .schemas import CaseFileRead, FileStart

F = TypeVar("F", CaseFile, VisitFile)
PART_BYTES = 256 * 1024  # one sealed row per 256 KiB: a bytea/blob row stays small
RANGE = re.compile(r"^bytes (\d{1,12})-(\d{1,12})/(\d{1,12})$")


class FileRefused(Invalid):
    """The finished upload is not an accepted file: it is deleted, and that deletion is kept."""

    keep_changes = True


@dataclass(frozen=True)
class Limits:
    """From the settings: the largest file, the most pixels, the thumbnail's longer edge."""

    max_bytes: int
    max_pixels: int
    thumbnail_edge: int


@dataclass(frozen=True)
class Chunk:
    """A parsed ``Content-Range: bytes start-end/total`` and the bytes that arrived."""

    start: int
    end: int
    total: int
    body: bytes


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str


def parse_range(header: str | None, body: bytes) -> Chunk:
    match = RANGE.match(header or "")
    if match is None:
        raise Invalid.field(
            "header.content-range", "expected `bytes <first>-<last>/<total>`", code="content_range_invalid"
        )
    start, end, total = (int(g) for g in match.groups())
    if start > end or end >= total:
        raise Invalid.field("header.content-range", "first ≤ last < total", code="content_range_invalid")
    if len(body) > end - start + 1:
        raise Invalid.field("header.content-range", "the body is longer than the range", code="content_range_invalid")
    return Chunk(start, end, total, body)


def read_fields(f: repo.AnyFile, base: str) -> dict[str, Any]:
    """The fields every file answer has; ``base`` is the file's own path."""
    ready = f.status == "ready"
    return {
        **f.model_dump(
            include={
                "id",
                "status",
                "size",
                "received",
                "content_type",
                "stored_size",
                "width",
                "height",
                "uploaded_by",
                "created_at",
                "completed_at",
            }
        ),
        "content_url": f"{base}/content" if ready else None,
        "thumbnail_url": f"{base}/thumbnail" if ready and f.has_thumbnail else None,
    }


def file_read(f: CaseFile) -> CaseFileRead:
    base = f"/api/v1/proxy/cases/{f.case_id}/materials/{f.position}/files/{f.id}"
    return CaseFileRead(**read_fields(f, base), case_id=f.case_id, position=f.position)


def _material(case: ProxyCase, position: int) -> None:
    if not 1 <= position <= len(ItemSnapshot.model_validate(case.snapshot).materials):
        raise NotFound("No such material on this case.", code="material_not_found")


def _open_for_materials(case: ProxyCase) -> None:
    if case.status not in cases.MATERIAL_STAGES:
        raise Conflict(
            f"Materials of a {case.status} case can no longer change.",
            code="materials_locked",
            status_now=case.status,
        )


async def _file(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    position: int,
    file_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> CaseFile:
    await cases.get_case(session, principal, case_id)  # 404 for a case the caller may not see
    found = await repo.get_file(session, principal, case_id, file_id, for_update=for_update)
    if found is None or found.position != position:
        raise NotFound("No such file on this material.", code="file_not_found")
    return found


# --- uploading ---------------------------------------------------------------------------


async def start_upload(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    case_id: uuid.UUID,
    position: int,
    data: FileStart,
    limits: Limits,
) -> tuple[CaseFile, bool]:
    """A new upload of ``data.size`` bytes (or the one already started under ``data.id``)."""
    case = await cases.get_case(session, principal, case_id)
    _material(case, position)
    if data.id is not None:
        existing = await repo.get_any(session, data.id)
        if existing is not None:
            if existing.case_id != case.id or existing.position != position or existing.size != data.size:
                raise Conflict("This file id is already taken; generate a new UUID.", code="file_id_taken")
            return existing, False
    _open_for_materials(case)
    owner = {"case_id": case.id, "position": position, "community": case.community, "grid": case.grid}
    row = await add_upload(session, CaseFile, principal, cipher, data, limits, owner)
    return row, True


async def add_upload(
    session: AsyncSession,
    model: type[F],
    principal: Principal,
    cipher: PiiCipher,
    data: FileStart,
    limits: Limits,
    owner: dict[str, Any],
) -> F:
    """A new upload of ``data.size`` bytes by ``principal`` (within the size limit), belonging to
    ``owner`` (its case and material, or its visit, with their community and grid)."""
    check_size(data.size, limits)
    row = model(
        id=data.id or uuid.uuid4(),
        size=data.size,
        pii_kid=cipher.active_kid,
        uploaded_by=principal.subject,
        created_at=utcnow(),
        **owner,
    )
    repo.add(session, row)
    await session.flush()
    return row


def seal_parts(
    cipher: PiiCipher, file_id: uuid.UUID, kind: str, offset: int, data: bytes, part: Any = CaseFilePart
) -> list[Any]:
    """``data`` (starting at byte ``offset`` of the file) as sealed rows of the ``part`` table."""
    return [
        part(
            file_id=file_id,
            kind=kind,
            offset=offset + at,
            length=len(data[at : at + PART_BYTES]),
            data=cipher.seal(data[at : at + PART_BYTES], context=f"file:{file_id}:{kind}:{offset + at}"),
        )
        for at in range(0, len(data), PART_BYTES)
    ]


async def _read_parts(session: AsyncSession, cipher: PiiCipher, f: repo.AnyFile, kind: str) -> bytes:
    return b"".join(
        cipher.open(p.data, context=f"file:{f.id}:{kind}:{p.offset}") for p in await repo.parts(session, f, kind)
    )


def _seal(cipher: PiiCipher, f: repo.AnyFile, kind: str, offset: int, data: bytes) -> list[Any]:
    return seal_parts(cipher, f.id, kind, offset, data, repo.PARTS[type(f)])


async def receive_chunk(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    case_id: uuid.UUID,
    position: int,
    file_id: uuid.UUID,
    content_range: str | None,
    body: bytes,
    limits: Limits,
) -> CaseFile:
    """Keep the chunk's bytes the file does not have yet; finish the file on its last byte.

    Bytes before ``received`` were stored already (a re-sent chunk is a no-op); a chunk starting
    after ``received`` would leave a hole (409, the answer says where to resume); a chunk cut
    short (the connection dropped) keeps the bytes that arrived, so the file's stored prefix is
    always contiguous."""
    f = await _file(session, principal, case_id, position, file_id, for_update=True)
    if await take_chunk(session, cipher, f, content_range, body, limits):
        case = await cases.get_case(session, principal, f.case_id)
        await cases.record_event(
            session,
            case,
            "file",
            principal.subject,
            utcnow(),
            details={"position": f.position, "file_id": str(f.id), "content_type": f.content_type},
        )
        await session.flush()
    return f


async def take_chunk(
    session: AsyncSession, cipher: PiiCipher, f: repo.AnyFile, content_range: str | None, body: bytes, limits: Limits
) -> bool:
    """Keep what the file (of a case or a visit, locked) lacks of this chunk; True when it was
    the last byte and the file is now stored (see ``receive_chunk``)."""
    chunk = parse_range(content_range, body)
    if chunk.total != f.size:
        raise Conflict(f"This upload is {f.size} bytes, not {chunk.total}.", code="upload_size_mismatch", size=f.size)
    if f.status == "ready":
        return False
    if chunk.start > f.received:
        raise Conflict(
            f"The server has bytes 0–{f.received - 1}; resume at byte {f.received}.",
            code="upload_gap",
            received=f.received,
        )
    fresh = chunk.body[f.received - chunk.start :]
    if fresh:
        repo.add(session, *_seal(cipher, f, "upload", f.received, fresh))
        f.received += len(fresh)
        repo.add(session, f)
        await session.flush()
    if f.received < f.size:
        return False
    await _finish(session, cipher, f, limits)
    return True


async def _finish(session: AsyncSession, cipher: PiiCipher, f: repo.AnyFile, limits: Limits) -> None:
    raw = await _read_parts(session, cipher, f, "upload")
    try:
        prepared = await anyio.to_thread.run_sync(
            lambda: content.prepare(raw, max_pixels=limits.max_pixels, thumbnail_edge=limits.thumbnail_edge)
        )
    except content.Refused as refused:
        await repo.delete_file(session, f)
        raise FileRefused(str(refused), code=refused.code) from None
    await repo.drop_parts(session, f, "upload")
    repo.add(session, *_seal(cipher, f, "content", 0, prepared.data))
    if prepared.thumbnail is not None:
        repo.add(session, *_seal(cipher, f, "thumbnail", 0, prepared.thumbnail))
    f.status = "ready"
    f.content_type = prepared.content_type
    f.stored_size = len(prepared.data)
    f.width, f.height = prepared.width, prepared.height
    f.has_thumbnail = prepared.thumbnail is not None
    f.pii_kid = cipher.active_kid
    f.completed_at = utcnow()
    repo.add(session, f)
    await session.flush()


def check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise PayloadTooLarge(
            f"Files are at most {limits.max_bytes} bytes.", code="file_too_large", max_bytes=limits.max_bytes
        )


# --- reading -----------------------------------------------------------------------------


async def list_files(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> list[CaseFile]:
    await cases.get_case(session, principal, case_id)
    return await repo.files_of(session, principal, case_id)


async def get_file(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, position: int, file_id: uuid.UUID
) -> CaseFile:
    return await _file(session, principal, case_id, position, file_id)


async def download(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    case_id: uuid.UUID,
    position: int,
    file_id: uuid.UUID,
    kind: str,
) -> Download:
    """The stored file (``content``) or its thumbnail, recorded in the audit log first."""
    f = await _file(session, principal, case_id, position, file_id)
    return await read_audited(
        session, principal, cipher, f, kind, "case_file", {"case_id": str(f.case_id), "position": f.position}
    )


async def read_audited(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    f: repo.AnyFile,
    kind: str,
    subject_type: str,
    details: dict[str, Any],
) -> Download:
    """A finished file's content or thumbnail, the read appended to the audit log first."""
    if f.status != "ready":
        raise Conflict("The upload is not finished.", code="upload_incomplete", received=f.received)
    if kind == "thumbnail" and not f.has_thumbnail:
        raise NotFound("This file has no thumbnail (PDF).", code="thumbnail_not_found")
    await audit_log.append(
        session,
        AuditEvent(
            actor=principal.subject,
            actor_kind=principal.kind,
            action=f"{subject_type}.{kind}_read",
            subject_type=subject_type,
            subject_id=str(f.id),
            community=f.community,
            details={**details, "content_type": f.content_type},
        ),
    )
    data = await _read_parts(session, cipher, f, kind)
    return Download(data=data, content_type=(f.content_type or content.PDF) if kind == "content" else content.JPEG)


async def delete_file(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, position: int, file_id: uuid.UUID
) -> None:
    f = await _file(session, principal, case_id, position, file_id, for_update=True)
    case = await cases.get_case(session, principal, case_id)
    _open_for_materials(case)
    if (
        f.status == "ready"
        and await cases.ticked_with_evidence(session, case, position)
        and await repo.count_ready(session, case.id, position) <= 1
    ):
        raise Conflict(
            "The material is ticked on the strength of this file: un-tick it before deleting its last file.",
            code="material_evidence_in_use",
            position=position,
        )
    await repo.delete_file(session, f)
    if f.status == "ready":
        await cases.record_event(
            session,
            await cases.get_case(session, principal, case_id),
            "file",
            principal.subject,
            utcnow(),
            details={"position": f.position, "file_id": str(f.id), "deleted": True},
        )


# --- retention ---------------------------------------------------------------------------


async def erase_for_residents(session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> int:
    """Every file of these residents' cases goes (the retention purge); returns how many."""
    return await repo.erase_for_residents(session, resident_ids)

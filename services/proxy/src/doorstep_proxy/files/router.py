"""HTTP routes for material files: start an upload, send chunks (``Content-Range``), ask how
far it got, list, download (audited), thumbnail, delete. Thin: parse, call, answer."""

from __future__ import annotations

import uuid
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Path, Request, Response
from starlette.requests import ClientDisconnect

from doorstep_shared.app import DbSession, WritesOnRead
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems
from doorstep_shared.http.errors import PayloadTooLarge

from ..config import ProxySettings
from ..deps import AppSettings, Cipher
from . import service
from .schemas import CaseFileRead, FileRead, FileStart

R = TypeVar("R", bound=FileRead)
router = authenticated_router(prefix="/api/v1/proxy", tags=["files"])

FilesReader = Annotated[Principal, Depends(require(Permission.CASES_READ))]
FilesWriter = Annotated[Principal, Depends(require(Permission.CASES_WRITE))]
Position = Annotated[int, Path(ge=1, le=100, description="The material's position in the checklist")]
BASE = "/cases/{case_id}/materials/{position}/files"
BINARY = {"schema": {"type": "string", "format": "binary"}}
CHUNK_BODY = {
    "required": True,
    "content": {
        "application/octet-stream": {
            "schema": {"type": "string", "format": "binary"},
            "example": "(bytes first…last of the file, as Content-Range says)",
        }
    },
}


def limits(settings: ProxySettings) -> service.Limits:
    return service.Limits(
        max_bytes=settings.file_max_bytes,
        max_pixels=settings.file_max_pixels,
        thumbnail_edge=settings.file_thumbnail_edge,
    )


def progress(response: Response, f: R) -> R:
    response.headers["Upload-Offset"] = str(f.received)
    if f.received:
        response.headers["Range"] = f"bytes=0-{f.received - 1}"
    return f


@router.post(
    BASE,
    response_model=CaseFileRead,
    status_code=201,
    summary="Start uploading a photo or scan of a material (then PUT its bytes in Content-Range chunks)",
    responses={
        **problems(404, 409, 413, 422),
        200: {"model": CaseFileRead, "description": "Already started (same id)"},
    },
)
async def start_upload(
    case_id: uuid.UUID,
    position: Position,
    data: FileStart,
    session: DbSession,
    principal: FilesWriter,
    cipher: Cipher,
    settings: AppSettings,
    response: Response,
) -> CaseFileRead:
    f, created = await service.start_upload(session, principal, cipher, case_id, position, data, limits(settings))
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/proxy/cases/{case_id}/materials/{position}/files/{f.id}"
    return progress(response, service.file_read(f))


async def read_chunk(request: Request, settings: ProxySettings) -> bytes:
    """The chunk's body as far as it arrived (a dropped connection keeps what came)."""
    body = bytearray()
    try:
        async for piece in request.stream():
            body += piece
            if len(body) > settings.file_max_bytes:
                raise PayloadTooLarge(f"Files are at most {settings.file_max_bytes} bytes.", code="file_too_large")
    except ClientDisconnect:
        pass  # keep what arrived: the stored prefix stays contiguous, the client resumes from it
    return bytes(body)


def file_response(got: service.Download) -> Response:
    return Response(
        content=got.data,
        media_type=got.content_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.put(
    BASE + "/{file_id}",
    response_model=CaseFileRead,
    summary="Send a chunk (Content-Range: bytes first-last/total); 202 until the last byte, then 200",
    description="Idempotent: bytes the server has are skipped, so re-sending a chunk is harmless. "
    "A chunk that starts after the bytes the server has is refused (409 `upload_gap`, with `received`). "
    "A chunk cut short keeps the bytes that arrived. After the last byte the file is checked by its "
    "content (JPEG, PNG or PDF), stripped of metadata and stored encrypted.",
    openapi_extra={"requestBody": CHUNK_BODY},
    responses={**problems(404, 409, 413, 422), 202: {"model": CaseFileRead, "description": "Chunk kept; more to come"}},
)
async def put_chunk(
    case_id: uuid.UUID,
    position: Position,
    file_id: uuid.UUID,
    request: Request,
    session: DbSession,
    principal: FilesWriter,
    cipher: Cipher,
    settings: AppSettings,
    response: Response,
    content_range: Annotated[
        str | None, Header(alias="Content-Range", max_length=64, description="bytes first-last/total (required)")
    ] = None,
) -> CaseFileRead:
    body = await read_chunk(request, settings)
    f = await service.receive_chunk(
        session, principal, cipher, case_id, position, file_id, content_range, body, limits(settings)
    )
    response.status_code = 200 if f.status == "ready" else 202
    return progress(response, service.file_read(f))


@router.get(
    BASE + "/{file_id}",
    response_model=CaseFileRead,
    summary="One file: how far its upload got (`received`, Upload-Offset) or what was stored",
    responses=problems(404, 422),
)
async def get_file(
    case_id: uuid.UUID,
    position: Position,
    file_id: uuid.UUID,
    session: DbSession,
    principal: FilesReader,
    response: Response,
) -> CaseFileRead:
    f = await service.get_file(session, principal, case_id, position, file_id)
    return progress(response, service.file_read(f))


@router.get(
    "/cases/{case_id}/files",
    response_model=list[CaseFileRead],
    summary="Every file of a case's materials, with thumbnail links for lists",
    responses=problems(404, 422),
)
async def list_files(case_id: uuid.UUID, session: DbSession, principal: FilesReader) -> list[CaseFileRead]:
    return [service.file_read(f) for f in await service.list_files(session, principal, case_id)]


async def _download(
    kind: str,
    case_id: uuid.UUID,
    position: int,
    file_id: uuid.UUID,
    session: DbSession,
    principal: Principal,
    cipher: Cipher,
) -> Response:
    return file_response(await service.download(session, principal, cipher, case_id, position, file_id, kind))


@router.get(
    BASE + "/{file_id}/content",
    response_class=Response,
    summary="Download the stored file (recorded in the audit log)",
    dependencies=[WritesOnRead],
    responses={
        **problems(404, 409, 422),
        200: {
            "content": {"application/octet-stream": BINARY},  # one type: a generated client takes one per answer
            "description": "The file: image/jpeg, image/png or application/pdf (its Content-Type says which)",
        },
    },
)
async def download_content(
    case_id: uuid.UUID,
    position: Position,
    file_id: uuid.UUID,
    session: DbSession,
    principal: FilesReader,
    cipher: Cipher,
) -> Response:
    return await _download("content", case_id, position, file_id, session, principal, cipher)


@router.get(
    BASE + "/{file_id}/thumbnail",
    response_class=Response,
    summary="A small JPEG of a photo for lists (recorded in the audit log)",
    dependencies=[WritesOnRead],
    responses={
        **problems(404, 409, 422),
        200: {"content": {"application/octet-stream": BINARY}, "description": "The thumbnail (image/jpeg)"},
    },
)
async def download_thumbnail(
    case_id: uuid.UUID,
    position: Position,
    file_id: uuid.UUID,
    session: DbSession,
    principal: FilesReader,
    cipher: Cipher,
) -> Response:
    return await _download("thumbnail", case_id, position, file_id, session, principal, cipher)


@router.delete(
    BASE + "/{file_id}",
    status_code=204,
    summary="Delete a file (a wrong photo, an abandoned upload) while the materials can change",
    responses=problems(404, 409, 422),
)
async def delete_file(
    case_id: uuid.UUID,
    position: Position,
    file_id: uuid.UUID,
    session: DbSession,
    principal: FilesWriter,
) -> Response:
    await service.delete_file(session, principal, case_id, position, file_id)
    return Response(status_code=204)

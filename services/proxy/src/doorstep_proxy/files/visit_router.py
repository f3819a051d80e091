"""HTTP routes for a visit's files: the same resumable protocol as a material's files
(``router.py``) on ``/visits/{visit_id}/files``. Thin: parse, call, answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Request, Response

from doorstep_shared.app import DbSession, WritesOnRead
from doorstep_shared.auth.security import authenticated_router
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems

from ..deps import AppSettings, Cipher
from . import visit_files
from .router import BINARY, CHUNK_BODY, FilesReader, FilesWriter, file_response, limits, progress, read_chunk
from .schemas import FileStart, VisitFileRead

router = authenticated_router(prefix="/api/v1/proxy", tags=["files"])

BASE = "/visits/{visit_id}/files"


@router.post(
    BASE,
    response_model=VisitFileRead,
    status_code=201,
    summary="Start uploading a photo or scan taken on a visit (then PUT its bytes in Content-Range chunks)",
    responses={**problems(404, 409, 413, 422), 200: {"model": VisitFileRead, "description": "Already started"}},
)
async def start_upload(
    visit_id: uuid.UUID,
    data: FileStart,
    session: DbSession,
    principal: FilesWriter,
    cipher: Cipher,
    settings: AppSettings,
    response: Response,
) -> VisitFileRead:
    f, created = await visit_files.start_upload(session, principal, cipher, visit_id, data, limits(settings))
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/proxy/visits/{visit_id}/files/{f.id}"
    return progress(response, visit_files.visit_file_read(f))


@router.put(
    BASE + "/{file_id}",
    response_model=VisitFileRead,
    summary="Send a chunk of a visit's file (Content-Range: bytes first-last/total); 202 until the last byte",
    description="As a material's file: idempotent, a cut chunk keeps the bytes that arrived, a gap is 409 "
    "`upload_gap` with `received`; the finished file is checked by content, stripped and sealed.",
    openapi_extra={"requestBody": CHUNK_BODY},
    responses={**problems(404, 409, 413, 422), 202: {"model": VisitFileRead, "description": "Chunk kept"}},
)
async def put_chunk(
    visit_id: uuid.UUID,
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
) -> VisitFileRead:
    body = await read_chunk(request, settings)
    f = await visit_files.receive_chunk(
        session, principal, cipher, visit_id, file_id, content_range, body, limits(settings)
    )
    response.status_code = 200 if f.status == "ready" else 202
    return progress(response, visit_files.visit_file_read(f))


@router.get(
    BASE + "/{file_id}",
    response_model=VisitFileRead,
    summary="One file of a visit: how far its upload got (`received`, Upload-Offset) or what was stored",
    responses=problems(404, 422),
)
async def get_file(
    visit_id: uuid.UUID, file_id: uuid.UUID, session: DbSession, principal: FilesReader, response: Response
) -> VisitFileRead:
    return progress(
        response, visit_files.visit_file_read(await visit_files.get_file(session, principal, visit_id, file_id))
    )


@router.get(
    BASE,
    response_model=list[VisitFileRead],
    summary="Every file of a visit, with thumbnail links for lists",
    responses=problems(404, 422),
)
async def list_files(visit_id: uuid.UUID, session: DbSession, principal: FilesReader) -> list[VisitFileRead]:
    return [visit_files.visit_file_read(f) for f in await visit_files.list_files(session, principal, visit_id)]


async def _download(
    kind: str, visit_id: uuid.UUID, file_id: uuid.UUID, session: DbSession, principal: Principal, cipher: Cipher
) -> Response:
    return file_response(await visit_files.download(session, principal, cipher, visit_id, file_id, kind))


@router.get(
    BASE + "/{file_id}/content",
    response_class=Response,
    summary="Download a visit's stored file (recorded in the audit log)",
    dependencies=[WritesOnRead],
    responses={
        **problems(404, 409, 422),
        200: {
            "content": {"application/octet-stream": BINARY},
            "description": "The file: image/jpeg, image/png or application/pdf (its Content-Type says which)",
        },
    },
)
async def download_content(
    visit_id: uuid.UUID, file_id: uuid.UUID, session: DbSession, principal: FilesReader, cipher: Cipher
) -> Response:
    return await _download("content", visit_id, file_id, session, principal, cipher)


@router.get(
    BASE + "/{file_id}/thumbnail",
    response_class=Response,
    summary="A small JPEG of a visit's photo for lists (recorded in the audit log)",
    dependencies=[WritesOnRead],
    responses={
        **problems(404, 409, 422),
        200: {"content": {"application/octet-stream": BINARY}, "description": "The thumbnail (image/jpeg)"},
    },
)
async def download_thumbnail(
    visit_id: uuid.UUID, file_id: uuid.UUID, session: DbSession, principal: FilesReader, cipher: Cipher
) -> Response:
    return await _download("thumbnail", visit_id, file_id, session, principal, cipher)


@router.delete(
    BASE + "/{file_id}",
    status_code=204,
    summary="Delete a visit's file (a wrong photo, an abandoned upload)",
    responses=problems(404, 422),
)
async def delete_file(visit_id: uuid.UUID, file_id: uuid.UUID, session: DbSession, principal: FilesWriter) -> Response:
    await visit_files.delete_file(session, principal, visit_id, file_id)
    return Response(status_code=204)

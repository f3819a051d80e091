"""The survey import route: ``POST /residents/import`` (thin: read the upload, call the service)."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Annotated

from fastapi import Depends, File, Query, UploadFile

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems
from doorstep_shared.http.errors import Invalid, PayloadTooLarge

from ..deps import AppSettings, Cipher, CurrentDirectory
from . import service
from .schemas import ImportMode, ImportReport
from .sheet import read_sheet

router = authenticated_router(prefix="/api/v1/proxy")

Importer = Annotated[Principal, Depends(require(Permission.RESIDENTS_IMPORT))]


@router.post(
    "/residents/import",
    response_model=ImportReport,
    tags=["import"],
    summary="Import a survey sheet (.xlsx or .csv in UTF-8/GBK), upserting by ID number",
    responses=problems(413, 422),
)
async def import_residents(
    settings: AppSettings,
    session: DbSession,
    principal: Importer,
    cipher: Cipher,
    directory: CurrentDirectory,
    file: Annotated[
        UploadFile, File(description="The survey sheet (摸排表)", examples=["朝阳社区第六网格摸排表.xlsx"])
    ],
    mode: Annotated[
        ImportMode,
        Query(description="all_or_nothing: any rejected row → nothing written"),
    ] = "all_or_nothing",
) -> ImportReport:
    data = await file.read(settings.import_max_bytes + 1)
    if len(data) > settings.import_max_bytes:
        raise PayloadTooLarge(
            f"The sheet is larger than {settings.import_max_bytes} bytes; split it.",
            code="sheet_too_large",
        )
    # Off the event loop: a large or crafted sheet must not hold every other request of the proxy.
    limit = settings.import_max_seconds
    read = functools.partial(
        read_sheet,
        data,
        file.filename or "",
        max_rows=settings.import_max_rows,
        max_unzipped=settings.import_max_unzipped_bytes,
        deadline=time.monotonic() + limit,
    )
    try:
        # The deadline stops the thread itself; the wait is the backstop for a stall inside openpyxl.
        sheet = await asyncio.wait_for(asyncio.to_thread(read), timeout=limit + 5)
    except TimeoutError:
        raise Invalid.field("file", "the sheet takes too long to read; split it", code="sheet_too_slow") from None
    return await service.import_sheet(
        session, principal, cipher, sheet, mode, file_name=file.filename or "", directory=directory
    )

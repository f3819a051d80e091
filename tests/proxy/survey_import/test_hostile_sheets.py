"""Crafted survey sheets (#17 §1): broken XML, a far-away cell, a lying dimension, a zip bomb.
Each is a 422 naming the file, and none holds the proxy's event loop while it is read."""

from __future__ import annotations

import asyncio
import io
import re
import time
import zipfile

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import Workbook

from ...support import Tokens
from .test_import import HEADER, upload

FAR_ROW = 8_000_000


def workbook(far_row: int | None = None) -> bytes:
    """The header, and (``far_row``) one cell that far down (past what Excel writes, not what XML allows)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    if far_row is not None:
        sheet.cell(row=2, column=1, value="x")
    buf = io.BytesIO()
    book.save(buf)
    if far_row is None:
        return buf.getvalue()
    far = str(far_row).encode()
    return rewrite(
        buf.getvalue(),
        "xl/worksheets/sheet1.xml",
        lambda raw: (
            re.sub(rb'(<row r=")2"', rb"\g<1>" + far + b'"', raw)
            .replace(b'r="A2"', b'r="A' + far + b'"')
            .replace(b':N2"', b":N" + far + b'"')
        ),
    )


def rewrite(data: bytes, name: str, change: object) -> bytes:
    """The same .xlsx with one member's bytes changed by ``change`` (bytes → bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            raw = src.read(info)
            dst.writestr(info, change(raw) if info.filename == name else raw)  # type: ignore[operator]
    return out.getvalue()


def without_dimension(data: bytes) -> bytes:
    """A sheet that says it is one cell big (the dimension is only a claim)."""
    return rewrite(data, "xl/worksheets/sheet1.xml", lambda raw: re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", raw))


def assert_refuses_the_file(resp: httpx.Response, code: str) -> None:
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code, body
    assert body["errors"][0]["field"] == "file"


@pytest.mark.parametrize(
    ("member", "change"),
    [
        ("xl/worksheets/sheet1.xml", lambda raw: raw[: len(raw) // 2]),
        ("xl/worksheets/sheet1.xml", lambda raw: raw.replace(b"<sheetData>", b"<sheetData><row r='x'><c r=")),
        ("xl/workbook.xml", lambda raw: b"<workbook><sheets><sheet name='a'"),
        ("xl/styles.xml", lambda raw: b"\xff\xfe<styleSheet"),
        ("[Content_Types].xml", lambda raw: b"<Types"),
    ],
    ids=["truncated-sheet", "bad-row", "broken-workbook", "broken-styles", "broken-content-types"],
)
async def test_a_workbook_with_broken_xml_is_422_naming_the_file(
    proxy: httpx.AsyncClient, tokens: Tokens, member: str, change: object
) -> None:
    data = rewrite(workbook(), member, change)
    assert member in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert_refuses_the_file(await upload(proxy, tokens, data, name="摸排表.xlsx"), "unreadable_sheet")


async def test_a_far_cell_is_refused_by_the_declared_dimension_before_a_row_is_read(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    data = workbook(FAR_ROW)
    assert len(data) < 8 * 1024
    started = time.monotonic()
    assert_refuses_the_file(await upload(proxy, tokens, data, name="a.xlsx"), "too_many_rows")
    assert time.monotonic() - started < 1.0


async def test_empty_rows_count_against_the_row_limit_when_the_dimension_lies(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    assert_refuses_the_file(
        await upload(proxy, tokens, without_dimension(workbook(FAR_ROW)), name="a.xlsx"), "too_many_rows"
    )


async def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    proxy: httpx.AsyncClient, tokens: Tokens, proxy_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proxy_app.state.settings, "import_max_unzipped_bytes", 1024 * 1024)
    padding = b"<!--" + b" " * (4 * 1024 * 1024) + b"-->"
    data = rewrite(workbook(), "xl/worksheets/sheet1.xml", lambda raw: raw + padding)
    assert len(data) < 64 * 1024
    assert_refuses_the_file(await upload(proxy, tokens, data, name="a.xlsx"), "sheet_too_large")


async def test_the_proxy_answers_healthz_within_100_ms_while_a_pathological_sheet_is_read(
    proxy: httpx.AsyncClient, tokens: Tokens, proxy_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Limits lifted so that reading takes seconds: the lying-dimension sheet, walked row by row.
    monkeypatch.setattr(proxy_app.state.settings, "import_max_rows", 10 * FAR_ROW)
    monkeypatch.setattr(proxy_app.state.settings, "import_max_seconds", 1.5)
    data = without_dimension(workbook(FAR_ROW))
    started = time.monotonic()
    importing = asyncio.create_task(upload(proxy, tokens, data, name="a.xlsx"))
    await asyncio.sleep(0.3)
    waits = []
    for _ in range(3):
        before = time.monotonic()
        assert (await proxy.get("/healthz")).status_code == 200
        waits.append(time.monotonic() - before)
        await asyncio.sleep(0.05)
    assert not importing.done(), "the sheet was read too fast to show anything"
    resp = await importing
    # The wall-time limit ends the reading itself with a 422 naming the file.
    assert_refuses_the_file(resp, "sheet_too_slow")
    assert time.monotonic() - started < 1.5 + 3
    assert max(waits) < 0.1, waits

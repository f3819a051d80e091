"""Directory imports: encodings, per-row reports, all or nothing, redraws, idempotence, scale."""

from __future__ import annotations

import asyncio
import io
import time
from importlib import resources

import httpx
from fastapi import FastAPI

from doorstep_gateway.state import state_of
from doorstep_shared.directory import COLUMNS, Directory

from ...support import Tokens

BASE = "/api/v1/directory"
HEADER = ",".join(COLUMNS)
HEXIAN = resources.files("doorstep_shared.directory").joinpath("hexian.csv").read_text(encoding="utf-8")


def admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("county_admin", community=None, subject="county.admin")


def csv_of(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


HANSHAN = [
    "hanshan,含山县,huanfeng,环峰社区,huanfeng-g1,第一网格,fenghuang,凤凰小区,含山县环峰镇凤凰路1号,31.70,118.10",
    "hanshan,含山县,huanfeng,环峰社区,huanfeng-g2,第二网格,taohua,桃花苑,含山县环峰镇桃花路2号,31.71,118.11",
]


async def upload(
    gateway: httpx.AsyncClient, tokens: Tokens, data: bytes, name: str = "directory.csv", **params: str
) -> httpx.Response:
    return await gateway.post(f"{BASE}/import", headers=admin(tokens), files={"file": (name, data)}, params=params)


async def revision(gateway: httpx.AsyncClient) -> str:
    return str((await gateway.get(f"{BASE}/export")).json()["revision"])


async def test_a_gbk_file_creates_a_county_with_a_report_per_row(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    before = await revision(gateway)
    resp = await upload(gateway, tokens, csv_of(*HANSHAN).encode("gbk"))
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["applied"] is True and report["counts"]["created"] == 2
    assert [r["line"] for r in report["rows"]] == [2, 3]
    first = {(c["kind"], c["code"]) for c in report["rows"][0]["changes"]}
    assert first == {
        ("counties", "hanshan"),
        ("communities", "huanfeng"),
        ("grids", "huanfeng-g1"),
        ("compounds", "fenghuang"),
    }
    directory = Directory.from_export((await gateway.get(f"{BASE}/export")).json())
    assert directory.revision == report["revision"] != before
    assert directory.compound("taohua").address == "含山县环峰镇桃花路2号"  # type: ignore[union-attr]
    assert [g.number for g in directory.grids_of("huanfeng")] == [1, 2]
    auditor = tokens.headers("auditor", community=None)
    audited = (await gateway.get("/api/v1/audit", headers=auditor, params={"action": "directory.imported"})).json()
    assert [(e["actor"], e["details"]["counts"]["created"]) for e in audited["items"]] == [("county.admin", 2)]


async def test_a_file_in_neither_utf8_nor_gbk_is_422_naming_the_file(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    resp = await upload(gateway, tokens, csv_of(*HANSHAN).encode("utf-16"))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "file"
    huge = await upload(gateway, tokens, csv_of(HANSHAN[0].replace("凤凰小区", "凤" * 140_000)).encode())
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "file"
    missing = await upload(gateway, tokens, b"county_code,county_name\nx,X\n")
    assert missing.status_code == 422 and missing.json()["code"] == "missing_columns"


async def test_duplicate_codes_in_a_file_reject_it_whole(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    before = await revision(gateway)
    clash = HANSHAN[1].replace("taohua,桃花苑", "fenghuang,凤凰小区")  # the same compound code in another grid
    resp = await upload(gateway, tokens, csv_of(*HANSHAN[:1], clash).encode())
    assert resp.status_code == 422
    body = resp.json()
    assert body["applied"] is False and body["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "error": 1}
    assert body["rows"][1]["errors"][0]["code"] == "conflicting_row"
    assert body["errors"][0]["field"] == "line 3: compound_code"
    assert await revision(gateway) == before
    assert (await gateway.get(f"{BASE}/counties/hanshan", headers=admin(tokens))).status_code == 404


async def test_rows_that_contradict_the_stored_directory_are_errors(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    # A grid stored under 朝阳 named under another community; 朝阳 itself named under another county.
    wrong_grid = "hexian,和县,zhenhuai,镇淮社区,chaoyang-g1,第一网格,newone,新小区,,,"
    wrong_county = "hanshan,含山县,chaoyang,朝阳社区,chaoyang-g1,第一网格,binjiang,滨江花园,,,"
    codes = []
    for row in (wrong_grid, wrong_county):
        resp = await upload(gateway, tokens, csv_of(row).encode())
        assert resp.status_code == 422
        codes.append([(e["field"], e["code"]) for e in resp.json()["rows"][0]["errors"]])
    assert codes == [[("grid_code", "in_another_community")], [("community_code", "in_another_county")]]
    assert (await gateway.get(f"{BASE}/compounds/newone", headers=admin(tokens))).status_code == 404


async def test_a_row_moving_a_compound_is_a_redraw_with_history(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    lines = HEXIAN.splitlines()
    index = next(i for i, line in enumerate(lines) if ",binjiang," in line)
    lines[index] = lines[index].replace("chaoyang-g6,第六网格", "chaoyang-g1,第一网格")
    before = await revision(gateway)
    resp = await upload(gateway, tokens, ("\n".join(lines) + "\n").encode())
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["counts"]["updated"] == 1 and report["counts"]["created"] == 0
    (moved,) = [r for r in report["rows"] if r["action"] == "updated"]
    assert moved["line"] == index + 1
    assert moved["changes"] == [
        {
            "kind": "compounds",
            "code": "binjiang",
            "action": "updated",
            "changes": {"grid": ["chaoyang-g6", "chaoyang-g1"]},
        }
    ]
    history = (await gateway.get(f"{BASE}/compounds/binjiang/history", headers=admin(tokens))).json()
    assert (history[0]["changes"], history[0]["source"], history[0]["actor"]) == (
        {"grid": ["chaoyang-g6", "chaoyang-g1"]},
        "import",
        "county.admin",
    )
    assert before != report["revision"] == await revision(gateway)


async def test_a_dry_run_reports_and_writes_nothing(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    before = await revision(gateway)
    resp = await upload(gateway, tokens, csv_of(*HANSHAN).encode(), dry_run="true")
    assert resp.status_code == 200
    assert (resp.json()["dry_run"], resp.json()["applied"], resp.json()["counts"]["created"]) == (True, False, 2)
    assert await revision(gateway) == before
    assert (await gateway.get(f"{BASE}/counties/hanshan", headers=admin(tokens))).status_code == 404


async def test_reimporting_the_same_file_changes_nothing(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    before = await revision(gateway)
    resp = await upload(gateway, tokens, HEXIAN.encode())  # the seed imported it already
    assert resp.status_code == 200
    report = resp.json()
    assert report["counts"]["unchanged"] == len(HEXIAN.splitlines()) - 1
    assert report["counts"]["created"] == report["counts"]["updated"] == 0
    assert report["revision"] == before == await revision(gateway)
    history = (await gateway.get(f"{BASE}/compounds/binjiang/history", headers=admin(tokens))).json()
    assert [h["source"] for h in history] == ["seed"]


async def test_a_name_longer_than_the_directory_holds_is_a_row_error(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    resp = await upload(gateway, tokens, csv_of(HANSHAN[0], HANSHAN[1].replace("桃花苑", "桃" * 101)).encode())
    assert resp.status_code == 422
    assert resp.json()["rows"][1]["errors"] == [
        {"field": "compound_name", "code": "too_long", "detail": "compound_name is longer than 100 characters"}
    ]


async def test_a_bad_row_at_the_end_leaves_the_directory_as_it_was(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    before = await revision(gateway)
    good = [f"hanshan,含山县,huanfeng,环峰社区,huanfeng-g1,第一网格,c{n},小区{n},,," for n in range(50)]
    bad = "hanshan,含山县,huanfeng,环峰社区,huanfeng-g1,第一网格,c99,小区99,,north,118"
    resp = await upload(gateway, tokens, csv_of(*good, bad).encode())
    assert resp.status_code == 422
    assert resp.json()["rows"][-1] == {
        "line": 52,
        "action": "error",
        "changes": [],
        "errors": [{"field": "latitude", "code": "not_a_number", "detail": "latitude 'north' is not a number"}],
    }
    assert await revision(gateway) == before
    assert (await gateway.get(f"{BASE}/compounds/c0", headers=admin(tokens))).status_code == 404


async def test_an_xlsx_workbook_imports_like_a_csv(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for row in HANSHAN:
        values: list[object] = row.split(",")
        values[9], values[10] = float(str(values[9])), float(str(values[10]))
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    resp = await upload(gateway, tokens, buffer.getvalue(), name="directory.xlsx")
    assert resp.status_code == 200, resp.text
    assert resp.json()["counts"]["created"] == 2
    fenghuang = (await gateway.get(f"{BASE}/compounds/fenghuang", headers=admin(tokens))).json()
    assert (fenghuang["latitude"], fenghuang["longitude"]) == (31.7, 118.1)


async def test_too_large_a_file_is_413_and_too_many_rows_422(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    settings = state_of(gateway_app).settings
    limits = settings.directory_import_max_bytes, settings.directory_import_max_rows
    settings.directory_import_max_bytes, settings.directory_import_max_rows = 1024, 3
    try:
        too_large = await upload(gateway, tokens, csv_of(*HANSHAN * 20).encode())
        too_long = await upload(gateway, tokens, csv_of(*HANSHAN * 2).encode())
    finally:
        settings.directory_import_max_bytes, settings.directory_import_max_rows = limits
    assert too_large.status_code == 413
    assert too_long.status_code == 422 and too_long.json()["code"] == "too_many_rows"
    assert too_long.json()["errors"][0]["field"] == "file"


async def test_ten_thousand_rows_import_in_seconds_while_other_requests_are_answered(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    rows = [
        f"bigcounty,大县,comm{n // 1000},社区{n // 1000},comm{n // 1000}-g{n // 100 % 10},网格{n // 100 % 10},"
        f"big{n},小区{n},大县某路{n}号,31.{n % 1000:03d},118.{n % 997:03d}"
        for n in range(10_000)
    ]
    data = csv_of(*rows).encode()
    started = time.monotonic()
    task = asyncio.create_task(upload(gateway, tokens, data))
    answered: list[float] = []
    while not task.done():
        asked = time.monotonic()
        assert (await gateway.get("/healthz")).status_code == 200
        if not task.done():
            answered.append(time.monotonic() - asked)
        await asyncio.sleep(0.02)
    resp = await task
    elapsed = time.monotonic() - started
    assert resp.status_code == 200, resp.text[:500]
    assert resp.json()["counts"]["created"] == 10_000
    assert elapsed < 10, f"10,000 rows took {elapsed:.1f} s"
    assert answered, "no other request was answered during the import"
    assert max(answered) < 1.0, f"a request waited {max(answered):.2f} s behind the import"
    directory = Directory.from_export((await gateway.get(f"{BASE}/export")).json())
    assert len(directory.compounds_of("comm3")) == 1000

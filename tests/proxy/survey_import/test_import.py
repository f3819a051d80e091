from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from ...support import Tokens
from ..helpers import BASE, admin, id_number, with_compounds, worker

pytestmark = pytest.mark.dates

HEADER = [
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "手机号",
    "小区",
    "楼栋",
    "单元",
    "房号",
    "残疾类别",
    "残疾等级",
    "独居",
    "低保",
    "已享受待遇",
]


def sheet_rows(n: int = 3) -> list[list[str]]:
    rows = []
    for i in range(n):
        birth = dt.date(1940 + i, 1 + i % 12, 1 + i % 27)
        gender = "male" if i % 2 else "female"
        rows.append(
            [
                str(i + 1),
                f"测试{i}",
                "男" if gender == "male" else "女",
                id_number(birth, gender),
                f"1380000{i:04d}",
                "滨江花园" if i % 2 else "binjiang",
                str(1 + i % 5),
                "1",
                f"{i + 1}01",
                "肢体" if i == 0 else "",
                "二级" if i == 0 else "",
                "是" if i == 1 else "否",
                "",
                "elderly-allowance@2020-01-01" if i == 2 else "",
            ]
        )
    return rows


def to_csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    return buf.getvalue().encode(encoding)


def to_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


async def upload(
    proxy: httpx.AsyncClient,
    tokens: Tokens,
    data: bytes,
    name: str = "sheet.csv",
    mode: str = "all_or_nothing",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await proxy.post(
        f"{BASE}/residents/import",
        params={"mode": mode},
        files={"file": (name, data, "application/octet-stream")},
        headers=headers or admin(tokens),
    )


async def count(proxy: httpx.AsyncClient, tokens: Tokens) -> int:
    resp = await proxy.get(f"{BASE}/residents", params={"limit": 200}, headers=worker(tokens))
    return len(resp.json()["items"])


async def test_reimporting_the_same_sheet_changes_nothing(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    data = to_csv(sheet_rows(5))
    first = await upload(proxy, tokens, data)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (
        5,
        0,
        0,
        0,
    )
    assert report["ignored_columns"] == ["序号"]
    before = (await proxy.get(f"{BASE}/residents", params={"limit": 200}, headers=worker(tokens))).json()
    second = (await upload(proxy, tokens, data)).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 5)
    assert [r["status"] for r in second["rows"]] == ["unchanged"] * 5
    after = (await proxy.get(f"{BASE}/residents", params={"limit": 200}, headers=worker(tokens))).json()
    assert after == before
    people = {r["name"]: r for r in after["items"]}
    assert people["测试0"]["disability_type"] == "physical" and people["测试0"]["disability_grade"] == 2
    assert people["测试1"]["living_alone"] is True and people["测试1"]["compound"] == "binjiang"
    assert people["测试2"]["benefits"] == [{"item_code": "elderly-allowance", "since": "2020-01-01"}]
    assert people["测试0"]["hukou_local"] is None  # not in the sheet: unknown


async def test_changed_rows_are_updated_and_reported(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    rows = sheet_rows(3)
    await upload(proxy, tokens, to_csv(rows))
    rows[1][4] = "13911112222"
    rows[2][12] = "是"
    report = (await upload(proxy, tokens, to_csv(rows), mode="valid_rows")).json()
    assert [r["status"] for r in report["rows"]] == ["unchanged", "updated", "updated"]
    assert [r["row"] for r in report["rows"]] == [2, 3, 4]
    found = await proxy.get(f"{BASE}/residents", params={"phone": "13911112222"}, headers=worker(tokens))
    [one] = found.json()["items"]
    assert one["version"] == 2 and one["name"] == "测试1"


async def test_rejected_rows_name_their_column_and_all_or_nothing_writes_nothing(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    rows = sheet_rows(4)
    rows[1][3] = rows[1][3][:17] + ("0" if rows[1][3][17] != "0" else "1")
    rows[2][5] = "不存在小区"
    rows[3][4] = "12345"
    resp = await upload(proxy, tokens, to_csv(rows))
    assert resp.status_code == 422
    problem = resp.json()
    assert problem["code"] == "import_rejected"
    report = problem["report"]
    assert report["applied"] is False and report["created"] == 0
    errors = {r["row"]: r["errors"] for r in report["rows"] if r["status"] == "rejected"}
    assert errors[3][0]["column"] == "身份证号"
    assert errors[4][0]["column"] == "小区"
    assert errors[5][0]["column"] == "手机号"
    assert rows[1][3] not in resp.text and "12345" not in str(errors)
    assert await count(proxy, tokens) == 0
    partial = (await upload(proxy, tokens, to_csv(rows), mode="valid_rows")).json()
    assert (partial["created"], partial["rejected"], partial["applied"]) == (1, 3, True)
    assert await count(proxy, tokens) == 1


async def test_gbk_csv_and_xlsx_import_alike(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    rows = sheet_rows(4)
    gbk = (await upload(proxy, tokens, to_csv(rows[:2], "gbk"))).json()
    assert gbk["created"] == 2
    xlsx = await upload(proxy, tokens, to_xlsx(rows), name="摸排表.xlsx")
    assert xlsx.status_code == 200, xlsx.text
    assert [r["status"] for r in xlsx.json()["rows"]] == [
        "unchanged",
        "unchanged",
        "created",
        "created",
    ]


async def test_same_person_twice_in_a_sheet_and_other_communitys_people_are_rejected(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    rows = sheet_rows(2)
    rows.append(list(rows[0]))
    report = (await upload(proxy, tokens, to_csv(rows), mode="valid_rows")).json()
    assert report["rows"][2]["status"] == "rejected"
    assert "row 2" in report["rows"][2]["errors"][0]["message"]
    # zhenhuai's admin cannot touch chaoyang's people, nor use chaoyang's compounds
    rows[0][5] = "lishuijiayuan"
    other = (await upload(proxy, tokens, to_csv(rows[:1]), mode="valid_rows", headers=admin(tokens, "zhenhuai"))).json()
    assert other["rows"][0]["status"] == "rejected"
    assert "another community" in other["rows"][0]["errors"][0]["message"]


async def test_bad_sheets_get_clear_errors(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    app = proxy._transport.app  # type: ignore[attr-defined]
    settings: Any = app.state.settings
    resp = await upload(proxy, tokens, b"x" * (settings.import_max_bytes + 1))
    assert resp.status_code == 413 and resp.json()["code"] == "sheet_too_large"
    resp = await upload(proxy, tokens, "姓名,手机号\n张三,13800000000\n".encode())
    assert resp.status_code == 422 and resp.json()["code"] == "missing_columns"
    assert {e["field"] for e in resp.json()["errors"]} == {"file.身份证号", "file.小区"}
    resp = await upload(proxy, tokens, b"PK\x03\x04 not really a zip", name="a.xlsx")
    assert resp.status_code == 422 and resp.json()["code"] == "unreadable_sheet"
    resp = await upload(proxy, tokens, b"\xff\xfe\x00\xd8garbage\x81")
    assert resp.status_code == 422
    resp = await upload(proxy, tokens, b"")
    assert resp.status_code == 422
    old = settings.import_max_rows
    settings.import_max_rows = 2
    try:
        resp = await upload(proxy, tokens, to_csv(sheet_rows(3)))
    finally:
        settings.import_max_rows = old
    assert resp.status_code == 422 and resp.json()["code"] == "too_many_rows"
    assert await count(proxy, tokens) == 0


async def test_import_needs_the_import_permission(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    resp = await upload(proxy, tokens, to_csv(sheet_rows(1)), headers=worker(tokens))
    assert resp.status_code == 403

"""Reading survey sheets (摸排表): .xlsx (openpyxl) or .csv (UTF-8 or GBK) → rows keyed by field.

Pure parsing, no database; ``columns.py`` checks each row. No message carries a cell's value (a
cell may hold an ID number or a phone).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from doorstep_shared.http.errors import Invalid

from ..ledger.schemas import ResidentFacts

# Column headers (Chinese first; English field names also accepted) → field.
HEADERS: dict[str, str] = {
    "姓名": "name",
    "性别": "gender",
    "出生日期": "birth_date",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "小区": "compound",
    "楼栋": "building",
    "楼号": "building",
    "单元": "unit",
    "房号": "room",
    "门牌号": "room",
    "本县户籍": "hukou_local",
    "户籍": "hukou_local",
    "残疾类别": "disability_type",
    "残疾等级": "disability_grade",
    "残疾证号": "disability_certificate_no",
    "重病": "serious_illness",
    "独居": "living_alone",
    "低保": "dibao",
    "就业状态": "employment_status",
    "养老保险": "pension_insured",
    "子女数": "children_count",
    "住房困难": "housing_difficulty",
    "已享受待遇": "benefits",
}
FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "compound",
    "building",
    "unit",
    "room",
    *ResidentFacts.model_fields,  # the eligibility facts and the disability certificate number
    "benefits",
)
REQUIRED = ("name", "id_number", "compound")
# The header a report names for a field (the canonical Chinese one).
LABEL = {f: next((h for h, v in HEADERS.items() if v == f), f) for f in FIELDS}


@dataclass
class SheetRow:
    number: int  # 1-based line in the sheet (the header is line 1)
    values: dict[str, str]


@dataclass
class Sheet:
    rows: list[SheetRow]
    columns: dict[str, str]  # field → header as written in the sheet
    ignored_columns: list[str]


# --- reading ----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid.field("file", "not UTF-8 or GBK text", code="unreadable_sheet")


def _csv_rows(data: bytes) -> Iterable[list[str]]:
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(text, newline=""), dialect)


def _xlsx_rows(data: bytes) -> Iterable[list[str]]:
    # openpyxl takes over a second to import: loaded with the first workbook, not at start-up.
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Invalid.field("file", "not a readable .xlsx workbook", code="unreadable_sheet") from exc
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise Invalid.field("file", "the workbook has no sheet", code="unreadable_sheet")
    for row in sheet.iter_rows(values_only=True):
        yield [_cell(v) for v in row]


def read_sheet(data: bytes, filename: str, *, max_rows: int) -> Sheet:
    """Rows keyed by field; 422 on an unreadable file, missing columns or too many rows."""
    is_xlsx = data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))
    raw = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    it = iter(raw)
    header: list[str] | None = None
    for candidate in it:
        if any(c.strip() for c in candidate):
            header = [c.strip().lstrip("\ufeff") for c in candidate]
            break
    if header is None:
        raise Invalid.field("file", "the sheet is empty", code="empty_sheet")
    positions: dict[str, int] = {}
    columns: dict[str, str] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        name = HEADERS.get(title) or (title if title in FIELDS else None)
        if name is None:
            if title:
                ignored.append(title[:50])
            continue
        if name in positions:
            raise Invalid.field(f"file.{title[:50]}", "column appears twice", code="duplicate_column")
        positions[name] = index
        columns[name] = title
    missing = [LABEL[f] for f in REQUIRED if f not in positions]
    if missing:
        raise Invalid(
            f"Missing required column(s): {', '.join(missing)}",
            code="missing_columns",
            errors=[{"field": f"file.{m}", "message": "required column is missing"} for m in missing],
        )
    rows: list[SheetRow] = []
    for offset, cells in enumerate(it, start=2):
        if not any(c.strip() for c in cells if c):
            continue
        if len(rows) >= max_rows:
            raise Invalid.field("file", f"more than {max_rows} data rows; split the sheet", code="too_many_rows")
        values = {name: (cells[i].strip() if i < len(cells) and cells[i] else "") for name, i in positions.items()}
        rows.append(SheetRow(offset, values))
    return Sheet(rows, columns, ignored)

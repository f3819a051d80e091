"""Reading survey sheets (摸排表): .xlsx (openpyxl) or .csv (UTF-8 or GBK) → rows keyed by field.

Pure parsing, no database; ``columns.py`` checks each row. No message carries a cell's value (a
cell may hold an ID number or a phone).

Parsing is CPU work the route runs in a worker thread, and it is bounded three ways so that a
small crafted file cannot hold a thread (or the GIL) for long: the uncompressed size of the
workbook, the sheet's declared dimension (checked before a row is read) and every row read,
empty ones included (openpyxl yields the empty rows up to a far cell one by one), against the
row limit; and a wall-time deadline checked as the rows go by. A workbook whose XML is broken is
a 422 naming the file, whatever openpyxl raises.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
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


def _unreadable() -> Invalid:
    return Invalid.field("file", "not a readable .xlsx workbook", code="unreadable_sheet")


def _too_many_rows(max_rows: int) -> Invalid:
    return Invalid.field("file", f"more than {max_rows} data rows; split the sheet", code="too_many_rows")


def _xlsx_rows(data: bytes, *, max_rows: int, max_unzipped: int) -> Iterable[list[str]]:
    # openpyxl takes over a second to import: loaded with the first workbook, not at start-up.
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _unreadable() from exc
    if unzipped > max_unzipped:  # a zip bomb: small upload, gigabytes of XML
        raise Invalid.field("file", f"unpacks to more than {max_unzipped} bytes; split it", code="sheet_too_large")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise Invalid.field("file", "the workbook has no sheet", code="unreadable_sheet")
        # The declared dimension (<dimension ref="A1:C8000000"/>) says how far the rows go.
        declared = sheet.max_row
        if isinstance(declared, int) and declared > max_rows + 1:
            raise _too_many_rows(max_rows)
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    except Invalid:
        raise
    except Exception as exc:  # broken XML raises whatever the parser meets first: all mean "unreadable"
        raise _unreadable() from exc


def _bounded(rows: Iterable[list[str]], *, max_rows: int, deadline: float | None) -> Iterable[list[str]]:
    """The rows, stopped with a 422 past the row limit (empty rows count) or the deadline."""
    for count, row in enumerate(rows, start=1):
        if count > max_rows + 1:  # the header is one more
            raise _too_many_rows(max_rows)
        # Elapsed time, not the date: the monotonic clock, which tests never move.
        if deadline is not None and count % 256 == 0 and time.monotonic() > deadline:
            raise Invalid.field("file", "the sheet takes too long to read; split it", code="sheet_too_slow")
        yield row


def read_sheet(
    data: bytes,
    filename: str,
    *,
    max_rows: int,
    max_unzipped: int = 64 * 1024 * 1024,
    deadline: float | None = None,
) -> Sheet:
    """Rows keyed by field; 422 on an unreadable file, missing columns or too many rows.

    ``deadline``: a ``time.monotonic()`` value after which reading stops with a 422."""
    is_xlsx = data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))
    raw = _xlsx_rows(data, max_rows=max_rows, max_unzipped=max_unzipped) if is_xlsx else _csv_rows(data)
    it = iter(_bounded(raw, max_rows=max_rows, deadline=deadline))
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
            raise _too_many_rows(max_rows)
        values = {name: (cells[i].strip() if i < len(cells) and cells[i] else "") for name, i in positions.items()}
        rows.append(SheetRow(offset, values))
    return Sheet(rows, columns, ignored)

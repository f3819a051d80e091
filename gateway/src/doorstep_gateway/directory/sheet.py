"""Reading a directory file: .csv (UTF-8, UTF-8 with BOM, or GBK) or .xlsx (the first sheet) →
one dict per data row, keyed by column. Pure CPU work: the import runs it in a worker thread.

Bounded: the upload's bytes are checked by the route, the rows here (and an .xlsx's declared
dimension and unpacked size before a row is read), so a crafted file cannot hold a thread long.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from doorstep_shared.directory import COLUMNS, decode, read_csv
from doorstep_shared.http.errors import Invalid

MAX_UNZIPPED = 64 * 1024 * 1024


def _too_many_rows(max_rows: int) -> Invalid:
    return Invalid.field("file", f"more than {max_rows} data rows; split the file", code="too_many_rows")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_records(data: bytes, max_rows: int) -> list[dict[str, str]]:
    # openpyxl takes a while to import: loaded with the first workbook, not at start-up.
    from openpyxl import load_workbook

    unreadable = Invalid.field("file", "not a readable .xlsx workbook", code="unreadable_file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise unreadable from exc
    if unzipped > MAX_UNZIPPED:
        raise Invalid.field("file", f"unpacks to more than {MAX_UNZIPPED} bytes; split it", code="file_too_large")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        if not book.worksheets:
            raise unreadable
        sheet = book.worksheets[0]
        if isinstance(sheet.max_row, int) and sheet.max_row > max_rows + 1:
            raise _too_many_rows(max_rows)
        rows = sheet.iter_rows(values_only=True)
        header = [_cell(v) for v in next(rows, ())]
        records: list[dict[str, str]] = []
        for values in rows:
            if len(records) >= max_rows + 1:
                raise _too_many_rows(max_rows)
            records.append({h: _cell(v) for h, v in zip(header, values, strict=False) if h})
    except Invalid:
        raise
    except Exception as exc:  # broken XML raises whatever the parser meets first
        raise unreadable from exc
    while records and not any(records[-1].values()):
        records.pop()
    if header:
        records.insert(0, {h: "" for h in header if h})  # the header, to check the columns
    return records


def read_records(data: bytes, filename: str, *, max_rows: int) -> tuple[list[dict[str, str]], set[str]]:
    """The data rows and the columns the file has; 422 naming ``file`` when it cannot be read,
    lacks a column, or has more than ``max_rows`` rows."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        records = _xlsx_records(data, max_rows)
        columns = set(records.pop(0)) if records else set()
    else:
        try:
            text = decode(data)
        except UnicodeDecodeError:
            raise Invalid.field("file", "not UTF-8 or GBK text", code="unreadable_file") from None
        try:
            records = read_csv(text)
            columns = {c.strip() for c in next(csv.reader(io.StringIO(text)), [])}
        except csv.Error as exc:  # e.g. a field past the csv module's size limit
            raise Invalid.field("file", f"not a readable CSV file ({exc})", code="unreadable_file") from None
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise Invalid(
            f"Missing column(s): {', '.join(missing)}",
            code="missing_columns",
            errors=[{"field": "file", "message": f"column {c} is missing"} for c in missing],
        )
    if len(records) > max_rows:
        raise _too_many_rows(max_rows)
    return records, columns

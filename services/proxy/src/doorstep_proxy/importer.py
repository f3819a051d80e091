"""Survey sheets (摸排表) → validated resident rows: .xlsx (openpyxl) or .csv (UTF-8 or GBK).

Pure parsing and validation, no database. Every problem names the sheet's column; no message
carries a cell's value (a cell may hold an ID number or a phone).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from doorstep_shared.errors import Invalid
from doorstep_shared.pii import normalize_phone, phone_ok
from doorstep_shared.rules.vocabulary import (
    DISABILITY_TYPE_LABELS,
    DISABILITY_TYPES,
    EMPLOYMENT_LABELS,
    EMPLOYMENT_STATUSES,
)

from .ledger.idnumbers import IdProblem, parse_id_number

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
    "hukou_local",
    "disability_type",
    "disability_grade",
    "disability_certificate_no",
    "serious_illness",
    "living_alone",
    "dibao",
    "employment_status",
    "pension_insured",
    "children_count",
    "housing_difficulty",
    "benefits",
)
REQUIRED = ("name", "id_number", "compound")
# The header a report names for a field (the canonical Chinese one).
LABEL = {f: next((h for h, v in HEADERS.items() if v == f), f) for f in FIELDS}
BOOL_FIELDS = (
    "hukou_local",
    "serious_illness",
    "living_alone",
    "dibao",
    "pension_insured",
    "housing_difficulty",
)

_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "本县", "本地"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×", "外地", "非本县"}
_GRADES = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}
_TYPE_BY_LABEL = {v: k for k, v in DISABILITY_TYPE_LABELS.items()}
_EMPLOYMENT_BY_LABEL = {v: k for k, v in EMPLOYMENT_LABELS.items()}
_ITEM_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


@dataclass
class SheetRow:
    number: int  # 1-based line in the sheet (the header is line 1)
    values: dict[str, str]


@dataclass
class Sheet:
    rows: list[SheetRow]
    columns: dict[str, str]  # field → header as written in the sheet
    ignored_columns: list[str]


@dataclass
class RowProblem:
    column: str
    message: str


@dataclass
class ResidentRow:
    number: int
    name: str
    id_number: str
    birth_date: dt.date
    gender: str
    phone: str | None
    compound: str
    building: str
    unit: str
    room: str
    facts: dict[str, Any]
    disability_certificate_no: str | None
    benefits: dict[str, dt.date | None] = field(default_factory=dict)


class SheetTooLarge(Exception):
    pass


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


# --- validating -------------------------------------------------------------------------


def _bool(text: str) -> bool | None:
    t = text.strip().lower()
    if not t:
        return None
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise ValueError("expected 是 or 否 (or blank for unknown)")


def _date(text: str) -> dt.date:
    t = text.strip()
    m = _DATE_RE.match(t)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if re.fullmatch(r"\d{8}", t):
        return dt.date(int(t[:4]), int(t[4:6]), int(t[6:]))
    raise ValueError("expected a date like 1950-03-07")


def _int(text: str, lo: int, hi: int) -> int:
    t = text.strip().removesuffix("级").removesuffix("个").removesuffix("人")
    if not re.fullmatch(r"\d{1,3}", t):
        raise ValueError(f"expected a whole number {lo}–{hi}")
    value = int(t)
    if not lo <= value <= hi:
        raise ValueError(f"expected a whole number {lo}–{hi}")
    return value


def _benefits(text: str) -> dict[str, dt.date | None]:
    out: dict[str, dt.date | None] = {}
    for part in re.split(r"[;；,，、\s]+", text.strip()):
        if not part:
            continue
        pieces = re.split(r"[@:：]", part, maxsplit=1)
        code = pieces[0].strip()
        since = pieces[1].strip() if len(pieces) > 1 else None
        if not _ITEM_CODE.match(code):
            raise ValueError("item codes are lower-case letters, digits, _ or -")
        out[code] = _date(since) if since else None
    if len(out) > 100:
        raise ValueError("at most 100 items")
    return out


def validate_row(
    row: SheetRow, columns: Mapping[str, str], compounds: Mapping[str, str]
) -> ResidentRow | list[RowProblem]:
    """One sheet row → a resident row, or the problems (each naming its column).

    ``compounds`` maps the codes and names the caller may use to compound codes.
    """
    v = row.values
    problems: list[RowProblem] = []

    def problem(name: str, message: str) -> None:
        problems.append(RowProblem(columns.get(name, LABEL[name]), message))

    name = v.get("name", "")
    if not name:
        problem("name", "required")
    elif len(name) > 50:
        problem("name", "at most 50 characters")

    facts_id = None
    try:
        facts_id = parse_id_number(v.get("id_number", ""))
    except IdProblem as exc:
        problem("id_number", "required" if not v.get("id_number") else str(exc))

    gender = None
    if v.get("gender"):
        gender = {"男": "male", "女": "female", "male": "male", "female": "female"}.get(v["gender"].strip().lower())
        if gender is None:
            problem("gender", "expected 男 or 女")
        elif facts_id and gender != facts_id.gender:
            problem("gender", "does not match the gender in the ID number")
    if v.get("birth_date"):
        try:
            birth = _date(v["birth_date"])
            if facts_id and birth != facts_id.birth_date:
                problem("birth_date", "does not match the birth date in the ID number")
        except ValueError as exc:
            problem("birth_date", str(exc))

    phone = None
    if v.get("phone"):
        phone = normalize_phone(v["phone"])
        if not phone.isascii() or not phone_ok(phone):
            problem("phone", "not a valid mobile or landline number")

    compound = compounds.get(v.get("compound", "").strip()) if v.get("compound") else None
    if not v.get("compound"):
        problem("compound", "required")
    elif compound is None:
        problem("compound", "unknown compound")
    address = {}
    for part in ("building", "unit", "room"):
        value = v.get(part, "")
        if len(value) > 16:
            problem(part, "at most 16 characters")
        address[part] = value[:16]

    facts: dict[str, Any] = {}
    for b in BOOL_FIELDS:
        if b in v:
            try:
                facts[b] = _bool(v[b])
            except ValueError as exc:
                problem(b, str(exc))
    dtype_text = v.get("disability_type", "").strip()
    if dtype_text in ("", "无"):
        if "disability_type" in v:
            facts["disability_type"] = None
    elif dtype_text in DISABILITY_TYPES or dtype_text in _TYPE_BY_LABEL:
        facts["disability_type"] = _TYPE_BY_LABEL.get(dtype_text, dtype_text)
    else:
        problem("disability_type", "expected 肢体, 视力, 听力, 言语, 智力, 精神 or 多重")
    grade_text = v.get("disability_grade", "").strip()
    if "disability_grade" in v:
        facts["disability_grade"] = None
    if grade_text and grade_text != "无":
        try:
            facts["disability_grade"] = _GRADES.get(grade_text) or _int(grade_text, 1, 4)
        except ValueError:
            problem("disability_grade", "expected 1–4 (一级 to 四级)")
        if facts.get("disability_type") is None and "disability_type" not in [p.column for p in problems]:
            problem("disability_type", "a disability grade needs a disability type")
    emp = v.get("employment_status", "").strip()
    if emp:
        code = _EMPLOYMENT_BY_LABEL.get(emp, emp)
        if code in EMPLOYMENT_STATUSES:
            facts["employment_status"] = code
        else:
            problem("employment_status", "expected 在职, 失业, 灵活就业, 已退休, 在校 or 无业")
    elif "employment_status" in v:
        facts["employment_status"] = None
    if v.get("children_count"):
        try:
            facts["children_count"] = _int(v["children_count"], 0, 20)
        except ValueError as exc:
            problem("children_count", str(exc))
    elif "children_count" in v:
        facts["children_count"] = None
    cert = v.get("disability_certificate_no", "").strip() or None
    if cert and (len(cert) > 32 or not re.fullmatch(r"[0-9A-Za-z]+", cert)):
        problem("disability_certificate_no", "expected up to 32 letters and digits")
    benefits: dict[str, dt.date | None] = {}
    if v.get("benefits"):
        try:
            benefits = _benefits(v["benefits"])
        except ValueError as exc:
            problem("benefits", str(exc))

    if problems or facts_id is None or compound is None:
        return problems
    return ResidentRow(
        number=row.number,
        name=name,
        id_number=facts_id.number,
        birth_date=facts_id.birth_date,
        gender=facts_id.gender,
        phone=phone,
        compound=compound,
        building=address["building"],
        unit=address["unit"],
        room=address["room"],
        facts=facts,
        disability_certificate_no=cert.upper() if cert else None,
        benefits=benefits,
    )

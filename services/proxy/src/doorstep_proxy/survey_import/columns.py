"""What each column of a survey sheet accepts, as a table: one :class:`Column` per field (how a
filled cell is read, what a blank one means), checked in the sheet's canonical order, with the
checks that span columns (a grade needs a type) in their place in that order.

Every problem names the sheet's column; no message carries a cell's value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from doorstep_shared.pii import normalize_phone, phone_ok
from doorstep_shared.rules.vocabulary import (
    DISABILITY_TYPE_LABELS,
    DISABILITY_TYPES,
    EMPLOYMENT_LABELS,
    EMPLOYMENT_STATUSES,
)

from ..ledger.idnumbers import IdFacts, parse_id_number
from ..ledger.schemas import ResidentRow
from .sheet import LABEL, SheetRow

_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "本县", "本地"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×", "外地", "非本县"}
_GENDERS = {"男": "male", "女": "female", "male": "male", "female": "female"}
_GRADES = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}
_TYPE_BY_LABEL = {v: k for k, v in DISABILITY_TYPE_LABELS.items()}
_EMPLOYMENT_BY_LABEL = {v: k for k, v in EMPLOYMENT_LABELS.items()}
_ITEM_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_NO_ENTRY = frozenset({"", "无"})  # a disability column may say 无 (none)


@dataclass
class RowProblem:
    column: str
    message: str


@dataclass
class _Row:
    """One row being read: the values so far (``facts``: the eligibility facts) and its problems."""

    cells: Mapping[str, str]
    columns: Mapping[str, str]
    compounds: Mapping[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(RowProblem(self.columns.get(name, LABEL[name]), message))

    @property
    def id_facts(self) -> IdFacts | None:
        found: IdFacts | None = self.values.get("id_number")
        return found


# --- cell readers: a filled cell → its value, or ValueError with the report's message ------


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


def _at_most(length: int) -> Callable[[str, _Row], str]:
    def read(text: str, row: _Row) -> str:
        if len(text) > length:
            raise ValueError(f"at most {length} characters")
        return text

    return read


def _gender(text: str, row: _Row) -> str:
    gender = _GENDERS.get(text.strip().lower())
    if gender is None:
        raise ValueError("expected 男 or 女")
    facts = row.id_facts
    if facts and gender != facts.gender:
        raise ValueError("does not match the gender in the ID number")
    return gender


def _birth_date(text: str, row: _Row) -> dt.date:
    birth = _date(text)
    facts = row.id_facts
    if facts and birth != facts.birth_date:
        raise ValueError("does not match the birth date in the ID number")
    return birth


def _phone(text: str, row: _Row) -> str:
    phone = normalize_phone(text)
    if not phone.isascii() or not phone_ok(phone):
        raise ValueError("not a valid mobile or landline number")
    return phone


def _compound(text: str, row: _Row) -> str:
    code = row.compounds.get(text.strip())
    if code is None:
        raise ValueError("unknown compound")
    return code


def _disability_type(text: str, row: _Row) -> str:
    t = text.strip()
    if t in DISABILITY_TYPES or t in _TYPE_BY_LABEL:
        return _TYPE_BY_LABEL.get(t, t)
    raise ValueError("expected 肢体, 视力, 听力, 言语, 智力, 精神 or 多重")


def _disability_grade(text: str, row: _Row) -> int:
    t = text.strip()
    try:
        return _GRADES.get(t) or _int(t, 1, 4)
    except ValueError:
        raise ValueError("expected 1–4 (一级 to 四级)") from None


def _employment(text: str, row: _Row) -> str:
    t = text.strip()
    code = _EMPLOYMENT_BY_LABEL.get(t, t)
    if code not in EMPLOYMENT_STATUSES:
        raise ValueError("expected 在职, 失业, 灵活就业, 已退休, 在校 or 无业")
    return code


def _certificate(text: str, row: _Row) -> str:
    cert = text.strip()
    if len(cert) > 32 or not re.fullmatch(r"[0-9A-Za-z]+", cert):
        raise ValueError("expected up to 32 letters and digits")
    return cert.upper()


# --- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """How a column's cell is read. A blank cell (its text — stripped first when ``strip`` — in
    ``blanks``) is ``required`` (a problem), ``nothing`` (the field keeps its default) or, for an
    eligibility fact, ``unknown`` (null — when the column is in the sheet at all; an absent
    column leaves the fact alone)."""

    field: str
    read: Callable[[str, _Row], Any]
    blank: Literal["required", "nothing", "unknown"] = "nothing"
    blanks: frozenset[str] = frozenset({""})
    strip: bool = False

    def check(self, row: _Row) -> None:
        text = row.cells.get(self.field, "")
        if (text.strip() if self.strip else text) in self.blanks:
            if self.blank == "required":
                row.problem(self.field, "required")
            elif self.blank == "unknown" and self.field in row.cells:
                row.facts[self.field] = None
            return
        try:
            value = self.read(text, row)
        except ValueError as exc:  # the ID number's IdProblem too
            row.problem(self.field, str(exc))
            return
        (row.facts if self.blank == "unknown" else row.values)[self.field] = value


@dataclass(frozen=True)
class Across:
    """A check spanning columns, run at its place in the table."""

    check: Callable[[_Row], None]


def _grade_needs_type(row: _Row) -> None:
    # As the sheet has always been read: a problem already reported for the type column under
    # the field's own name (a sheet headed in English) is not repeated.
    if row.cells.get("disability_grade", "").strip() in _NO_ENTRY:
        return
    if row.facts.get("disability_type") is None and "disability_type" not in [p.column for p in row.problems]:
        row.problem("disability_type", "a disability grade needs a disability type")


def _fact(
    name: str, read: Callable[[str, _Row], Any], blanks: frozenset[str] = frozenset({""}), *, strip: bool = False
) -> Column:
    return Column(name, read, blank="unknown", blanks=blanks, strip=strip)


def _yes_no(name: str) -> Column:
    return _fact(name, lambda text, row: _bool(text))


COLUMNS: tuple[Column | Across, ...] = (
    Column("name", _at_most(50), blank="required"),
    Column("id_number", lambda text, row: parse_id_number(text), blank="required"),
    Column("gender", _gender),
    Column("birth_date", _birth_date),
    Column("phone", _phone),
    Column("compound", _compound, blank="required"),
    Column("building", _at_most(16)),
    Column("unit", _at_most(16)),
    Column("room", _at_most(16)),
    _yes_no("hukou_local"),
    _yes_no("serious_illness"),
    _yes_no("living_alone"),
    _yes_no("dibao"),
    _yes_no("pension_insured"),
    _yes_no("housing_difficulty"),
    _fact("disability_type", _disability_type, _NO_ENTRY, strip=True),
    _fact("disability_grade", _disability_grade, _NO_ENTRY, strip=True),
    Across(_grade_needs_type),
    _fact("employment_status", _employment, strip=True),
    _fact("children_count", lambda text, row: _int(text, 0, 20)),
    Column("disability_certificate_no", _certificate, strip=True),
    Column("benefits", lambda text, row: _benefits(text)),
)


def validate_row(
    row: SheetRow, columns: Mapping[str, str], compounds: Mapping[str, str]
) -> ResidentRow | list[RowProblem]:
    """One sheet row → a resident row, or the problems (each naming its column).

    ``columns`` maps fields to the headers the sheet used; ``compounds`` maps the codes and names
    the caller may use to compound codes.
    """
    reading = _Row(row.values, columns, compounds)
    for entry in COLUMNS:
        entry.check(reading)
    facts = reading.id_facts
    if reading.problems or facts is None:
        return reading.problems
    v = reading.values
    return ResidentRow(
        number=row.number,
        name=v["name"],
        id_number=facts.number,
        birth_date=facts.birth_date,
        gender=facts.gender,
        phone=v.get("phone"),
        compound=v["compound"],
        building=v.get("building", ""),
        unit=v.get("unit", ""),
        room=v.get("room", ""),
        facts=reading.facts,
        disability_certificate_no=v.get("disability_certificate_no"),
        benefits=v.get("benefits", {}),
    )

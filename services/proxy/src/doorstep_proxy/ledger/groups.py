"""The special groups (重点人群) the ledger counts and filters by: their names, and the one
definition of each, as a SQL condition over ``resident`` and as a check of a loaded resident."""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import ColumnElement
from sqlmodel import col

from .idnumbers import age_on
from .models import Resident

Group = Literal["elderly_80", "disabled", "serious_illness", "living_alone", "dibao"]
GROUPS: tuple[str, ...] = get_args(Group)


def born_on_or_before(today: dt.date, years: int) -> dt.date:
    """The latest birth date of someone at least ``years`` old on ``today``."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February → 28 February
        return today.replace(year=today.year - years, day=28)


def group_condition(group: str, today: dt.date) -> ColumnElement[bool]:
    """SQL: the resident belongs to ``group`` on ``today``."""
    if group == "elderly_80":
        return col(Resident.birth_date) <= born_on_or_before(today, 80)
    if group == "disabled":
        return col(Resident.disability_type).is_not(None)
    if group == "serious_illness":
        return col(Resident.serious_illness).is_(True)
    if group == "living_alone":
        return col(Resident.living_alone).is_(True)
    if group == "dibao":
        return col(Resident.dibao).is_(True)
    raise ValueError(group)


def groups_of(r: Resident, today: dt.date) -> list[str]:
    """The groups a loaded resident belongs to on ``today`` (as :func:`group_condition` says)."""
    out = []
    for group in GROUPS:
        if group == "elderly_80":
            hit = age_on(r.birth_date, today) >= 80
        elif group == "disabled":
            hit = r.disability_type is not None
        else:
            hit = getattr(r, group) is True
        if hit:
            out.append(group)
    return out

"""The special groups (重点人群) the ledger counts and filters by: their names, and the one
definition of each, as a SQL condition over ``resident`` and as a check of a loaded resident."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

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


def elderly_born_by(today: dt.date) -> dt.date:
    """The latest birth date of the ``elderly_80`` group on ``today``."""
    return born_on_or_before(today, 80)


def group_condition(group: str, today: dt.date | None, *, born_by: Any = None) -> ColumnElement[bool]:
    """SQL: the resident belongs to ``group`` on ``today``; a statement built once for every day
    passes a bound parameter as ``born_by`` instead (its value ``elderly_born_by(today)``)."""
    if group == "elderly_80":
        if born_by is None:
            assert today is not None
            born_by = elderly_born_by(today)
        older: ColumnElement[bool] = col(Resident.birth_date) <= born_by
        return older
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

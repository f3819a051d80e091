"""Resident ID numbers (GB 11643) and phones: validation and what an ID number tells us.

Pure functions; errors name the offending field but never echo the value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from doorstep_shared.clock import local_today
from doorstep_shared.http.errors import Invalid
from doorstep_shared.pii import (
    id_number_checksum_ok,
    normalize_id_number,
    normalize_phone,
    phone_ok,
)


@dataclass(frozen=True)
class IdFacts:
    number: str
    birth_date: dt.date
    gender: str  # male | female


class IdProblem(ValueError):
    """Why an ID number is not acceptable (a message safe to show: no digits of the number)."""


def parse_id_number(raw: str) -> IdFacts:
    """Validate an 18-digit ID number and read its birth date and gender."""
    number = normalize_id_number(raw)
    if len(number) != 18 or not number.isascii():
        raise IdProblem("must have 18 characters")
    if not id_number_checksum_ok(number):
        raise IdProblem("check digit does not match (GB 11643)")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdProblem("contains an impossible birth date") from exc
    if birth.year < 1880 or birth > local_today():
        raise IdProblem("contains an impossible birth date")
    gender = "male" if int(number[16]) % 2 == 1 else "female"
    return IdFacts(number, birth, gender)


def check_id_number(
    raw: str,
    *,
    field: str,
    birth_date: dt.date | None = None,
    gender: str | None = None,
    birth_field: str = "body.birth_date",
    gender_field: str = "body.gender",
) -> IdFacts:
    """:func:`parse_id_number` plus cross-checks; 422 naming the field that disagrees."""
    try:
        facts = parse_id_number(raw)
    except IdProblem as exc:
        raise Invalid.field(field, str(exc), code="invalid_id_number") from None
    if birth_date is not None and birth_date != facts.birth_date:
        raise Invalid.field(birth_field, "does not match the birth date in the ID number", code="id_mismatch")
    if gender is not None and gender != facts.gender:
        raise Invalid.field(gender_field, "does not match the gender in the ID number", code="id_mismatch")
    return facts


def check_phone(raw: str, *, field: str) -> str:
    phone = normalize_phone(raw)
    if not phone.isascii() or not phone_ok(phone):
        raise Invalid.field(field, "not a valid mobile or landline number", code="invalid_phone")
    return phone


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Whole years on ``day`` (a 29 February birthday counts on 1 March in common years)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years

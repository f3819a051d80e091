"""The lean read path for residents: a resident as ``ResidentRead`` shows them, built as a plain
dict from a read row (``read_rows``: the columns of ``repository.READ_COLUMNS`` with the benefits
in the row) or a ``Resident`` (its benefits read in one query for all), masked in one pass.

The dicts have exactly ``ResidentRead``'s fields, in its order, with the values its serialisers
would write (masked; the removal reason redacted), so the hot routes write them as JSON at once
(``doorstep_shared.http.sparse.json_page``) and answer the bytes the model would (so does the
sync feed, with ``compound_item`` and ``household_items``), while a write's answer validates the
same dict into the model (``service.reads``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today
from doorstep_shared.pii import PiiCipher, mask_id_number, mask_name, mask_phone, redact_text

from . import repository as repo
from .faces import resident_face, sees_in_full
from .groups import groups_of
from .personal_data import plain_certificate, plain_id_number, plain_phone


def resident_item(
    r: Any, benefits: Sequence[Any], cipher: PiiCipher, today: dt.date, principal: Principal
) -> dict[str, Any]:
    """One resident as ``ResidentRead`` shows them, as a plain dict: its fields in its order, the
    values as its serialisers write them (masked, the removal reason redacted). ``r`` is a
    ``Resident`` or a row of ``repo.READ_COLUMNS``; ``benefits`` (item_code, since) pairs.
    Decrypts only to mask (the plain value never leaves this function); the name and the
    address as ``principal`` may see them (``faces.resident_face``, the one rule)."""
    face = resident_face(principal, cipher, r, today)
    address = face.address
    return {
        "id": r.id,
        "name": face.name,
        "gender": r.gender,
        "birth_date": r.birth_date,
        "age": face.age,
        "id_number_masked": mask_id_number(plain_id_number(cipher, r)) or "",
        "phone_masked": face.phone_masked,
        "community": r.community,
        "grid": r.grid,
        "compound": address.compound,
        "household_id": r.household_id,
        "building": address.building,
        "unit": address.unit,
        "room": address.room,
        "hukou_local": r.hukou_local,
        "disability_type": r.disability_type,
        "disability_grade": r.disability_grade,
        "disability_certificate_masked": mask_id_number(plain_certificate(cipher, r)),
        "serious_illness": r.serious_illness,
        "living_alone": r.living_alone,
        "dibao": r.dibao,
        "employment_status": r.employment_status,
        "pension_insured": r.pension_insured,
        "children_count": r.children_count,
        "housing_difficulty": r.housing_difficulty,
        "benefits": [{"item_code": code, "since": since} for code, since in benefits],
        "groups": groups_of(r, today),
        "status": r.status,
        "removed_reason": redact_text(r.removed_reason) if r.removed_reason else r.removed_reason,
        "removed_at": r.removed_at,
        "surveyed_at": r.surveyed_at,
        "surveyed_by": r.surveyed_by,
        "version": r.version,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


async def resident_items(
    session: repo.Reader, residents: Sequence[Any], cipher: PiiCipher, principal: Principal
) -> list[dict[str, Any]]:
    """``resident_item`` of each resident, their benefits read in one query for all."""
    benefits = await repo.benefits_of(session, [r.id for r in residents])
    today = local_today()
    return [
        resident_item(r, [(b.item_code, b.since) for b in benefits[r.id]], cipher, today, principal) for r in residents
    ]


def row_items(rows: Sequence[Any], cipher: PiiCipher, principal: Principal) -> list[dict[str, Any]]:
    """``resident_item`` of each read row (``read_rows``), the benefits its own."""
    today = local_today()
    return [resident_item(r, r.benefits, cipher, today, principal) for r in rows]


class ResidentColumns:
    """A resident's columns read beside another record in the same statement (a case, a visit, a
    lead), labelled ``resident_<column>``, seen as the resident's own attributes: ``r.name`` is
    the row's ``resident_name``; ``r.id`` its ``resident_id`` (the record's reference)."""

    __slots__ = ("_row",)

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, f"resident_{name}")


def resident_brief_item(r: Any, cipher: PiiCipher, principal: Principal | None) -> dict[str, Any]:
    """A resident as a case or visit shows them, as a plain dict in ``ResidentBrief``'s shape:
    the name as ``principal`` may read it at ``/residents/{id}`` (``faces.sees_in_full``, the
    one rule), the masked name and phone, the address. ``r`` needs id, name, phone_enc,
    community, compound_code, building, unit and room (a ``Resident``, a row, or
    ``ResidentColumns`` of one); the phone is decrypted only to mask it."""
    masked = mask_name(r.name) or ""
    return {
        "id": r.id,
        "name": r.name if sees_in_full(principal, r.community) else masked,
        "name_masked": masked,
        "phone_masked": mask_phone(plain_phone(cipher, r)),
        "compound": r.compound_code,
        "building": r.building,
        "unit": r.unit,
        "room": r.room,
    }


def compound_item(c: Any) -> dict[str, Any]:
    """A compound as ``CompoundRead`` shows it, as a plain dict in its field order (``c`` a
    ``Compound`` or a row with its columns)."""
    return {
        "code": c.code,
        "name": c.name,
        "community": c.community,
        "grid": c.grid,
        "address": c.address,
        "buildings": c.buildings,
        "households": c.households,
        "latitude": c.latitude,
        "longitude": c.longitude,
        "version": c.version,
    }


def household_item(h: Any, members: int) -> dict[str, Any]:
    """A household as ``HouseholdRead`` shows it, as a plain dict in its field order (``h`` a
    ``Household`` or a row with its columns)."""
    return {
        "id": h.id,
        "community": h.community,
        "grid": h.grid,
        "compound": h.compound_code,
        "building": h.building,
        "unit": h.unit,
        "room": h.room,
        "members": members,
    }


async def household_items(session: repo.Reader, households: Sequence[Any]) -> list[dict[str, Any]]:
    """``household_item`` of each household, their active members counted in one query for all."""
    members = await repo.household_members(session, [h.id for h in households])
    return [household_item(h, members.get(h.id, 0)) for h in households]

"""How a resident looks to one caller: the one masking rule for names and addresses.

``GET /residents/{id}`` shows the name and the address in full to whoever may read the resident
there (``residents:read`` and the resident's community in view); anyone else who meets the
resident through another record (a visit, a case, a lead) sees them masked. Every response
that shows a resident beside something else (leads, ``/my/day``) asks :func:`resident_face`, so
a worker never sees masked what they can read in full one tap away, and never more.
The phone is always masked (the plain number only through the audited reveal).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.pii import PiiCipher, mask_name, mask_phone

from .idnumbers import age_on
from .personal_data import plain_phone
from .schemas import ResidentAddress, ResidentFace


def sees_in_full(principal: Principal | None, community: str) -> bool:
    """True when ``principal`` may read a resident of ``community`` at ``/residents/{id}``
    (the rule the ledger's scoping applies there: a machine client never sees residents)."""
    return (
        principal is not None
        and principal.has(Permission.RESIDENTS_READ)
        and not principal.sees_only_its_own
        and principal.sees_community(community)
    )


def _masked(part: str) -> str:
    return "*" * len(part)


def resident_face(principal: Principal | None, cipher: PiiCipher, r: Any, today: dt.date) -> ResidentFace:
    """The resident ``r`` (a ``Resident`` or a row of its table) as ``principal`` may see them:
    name and address in full or masked by :func:`sees_in_full`, the phone masked, the age on
    ``today``. Decrypts the phone only to mask it."""
    full = sees_in_full(principal, r.community)
    return ResidentFace(
        name=r.name if full else mask_name(r.name) or "",
        phone_masked=mask_phone(plain_phone(cipher, r)),
        gender=r.gender,
        age=age_on(r.birth_date, today),
        address=ResidentAddress(
            compound=r.compound_code,
            building=r.building,
            unit=r.unit if full else _masked(r.unit),
            room=r.room if full else _masked(r.room),
        ),
    )

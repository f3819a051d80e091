"""Data retention: residents off the register for longer than ``retention_days`` lose their
personal data.

A resident who moved away or died stays on the ledger (history, figures, the sync feed's
tombstone). After the retention period (``DOORSTEP_PROXY_RETENTION_DAYS``, 365 by default) the
purge erases what identifies the person and keeps what the figures need:

- erased: the name (replaced by ``已清除``), the encrypted ID number and its lookup hash and
  last four digits, the encrypted phone and its hash, the encrypted disability certificate
  number, the free-text removal reason; on the resident's demands, the contact name and phone;
- kept: community, grid, compound, household, birth date, gender, the eligibility facts,
  benefits, status and dates, cases and visits (by id).

The encrypted ID number becomes the encryption of an empty string (readers keep decrypting
it and show an empty mask); its lookup hash becomes ``erased:<resident id>`` (unique, like the
hash it replaces), which is also how an erased resident is recognised. Each resident is erased
by one conditional ``UPDATE … WHERE id_number_hash NOT LIKE 'erased:%'``, so the purge is idempotent and safe with several replicas running it at once: a row
is erased, and audited, exactly once. Every erasure is recorded in the reveal audit trail
(``fields`` lists what was erased, ``reason`` starts with ``retention purge``) and in the
hash-chained audit log (action ``resident.erased``), and each run
logs one line and counts erasures in ``doorstep_proxy_retention_erased_total``.

The purge runs in the proxy's background loop (every ``DOORSTEP_PROXY_RETENTION_INTERVAL``
seconds) and on demand: ``POST /api/v1/proxy/admin/purge`` (``users:manage``, county admins).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.app import DbSession
from doorstep_shared.audit import AuditEvent
from doorstep_shared.clock import utcnow
from doorstep_shared.observability import request_id_var
from doorstep_shared.permissions import Permission
from doorstep_shared.pii import PiiCipher
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from .audit import audit_log
from .demands.models import Demand
from .deps import Cipher, problems
from .ledger.models import Resident, RevealAudit
from .ledger.personal_data import certificate_columns, id_number_columns, phone_columns
from .versions import next_row_versions

logger = logging.getLogger("doorstep.proxy.retention")

PLACEHOLDER = "已清除"
ERASED = "erased:"
ERASED_FIELDS = "disability_cert,id_number,name,phone,removed_reason"
BATCH = 200


class PurgeResult(BaseModel):
    """What one purge run did."""

    retention_days: int
    cutoff: dt.datetime
    erased: int
    demands_cleared: int
    ran_at: dt.datetime


async def _due(session: AsyncSession, cutoff: dt.datetime, limit: int) -> list[tuple[uuid.UUID, str, dt.datetime]]:
    stmt = (
        select(Resident.id, Resident.community, Resident.removed_at)
        .where(
            col(Resident.status) != "active",
            col(Resident.removed_at).is_not(None),
            col(Resident.removed_at) < cutoff,
            col(Resident.id_number_hash).not_like(f"{ERASED}%"),
        )
        .order_by(col(Resident.removed_at), col(Resident.id))
        .limit(limit)
    )
    rows = (await session.exec(stmt)).all()
    return [(rid, community, removed_at or cutoff) for rid, community, removed_at in rows]


async def _erase(
    session: AsyncSession, cipher: PiiCipher, resident_id: uuid.UUID, row_version: int, now: dt.datetime
) -> bool:
    """Erase one resident's personal data unless that already happened; True when this call did."""
    result: Any = await session.execute(
        update(Resident)
        .where(col(Resident.id) == resident_id, col(Resident.id_number_hash).not_like(f"{ERASED}%"))
        .values(
            name=PLACEHOLDER,
            # the empty ID number (readers keep decrypting it), an unmistakable unique hash
            **id_number_columns(cipher, "", f"{ERASED}{resident_id.hex}"),
            **phone_columns(cipher, None),
            **certificate_columns(cipher, None),
            pii_kid=cipher.active_kid,
            removed_reason=None,
            version=col(Resident.version) + 1,
            row_version=row_version,
            updated_at=now,
            updated_by="system:retention",
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1


async def purge(
    session: AsyncSession,
    cipher: PiiCipher,
    *,
    retention_days: int,
    now: dt.datetime | None = None,
    actor: Principal | None = None,
) -> PurgeResult:
    """Erase the personal data of every resident removed before ``now - retention_days``.

    Runs in the caller's transaction (the caller commits)."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=retention_days)
    erased: list[uuid.UUID] = []
    seen: set[uuid.UUID] = set()
    while True:
        due = [d for d in await _due(session, cutoff, BATCH) if d[0] not in seen]
        if not due:
            break
        last = await next_row_versions(session, len(due))
        for i, (resident_id, community, removed_at) in enumerate(due):
            seen.add(resident_id)
            if not await _erase(session, cipher, resident_id, last - len(due) + 1 + i, now):
                continue  # another replica was first
            erased.append(resident_id)
            session.add(
                RevealAudit(
                    at=now,
                    actor=actor.subject if actor else "system",
                    actor_kind=actor.kind if actor else "system",
                    actor_roles=",".join(sorted(actor.roles))[:200] if actor else "",
                    resident_id=resident_id,
                    community=community,
                    fields=ERASED_FIELDS,
                    reason=f"retention purge: off the register since {removed_at.date().isoformat()}, "
                    f"more than {retention_days} days",
                    request_id=request_id_var.get() if actor else None,
                )
            )
            await audit_log.append(
                session,
                AuditEvent(
                    actor=actor.subject if actor else "system",
                    actor_kind=actor.kind if actor else "system",
                    action="resident.erased",
                    subject_type="resident",
                    subject_id=str(resident_id),
                    community=community,
                    details={
                        "fields": ERASED_FIELDS.split(","),
                        "removed_on": removed_at.date().isoformat(),
                        "retention_days": retention_days,
                    },
                ),
            )
        await session.flush()
    cleared = 0
    for start in range(0, len(erased), BATCH):
        chunk = erased[start : start + BATCH]
        result: Any = await session.execute(
            update(Demand)
            .where(
                col(Demand.resident_id).in_(chunk),
                (col(Demand.contact_name).is_not(None)) | (col(Demand.contact_phone_enc).is_not(None)),
            )
            .values(contact_name=None, contact_phone_enc=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        cleared += int(result.rowcount or 0)
    if erased:
        logger.info(
            "retention purge erased %d residents (removed before %s, %d demands cleared)",
            len(erased),
            cutoff.date().isoformat(),
            cleared,
        )
    return PurgeResult(
        retention_days=retention_days, cutoff=cutoff, erased=len(erased), demands_cleared=cleared, ran_at=now
    )


def _count(app_state: Any, result: PurgeResult) -> None:
    counter = getattr(app_state, "retention_erased", None)
    if counter is not None and result.erased:
        counter.inc(result.erased)


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: PiiCipher,
    retention_days: int,
    now: dt.datetime | None = None,
) -> PurgeResult:
    """One purge in its own transaction (the background loop's step)."""
    async with sessionmaker() as session:
        result = await purge(session, cipher, retention_days=retention_days, now=now)
        await session.commit()
    return result


async def _purge_old_tombstones(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Sync tombstones older than their retention go too (cursors from before them get 410)."""
    from .cases.sync import purge_tombstones  # the sync feed owns its own retention rule

    async with sessionmaker() as session:
        await purge_tombstones(session)
        await session.commit()


async def background(app_state: Any, retention_days: int, interval: float, *, delay: float = 30.0) -> None:
    """Runs in every replica; the conditional updates make concurrent passes harmless."""
    await asyncio.sleep(delay)
    while True:
        try:
            _count(app_state, await run_once(app_state.sessionmaker, app_state.pii, retention_days))
            await _purge_old_tombstones(app_state.sessionmaker)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("retention purge pass failed")
        await asyncio.sleep(interval)


router = APIRouter(prefix="/api/v1/proxy/admin", tags=["retention"], dependencies=[Depends(current_principal)])


@router.post(
    "/purge",
    response_model=PurgeResult,
    status_code=200,
    summary="Erase the personal data of residents off the register longer than the retention period",
    description="County admins only (`users:manage`). Idempotent: residents already erased are "
    "skipped; each erasure is recorded in the reveal audit trail.",
    operation_id="proxy_retention_purge",
    responses=problems(),
)
async def purge_now(
    request: Request,
    session: DbSession,
    cipher: Cipher,
    principal: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> PurgeResult:
    result = await purge(session, cipher, retention_days=request.app.state.settings.retention_days, actor=principal)
    _count(request.app.state, result)
    return result

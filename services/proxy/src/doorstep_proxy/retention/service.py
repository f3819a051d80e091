"""The retention purge: who is due, what is erased and recorded, one run in its own transaction,
and the background pass (see the package's docstring for the rules)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.db.audit import AuditEvent
from doorstep_shared.http.observability import request_id_var
from doorstep_shared.pii import PiiCipher

from ..audit import audit_log
from ..cases.sync import purge_tombstones
from ..files import service as files
from ..ledger.models import RevealAudit
from ..ledger.personal_data import certificate_columns, id_number_columns, phone_columns
from ..versions import next_row_versions
from . import repository as repo
from .repository import ERASED
from .schemas import PurgeResult

logger = logging.getLogger("doorstep.proxy.retention")

PLACEHOLDER = "已清除"
ERASED_FIELDS = "disability_cert,id_number,name,phone,removed_reason"
BATCH = 200


def _erased_values(cipher: PiiCipher, resident_id: uuid.UUID, row_version: int, now: dt.datetime) -> dict[str, Any]:
    """What an erased resident's identifying columns become."""
    return {
        "name": PLACEHOLDER,
        # the empty ID number (readers keep decrypting it), an unmistakable unique hash
        **id_number_columns(cipher, "", f"{ERASED}{resident_id.hex}"),
        **phone_columns(cipher, None),
        **certificate_columns(cipher, None),
        "pii_kid": cipher.active_kid,
        "removed_reason": None,
        "row_version": row_version,
        "updated_at": now,
        "updated_by": "system:retention",
    }


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
        due = [d for d in await repo.due(session, cutoff, BATCH) if d[0] not in seen]
        if not due:
            break
        last = await next_row_versions(session, len(due))
        for i, (resident_id, community, removed_at) in enumerate(due):
            seen.add(resident_id)
            if not await repo.erase(
                session, resident_id, _erased_values(cipher, resident_id, last - len(due) + 1 + i, now)
            ):
                continue  # another replica was first
            erased.append(resident_id)
            repo.add_record(
                session,
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
                ),
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
        cleared += await repo.clear_demand_contacts(session, erased[start : start + BATCH], now)
    files_erased = await files.erase_for_residents(session, erased) if erased else 0
    if erased:
        logger.info(
            "retention purge erased %d residents (removed before %s, %d demands cleared, %d files deleted)",
            len(erased),
            cutoff.date().isoformat(),
            cleared,
            files_erased,
        )
    return PurgeResult(
        retention_days=retention_days,
        cutoff=cutoff,
        erased=len(erased),
        demands_cleared=cleared,
        files_deleted=files_erased,
        ran_at=now,
    )


def record_erasures(counter: Counter, result: PurgeResult) -> None:
    """Count a run's erasures in ``doorstep_proxy_retention_erased_total``."""
    if result.erased:
        counter.inc(result.erased)


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: PiiCipher,
    retention_days: int,
    now: dt.datetime | None = None,
) -> PurgeResult:
    """One purge in its own transaction (the background pass's step)."""
    async with sessionmaker() as session:
        result = await purge(session, cipher, retention_days=retention_days, now=now)
        await session.commit()
    return result


async def _purge_old_tombstones(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Sync tombstones older than their retention go too (cursors from before them get 410)."""
    async with sessionmaker() as session:
        await purge_tombstones(session)  # the sync feed owns its own retention rule
        await session.commit()


async def background_pass(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: PiiCipher, retention_days: int, erasures: Counter
) -> None:
    """What the background work runs every interval, in every replica (the conditional updates
    make concurrent passes harmless)."""
    record_erasures(erasures, await run_once(sessionmaker, cipher, retention_days))
    await _purge_old_tombstones(sessionmaker)

"""The field app's change feed: everything in the worker's scope changed after a cursor.

Driven by ``row_version`` (the ledger's ``change_sequence``), never by clocks: a phone whose
clock is wrong still gets every change. Each write takes its number under the sequence row's
lock, held until commit, so numbers become visible in order and a cursor never skips a record
committed later with a smaller number.

The cursor is opaque: (format, scope, row_version, entity rank, id) — the last record sent,
ties between records sharing a row_version broken by table rank and id. A cursor from another
scope (another community's worker), from before the tombstone horizon (tombstones purged) or
from a newer database than this one answers **410** ``sync_resync_required``: drop the local copy
and sync from scratch (no ``since``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.http.errors import Gone, Invalid
from doorstep_shared.http.pagination import cursor_int, cursor_text, encode_cursor, read_cursor
from doorstep_shared.pii import PiiCipher

from ..demands.models import Demand
from ..demands.service import demand_read
from ..ledger import service as ledger
from ..ledger.models import Household, Resident
from ..versions import sequence_value
from . import repository as repo
from .models import ProxyCase, SyncTombstone, Visit
from .schemas import SyncPage, Tombstone
from .service import case_reads
from .visits import visit_reads

TOMBSTONE_TTL = dt.timedelta(days=90)  # a phone offline longer than this resyncs from scratch
FORMAT = "s1"
START: tuple[int, int, str] = (-1, 0, "")
# base64url of '["s1",' (the start of every cursor of this format before they were signed)
_UNSIGNED_PREFIX = "WyJzMSIs"


def _version(value: Any, field: str) -> int:
    """A row version, or -1: the cursor of an empty first page (``START``)."""
    return -1 if value == -1 and type(value) is int else cursor_int(value, field)


def scope_key(principal: Principal) -> str:
    visible = principal.visible_communities
    raw = "*" if visible is None else ",".join(sorted(visible))
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _resync(detail: str, reason: str) -> Gone:
    return Gone(
        detail + " Drop the local copy and sync again without `since`.",
        code="sync_resync_required",
        reason=reason,
    )


async def decode(session: AsyncSession, principal: Principal, since: str | None) -> tuple[int, int, str]:
    if not since:
        return START
    if "." not in since and since.startswith(_UNSIGNED_PREFIX):
        # Issued before cursors were signed: a phone that kept one resyncs instead of being stuck.
        raise _resync("This cursor comes from an older release of this server.", "unknown_cursor")
    values = read_cursor(since, cursor_text, cursor_text, _version, cursor_int, cursor_text, field="query.since")
    assert values is not None
    fmt, scope, version, rank, last = values
    if fmt != FORMAT:
        raise Invalid.field("query.since", "malformed cursor", code="invalid_cursor")
    if scope != scope_key(principal):
        raise _resync("This cursor belongs to another scope.", "foreign_cursor")
    if version < await sequence_value(session, "tombstone_floor"):
        raise _resync("This cursor is older than the deletions this server still remembers.", "expired_cursor")
    if version > await sequence_value(session, "changes"):
        raise _resync("This cursor comes from a newer copy of the data than this server's.", "unknown_cursor")
    return version, rank, last


def _key(entity: str, row: Any) -> tuple[int, int, str]:
    rank = repo.SYNC_ENTITIES.index(entity)
    return row.row_version, rank, str(row.id)


def _sort_key(item: tuple[tuple[int, int, str], str, Any]) -> tuple[int, int, Any]:
    (version, rank, _), _entity, row = item
    return version, rank, row.id


async def changes(
    session: AsyncSession, principal: Principal, cipher: PiiCipher, *, since: str | None, limit: int
) -> SyncPage:
    after = await decode(session, principal, since)
    merged: list[tuple[tuple[int, int, str], str, Any]] = []
    for entity in repo.SYNC_ENTITIES:
        rows = await repo.sync_rows(session, principal, entity, after=after, limit=limit + 1)
        merged.extend((_key(entity, r), entity, r) for r in rows)
    merged.sort(key=_sort_key)
    has_more = len(merged) > limit
    page = merged[:limit]
    last = page[-1][0] if page else after
    cursor = encode_cursor([FORMAT, scope_key(principal), last[0], last[1], last[2]])

    residents = [r for _, e, r in page if e == "resident"]
    households = [r for _, e, r in page if e == "household"]
    cases = [r for _, e, r in page if e == "case"]
    visits = [r for _, e, r in page if e == "visit"]
    demands = [r for _, e, r in page if e == "demand"]
    stones = [r for _, e, r in page if e == "tombstone"]
    out = SyncPage(cursor=cursor, has_more=has_more)
    live = [r for r in residents if isinstance(r, Resident) and r.status == "active"]
    gone = [r for r in residents if r.status != "active"]
    if live:
        out.residents = await ledger.reads(session, live, cipher, principal)
    out.tombstones = [Tombstone(entity="resident", id=str(r.id), row_version=r.row_version) for r in gone]
    if households:
        out.households = await ledger.household_reads(session, [h for h in households if isinstance(h, Household)])
    if cases:
        out.cases = await case_reads(session, [c for c in cases if isinstance(c, ProxyCase)], cipher, principal)
    if visits:
        out.visits = await visit_reads(session, [v for v in visits if isinstance(v, Visit)], cipher, principal)
    out.demands = [demand_read(d, cipher) for d in demands if isinstance(d, Demand)]
    out.tombstones += [
        Tombstone(entity=s.entity, id=s.entity_id, row_version=s.row_version)
        for s in stones
        if isinstance(s, SyncTombstone)
    ]
    return out


async def purge_tombstones(session: AsyncSession, *, older_than: dt.timedelta = TOMBSTONE_TTL) -> int:
    """Forget deletions older than ``older_than``; cursors from before them get 410."""
    return await repo.purge_tombstones(session, utcnow() - older_than)

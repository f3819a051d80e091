"""The field app's change feed: everything in the worker's sync scope changed after a cursor.

Driven by ``row_version`` (the ledger's ``change_sequence``), never by clocks: a phone whose
clock is wrong still gets every change. Each write takes its number under the sequence row's
lock, held until commit, so numbers become visible in order and a cursor never skips a record
committed later with a smaller number.

**Scope** (``?scope=mine|grid|community``, see CASES.md "Sync scope"): ``grid`` is the
default of a worker whose token or roster names a grid — that grid's compounds, households and
residents plus every case and visit assigned to the worker wherever it is; ``mine`` only what is
assigned to the worker; ``community`` everything the caller's communities hold (the default of
admins and of workers without a grid). A record that leaves a scope without being deleted (a
compound redrawn to another grid, a case reassigned) leaves a tombstone tagged with the grid or
worker it left; a tombstone is dropped from a page when the record is still in the caller's
scope by another road.

The cursor is opaque: (format, scope, key, grids, phase, old grids, known, row_version, entity
rank, id). ``known``: the phone holds every change up to that number (set when a sync starts
from scratch or reaches the end), so paging through old records after a tombstone purge works. ``key`` binds it to the caller's communities, scope and username; ``grids`` are the grids
the phone holds. When the worker's grids change (token or roster), the next delta first sends
tombstones for what the grids they left still hold (phase ``x``), then the new scope from the
start (phase ``n`` from ``START``): the phone keeps its queue and its local copy, and ends with
exactly the new scope. A cursor of another scope, another caller or another community, from
before the tombstone horizon (tombstones purged) or from a newer database than this one answers
**410** ``sync_resync_required``: drop the local copy and sync from scratch (no ``since``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.permissions import Role
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.http.errors import Gone, Invalid
from doorstep_shared.http.pagination import (
    cursor_int,
    cursor_text,
    decode_cursor,
    encode_cursor,
    read_cursor,
)
from doorstep_shared.pii import PiiCipher

from ..demands.service import demand_read
from ..ledger import service as ledger
from ..versions import sequence_value
from ..workers import service as workers
from . import repository as repo
from .reads import case_items, visit_items
from .repository import SyncScope

TOMBSTONE_TTL = dt.timedelta(days=90)  # a phone offline longer than this resyncs from scratch
FORMAT = "s2"
SCOPES = ("mine", "grid", "community")
START: tuple[int, int, str] = (-1, 0, "")
# base64url of '["s1",' (the start of every cursor of this format before they were signed)
_UNSIGNED_PREFIX = "WyJzMSIs"
_GRIDS_TEXT_MAX = 160  # more grids than fit: a change of them resyncs from scratch instead
_ADMINS = frozenset({Role.COMMUNITY_ADMIN.value, Role.COUNTY_ADMIN.value})
# Entities a worker leaving a grid may hold, in the order phase ``x`` walks them.
_LEAVING = ("compound", "resident", "household", "case", "visit", "demand")
_CHUNK = 250  # records masked in one stretch of the event loop (``_by_chunks``)
# A page's lists, in ``SyncPage``'s field order.
_PARTS = ("compounds", "residents", "households", "cases", "visits", "demands", "tombstones")


def _version(value: Any, field: str) -> int:
    """A row version, or -1: the cursor of an empty first page (``START``)."""
    return -1 if value == -1 and type(value) is int else cursor_int(value, field)


def _phase(value: Any, field: str) -> str:
    if value not in ("n", "x"):
        raise Invalid.field(field, "malformed cursor", code="invalid_cursor")
    return str(value)


async def resolve_scope(session: AsyncSession, principal: Principal, asked: str | None) -> SyncScope:
    """The scope asked for, or the caller's default (CASES.md "Sync scope")."""
    grids: tuple[str, ...] = ()
    if principal.kind == "user":
        roster = await workers.grids_of_worker(session, principal.subject)
        grids = tuple(sorted({*roster, *([principal.grid] if principal.grid else [])}))
    name = asked
    if name is None:
        name = "grid" if grids and not (principal.roles & _ADMINS) else "community"
    if name == "grid" and not grids:
        raise Invalid.field("query.scope", "no grid to sync: your account serves no grid", code="sync_scope_no_grid")
    return SyncScope(name=name, worker=principal.subject, grids=grids if name == "grid" else ())


def scope_key(principal: Principal, scope: SyncScope) -> str:
    """Binds a cursor to the caller's communities and scope (and, but for ``community``, login)."""
    visible = principal.visible_communities
    raw = "*" if visible is None else ",".join(sorted(visible))
    raw += "|community" if scope.name == "community" else f"|{scope.name}|{principal.subject}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _grids_text(grids: tuple[str, ...]) -> str:
    text = ",".join(grids)
    if len(text) > _GRIDS_TEXT_MAX:
        return "#" + hashlib.sha256(text.encode()).hexdigest()[:16]
    return text


def _grids_of(text: str) -> tuple[str, ...]:
    return tuple(g for g in text.split(",") if g)


def _resync(detail: str, reason: str) -> Gone:
    return Gone(
        detail + " Drop the local copy and sync again without `since`.",
        code="sync_resync_required",
        reason=reason,
    )


class Position:
    """Where a page starts: phase ``n`` (the feed after ``after``) or ``x`` (leaving ``gone``)."""

    def __init__(
        self, phase: str, after: tuple[int, int, str], known: int, gone: tuple[str, ...] = (), gone_text: str = ""
    ) -> None:
        self.phase = phase
        self.after = after
        self.known = known  # the phone holds every change up to this number (see ``decode``)
        self.gone = gone
        self.gone_text = gone_text
        self.top = known  # the newest change number when the request began (set by ``decode``)


def _cursor(principal: Principal, scope: SyncScope, pos: Position) -> str:
    head = [FORMAT, scope.name, scope_key(principal, scope), _grids_text(scope.grids), pos.phase, pos.gone_text]
    return encode_cursor([*head, pos.known, *pos.after])


def _older_release(since: str) -> bool:
    try:
        values = decode_cursor(since, 5, field="query.since")
    except Invalid:
        return False
    return values is not None and values[0] == "s1"


async def decode(session: AsyncSession, principal: Principal, scope: SyncScope, since: str | None) -> Position:
    top = await sequence_value(session, "changes")
    if not since:
        return Position("n", START, top)
    if ("." not in since and since.startswith(_UNSIGNED_PREFIX)) or _older_release(since):
        # From before cursors were signed or scoped: a phone that kept one resyncs instead of being stuck.
        raise _resync("This cursor comes from an older release of this server.", "unknown_cursor")
    kinds = (cursor_text,) * 4 + (_phase, cursor_text, cursor_int, _version, cursor_int, cursor_text)
    values = read_cursor(since, *kinds, field="query.since")
    assert values is not None
    fmt, name, key, grids_text, phase, gone_text, known, version, rank, last = values
    if fmt != FORMAT or name not in SCOPES:
        raise Invalid.field("query.since", "malformed cursor", code="invalid_cursor")
    if name != scope.name:
        raise _resync(f"This cursor belongs to the scope `{name}`, not `{scope.name}`.", "other_scope")
    if key != scope_key(principal, scope):
        raise _resync("This cursor belongs to another scope.", "foreign_cursor")
    # Expired only if the phone may hold a record whose deletion was forgotten: a page in the
    # middle of a sync begun after those deletions (``known`` past them) is not.
    floor = await sequence_value(session, "tombstone_floor")
    if version < floor and known < floor - 1:
        raise _resync("This cursor is older than the deletions this server still remembers.", "expired_cursor")
    if version > top or known > top:
        raise _resync("This cursor comes from a newer copy of the data than this server's.", "unknown_cursor")
    if phase == "x":
        pos = Position("x", (version, rank, last), known, _grids_of(gone_text), gone_text)
    elif grids_text == _grids_text(scope.grids):
        pos = Position("n", (version, rank, last), known)
    else:
        pos = _grids_changed(scope, grids_text, version, top)
    pos.top = top
    return pos


def _grids_changed(scope: SyncScope, grids_text: str, version: int, top: int) -> Position:
    now_text = _grids_text(scope.grids)
    if grids_text.startswith("#") or now_text.startswith("#"):
        raise _resync("Your grids changed.", "grids_changed")
    # The worker's grids changed since this cursor: leave the old ones, then the new scope from the start.
    gone = tuple(g for g in _grids_of(grids_text) if g not in scope.grids)
    return Position("x", (version, 0, ""), top, gone, ",".join(gone))


def _key(entity: str, row: Any) -> tuple[int, int, str]:
    rank = repo.SYNC_ENTITIES.index(entity)
    return row.row_version, rank, str(row.id)


def _sort_key(item: tuple[tuple[int, int, str], str, Any]) -> tuple[int, int, Any]:
    (version, rank, _), _entity, row = item
    return version, rank, row.id


async def changes(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    *,
    since: str | None,
    limit: int,
    scope: str | None = None,
) -> dict[str, Any]:
    """One page of the feed as ``SyncPage`` shows it, as a plain dict (written as JSON once)."""
    resolved = await resolve_scope(session, principal, scope)
    pos = await decode(session, principal, resolved, since)
    if pos.phase == "x" and pos.gone:
        return await _leaving(session, principal, resolved, pos, limit)
    if pos.phase == "x":  # only grids added: the new scope from the start
        pos = Position("n", START, pos.known)
    return await _feed(session, principal, cipher, resolved, pos, limit)


async def _feed(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    scope: SyncScope,
    pos: Position,
    limit: int,
) -> dict[str, Any]:
    after = pos.after
    merged: list[tuple[tuple[int, int, str], str, Any]] = []
    for entity in repo.SYNC_ENTITIES:
        rows = await repo.sync_rows(session, principal, entity, scope, after=after, limit=limit + 1)
        merged.extend((_key(entity, r), entity, r) for r in rows)
    merged.sort(key=_sort_key)
    has_more = len(merged) > limit
    page = merged[:limit]
    last = page[-1][0] if page else after
    known = pos.known if has_more else max(pos.known, pos.top, last[0])
    of: dict[str, list[Any]] = {entity: [] for entity in repo.SYNC_ENTITIES}
    for _, entity, row in page:
        of[entity].append(row)
    residents, cases, visits = of["resident"], of["case"], of["visit"]
    if scope.name != "community" and after[0] >= 0:
        residents += await _residents_brought_in(session, scope, residents, cases, visits, after[0])
    live = [r for r in residents if r.status == "active"]
    gone = [_tombstone("resident", str(r.id), r.row_version) for r in residents if r.status != "active"]
    return _page(
        _cursor(principal, scope, Position("n", last, known)),
        has_more,
        scope,
        compounds=[ledger.compound_item(c) for c in of["compound"]],
        residents=await _by_chunks(ledger.resident_items, session, live, cipher, principal),
        households=await ledger.household_items(session, of["household"]) if of["household"] else [],
        cases=await _by_chunks(case_items, session, cases, cipher, principal),
        visits=await _by_chunks(visit_items, session, visits, cipher, principal),
        demands=[demand_read(d, cipher) for d in of["demand"]],
        tombstones=gone + await _still_gone(session, principal, scope, of["tombstone"]),
    )


async def _by_chunks(
    items: Callable[[AsyncSession, Sequence[Any], PiiCipher, Principal], Awaitable[list[dict[str, Any]]]],
    session: AsyncSession,
    rows: Sequence[Any],
    cipher: PiiCipher,
    principal: Principal,
) -> list[dict[str, Any]]:
    """``items`` of ``rows`` (each reads what its rows need in one query, then masks them all),
    _CHUNK rows at a time: a page of a thousand residents holds the event loop for a quarter
    of them at most, the queries between the chunks letting other requests in."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(rows), _CHUNK):
        out += await items(session, rows[start : start + _CHUNK], cipher, principal)
    return out


def _page(cursor: str, has_more: bool, scope: SyncScope, **parts: list[Any]) -> dict[str, Any]:
    """A page as ``SyncPage`` shows it, as a plain dict in its field order (the route writes it
    as JSON at once: the bytes the model would write, ``tests/proxy/cases/test_lean_reads.py``)."""
    return {
        "cursor": cursor,
        "has_more": has_more,
        "scope": scope.name,
        **{name: parts.get(name, []) for name in _PARTS},
    }


def _tombstone(entity: str, entity_id: str, row_version: int) -> dict[str, Any]:
    return {"entity": entity, "id": entity_id, "row_version": row_version}


async def _residents_brought_in(
    session: AsyncSession,
    scope: SyncScope,
    page: list[Any],
    cases: list[Any],
    visits: list[Any],
    version: int,
) -> list[Any]:
    """The residents from outside the scope's grids of the page's cases and visits whose own
    record did not change since the cursor. A case may have just entered the scope (assigned to
    the worker from another grid) and the feed would not carry its resident, while a phone needs
    the resident of every case it holds; a changed case of such a resident carries it again
    (a few records, against a table of who holds what for every phone)."""
    have = {r.id for r in page}
    wanted = {c.resident_id for c in cases} | {v.resident_id for v in visits}
    found = await ledger.residents_by_ids(session, sorted(wanted - have))
    return [
        r for r in found.values() if r.row_version <= version and r.status == "active" and r.grid not in scope.grids
    ]


async def _still_gone(
    session: AsyncSession, principal: Principal, scope: SyncScope, stones: list[Any]
) -> list[dict[str, Any]]:
    """Tombstones of the page, less the scope exits of records the scope still holds."""
    held: set[tuple[str, str]] = set()
    exits: dict[str, list[str]] = {}
    for s in stones:
        if s.grid is not None or s.worker is not None or scope.name == "community":
            exits.setdefault(s.entity, []).append(s.entity_id)
    for entity, ids in exits.items():
        held |= {(entity, i) for i in await repo.in_scope(session, principal, entity, scope, ids)}
    return [_tombstone(s.entity, s.entity_id, s.row_version) for s in stones if (s.entity, s.entity_id) not in held]


async def _leaving(
    session: AsyncSession, principal: Principal, scope: SyncScope, pos: Position, limit: int
) -> dict[str, Any]:
    """Phase ``x``: tombstones for what the grids the worker left hold now (and what left those
    grids since the cursor), less what the new scope holds; then the new scope from the start."""
    version, rank, last = pos.after
    found: list[tuple[str, str, int, str]] = []  # (entity, entity id, rank, feed key)
    while rank <= len(_LEAVING) and len(found) <= limit:
        room = limit + 1 - len(found)
        if rank < len(_LEAVING):
            entity = _LEAVING[rank]
            rows = await repo.leaving_ids(session, principal, entity, pos.gone, after=last, limit=room)
            found += [(entity, entity_id, rank, key) for key, entity_id in rows]
        else:
            stones = await repo.left_since(session, principal, pos.gone, version=version, after=last, limit=room)
            found += [(s.entity, s.entity_id, rank, str(s.id)) for s in stones]
        if len(found) <= limit:
            rank, last = rank + 1, ""
    has_more = len(found) > limit
    page = found[:limit]
    held: set[tuple[str, str]] = set()
    by_entity: dict[str, list[str]] = {}
    for entity, entity_id, _, _ in page:
        by_entity.setdefault(entity, []).append(entity_id)
    for entity, ids in by_entity.items():
        held |= {(entity, i) for i in await repo.in_scope(session, principal, entity, scope, ids)}
    tombstones = [
        _tombstone(entity, entity_id, version) for entity, entity_id, _, _ in page if (entity, entity_id) not in held
    ]
    if has_more:
        nxt = Position("x", (version, page[-1][2], page[-1][3]), pos.known, pos.gone, pos.gone_text)
    else:
        nxt = Position("n", START, pos.known)
    return _page(_cursor(principal, scope, nxt), True, scope, tombstones=tombstones)


async def purge_tombstones(session: AsyncSession, *, older_than: dt.timedelta = TOMBSTONE_TTL) -> int:
    """Forget deletions older than ``older_than``; cursors from before them get 410."""
    return await repo.purge_tombstones(session, utcnow() - older_than)

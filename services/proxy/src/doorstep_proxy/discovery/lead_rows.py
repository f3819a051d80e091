"""The lead reads' rows (issue #23 part 2): a page of leads and one lead, each with its
resident's ``repository.LEAD_RESIDENT`` columns beside it, the "last confirmed" runs and the
peek at the change queue before a list, as ``reads.lead_items`` takes them.

The statements are built once per shape (which filters a list has, the caller's kind of scope),
their values bound as parameters, like ``ledger.read_rows``. On PostgreSQL, on a driver
connection (``doorstep_shared.db.driver.hot_read``), they run on asyncpg itself and each
resident's benefits come in the same row (``benefits``: the item codes); elsewhere (SQLite, a
session) the Core statement runs and ``reads.lead_items`` reads the page's benefits in one query.
A page is chosen from the leads alone (the (community, grid, id) index), then its residents are
joined to it. ``tests/proxy/discovery/test_lean_reads.py`` holds both paths to the response model
byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db.driver import HotQuery, HotReader, among

from ..tenancy import ScopeShape, scope_of, scoped_by_shape
from .compile_sql import BENEFIT, RESIDENT
from .repository import LEAD, LEAD_COLUMNS, LEAD_RESIDENT, PENDING, RUN, in_grids


def _beside(source: Any, resident_id: Any, arrays: bool) -> Select[Any]:
    """``source``'s columns, its resident's labelled ``resident_<column>`` and, on the driver,
    the resident's benefits as an array of item codes."""
    stmt = select(*source.c, *LEAD_RESIDENT).outerjoin_from(source, RESIDENT, RESIDENT.c.id == resident_id)
    if arrays:
        codes = select(BENEFIT.c.item_code).where(BENEFIT.c.resident_id == resident_id).scalar_subquery()
        stmt = stmt.add_columns(func.array(codes).label("benefits"))
    return stmt


# --- a page ---------------------------------------------------------------------------------

# The filters a list may have, in this order; each is bound under its own name.
FILTERS = ("community", "grids", "item_code", "resident_id", "statuses", "verdict", "missing_bit", "after")
# (the caller's scope, the filters given)
PageShape = tuple[ScopeShape, tuple[str, ...]]


@lru_cache(maxsize=256)
def _page(shape: PageShape) -> HotQuery:
    scope, given = shape

    def build(arrays: bool) -> Select[Any]:
        page = select(*LEAD_COLUMNS).order_by(LEAD.c.id).limit(bindparam("limit"))
        page = scoped_by_shape(page, LEAD, scope, arrays=arrays)
        for name in given:
            if name == "grids":
                page = page.where(in_grids("grids", arrays=arrays))
            elif name == "statuses":
                page = page.where(among(LEAD.c.status, "statuses", arrays=arrays))
            elif name == "missing_bit":
                page = page.where(LEAD.c.missing_mask.op("&")(bindparam("missing_bit")) != 0)
            elif name == "after":
                page = page.where(LEAD.c.id > bindparam("after"))
            else:
                column = LEAD.c[name]
                page = page.where(column == bindparam(name, type_=column.type))
        chosen = page.subquery("page")
        return _beside(chosen, chosen.c.resident_id, arrays).order_by(chosen.c.id)

    return HotQuery(build)


async def lead_page(conn: HotReader, principal: Principal, *, limit: int, filters: dict[str, Any]) -> Sequence[Any]:
    """A page of the leads ``principal`` sees, in id order: ``filters`` by the names of
    ``FILTERS`` (None: not filtered; ``grids``, ``statuses``: lists), ``limit`` rows at most."""
    scope, params = scope_of(principal)
    given = tuple(name for name in FILTERS if filters.get(name) is not None)
    params.update({name: filters[name] for name in given}, limit=limit)
    return await _page((scope, given)).rows(conn, params)


# --- one lead --------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _one(scope: ScopeShape) -> HotQuery:
    def build(arrays: bool) -> Select[Any]:
        lead = select(*LEAD_COLUMNS).where(LEAD.c.id == bindparam("lead_id"))
        chosen = scoped_by_shape(lead, LEAD, scope, arrays=arrays).subquery("lead")
        return _beside(chosen, chosen.c.resident_id, arrays)

    return HotQuery(build)


async def lead_row(conn: HotReader, principal: Principal, lead_id: int) -> Any | None:
    """One lead with its resident beside it, if ``principal`` sees it."""
    scope, params = scope_of(principal)
    rows = await _one(scope).rows(conn, {**params, "lead_id": lead_id})
    return rows[0] if rows else None


# --- what a read needs besides -----------------------------------------------------------------

_RUNS = HotQuery(
    lambda arrays: (
        select(RUN.c.id, RUN.c.scope, RUN.c.finished_at, RUN.c["items"])
        .where(RUN.c.status == "completed", among(RUN.c.scope, "scopes", arrays=arrays))
        .order_by(RUN.c.id.desc())
        .limit(20)
    )
)


async def last_runs_covering(conn: HotReader, scopes: Sequence[str]) -> list[Any]:
    """The latest completed runs over these scopes, newest first (the "last confirmed" markers):
    rows of id, scope, finished_at and items (the plan, a list of item codes)."""
    # (A JSON column comes decoded on the driver too: SQLAlchemy's dialect gives asyncpg its codec.)
    return list(await _RUNS.rows(conn, {"scopes": list(scopes)}))


_PEEK = HotQuery(lambda arrays: select(PENDING.c.resident_id).limit(1))


async def anything_pending(conn: HotReader) -> bool:
    """Whether any resident waits in the change queue to be re-evaluated."""
    return bool(await _PEEK.rows(conn, {}))

"""The one scoping rule: a caller sees the rows of the communities their token names (county
roles: the communities of their token's county, as the directory copy has them now; without a
county, every community). Every query of a tenant's records goes through :func:`scoped`, so a
record of another community is simply absent — 404 on read, missing from lists and counts.

A machine client sees less: only the rows that came from its own requests (its demands, which
include its Open311 requests, the cases made from them and the visits covering those cases),
unless a county admin granted it ``cases:read:all`` (``Principal.sees_only_its_own``). Any
other table is invisible to it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import FromClause, bindparam, false, select
from sqlmodel import col

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db.driver import among

from .cases.models import ProxyCase, Visit, VisitCase
from .demands.models import Demand


def _column(model: Any, name: str) -> Any:
    if isinstance(model, FromClause):  # a Core table or subquery
        return model.c[name]
    return col(getattr(model, name))


def _table_name(model: Any) -> str:
    return str(getattr(model, "name", "") if isinstance(model, FromClause) else model.__tablename__)


def _from_own_requests(model: Any, client_id: Any) -> Any:
    """Rows of ``model`` that came from this client's own demands (``client_id`` a value or a bound
    parameter); nothing of other tables."""
    own_demands = select(col(Demand.id)).where(col(Demand.source_client) == client_id)
    own_cases = select(col(ProxyCase.id)).where(col(ProxyCase.demand_id).in_(own_demands))
    name = _table_name(model)
    if name == Demand.__tablename__:
        return _column(model, "source_client") == client_id
    if name == ProxyCase.__tablename__:
        return _column(model, "demand_id").in_(own_demands)
    if name == Visit.__tablename__:
        covering = select(col(VisitCase.visit_id)).where(col(VisitCase.case_id).in_(own_cases))
        return _column(model, "id").in_(covering)
    return false()


def scoped(
    stmt: Any, model: Any, principal: Principal, *, community: str | None = None, grid: str | None = None
) -> Any:
    """``stmt`` narrowed to the rows of ``model`` the principal may see, and to ``community`` and
    ``grid`` when they are given. ``model`` is a table class or a Core table with a ``community``
    (and, for ``grid``, a ``grid``) column."""
    visible = principal.visible_communities
    if principal.sees_only_its_own:
        stmt = stmt.where(_from_own_requests(model, principal.subject))
    if visible is not None:
        stmt = stmt.where(_column(model, "community").in_(sorted(visible)))
    if community:
        stmt = stmt.where(_column(model, "community") == community)
    if grid:
        stmt = stmt.where(_column(model, "grid") == grid)
    return stmt


# The hot reads' statements are built once per shape of scope (``ledger.read_rows``), not per request.
ScopeShape = tuple[bool, bool]  # (sees only its own requests, limited to some communities)


def scope_of(principal: Principal) -> tuple[ScopeShape, dict[str, Any]]:
    """The shape of ``principal``'s scope and the values its bound parameters take: the same rule
    as :func:`scoped`, for statements built once (:func:`scoped_by_shape`)."""
    visible = principal.visible_communities
    own = principal.sees_only_its_own
    params: dict[str, Any] = {}
    if own:
        params["scope_client"] = principal.subject
    if visible is not None:
        params["scope_communities"] = sorted(visible)
    return (own, visible is not None), params


def scoped_by_shape(stmt: Any, model: Any, shape: ScopeShape, *, arrays: bool = False) -> Any:
    """``stmt`` narrowed as :func:`scoped` narrows it, with bound parameters in place of the
    principal's values (``scope_client``, ``scope_communities``; :func:`scope_of` gives them).
    ``arrays``: the communities bound as one array (a statement run on the driver, see
    ``doorstep_shared.db.driver.among``)."""
    own, limited = shape
    if own:
        stmt = stmt.where(_from_own_requests(model, bindparam("scope_client")))
    if limited:
        stmt = stmt.where(among(_column(model, "community"), "scope_communities", arrays=arrays))
    return stmt

"""The one scoping rule: a caller sees the rows of the communities their token names (county
roles: every community). Every query of a tenant's records goes through :func:`scoped`, so a
record of another community is simply absent — 404 on read, missing from lists and counts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import FromClause
from sqlmodel import col

from doorstep_shared.auth.tokens import Principal


def _column(model: Any, name: str) -> Any:
    if isinstance(model, FromClause):  # a Core table or subquery
        return model.c[name]
    return col(getattr(model, name))


def scoped(
    stmt: Any, model: Any, principal: Principal, *, community: str | None = None, grid: str | None = None
) -> Any:
    """``stmt`` narrowed to the rows of ``model`` the principal may see, and to ``community`` and
    ``grid`` when they are given. ``model`` is a table class or a Core table with a ``community``
    (and, for ``grid``, a ``grid``) column."""
    visible = principal.visible_communities
    if visible is not None:
        stmt = stmt.where(_column(model, "community").in_(sorted(visible)))
    if community:
        stmt = stmt.where(_column(model, "community") == community)
    if grid:
        stmt = stmt.where(_column(model, "grid") == grid)
    return stmt

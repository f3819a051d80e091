"""Compile a rule's AST to SQL over the resident table, keeping the closure's three-valued logic.

For every node the compiler builds two conditions that are never NULL: ``true`` (the node holds)
and ``false`` (it does not); *unknown* is neither. Kleene's logic is then plain boolean algebra:

    not x:  true = false(x)        false = true(x)
    and:    true = all true        false = any false
    or:     true = any true        false = all false

A leaf on a fact is ``col IS NOT NULL AND col <op> v`` / ``col IS NOT NULL AND NOT (col <op> v)``,
so a NULL (unknown) fact is neither, exactly like the closure's "missing fact". ``age`` becomes a
bound on ``birth_date`` for the evaluation date (``age >= 80`` ⇔ ``birth_date <= on - 80 years``:
index-friendly and identical on SQLite and PostgreSQL); ``benefits`` becomes ``EXISTS`` over
``resident_benefit``. A resident with no disability on record (``disability_type`` NULL) has a
*known* "none" disability (the vocabulary: "null if none"), not an unknown one: it fails ``==``,
``in`` and orderings and passes ``!=`` — :data:`NONE_ON_RECORD` does the same in Python. For each nullable fact a third condition says whether that fact is among the
closure's ``missing`` facts, and a fingerprint expression renders the facts a rule reads (declined
leads come back only when it changes). ``python_facts``/``python_fingerprint`` are the same
functions for one resident in Python, so the incremental path and the bulk path agree.
"""

from __future__ import annotations

import datetime as dt
import operator as _op
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from doorstep_shared.rules import facts_of
from doorstep_shared.rules.nodes import And, Compare, Const, Contains, InValues, Node, Not, Or, Truthy
from doorstep_shared.rules.vocabulary import (
    FACT_BY_NAME,
    FACTS,
    NONE_ON_RECORD,
    NONE_WHEN_NO_DISABILITY,
    with_none_on_record,
)

from ..ledger.models import Resident, ResidentBenefit

RESIDENT: Table = Resident.__table__  # type: ignore[attr-defined]
BENEFIT: Table = ResidentBenefit.__table__  # type: ignore[attr-defined]

# Facts stored as plain resident columns of the same name (``age`` and ``benefits`` are derived).
COLUMN_FACTS: frozenset[str] = frozenset(
    f.name for f in FACTS if f.name not in ("age", "benefits") and f.name in RESIDENT.c
)
DERIVED_FACTS = frozenset({"age", "benefits"})
# Bit of each fact in a lead's ``missing_mask`` (vocabulary order; stable across releases as
# long as facts are only appended).
FACT_BITS: dict[str, int] = {f.name: 1 << i for i, f in enumerate(FACTS)}

_NEGATE: dict[str, str] = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": _op.eq,
    "!=": _op.ne,
    "<": _op.lt,
    "<=": _op.le,
    ">": _op.gt,
    ">=": _op.ge,
}


class NotPushable(ValueError):
    """The rule reads something the resident table cannot answer: evaluate it in Python."""


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years on ``day``, never negative (the catalogue's evaluate endpoint does the same)."""
    years = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    return max(0, years)


def birth_bound(on: dt.date, years: int) -> dt.date | None:
    """The latest birth date of someone at least ``years`` (≥ 1) old on ``on``; None if nobody is.

    On 29 February of a leap year the bound in a common year is 28 February: a 29 February
    birthday counts on 1 March in common years, matching :func:`age_on`.
    """
    year = on.year - years
    if year < dt.MINYEAR:
        return None
    try:
        return on.replace(year=year)
    except ValueError:
        return on.replace(year=year, day=28)


def birthday(birth: dt.date, years: int) -> dt.date:
    """The day someone born on ``birth`` turns ``years`` (29 February → 1 March in common years)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


@dataclass(frozen=True)
class SqlRule:
    """One rule as SQL conditions over ``resident`` (correlated with the given table)."""

    node: Node
    true: ColumnElement[bool]
    false: ColumnElement[bool]
    missing: Mapping[str, ColumnElement[bool]]  # fact -> "this fact is among the missing"
    facts: frozenset[str]
    members: tuple[str, ...]  # benefit codes the rule tests
    resident: Table = field(repr=False)
    benefit: Table = field(repr=False)

    @property
    def unknown(self) -> ColumnElement[bool]:
        return and_(not_(self.true), not_(self.false))

    @property
    def candidate(self) -> ColumnElement[bool]:
        """Eligible or unknown: what becomes a lead (or a survey to-do)."""
        return not_(self.false)

    def status(self) -> ColumnElement[str]:
        """``eligible`` / ``not_eligible`` / ``unknown`` in one column."""
        return case((self.true, "eligible"), (self.false, "not_eligible"), else_="unknown")

    def missing_mask(self) -> ColumnElement[int]:
        """The missing facts as a bit mask (``FACT_BITS``); 0 when decided."""
        parts = [case((cond, FACT_BITS[name]), else_=0) for name, cond in sorted(self.missing.items())]
        if not parts:
            return literal(0, Integer)
        return reduce(lambda a, b: a + b, parts)

    def fingerprint(self) -> ColumnElement[str]:
        """The facts the rule reads, rendered as text; equals :func:`python_fingerprint`."""
        r = self.resident
        pieces: list[ColumnElement[str]] = []
        for name in sorted(self.facts - {"benefits"}):
            if name == "age":
                pieces.append(cast(r.c.birth_date, String))
            elif FACT_BY_NAME[name].type == "bool":
                c = r.c[name]
                pieces.append(case((c.is_(None), ""), (c.is_(True), "t"), else_="f"))
            elif FACT_BY_NAME[name].type == "int":
                pieces.append(func.coalesce(cast(r.c[name], String), ""))
            else:
                pieces.append(func.coalesce(r.c[name], ""))
        for member in self.members:
            pieces.append(case((_receives(self.resident, self.benefit, member), "t"), else_="f"))
        if not pieces:
            return literal("", String)
        sep = literal("|", String)
        return reduce(lambda a, b: a.op("||")(sep).op("||")(b), pieces)


def members_of(node: Node) -> tuple[str, ...]:
    found: set[str] = set()

    def walk(n: Node) -> None:
        if isinstance(n, Contains):
            found.add(n.member)
        elif isinstance(n, Not):
            walk(n.arg)
        elif isinstance(n, And | Or):
            for a in n.args:
                walk(a)

    walk(node)
    return tuple(sorted(found))


def pushable(node: Node, columns: Iterable[str] = COLUMN_FACTS) -> bool:
    allowed = set(columns) | DERIVED_FACTS
    return facts_of(node) <= allowed


def _receives(resident: Table, benefit: Table, member: str) -> ColumnElement[bool]:
    # An uncorrelated IN: PostgreSQL hashes the item's recipients once ("hashed SubPlan") instead
    # of probing the index for every resident in every place the rule tests the benefit.
    return resident.c.id.in_(select(benefit.c.resident_id).where(benefit.c.item_code == member))


@dataclass
class _Tri:
    t: ColumnElement[bool]
    f: ColumnElement[bool]
    missing: dict[str, ColumnElement[bool]]


class _Compiler:
    def __init__(self, on: dt.date, resident: Table, benefit: Table, columns: frozenset[str]) -> None:
        self.on = on
        self.r = resident
        self.b = benefit
        self.columns = columns

    def column(self, fact: str) -> Any:
        if fact not in self.columns:
            raise NotPushable(f"fact {fact!r} has no resident column")
        return self.r.c[fact]

    # -- age ---------------------------------------------------------------------------
    def at_least(self, years: int) -> ColumnElement[bool]:
        if years <= 0:  # ages are never negative
            return true()
        bound = birth_bound(self.on, years)
        if bound is None:
            return false()
        return self.r.c.birth_date <= bound

    def age_holds(self, op: str, value: int) -> ColumnElement[bool]:
        if op == ">=":
            return self.at_least(value)
        if op == ">":
            return self.at_least(value + 1)
        if op == "<":
            return not_(self.at_least(value))
        if op == "<=":
            return not_(self.at_least(value + 1))
        exactly = and_(self.at_least(value), not_(self.at_least(value + 1)))
        return exactly if op == "==" else not_(exactly)

    # -- nodes ---------------------------------------------------------------------------
    def leaf(
        self, fact: str, holds: ColumnElement[bool], fails: ColumnElement[bool], *, none_holds: bool = False
    ) -> _Tri:
        c = self.column(fact)
        present = c.is_not(None)
        if fact not in NONE_WHEN_NO_DISABILITY:
            return _Tri(and_(present, holds), and_(present, fails), {fact: c.is_(None)})
        # no disability on record: a known "none" (equals nothing, differs from everything)
        none = and_(self.r.c.disability_type.is_(None), c.is_(None))
        t = or_(and_(present, holds), none) if none_holds else and_(present, holds)
        f = and_(present, fails) if none_holds else or_(and_(present, fails), none)
        unknown = and_(c.is_(None), self.r.c.disability_type.is_not(None))
        return _Tri(t, f, {} if fact == "disability_type" else {fact: unknown})

    def compile(self, node: Node) -> _Tri:
        if isinstance(node, Const):
            return _Tri(true() if node.value else false(), false() if node.value else true(), {})
        if isinstance(node, Truthy):
            return self.compile(Compare("==", node.fact, True, node.position))
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, InValues):
            if node.fact == "age":
                holds = or_(*(self.age_holds("==", int(v)) for v in node.values))
                return _Tri(holds, not_(holds), {})
            c = self.column(node.fact)
            values = list(dict.fromkeys(node.values))
            return self.leaf(node.fact, c.in_(values), c.not_in(values))
        if isinstance(node, Contains):
            if node.fact != "benefits":
                raise NotPushable(f"set fact {node.fact!r} has no table")
            held = _receives(self.r, self.b, node.member)
            return _Tri(held, not_(held), {})
        if isinstance(node, Not):
            inner = self.compile(node.arg)
            return _Tri(inner.f, inner.t, inner.missing)
        parts = [self.compile(a) for a in node.args]
        facts = sorted({name for p in parts for name in p.missing})
        if isinstance(node, And):
            t = and_(*(p.t for p in parts))
            f = or_(*(p.f for p in parts))
            guard = not_(f)  # unknown needs no part false
        else:
            t = or_(*(p.t for p in parts))
            f = and_(*(p.f for p in parts))
            guard = not_(t)  # unknown needs no part true
        missing = {name: and_(guard, or_(*(p.missing[name] for p in parts if name in p.missing))) for name in facts}
        return _Tri(t, f, missing)

    def compare(self, node: Compare) -> _Tri:
        fact, op, value = node.fact, node.op, node.value
        if fact == "age":
            if not isinstance(value, int) or isinstance(value, bool):
                raise NotPushable("age compares with an integer")
            holds = self.age_holds(op, value)
            return _Tri(holds, not_(holds), {})
        c = self.column(fact)
        if isinstance(value, bool):
            wanted = value if op == "==" else not value
            return _Tri(c.is_(wanted), c.is_(not wanted), {fact: c.is_(None)})
        return self.leaf(fact, _OPS[op](c, value), _OPS[_NEGATE[op]](c, value), none_holds=op == "!=")


def compile_sql(
    node: Node,
    *,
    on: dt.date,
    resident: Table = RESIDENT,
    benefit: Table = BENEFIT,
    columns: Iterable[str] = COLUMN_FACTS,
) -> SqlRule:
    """SQL for one rule on the evaluation date ``on``; ``NotPushable`` when it cannot be."""
    tri = _Compiler(on, resident, benefit, frozenset(columns)).compile(node)
    return SqlRule(
        node=node,
        true=tri.t,
        false=tri.f,
        missing=tri.missing,
        facts=facts_of(node),
        members=members_of(node),
        resident=resident,
        benefit=benefit,
    )


# --- the same, for one resident in Python ----------------------------------------------------

FACT_COLUMNS: tuple[str, ...] = tuple(sorted(COLUMN_FACTS))


def python_facts(row: Any, benefits: Iterable[str], on: dt.date) -> dict[str, Any]:
    """The rule facts of a resident row (attribute access) on ``on``; None stays unknown."""
    facts: dict[str, Any] = {name: getattr(row, name) for name in FACT_COLUMNS}
    facts["age"] = age_on(row.birth_date, on)
    facts["benefits"] = frozenset(benefits)
    return with_none_on_record(facts)


def python_fingerprint(node_facts: frozenset[str], members: tuple[str, ...], row: Any, benefits: Iterable[str]) -> str:
    held = set(benefits)
    pieces: list[str] = []
    for name in sorted(node_facts - {"benefits"}):
        if name == "age":
            pieces.append(row.birth_date.isoformat())
            continue
        value = getattr(row, name)
        if value is None or value is NONE_ON_RECORD:
            pieces.append("")
        elif isinstance(value, bool):
            pieces.append("t" if value else "f")
        else:
            pieces.append(str(value))
    pieces.extend("t" if m in held else "f" for m in members)
    return "|".join(pieces)


def mask_of(missing: Iterable[str]) -> int:
    return sum(FACT_BITS[name] for name in set(missing))


def facts_in(mask: int) -> list[str]:
    """The facts named by a missing mask, in vocabulary order."""
    return [name for name, bit in FACT_BITS.items() if mask & bit]

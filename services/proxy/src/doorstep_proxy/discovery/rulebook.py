"""The catalogue's rules, compiled once per catalogue snapshot: a closure per item (one resident,
with reasons) and whether the rule can be pushed down to SQL (bulk runs)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from doorstep_shared.rules import CompiledRule, Node, RuleError, compile_rule, facts_of
from doorstep_shared.rules.nodes import And, Compare, InValues, Not, Or

from ..catalog_client import CatalogItem, CatalogSnapshot
from .compile_sql import NotPushable, SqlRule, compile_sql, members_of, pushable


@dataclass(frozen=True)
class ItemRule:
    code: str
    name: str
    item: CatalogItem
    rule: CompiledRule
    rule_hash: str
    pushable: bool
    facts: frozenset[str]
    members: tuple[str, ...]

    @property
    def node(self) -> Node:
        return self.rule.node

    def sql(self, on: dt.date) -> SqlRule | None:
        """The SQL form on ``on``, or None when the rule must be evaluated in Python."""
        if not self.pushable:
            return None
        try:
            return compile_sql(self.node, on=on)
        except NotPushable:
            return None

    def age_thresholds(self) -> list[int]:
        """Ages at which this rule may start (or stop) holding as someone grows older."""
        found: set[int] = set()

        def walk(n: Node) -> None:
            # Both sides of every bound: under a "!" the polarity flips; callers verify each
            # candidate date with the closure, so an extra threshold costs nothing but a check.
            if isinstance(n, Compare) and n.fact == "age" and isinstance(n.value, int):
                found.update((n.value, n.value + 1))
            elif isinstance(n, InValues) and n.fact == "age":
                found.update(v for x in n.values for v in (int(x), int(x) + 1))
            elif isinstance(n, Not):
                walk(n.arg)
            elif isinstance(n, And | Or):
                for a in n.args:
                    walk(a)

        walk(self.node)
        return sorted(v for v in found if 0 < v <= 150)


def rule_hash(rule: object) -> str:
    return hashlib.sha256(json.dumps(rule, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class RuleBook:
    """Every published item with a rule, compiled."""

    def __init__(self, snapshot: CatalogSnapshot) -> None:
        self.snapshot = snapshot
        self.revision = snapshot.revision
        labels = {code: item.name for code, item in snapshot.items.items()}
        self.items: dict[str, ItemRule] = {}
        self.invalid: list[str] = []
        for code, item in sorted(snapshot.items.items()):
            if item.status != "published" or item.eligibility_rule is None:
                continue
            try:
                compiled = compile_rule(item.eligibility_rule, member_labels=labels)
            except RuleError:
                self.invalid.append(code)  # validated by the catalogue; skipped, never fatal
                continue
            self.items[code] = ItemRule(
                code=code,
                name=item.name,
                item=item,
                rule=compiled,
                rule_hash=rule_hash(item.eligibility_rule),
                pushable=pushable(compiled.node),
                facts=facts_of(compiled.node),
                members=members_of(compiled.node),
            )

    def hashes(self) -> dict[str, str]:
        return {code: r.rule_hash for code, r in self.items.items()}


_cache: tuple[CatalogSnapshot, RuleBook] | None = None


def rulebook(snapshot: CatalogSnapshot) -> RuleBook:
    """The compiled rules of a snapshot (compiled again only when the snapshot object changes)."""
    global _cache
    if _cache is not None and _cache[0] is snapshot:
        return _cache[1]
    book = RuleBook(snapshot)
    _cache = (snapshot, book)
    return book

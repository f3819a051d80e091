"""The catalogue's rules, compiled once per catalogue snapshot: a closure per item (one resident,
with reasons) and whether the rule can be pushed down to SQL (bulk runs)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from doorstep_shared.directory import Directory
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
    """Every published item with a rule of one handbook, compiled: ``county``'s (None: every
    county's items by code, as before counties)."""

    def __init__(self, snapshot: CatalogSnapshot, county: str | None = None) -> None:
        self.snapshot = snapshot
        self.county = county
        self.revision = snapshot.revision
        self.handbook = snapshot.items if county is None else snapshot.handbook(county)
        labels = {code: item.name for code, item in self.handbook.items()}
        self.items: dict[str, ItemRule] = {}
        self.invalid: list[str] = []
        for code, item in sorted(self.handbook.items()):
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


_cache: tuple[CatalogSnapshot, dict[str | None, RuleBook]] | None = None


def rulebook(snapshot: CatalogSnapshot, county: str | None = None) -> RuleBook:
    """The compiled rules of a snapshot's handbook of ``county`` (None: every item), compiled
    again only when the snapshot object changes."""
    global _cache
    if _cache is None or _cache[0] is not snapshot:
        _cache = (snapshot, {})
    books = _cache[1]
    if county not in books:
        books[county] = RuleBook(snapshot, county)
    return books[county]


# A run's scope, narrowed to what one county's book serves: ``county`` (everybody), one
# community, or the communities of one county.
Scope = str | tuple[str, ...]


class RuleBooks:
    """The rule book of each county's handbook and which one serves each community's residents
    (its county, from the directory). Without counties in the export, or without a directory,
    there is one book of every item: discovery as before counties."""

    def __init__(self, snapshot: CatalogSnapshot, directory: Directory | None) -> None:
        self.snapshot = snapshot
        self.whole = rulebook(snapshot)
        self._county_of: dict[str, str] = {}
        self._communities: list[str] = []
        if directory is not None and snapshot.counties:
            self._county_of = {c.code: c.county for c in directory.communities}
            self._communities = [c.code for c in directory.communities]

    def book_of(self, community: str | None) -> RuleBook:
        """The book of ``community``'s county (every item for a community the directory lacks,
        as a case's intake does)."""
        county = self._county_of.get(community) if community is not None else None
        return self.whole if county is None else rulebook(self.snapshot, county)

    def plan(self, scope: str) -> list[tuple[RuleBook, Scope]]:
        """The books a run over ``scope`` evaluates, each with the part of the scope it serves:
        residents are grouped by community → county, one book (and one query per item) each."""
        if not self._county_of:
            return [(self.whole, scope)]
        if scope != "county":
            return [(self.book_of(scope), scope)]
        groups: dict[str, list[str]] = {}
        for community in self._communities:
            groups.setdefault(self._county_of[community], []).append(community)
        if len(groups) == 1:  # a single county: its book over everybody
            (county,) = groups
            return [(rulebook(self.snapshot, county), "county")]
        return [(rulebook(self.snapshot, county), tuple(groups[county])) for county in sorted(groups)]

    def codes(self) -> list[str]:
        """Every code with a rule in some county's book (a run's items)."""
        return sorted({code for book, _ in self.plan("county") for code in book.items})

    def hashes(self) -> dict[str, str]:
        """Per code, the hash of its rules: with several counties, of each county's rule for it
        (an edit in one county re-runs that code)."""
        plan = self.plan("county")
        if len(plan) == 1:
            return plan[0][0].hashes()
        per_code: dict[str, dict[str, str]] = {}
        for book, _ in plan:
            for code, rule in book.items.items():
                per_code.setdefault(code, {})[book.county or ""] = rule.rule_hash
        return {code: rule_hash(hashes) for code, hashes in per_code.items()}

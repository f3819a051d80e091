"""Parse and check an eligibility rule: the JSON Logic subset over the fact vocabulary.

The subset (everything else is rejected, with the position of the offending part):

- ``true`` / ``false``;
- ``{"and": [r, ...]}``, ``{"or": [r, ...]}``, ``{"!": [r]}``;
- ``{"var": "<bool fact>"}`` as a condition on its own;
- ``{"==" | "!=": [{"var": f}, literal]}`` for int, bool and enum facts (either operand order);
- ``{"<" | "<=" | ">" | ">=": [{"var": f}, int]}`` for int facts (either operand order);
- ``{"in": [{"var": f}, [literal, ...]]}`` for int and enum facts;
- ``{"in": ["item-code", {"var": f}]}`` for set facts.

Positions are JSON-pointer-like paths into the rule, e.g. ``/and/1/>=/0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from .nodes import (
    OPERATORS,
    And,
    Compare,
    CompareOp,
    Const,
    Contains,
    InValues,
    Node,
    Not,
    Or,
    Scalar,
    Truthy,
)
from .vocabulary import FACT_BY_NAME, Fact

MAX_DEPTH = 16
MAX_NODES = 400
MAX_IN_VALUES = 50

_FLIP: dict[str, CompareOp] = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_ORDERING = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True)
class RuleProblem:
    code: str  # unknown_operator | unknown_fact | wrong_type | bad_shape | too_large
    message: str
    position: str  # "" is the whole rule

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "position": self.position or "/"}


class RuleError(ValueError):
    """A rule that does not parse; ``problems`` says what and where."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(f"{first.position or '/'}: {first.message}")


def _ptr(base: str, part: str | int) -> str:
    return f"{base}/{str(part).replace('~', '~0').replace('/', '~1')}"


class _Parser:
    def __init__(self) -> None:
        self.problems: list[RuleProblem] = []
        self.nodes = 0

    def fail(self, code: str, message: str, position: str) -> None:
        self.problems.append(RuleProblem(code, message, position))

    def condition(self, raw: Any, pos: str, depth: int) -> Node | None:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            if not any(p.code == "too_large" for p in self.problems):
                self.fail("too_large", "rule is too deep or too large", pos)
            return None
        if isinstance(raw, bool):
            return Const(raw, pos)
        if not isinstance(raw, dict) or len(raw) != 1:
            self.fail("bad_shape", "expected true, false or an object with one operator", pos)
            return None
        op, args = next(iter(raw.items()))
        if op not in OPERATORS:
            self.fail("unknown_operator", f"unknown operator {op!r}", _ptr(pos, str(op)))
            return None
        here = _ptr(pos, op)
        if op == "var":
            fact = self.var(args, here)
            if fact is None:
                return None
            if fact.type != "bool":
                self.fail(
                    "wrong_type",
                    f"fact {fact.name!r} is {fact.type}, not a condition; compare it with a value",
                    here,
                )
                return None
            return Truthy(fact.name, pos)
        items, positions = self.arguments(args, here)
        if op in ("and", "or"):
            if not items:
                self.fail("bad_shape", f"{op!r} needs at least one condition", here)
                return None
            children = [self.condition(a, p, depth + 1) for a, p in zip(items, positions, strict=True)]
            if any(c is None for c in children):
                return None
            parts = tuple(cast(list[Node], children))
            return And(parts, pos) if op == "and" else Or(parts, pos)
        if op == "!":
            if len(items) != 1:
                self.fail("bad_shape", "'!' takes exactly one condition", here)
                return None
            child = self.condition(items[0], positions[0], depth + 1)
            return None if child is None else Not(child, pos)
        if len(items) != 2:
            self.fail("bad_shape", f"{op!r} takes exactly two operands", here)
            return None
        if op == "in":
            return self.membership(items, positions, pos)
        return self.comparison(cast(CompareOp, op), items, positions, pos)

    def arguments(self, args: Any, here: str) -> tuple[list[Any], list[str]]:
        if isinstance(args, list):
            return args, [_ptr(here, i) for i in range(len(args))]
        return [args], [here]  # JSON Logic's unary sugar: {"!": x}

    def var(self, args: Any, here: str) -> Fact | None:
        if isinstance(args, list):
            if len(args) != 1:
                self.fail("bad_shape", "'var' takes one fact name (no default value)", here)
                return None
            args = args[0]
            here = _ptr(here, 0)
        if not isinstance(args, str):
            self.fail("bad_shape", "'var' needs a fact name", here)
            return None
        fact = FACT_BY_NAME.get(args)
        if fact is None:
            self.fail("unknown_fact", f"unknown fact {args[:64]!r}", here)
        return fact

    def is_var(self, raw: Any) -> bool:
        return isinstance(raw, dict) and len(raw) == 1 and "var" in raw

    def literal(self, fact: Fact, raw: Any, pos: str) -> Scalar | None:
        if fact.type == "int":
            if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**9:
                return raw
            self.fail("wrong_type", f"fact {fact.name!r} is an integer; got {_kind(raw)}", pos)
        elif fact.type == "bool":
            if isinstance(raw, bool):
                return raw
            self.fail("wrong_type", f"fact {fact.name!r} is true/false; got {_kind(raw)}", pos)
        elif fact.type == "enum":
            if isinstance(raw, str) and raw in fact.values:
                return raw
            self.fail(
                "wrong_type",
                f"fact {fact.name!r} takes one of {', '.join(fact.values)}; got {_kind(raw)}",
                pos,
            )
        else:
            self.fail("wrong_type", f"fact {fact.name!r} is a set; test it with 'in'", pos)
        return None

    def comparison(self, op: CompareOp, items: list[Any], positions: list[str], pos: str) -> Node | None:
        left_var, right_var = self.is_var(items[0]), self.is_var(items[1])
        if left_var == right_var:
            self.fail("bad_shape", f"{op!r} compares one fact with one literal value", positions[0])
            return None
        var_index = 0 if left_var else 1
        lit_index = 1 - var_index
        fact = self.var(items[var_index]["var"], _ptr(positions[var_index], "var"))
        if fact is None:
            return None
        if op in _ORDERING and fact.type != "int":
            self.fail(
                "wrong_type",
                f"{op!r} needs an integer fact; {fact.name!r} is {fact.type}",
                positions[var_index],
            )
            return None
        value = self.literal(fact, items[lit_index], positions[lit_index])
        if value is None:
            return None
        return Compare(op if var_index == 0 else _FLIP[op], fact.name, value, pos)

    def membership(self, items: list[Any], positions: list[str], pos: str) -> Node | None:
        needle, haystack = items
        if self.is_var(haystack):
            fact = self.var(haystack["var"], _ptr(positions[1], "var"))
            if fact is None:
                return None
            if fact.type != "set":
                self.fail("wrong_type", f"fact {fact.name!r} is not a set", _ptr(positions[1], "var"))
                return None
            if not isinstance(needle, str) or not 0 < len(needle) <= 64:
                self.fail("wrong_type", "the member must be a short string", positions[0])
                return None
            if fact.values and needle not in fact.values:
                self.fail("wrong_type", f"{needle!r} is not a member of {fact.name}", positions[0])
                return None
            return Contains(fact.name, needle, pos)
        if not self.is_var(needle):
            self.fail("bad_shape", "'in' takes a fact and a list, or a value and a set fact", positions[0])
            return None
        fact = self.var(needle["var"], _ptr(positions[0], "var"))
        if fact is None:
            return None
        if fact.type not in ("int", "enum"):
            self.fail(
                "wrong_type",
                f"'in' with a list needs an int or enum fact; {fact.name!r} is {fact.type}",
                positions[0],
            )
            return None
        if not isinstance(haystack, list) or not 0 < len(haystack) <= MAX_IN_VALUES:
            self.fail("bad_shape", f"expected a list of 1 to {MAX_IN_VALUES} values", positions[1])
            return None
        values = [self.literal(fact, v, _ptr(positions[1], i)) for i, v in enumerate(haystack)]
        if any(v is None for v in values):
            return None
        return InValues(fact.name, tuple(cast(list[Scalar], values)), pos)


def _kind(raw: Any) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int | float):
        return "a number"
    if isinstance(raw, str):
        return f"the string {raw[:32]!r}"
    if isinstance(raw, list):
        return "a list"
    return "an object"


def parse(rule: Any) -> Node:
    """The AST of a rule; ``RuleError`` listing every problem found (with positions)."""
    parser = _Parser()
    node = parser.condition(rule, "", 0)
    if node is None or parser.problems:
        raise RuleError(parser.problems or [RuleProblem("bad_shape", "invalid rule", "")])
    return node


def validate(rule: Any) -> list[RuleProblem]:
    """Problems in a rule (empty when it is valid)."""
    try:
        parse(rule)
    except RuleError as exc:
        return exc.problems
    return []

"""Compile a rule once into a Python closure with three-valued logic and plain-Chinese reasons.

``compile_rule(rule)(facts)`` answers an ``Outcome``: ``value`` is True (eligible), False (not
eligible) or None (unknown: a fact it needs is missing), with ``reasons`` in plain words
("年满80周岁", "非本县户籍") and the ``missing`` facts. Logic is Kleene's: ``and`` is False as soon
as one part is False even if others are unknown; ``or`` is True as soon as one part is True.

The tree is walked once, at compile time; each call only runs the nested closures.
"""

from __future__ import annotations

import operator as _op
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .nodes import And, Compare, Const, Contains, InValues, Node, Not, Scalar, Truthy
from .validate import parse
from .vocabulary import DISABILITY_TYPE_LABELS, EMPLOYMENT_LABELS, FACT_BY_NAME, GENDER_LABELS

Verdict = tuple[bool | None, tuple[str, ...], tuple[str, ...]]  # value, reasons, missing facts
Check = Callable[[Mapping[str, Any]], Verdict]

_UNITS = {"age": "周岁", "disability_grade": "级", "children_count": "个"}
_BOOL_WORDS = {
    "hukou_local": ("本县户籍", "非本县户籍"),
    "serious_illness": ("患重病", "未患重病"),
    "living_alone": ("独居", "非独居"),
    "dibao": ("享受低保", "未享受低保"),
    "pension_insured": ("已参加养老保险", "未参加养老保险"),
    "housing_difficulty": ("住房困难", "无住房困难"),
}
_ENUM_LABELS: dict[str, dict[str, str]] = {
    "gender": GENDER_LABELS,
    "disability_type": DISABILITY_TYPE_LABELS,
    "employment_status": EMPLOYMENT_LABELS,
}


@dataclass(frozen=True)
class Outcome:
    value: bool | None
    reasons: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def status(self) -> str:
        return {True: "eligible", False: "not_eligible", None: "unknown"}[self.value]


class CompiledRule:
    """A rule ready to run many times; ``facts`` is what the rule reads."""

    def __init__(self, node: Node, check: Check) -> None:
        self.node = node
        self._check = check

    def __call__(self, facts: Mapping[str, Any]) -> Outcome:
        value, reasons, missing = self._check(facts)
        return Outcome(value, tuple(dict.fromkeys(reasons)), tuple(dict.fromkeys(missing)))


def compile_rule(rule: Any, *, member_labels: Mapping[str, str] | None = None) -> CompiledRule:
    """Parse (raising ``RuleError``) and compile a rule. ``member_labels`` names set members."""
    node = parse(rule)
    return CompiledRule(node, _compile(node, member_labels or {}))


def _label(fact: str) -> str:
    return FACT_BY_NAME[fact].label


def _value_words(fact: str, value: Scalar) -> str:
    if isinstance(value, str):
        return _ENUM_LABELS.get(fact, {}).get(value, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return f"{value}{_UNITS.get(fact, '')}"


def _compare_words(fact: str, op: str, value: Scalar) -> tuple[str, str]:
    """What to say when ``fact op value`` holds, and when it does not."""
    if fact == "age" and isinstance(value, int) and not isinstance(value, bool):
        table = {
            ">=": (f"年满{value}周岁", f"未满{value}周岁"),
            ">": (f"年龄超过{value}周岁", f"年龄未超过{value}周岁"),
            "<": (f"未满{value}周岁", f"年满{value}周岁"),
            "<=": (f"年龄不超过{value}周岁", f"年龄超过{value}周岁"),
            "==": (f"年龄为{value}周岁", f"年龄不是{value}周岁"),
            "!=": (f"年龄不是{value}周岁", f"年龄为{value}周岁"),
        }
        return table[op]
    if isinstance(value, bool) and fact in _BOOL_WORDS:
        yes, no = _BOOL_WORDS[fact]
        holds_when_true = value == (op == "==")
        return (yes, no) if holds_when_true else (no, yes)
    label, words = _label(fact), _value_words(fact, value)
    table = {
        ">=": (f"{label}不低于{words}", f"{label}低于{words}"),
        ">": (f"{label}高于{words}", f"{label}不高于{words}"),
        "<": (f"{label}低于{words}", f"{label}不低于{words}"),
        "<=": (f"{label}不高于{words}", f"{label}高于{words}"),
        "==": (f"{label}为{words}", f"{label}不是{words}"),
        "!=": (f"{label}不是{words}", f"{label}为{words}"),
    }
    return table[op]


def _unknown(fact: str) -> str:
    return f"{_label(fact)}未知，需核实"


def _compile(node: Node, members: Mapping[str, str]) -> Check:
    if isinstance(node, Const):
        verdict: Verdict = (node.value, (), ())
        return lambda facts: verdict
    if isinstance(node, Truthy):
        return _compile_compare(Compare("==", node.fact, True, node.position))
    if isinstance(node, Compare):
        return _compile_compare(node)
    if isinstance(node, InValues):
        return _compile_in_values(node)
    if isinstance(node, Contains):
        return _compile_contains(node, members)
    if isinstance(node, Not):
        inner = _compile(node.arg, members)

        def negate(facts: Mapping[str, Any]) -> Verdict:
            value, reasons, missing = inner(facts)
            return (None if value is None else not value), reasons, missing

        return negate
    parts = tuple(_compile(arg, members) for arg in node.args)
    return _compile_and(parts) if isinstance(node, And) else _compile_or(parts)


def _compile_compare(node: Compare) -> Check:
    fact, value = node.fact, node.value
    yes, no = _compare_words(fact, node.op, value)
    unknown: Verdict = (None, (_unknown(fact),), (fact,))
    holds: Verdict = (True, (yes,), ())
    fails: Verdict = (False, (no,), ())
    test: Callable[[Any, Any], bool] = {
        "==": _op.eq,
        "!=": _op.ne,
        "<": _op.lt,
        "<=": _op.le,
        ">": _op.gt,
        ">=": _op.ge,
    }[node.op]

    def check(facts: Mapping[str, Any]) -> Verdict:
        actual = facts.get(fact)
        if actual is None:
            return unknown
        return holds if test(actual, value) else fails

    return check


def _compile_in_values(node: InValues) -> Check:
    fact = node.fact
    allowed = frozenset(node.values)
    label = _label(fact)
    ints = sorted(v for v in allowed if isinstance(v, int) and not isinstance(v, bool))
    if len(ints) == len(allowed) > 2 and ints[-1] - ints[0] == len(ints) - 1:
        words = f"{ints[0]}至{_value_words(fact, ints[-1])}"  # a range: 残疾等级属于1至4级
    else:
        words = "、".join(_value_words(fact, v) for v in node.values)
    unknown: Verdict = (None, (_unknown(fact),), (fact,))
    holds: Verdict = (
        True,
        (f"{label}为{words}",) if len(allowed) == 1 else (f"{label}属于{words}",),
        (),
    )
    fails: Verdict = (False, (f"{label}不属于{words}",), ())

    def check(facts: Mapping[str, Any]) -> Verdict:
        actual = facts.get(fact)
        if actual is None:
            return unknown
        return holds if actual in allowed else fails

    return check


def _compile_contains(node: Contains, members: Mapping[str, str]) -> Check:
    fact, member = node.fact, node.member
    name = members.get(member, member)
    unknown: Verdict = (None, (_unknown(fact),), (fact,))
    holds: Verdict = (True, (f"已享受{name}",), ())
    fails: Verdict = (False, (f"未享受{name}",), ())

    def check(facts: Mapping[str, Any]) -> Verdict:
        actual = facts.get(fact)
        if actual is None:
            return unknown
        return holds if member in actual else fails

    return check


def _compile_and(parts: tuple[Check, ...]) -> Check:
    def check(facts: Mapping[str, Any]) -> Verdict:
        true_reasons: list[str] = []
        false_reasons: list[str] = []
        unknown_reasons: list[str] = []
        missing: list[str] = []
        any_false = False  # a bare `false` fails without a reason: test the value, not the words
        for part in parts:
            value, reasons, needed = part(facts)
            if value is True:
                true_reasons.extend(reasons)
            elif value is False:
                any_false = True
                false_reasons.extend(reasons)
            else:
                unknown_reasons.extend(reasons)
                missing.extend(needed)
        if any_false:
            return False, tuple(false_reasons), ()
        if missing:
            return None, tuple(true_reasons + unknown_reasons), tuple(missing)
        return True, tuple(true_reasons), ()

    return check


def _compile_or(parts: tuple[Check, ...]) -> Check:
    def check(facts: Mapping[str, Any]) -> Verdict:
        false_reasons: list[str] = []
        unknown_reasons: list[str] = []
        missing: list[str] = []
        for part in parts:
            value, reasons, needed = part(facts)
            if value is True:
                return True, reasons, ()
            if value is False:
                false_reasons.extend(reasons)
            else:
                unknown_reasons.extend(reasons)
                missing.extend(needed)
        if missing:
            return None, tuple(unknown_reasons + false_reasons), tuple(missing)
        return False, tuple(false_reasons), ()

    return check

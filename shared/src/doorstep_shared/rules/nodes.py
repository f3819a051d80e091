"""The parsed form of a rule: a tiny typed AST that compilers (Python closures, SQL) walk.

Every node keeps the JSON-pointer-like position of the JSON it came from, so a compiler or a
validator can point at the exact spot of a problem (``/and/1/>=/0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TypingLiteral

CompareOp = TypingLiteral["==", "!=", "<", "<=", ">", ">="]
OPERATORS = ("and", "or", "!", "==", "!=", "<", "<=", ">", ">=", "in", "var")

Scalar = bool | int | str


@dataclass(frozen=True)
class Const:
    """A rule that is a bare ``true`` / ``false``."""

    value: bool
    position: str


@dataclass(frozen=True)
class Truthy:
    """A boolean fact used as a condition on its own: ``{"var": "living_alone"}``."""

    fact: str
    position: str


@dataclass(frozen=True)
class Compare:
    """``fact <op> literal`` (the parser normalises ``literal <op> fact`` by flipping ``op``)."""

    op: CompareOp
    fact: str
    value: Scalar
    position: str


@dataclass(frozen=True)
class InValues:
    """``fact in [v1, v2, ...]`` for an int or enum fact."""

    fact: str
    values: tuple[Scalar, ...]
    position: str


@dataclass(frozen=True)
class Contains:
    """``"item-code" in fact`` for a set fact (e.g. benefits already received)."""

    fact: str
    member: str
    position: str


@dataclass(frozen=True)
class Not:
    arg: Node
    position: str


@dataclass(frozen=True)
class And:
    args: tuple[Node, ...]
    position: str


@dataclass(frozen=True)
class Or:
    args: tuple[Node, ...]
    position: str


Node = Const | Truthy | Compare | InValues | Contains | Not | And | Or


def facts_of(node: Node) -> frozenset[str]:
    """Every fact a rule reads (what a caller must know to decide it)."""
    if isinstance(node, Const):
        return frozenset()
    if isinstance(node, Truthy | Compare | InValues | Contains):
        return frozenset({node.fact})
    if isinstance(node, Not):
        return facts_of(node.arg)
    out: set[str] = set()
    for arg in node.args:
        out |= facts_of(arg)
    return frozenset(out)

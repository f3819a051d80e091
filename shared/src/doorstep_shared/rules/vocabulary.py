"""The resident facts that eligibility rules may use. Catalog validates rules against this list;
proxy stores these facts on residents and compiles rules to SQL over them.

A fact whose value is unknown (``None``) makes a comparison on it *unknown*, not false: the
resident then lands on the "needs survey" list instead of being silently excluded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

FactType = Literal["int", "bool", "enum", "set"]


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    label: str  # plain Chinese words used in explanations
    description: str
    values: tuple[str, ...] = ()  # enum members / set members' domain (empty: free item codes)
    minimum: int | None = None
    maximum: int | None = None


DISABILITY_TYPES = ("physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple")
DISABILITY_TYPE_LABELS = {
    "physical": "肢体",
    "visual": "视力",
    "hearing": "听力",
    "speech": "言语",
    "intellectual": "智力",
    "mental": "精神",
    "multiple": "多重",
}
EMPLOYMENT_STATUSES = ("employed", "unemployed", "flexible", "retired", "student", "none")
EMPLOYMENT_LABELS = {
    "employed": "在职",
    "unemployed": "失业",
    "flexible": "灵活就业",
    "retired": "已退休",
    "student": "在校",
    "none": "无业",
}
GENDERS = ("male", "female")
GENDER_LABELS = {"male": "男", "female": "女"}

FACTS: tuple[Fact, ...] = (
    Fact(
        "age",
        "int",
        "年龄",
        "Age in whole years on the evaluation date (from the date of birth)",
        minimum=0,
        maximum=150,
    ),
    Fact("gender", "enum", "性别", "male | female", GENDERS),
    Fact("hukou_local", "bool", "本县户籍", "Household registration (户籍) in this county"),
    Fact("disability_type", "enum", "残疾类别", "Disability type on the certificate; null if none", DISABILITY_TYPES),
    Fact(
        "disability_grade",
        "int",
        "残疾等级",
        "Disability grade 1 (most severe) to 4; null if none",
        minimum=1,
        maximum=4,
    ),
    Fact("serious_illness", "bool", "重病", "Seriously ill (重病患者)"),
    Fact("living_alone", "bool", "独居", "Lives alone (独居)"),
    Fact("dibao", "bool", "低保", "Receives the minimum living allowance (低保)"),
    Fact(
        "employment_status",
        "enum",
        "就业状态",
        "employed | unemployed | flexible | retired | student | none",
        EMPLOYMENT_STATUSES,
    ),
    Fact("pension_insured", "bool", "参加养老保险", "Insured in a basic pension scheme (参保)"),
    Fact("children_count", "int", "子女数", "Number of children", minimum=0, maximum=20),
    Fact("housing_difficulty", "bool", "住房困难", "Household has housing difficulty (住房困难)"),
    Fact("benefits", "set", "已享受待遇", "Catalogue item codes the resident already receives"),
)

FACT_BY_NAME = {f.name: f for f in FACTS}


class _NoneOnRecord:
    """A disability fact of a resident with no disability on record (the vocabulary: "null if
    none"). It is *known*: it equals nothing, differs from everything, orders with nothing."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __lt__(self, other: object) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __hash__(self) -> int:
        return 0x5EED

    def __repr__(self) -> str:
        return "NONE_ON_RECORD"


NONE_ON_RECORD: Any = _NoneOnRecord()
# Facts where null means "none" once the disability type is known to be null (no disability).
NONE_WHEN_NO_DISABILITY = frozenset({"disability_type", "disability_grade"})


def with_none_on_record(facts: Mapping[str, Any]) -> dict[str, Any]:
    """``facts`` with "no disability" made explicit: a ``disability_type`` that is given as
    null is a known none, and so is the grade unless one is given. The proxy applies this to
    every stored resident; the catalogue's evaluate endpoint to an explicit ``null`` (a fact
    left out stays unknown). Facts that are None are then dropped (unknown)."""
    out = dict(facts)
    if "disability_type" in out and out["disability_type"] is None:
        out["disability_type"] = NONE_ON_RECORD
        if out.get("disability_grade") is None:
            out["disability_grade"] = NONE_ON_RECORD
    return {k: v for k, v in out.items() if v is not None}

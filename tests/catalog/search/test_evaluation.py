"""The search evaluation set as a regression: top-1 and top-3 may not drop below the recorded
figures (the set and the figures: doorstep_catalog/demo/search_eval.tsv, evaluation.py)."""

from __future__ import annotations

from doorstep_catalog.demo.evaluation import RECORDED_TOP1, RECORDED_TOP3, evaluate, handbook_index, load_cases
from doorstep_catalog.demo.handbook import ITEMS


def test_search_evaluation_does_not_drop_below_the_recorded_figures() -> None:
    cases = load_cases()
    figures = evaluate(handbook_index(), cases)
    wrong = "\n".join(f"{c.query} → {codes}" for c, codes in figures.failures)
    assert figures.top1 >= RECORDED_TOP1, f"top-1 {figures.top1:.1%}\n{wrong}"
    assert figures.top3 >= RECORDED_TOP3, f"top-3 {figures.top3:.1%}\n{wrong}"


def test_the_set_is_large_and_asks_for_every_item() -> None:
    cases = load_cases()
    assert len(cases) >= 150
    assert len({c.query for c in cases}) == len(cases)
    for row in ITEMS:
        assert sum(row[0] in c.expected for c in cases) >= 3, row[0]

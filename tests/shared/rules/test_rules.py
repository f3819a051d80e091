"""The rule language: parsing with positions, three-valued evaluation, and agreement with
python-jsonlogic's interpretation on fully known facts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonlogic import JSONLogicExpression, Operator
from jsonlogic.evaluation import EvaluationContext, evaluate, get_value
from jsonlogic.operators import operator_registry

from doorstep_shared.rules import RuleError, compile_rule, facts_of, parse, validate
from doorstep_shared.rules.nodes import Compare, Contains
from doorstep_shared.rules.vocabulary import FACT_BY_NAME, FACTS, NONE_ON_RECORD, with_none_on_record

ELDERLY = {"and": [{">=": [{"var": "age"}, 80]}, {"var": "hukou_local"}]}


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("rule", "code", "position"),
    [
        (
            {"and": [{"var": "hukou_local"}, {">=": [{"var": "agee"}, 1]}]},
            "unknown_fact",
            "/and/1/>=/0/var",
        ),
        (
            {"and": [{"var": "hukou_local"}, {">=": [{"var": "age"}, "80"]}]},
            "wrong_type",
            "/and/1/>=/1",
        ),
        ({"or": [{"==": [{"var": "gender"}, "other"]}]}, "wrong_type", "/or/0/==/1"),
        ({"==": [{"var": "gender"}, {"var": "gender"}]}, "bad_shape", "/==/0"),
        ({">": [{"var": "gender"}, 1]}, "wrong_type", "/>/0"),
        ({"==": [{"var": "benefits"}, "x"]}, "wrong_type", "/==/1"),
        ({"var": "age"}, "wrong_type", "/var"),
        ({"and": []}, "bad_shape", "/and"),
        ({"!": [True, False]}, "bad_shape", "/!"),
        ({"if": [True, True, False]}, "unknown_operator", "/if"),
        ({"and": [{"var": "hukou_local"}, {"map": []}]}, "unknown_operator", "/and/1/map"),
        ({"in": [{"var": "age"}, []]}, "bad_shape", "/in/1"),
        ({"in": [{"var": "disability_type"}, ["physical", "wooden"]]}, "wrong_type", "/in/1/1"),
        ({"in": [{"var": "hukou_local"}, [True]]}, "wrong_type", "/in/0"),
        ({"in": [3, {"var": "benefits"}]}, "wrong_type", "/in/0"),
        ({"var": ["hukou_local", False]}, "bad_shape", "/var"),
        ({"==": [{"var": "hukou_local"}, 1]}, "wrong_type", "/==/1"),
        ({">=": [{"var": "age"}, True]}, "wrong_type", "/>=/1"),
        ({">=": [{"var": "age"}, 1.5]}, "wrong_type", "/>=/1"),
        ("age >= 80", "bad_shape", ""),
        (None, "bad_shape", ""),
        ({"a": 1, "b": 2}, "bad_shape", ""),
        ({"a/b": 1}, "unknown_operator", "/a~1b"),
    ],
)
def test_invalid_rules_name_the_problem_and_where(rule: Any, code: str, position: str) -> None:
    problems = validate(rule)
    assert problems, rule
    assert (problems[0].code, problems[0].position) == (code, position)


def test_every_problem_is_reported_not_only_the_first() -> None:
    rule = {"and": [{"var": "nope"}, {">=": [{"var": "age"}, "x"]}, {"xor": []}]}
    assert [p.code for p in validate(rule)] == ["unknown_fact", "wrong_type", "unknown_operator"]
    with pytest.raises(RuleError) as info:
        parse(rule)
    assert str(info.value).startswith("/and/0/var")


def test_huge_or_deep_rules_are_refused() -> None:
    deep: Any = {"var": "hukou_local"}
    for _ in range(40):
        deep = {"!": [deep]}
    assert validate(deep)[0].code == "too_large"
    wide = {"or": [{"var": "dibao"}] * 1000}
    assert validate(wide)[0].code == "too_large"


def test_parse_normalises_literal_first_comparisons_and_lists_the_facts() -> None:
    node = parse({"and": [{"<=": [80, {"var": "age"}]}, {"in": ["dibao-x", {"var": "benefits"}]}]})
    assert facts_of(node) == {"age", "benefits"}
    compare, contains = node.args  # type: ignore[union-attr]
    assert compare == Compare(">=", "age", 80, "/and/0")
    assert contains == Contains("benefits", "dibao-x", "/and/1")


def test_unary_sugar_and_constants_parse() -> None:
    assert compile_rule({"!": {"var": "dibao"}})({"dibao": False}).value is True
    assert compile_rule(True)({}).value is True
    assert compile_rule({"var": ["dibao"]})({"dibao": True}).value is True


# ---------------------------------------------------------------- evaluation


def test_eligible_with_plain_chinese_reasons() -> None:
    outcome = compile_rule(ELDERLY)({"age": 85, "hukou_local": True})
    assert (outcome.value, outcome.status) == (True, "eligible")
    assert outcome.reasons == ("年满80周岁", "本县户籍")
    assert outcome.missing == ()


def test_not_eligible_names_only_what_failed() -> None:
    outcome = compile_rule(ELDERLY)({"age": 79, "hukou_local": True})
    assert outcome.status == "not_eligible"
    assert outcome.reasons == ("未满80周岁",)


def test_unknown_lists_missing_facts_and_false_beats_unknown() -> None:
    rule = compile_rule(ELDERLY)
    unknown = rule({"age": 90})
    assert unknown.status == "unknown"
    assert unknown.missing == ("hukou_local",)
    assert "本县户籍未知，需核实" in unknown.reasons
    assert rule({"age": 60}).status == "not_eligible"
    assert rule({}).missing == ("age", "hukou_local")


def test_or_is_true_as_soon_as_one_branch_is_true() -> None:
    rule = compile_rule({"or": [{"var": "dibao"}, {"<=": [{"var": "disability_grade"}, 2]}]})
    assert rule({"disability_grade": 1}).value is True
    assert rule({"disability_grade": 3}).value is None
    assert rule({"disability_grade": 3, "dibao": False}).value is False
    assert rule({"disability_grade": 3, "dibao": False}).reasons == (
        "未享受低保",
        "残疾等级高于2级",
    )


def test_not_keeps_unknown_unknown() -> None:
    rule = compile_rule({"!": [{"var": "pension_insured"}]})
    assert rule({}).value is None
    assert rule({"pension_insured": True}).value is False


def test_enum_set_and_list_membership_reasons() -> None:
    rule = compile_rule(
        {
            "and": [
                {"in": [{"var": "employment_status"}, ["unemployed", "flexible"]]},
                {"==": [{"var": "gender"}, "female"]},
                {"in": ["elderly-allowance", {"var": "benefits"}]},
            ]
        },
        member_labels={"elderly-allowance": "高龄补贴"},
    )
    outcome = rule({"employment_status": "flexible", "gender": "female", "benefits": {"elderly-allowance"}})
    assert outcome.reasons == ("就业状态属于失业、灵活就业", "性别为女", "已享受高龄补贴")
    assert rule({"employment_status": "employed", "gender": "male", "benefits": []}).reasons == (
        "就业状态不属于失业、灵活就业",
        "性别不是女",
        "未享受高龄补贴",
    )


def test_compiling_happens_once_and_calls_do_not_reparse(monkeypatch: pytest.MonkeyPatch) -> None:
    import doorstep_shared.rules.evaluate as ev

    rule = compile_rule(ELDERLY)

    def boom(*_: Any, **__: Any) -> Any:
        raise AssertionError("parsed again")

    monkeypatch.setattr(ev, "parse", boom)
    monkeypatch.setattr(ev, "_compile", boom)
    for age in range(70, 90):
        rule({"age": age, "hukou_local": True})


# ---------------------------------------------------------------- agreement with python-jsonlogic


class _And(Operator):
    @classmethod
    def from_expression(cls, operator: str, arguments: list[Any]) -> _And:
        op = cls(operator=operator)
        op.args = arguments  # type: ignore[attr-defined]
        return op

    def evaluate(self, context: EvaluationContext) -> Any:
        return all(get_value(a, context) for a in self.args)  # type: ignore[attr-defined]


class _Or(_And):
    def evaluate(self, context: EvaluationContext) -> Any:
        return any(get_value(a, context) for a in self.args)  # type: ignore[attr-defined]


class _Not(_And):
    def evaluate(self, context: EvaluationContext) -> Any:
        return not get_value(self.args[0], context)  # type: ignore[attr-defined]


class _In(_And):
    def evaluate(self, context: EvaluationContext) -> Any:
        needle, haystack = (get_value(a, context) for a in self.args)  # type: ignore[attr-defined]
        return needle in haystack


# python-jsonlogic 0.2 ships var, comparisons and ==/!= but not and/or/!/in: add plain ones.
REGISTRY = operator_registry.copy(extend={"and": _And, "or": _Or, "!": _Not, "in": _In})


def _as_library_rule(rule: Any) -> Any:
    """Our rules use bare fact names; python-jsonlogic addresses data with JSON pointers."""
    if isinstance(rule, dict):
        ((op, args),) = rule.items()
        if op == "var":
            name = args[0] if isinstance(args, list) else args
            return {"var": "/" + name}
        if op == "in" and isinstance(args[1], list):
            return {"in": [_as_library_rule(args[0]), {"var": "/__list__" + str(id(args[1]))}]}
        if not isinstance(args, list):
            args = [args]
        return {op: [_as_library_rule(a) for a in args]}
    return rule


def _library_lists(rule: Any, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(rule, dict):
        ((op, args),) = rule.items()
        if op == "in" and isinstance(args[1], list):
            out["__list__" + str(id(args[1]))] = args[1]
        if isinstance(args, list):
            for a in args:
                _library_lists(a, out)
        elif op != "var":
            _library_lists(args, out)
    return out


INT_FACTS = [f for f in FACTS if f.type == "int"]
ENUM_FACTS = [f for f in FACTS if f.type == "enum"]
BOOL_FACTS = [f for f in FACTS if f.type == "bool"]
MEMBERS = ["elderly-allowance", "dibao", "pension-claim"]


def _var(name: str) -> dict[str, Any]:
    return {"var": name}


@st.composite
def _comparison(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["int", "enum", "bool", "in_list", "in_set", "truthy"]))
    flip = draw(st.booleans())
    if kind == "int":
        fact = draw(st.sampled_from(INT_FACTS))
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        value = draw(st.integers(min_value=-1, max_value=(fact.maximum or 100) + 1))
        args: list[Any] = [_var(fact.name), value]
        return {op: args[::-1] if flip else args}
    if kind == "enum":
        fact = draw(st.sampled_from(ENUM_FACTS))
        op = draw(st.sampled_from(["==", "!="]))
        args = [_var(fact.name), draw(st.sampled_from(fact.values))]
        return {op: args[::-1] if flip else args}
    if kind == "bool":
        fact = draw(st.sampled_from(BOOL_FACTS))
        return {draw(st.sampled_from(["==", "!="])): [_var(fact.name), draw(st.booleans())]}
    if kind == "in_list":
        fact = draw(st.sampled_from(ENUM_FACTS))
        return {
            "in": [
                _var(fact.name),
                draw(st.lists(st.sampled_from(fact.values), min_size=1, max_size=3)),
            ]
        }
    if kind == "in_set":
        return {"in": [draw(st.sampled_from(MEMBERS)), _var("benefits")]}
    return _var(draw(st.sampled_from(BOOL_FACTS)).name)


_rules = st.recursive(
    _comparison(),
    lambda children: st.one_of(
        st.builds(lambda xs: {"and": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"or": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"!": [x]}, children),
    ),
    max_leaves=8,
)


@st.composite
def _facts(draw: st.DrawFn) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for fact in FACTS:
        if fact.type == "int":
            facts[fact.name] = draw(st.integers(min_value=fact.minimum or 0, max_value=fact.maximum or 100))
        elif fact.type == "bool":
            facts[fact.name] = draw(st.booleans())
        elif fact.type == "enum":
            facts[fact.name] = draw(st.sampled_from(fact.values))
        else:
            facts[fact.name] = draw(st.lists(st.sampled_from(MEMBERS), unique=True, max_size=3))
    return facts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=_rules, facts=_facts())
def test_compiled_rules_agree_with_python_jsonlogic_on_known_facts(rule: Any, facts: dict[str, Any]) -> None:
    assert validate(rule) == []
    ours = compile_rule(rule)(facts)
    tree = JSONLogicExpression.from_json(_as_library_rule(rule)).as_operator_tree(REGISTRY)
    data = {**facts, **_library_lists(rule, {})}
    theirs = evaluate(tree, data=data, data_schema=None)
    assert ours.value is bool(theirs)
    assert ours.missing == ()
    assert ours.reasons  # always says why


@settings(max_examples=200, deadline=None)
@given(rule=_rules, facts=_facts(), dropped=st.sets(st.sampled_from([f.name for f in FACTS])))
def test_unknown_only_when_a_missing_fact_could_change_the_answer(
    rule: Any, facts: dict[str, Any], dropped: set[str]
) -> None:
    compiled = compile_rule(rule)
    partial = {k: v for k, v in facts.items() if k not in dropped}
    outcome = compiled(partial)
    full = compiled(facts).value
    if outcome.value is not None:
        assert outcome.value is full  # a decided answer never changes when facts fill in
    else:
        assert outcome.missing and set(outcome.missing) <= dropped
        assert all(FACT_BY_NAME[m] for m in outcome.missing)


def test_no_disability_on_record_is_a_known_none_and_a_left_out_fact_stays_unknown() -> None:
    facts = with_none_on_record({"disability_type": None, "age": 70, "dibao": None})
    assert facts == {"disability_type": NONE_ON_RECORD, "disability_grade": NONE_ON_RECORD, "age": 70}
    assert with_none_on_record({"age": 70}) == {"age": 70}
    assert with_none_on_record({"disability_type": "physical", "disability_grade": None}) == {
        "disability_type": "physical"
    }
    care = compile_rule({"<=": [{"var": "disability_grade"}, 2]})
    assert care(with_none_on_record({"disability_type": None})).status == "not_eligible"
    assert care({}).status == "unknown"
    assert NONE_ON_RECORD != "physical" and not NONE_ON_RECORD <= 2

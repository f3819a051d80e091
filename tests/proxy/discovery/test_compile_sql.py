"""Rules compiled to SQL classify residents exactly as the compiled Python closure does —
eligible / not eligible / unknown, the same missing facts and the same fact fingerprint — on
generated rules and residents, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from doorstep_proxy.discovery.compile_sql import (
    BENEFIT,
    RESIDENT,
    NotPushable,
    age_on,
    birth_bound,
    birthday,
    compile_sql,
    facts_in,
    mask_of,
    python_facts,
    python_fingerprint,
)
from doorstep_shared.clock import utcnow
from doorstep_shared.db import create_engine
from doorstep_shared.rules import compile_rule, parse
from doorstep_shared.rules.vocabulary import FACTS

from .catalog import seed_items
from .portal import Portal

pytestmark = pytest.mark.dates

MEMBERS = ["elderly-allowance", "dibao", "pension-claim"]
BOOL_FACTS = [f.name for f in FACTS if f.type == "bool"]
ENUM_FACTS = [f for f in FACTS if f.type == "enum" and f.name != "gender"]
INT_RANGES = {"age": (-1, 102), "disability_grade": (0, 5), "children_count": (-1, 4)}
DATES = [
    dt.date(2024, 2, 29),
    dt.date(2025, 2, 28),
    dt.date(2025, 3, 1),
    dt.date(2024, 12, 31),
    dt.date(2025, 1, 1),
    dt.date(2023, 6, 15),
]


@dataclass
class Db:
    portal: Portal
    engine: AsyncEngine


@pytest.fixture(scope="module")
def db(proxy_app: FastAPI) -> Iterator[Db]:
    settings = proxy_app.state.settings
    portal = Portal()

    async def make() -> AsyncEngine:
        engine = create_engine(settings.database_url, schema=settings.database_schema, null_pool=False, pool_size=2)
        async with engine.begin() as conn:
            compound = proxy_app.state.engine  # noqa: F841  (the app's engine stays untouched)
            from doorstep_proxy.ledger.models import Compound

            table = Compound.__table__  # type: ignore[attr-defined]
            found = (await conn.execute(select(table.c.code).where(table.c.code == "t-compound"))).first()
            if found is None:
                await conn.execute(
                    insert(table).values(code="t-compound", name="测试小区", community="chaoyang", grid="chaoyang-g6")
                )
        return engine

    engine = portal.run(make())
    try:
        yield Db(portal, engine)
    finally:
        portal.run(engine.dispose())
        portal.close()


def _resident_row(facts: dict[str, Any], birth: dt.date) -> dict[str, Any]:
    now = utcnow()
    rid = uuid.uuid4()
    return {
        "id": rid,
        "community": "chaoyang",
        "grid": "chaoyang-g6",
        "compound_code": "t-compound",
        "name": "测试",
        "id_number_enc": "x",
        "id_number_hash": rid.hex,
        "id_last4": "0000",
        "pii_kid": "k",
        "birth_date": birth,
        "gender": facts.get("gender") or "male",
        "created_at": now,
        "created_by": "t",
        "updated_at": now,
        "updated_by": "t",
        **{f.name: facts.get(f.name) for f in FACTS if f.name not in ("age", "benefits", "gender")},
    }


async def _classify(
    engine: AsyncEngine, rule: Any, on: dt.date, people: list[tuple[dict[str, Any], dt.date, list[str]]]
) -> list[tuple[dict[str, Any], list[str], Any]]:
    """Insert the residents in a transaction, classify them with one query, roll back."""
    node = parse(rule)
    sql = compile_sql(node, on=on)
    rows = [_resident_row(facts, birth) for facts, birth, _ in people]
    benefits = [
        {"resident_id": r["id"], "item_code": m} for r, (_, _, ms) in zip(rows, people, strict=True) for m in ms
    ]
    async with engine.connect() as conn:
        trans = await conn.begin()
        try:
            await conn.execute(insert(RESIDENT), rows)
            if benefits:
                await conn.execute(insert(BENEFIT), benefits)
            stmt = select(RESIDENT.c.id, sql.status(), sql.missing_mask(), sql.fingerprint()).where(
                RESIDENT.c.id.in_([r["id"] for r in rows])
            )
            got = {r[0]: (r[1], r[2], r[3]) for r in (await conn.execute(stmt)).all()}
            # the candidate condition selects exactly the eligible-or-unknown ones
            cand = select(RESIDENT.c.id).where(RESIDENT.c.id.in_([r["id"] for r in rows]), sql.candidate)
            candidates = set((await conn.execute(cand)).scalars().all())
        finally:
            await trans.rollback()
    assert candidates == {rid for rid, (status, _, _) in got.items() if status != "not_eligible"}
    return [(row, ms, got[row["id"]]) for row, (_, _, ms) in zip(rows, people, strict=True)]


def _check(db: Db, rule: Any, on: dt.date, people: list[tuple[dict[str, Any], dt.date, list[str]]]) -> None:
    compiled = compile_rule(rule)
    node = compiled.node
    sql = compile_sql(node, on=on)
    for row, members, (status, mask, fingerprint) in db.portal.run(_classify(db.engine, rule, on, people)):
        ns = SimpleNamespace(**row)
        outcome = compiled(python_facts(ns, members, on))
        assert status == outcome.status, (rule, row, outcome)
        assert mask == mask_of(outcome.missing), (rule, row, outcome)
        assert facts_in(mask) == sorted(set(outcome.missing), key=[f.name for f in FACTS].index)
        assert fingerprint == python_fingerprint(sql.facts, sql.members, ns, members), (rule, row)


# ---------------------------------------------------------------- strategies


def _var(name: str) -> dict[str, Any]:
    return {"var": name}


@st.composite
def _leaf(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["int", "int_in", "enum", "enum_in", "bool", "truthy", "set", "const", "gender"]))
    if kind in ("int", "int_in"):
        name = draw(st.sampled_from(sorted(INT_RANGES)))
        lo, hi = INT_RANGES[name]
        if kind == "int_in":
            return {"in": [_var(name), draw(st.lists(st.integers(lo, hi), min_size=1, max_size=4))]}
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        args: list[Any] = [_var(name), draw(st.integers(lo, hi))]
        return {op: args[::-1] if draw(st.booleans()) else args}
    if kind in ("enum", "enum_in"):
        fact = draw(st.sampled_from(ENUM_FACTS))
        if kind == "enum_in":
            return {"in": [_var(fact.name), draw(st.lists(st.sampled_from(fact.values), min_size=1, max_size=3))]}
        return {draw(st.sampled_from(["==", "!="])): [_var(fact.name), draw(st.sampled_from(fact.values))]}
    if kind == "gender":
        return {"==": [_var("gender"), draw(st.sampled_from(["male", "female"]))]}
    if kind == "bool":
        return {draw(st.sampled_from(["==", "!="])): [_var(draw(st.sampled_from(BOOL_FACTS))), draw(st.booleans())]}
    if kind == "set":
        return {"in": [draw(st.sampled_from(MEMBERS)), _var("benefits")]}
    if kind == "const":
        return draw(st.booleans())
    return _var(draw(st.sampled_from(BOOL_FACTS)))


_rules = st.recursive(
    _leaf(),
    lambda children: st.one_of(
        st.builds(lambda xs: {"and": xs}, st.lists(children, min_size=1, max_size=4)),
        st.builds(lambda xs: {"or": xs}, st.lists(children, min_size=1, max_size=4)),
        st.builds(lambda x: {"!": [x]}, children),
    ),
    max_leaves=10,
)


@st.composite
def _person(draw: st.DrawFn, on: dt.date) -> tuple[dict[str, Any], dt.date, list[str]]:
    facts: dict[str, Any] = {"gender": draw(st.sampled_from(["male", "female"]))}
    for fact in FACTS:
        if fact.name in ("age", "gender", "benefits"):
            continue
        if fact.type == "bool":
            value: Any = draw(st.booleans())
        elif fact.type == "enum":
            value = draw(st.sampled_from(fact.values))
        else:
            value = draw(st.integers(fact.minimum or 0, min(fact.maximum or 4, 4)))
        facts[fact.name] = None if draw(st.integers(0, 4)) == 0 else value
    # birth dates right around the age thresholds, plus 29 February births
    years = draw(st.integers(0, 101))
    bound = birth_bound(on, years) or on
    birth = draw(
        st.one_of(
            st.just(bound),
            st.builds(lambda d: bound + dt.timedelta(days=d), st.integers(-2, 2)),
            st.dates(dt.date(1920, 1, 1), on),
            st.sampled_from([dt.date(1944, 2, 29), dt.date(1964, 2, 29), dt.date(1945, 3, 1), dt.date(1945, 2, 28)]),
        )
    )
    birth = min(birth, on + dt.timedelta(days=3))  # a few "born tomorrow" edge rows too
    return facts, birth, draw(st.lists(st.sampled_from(MEMBERS), unique=True, max_size=3))


@st.composite
def _case(draw: st.DrawFn) -> tuple[Any, dt.date, list[tuple[dict[str, Any], dt.date, list[str]]]]:
    on = draw(st.sampled_from(DATES))
    return draw(_rules), on, draw(st.lists(_person(on), min_size=1, max_size=8))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=_case())
def test_sql_classification_equals_the_closure_on_generated_rules_and_residents(db: Db, case: Any) -> None:
    rule, on, people = case
    _check(db, rule, on, people)


def test_every_catalogue_rule_classifies_a_varied_register_like_the_closure(db: Db) -> None:
    rng = random.Random(6)
    people = []
    for on in (dt.date(2024, 2, 29), dt.date(2025, 1, 1)):
        for _ in range(150):
            facts: dict[str, Any] = {"gender": rng.choice(["male", "female"])}
            for fact in FACTS:
                if fact.name in ("age", "gender", "benefits"):
                    continue
                if fact.type == "bool":
                    value: Any = rng.random() < 0.5
                elif fact.type == "enum":
                    value = rng.choice(fact.values)
                else:
                    value = rng.randint(fact.minimum or 0, min(fact.maximum or 3, 3))
                facts[fact.name] = None if rng.random() < 0.15 else value
            birth = (birth_bound(on, rng.randint(0, 101)) or on) + dt.timedelta(days=rng.randint(-1, 1))
            people.append((facts, birth, rng.sample([*MEMBERS, "extreme-poverty-support"], rng.randint(0, 2))))
        for item in seed_items().values():
            if item.eligibility_rule is not None:
                _check(db, item.eligibility_rule, on, people)


# ---------------------------------------------------------------- age arithmetic


@pytest.mark.parametrize(
    ("on", "years", "bound"),
    [
        (dt.date(2025, 3, 1), 80, dt.date(1945, 3, 1)),
        (dt.date(2024, 2, 29), 81, dt.date(1943, 2, 28)),  # leap day → 28 Feb of a common year
        (dt.date(2024, 2, 29), 80, dt.date(1944, 2, 29)),
        (dt.date(2025, 1, 1), 60, dt.date(1965, 1, 1)),
        (dt.date(2025, 1, 1), 5000, None),
    ],
)
def test_birth_bounds_match_whole_years_of_age(on: dt.date, years: int, bound: dt.date | None) -> None:
    assert birth_bound(on, years) == bound
    if bound is not None:
        assert age_on(bound, on) >= years
        assert age_on(bound + dt.timedelta(days=1), on) < years


def test_a_29_february_birthday_counts_on_1_march_in_common_years() -> None:
    born = dt.date(1964, 2, 29)
    assert birthday(born, 61) == dt.date(2025, 3, 1)
    assert age_on(born, dt.date(2025, 2, 28)) == 60
    assert age_on(born, dt.date(2025, 3, 1)) == 61
    assert birthday(born, 60) == dt.date(2024, 2, 29)


def test_rules_on_facts_without_a_column_are_not_pushable() -> None:
    node = parse({"and": [{">=": [{"var": "age"}, 80]}, {"var": "living_alone"}]})
    with pytest.raises(NotPushable):
        compile_sql(node, on=dt.date(2025, 1, 1), columns={"hukou_local"})
    compile_sql(node, on=dt.date(2025, 1, 1))  # the real register has every fact

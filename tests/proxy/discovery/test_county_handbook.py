"""Discovery evaluates each resident against the handbook of the resident's county: two counties
may hold the same code with different rules and materials, and a county's local item makes no
leads in another county (the daily county-wide pass, a community's run, and the incremental
path after a resident's facts change)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from doorstep_proxy.catalog_client import CatalogItem, CatalogSnapshot
from doorstep_proxy.discovery import runs
from doorstep_proxy.discovery.models import DiscoveryRun
from doorstep_proxy.discovery.rulebook import RuleBooks, rulebook
from doorstep_shared.clock import local_today
from doorstep_shared.directory import Community, Compound, County, Directory, Grid

from ...directory_support import DEMO
from ...support import Tokens
from ..helpers import admin, with_compounds
from .helpers import BASE, add_resident, app_of, run, wait_runs

OTHER = "neighbour"  # a second county, as directory data
A = DEMO.counties[0].code
TWO = Directory.of(
    (*DEMO.counties, County(OTHER, "邻县")),
    (*DEMO.communities, Community("riverside", "河畔社区", OTHER)),
    (*DEMO.grids, Grid("riverside-g1", "第一网格", "riverside", 1)),
    (*DEMO.compounds, Compound("riverside-c1", "河畔小区", "riverside", "riverside-g1")),
)
SHARED = "elderly-allowance"  # both counties, different ages
LOCAL = "riverside-care"  # county B only
A_RULE = {">=": [{"var": "age"}, 80]}
B_RULE = {">=": [{"var": "age"}, 60]}


def _item(county: str, code: str, name: str, rule: Any, material: str) -> dict[str, Any]:
    body = CatalogItem(
        code=code,
        name=name,
        eligibility_rule=rule,
        proxy_eligible=True,
        channels=["window", "doorstep"],
        materials=[{"name": material}],  # type: ignore[list-item]
    ).model_dump(mode="json")
    return {**body, "county": county}


def two_handbooks(revision: int = 1, a_rule: Any = A_RULE) -> CatalogSnapshot:
    """What the catalog's export gives a service token: every county's items, each naming it."""
    items = [
        _item(A, SHARED, "高龄补贴", a_rule, "本县户口簿"),
        _item(OTHER, SHARED, "高龄津贴", B_RULE, "邻县户口簿"),
        _item(OTHER, LOCAL, "河畔关爱", B_RULE, "河畔证明"),
    ]
    return CatalogSnapshot.of_export({"revision": revision, "items": items})


@pytest.fixture
async def two_counties(proxy: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    state = app_of(proxy).state
    before = state.directory.current
    state.directory.prime(TWO, source="file")
    try:
        await with_compounds(proxy)
        state.catalog.prime(two_handbooks())
        yield proxy
    finally:
        state.directory.prime(before, source="file")


def born(age: int) -> dt.date:
    today = local_today()
    return dt.date(today.year - age - 1, 1, 1)  # ``age`` + 0..1 years old today, whatever the day


async def residents(client: httpx.AsyncClient) -> dict[str, uuid.UUID]:
    app = app_of(client)
    b = {"community": "riverside", "grid": "riverside-g1", "compound": "riverside-c1"}
    return {
        "a70": await add_resident(app, birth=born(70)),
        "a85": await add_resident(app, birth=born(85)),
        "b70": await add_resident(app, birth=born(70), **b),
        "b50": await add_resident(app, birth=born(50), **b),
    }


async def open_leads(client: httpx.AsyncClient) -> set[tuple[uuid.UUID, str]]:
    async with app_of(client).state.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT resident_id, item_code FROM discovery_lead WHERE status IN ('new', 'contacted')")
        )
        return {(uuid.UUID(str(r)), str(c)) for r, c in rows.all()}


async def automatic_runs(client: httpx.AsyncClient) -> list[tuple[str, list[str]]]:
    """The county-wide runs (with a second county nobody's token sees them all: read directly)."""
    async with app_of(client).state.sessionmaker() as session:
        found = await session.execute(select(DiscoveryRun).order_by(DiscoveryRun.id))  # type: ignore[arg-type]
        return [(r.kind, list(r.items)) for r in found.scalars().all() if r.status == "completed"]


def expected(who: dict[str, uuid.UUID]) -> set[tuple[uuid.UUID, str]]:
    # A: 80 and over; B: 60 and over, and B's local item for B's residents only
    return {(who["a85"], SHARED), (who["b70"], SHARED), (who["b70"], LOCAL)}


def b_reader(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("community_admin", county=OTHER, community="riverside", subject="riverside.admin")


async def test_the_daily_pass_uses_each_residents_county_rule(two_counties: httpx.AsyncClient, tokens: Tokens) -> None:
    app = app_of(two_counties)
    who = await residents(two_counties)
    await runs.tick(app)  # the automatic county-wide pass
    await wait_runs(app)
    assert await open_leads(two_counties) == expected(who)

    # reasons and materials come from the county's own item
    page = await two_counties.get(f"{BASE}/leads", headers=b_reader(tokens))
    assert page.status_code == 200, page.text
    by_code = {x["item_code"]: x for x in page.json()["items"]}
    assert set(by_code) == {SHARED, LOCAL}
    assert by_code[SHARED]["item_name"] == "高龄津贴"
    assert [m["name"] for m in by_code[SHARED]["materials"]] == ["邻县户口簿"]
    (a_lead,) = (await two_counties.get(f"{BASE}/leads", headers=admin(tokens))).json()["items"]
    assert a_lead["resident_id"] == str(who["a85"]) and a_lead["item_name"] == "高龄补贴"
    assert [m["name"] for m in a_lead["materials"]] == ["本县户口簿"]

    # the explanation agrees: A's 70-year-old is not eligible for A's rule, B's item is unknown to A
    expl = await two_counties.get(f"{BASE}/residents/{who['a70']}/eligibility", headers=admin(tokens))
    results = {r["code"]: r["status"] for r in expl.json()["results"]}
    assert results == {SHARED: "not_eligible"}

    # a rule edited in county A only: the changed code re-runs, each county still by its own rule
    app.state.catalog.prime(two_handbooks(revision=2, a_rule={">=": [{"var": "age"}, 65]}))
    await runs.tick(app)
    await wait_runs(app)
    assert await automatic_runs(two_counties) == [("full", [SHARED, LOCAL]), ("rules", [SHARED])]
    assert await open_leads(two_counties) == expected(who) | {(who["a70"], SHARED)}
    await runs.tick(app)  # nothing changed: nothing runs
    assert len(await automatic_runs(two_counties)) == 2


async def test_community_runs_and_the_incremental_path_use_the_county_handbook(
    two_counties: httpx.AsyncClient, tokens: Tokens
) -> None:
    app = app_of(two_counties)
    who = await residents(two_counties)
    assert (await run(two_counties, admin(tokens), scope="chaoyang"))["status"] == "completed"
    assert (await run(two_counties, b_reader(tokens), scope="riverside"))["status"] == "completed"
    assert await open_leads(two_counties) == expected(who)

    # a changed resident is re-evaluated alone, by the book of their county
    async with app.state.sessionmaker() as session:
        await session.execute(text("DELETE FROM discovery_lead"))
        books = RuleBooks(app.state.catalog._snapshot, TWO)
        for rid in who.values():
            await runs.reevaluate_resident(session, books, rid)
        await session.commit()
    assert await open_leads(two_counties) == expected(who)


def test_a_single_county_export_is_planned_as_before() -> None:
    one = CatalogSnapshot.of_export({"revision": 1, "items": [_item(A, SHARED, "高龄补贴", A_RULE, "x")]})
    books = RuleBooks(one, DEMO)
    ((book, scope),) = books.plan("county")
    assert scope == "county" and list(book.items) == [SHARED]
    assert books.hashes() == rulebook(one).hashes()
    assert books.book_of("a-community-not-in-the-directory") is rulebook(one)

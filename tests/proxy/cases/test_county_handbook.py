"""A case takes its materials checklist from the handbook of the resident's county: the
catalogue export holds every county's items, and two counties may hold the same code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from doorstep_proxy.catalog_client import CatalogSnapshot
from doorstep_shared.directory import Community, Compound, County, Directory, Grid

from ...directory_support import DEMO
from ...support import Tokens
from ..helpers import app_of, with_compounds, worker
from .conftest import MATERIALS, item
from .helpers import BASE, new_resident

OTHER = "neighbour"  # a second county, as directory data
DEMO_COUNTY = DEMO.counties[0].code
TWO = Directory.of(
    (*DEMO.counties, County(OTHER, "邻县")),
    (*DEMO.communities, Community("riverside", "河畔社区", OTHER)),
    (*DEMO.grids, Grid("riverside-g1", "第一网格", "riverside", 1)),
    (*DEMO.compounds, Compound("riverside-c1", "河畔小区", "riverside", "riverside-g1")),
)
B_MATERIALS = [{"name": "邻县户口簿", "form": "original"}, {"name": "邻县居住证明", "form": "copy"}]


def export_of(*items: dict[str, Any]) -> CatalogSnapshot:
    """What the catalog's export gives a service token: every county's items, each naming it."""
    return CatalogSnapshot.of_export({"revision": 7, "items": list(items)})


@pytest.fixture
async def two_counties(proxy: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    state = app_of(proxy).state
    before = state.directory.current
    state.directory.prime(TWO, source="file")
    try:
        await with_compounds(proxy)
        a_item = item("elderly-allowance", "高龄补贴").model_dump(mode="json")
        b_item = item("elderly-allowance", "高龄津贴", materials=B_MATERIALS, department="邻县民政局").model_dump(
            mode="json"
        )
        state.catalog.prime(export_of({**a_item, "county": DEMO_COUNTY}, {**b_item, "county": OTHER}))
        yield proxy
    finally:
        state.directory.prime(before, source="file")


def b_worker(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(
        "social_worker", county=OTHER, community="riverside", grid="riverside-g1", subject="riverside.worker"
    )


async def accept(client: httpx.AsyncClient, headers: dict[str, str], resident_id: str) -> dict[str, Any]:
    resp = await client.post(
        f"{BASE}/cases",
        json={"resident_id": resident_id, "item_code": "elderly-allowance", "channel": "window"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def test_a_resident_of_county_b_gets_county_bs_materials(two_counties: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = b_worker(tokens)
    resident = await new_resident(two_counties, headers, compound="riverside-c1", building="1", unit="1", room="101")
    case = await accept(two_counties, headers, resident["id"])
    assert [m["name"] for m in case["materials"]] == ["邻县户口簿", "邻县居住证明"]
    assert case["item_name"] == "高龄津贴" and case["snapshot"]["department"] == "邻县民政局"

    # A resident of the demo county, the same code: the demo county's checklist.
    a_resident = await new_resident(two_counties, worker(tokens))
    a_case = await accept(two_counties, worker(tokens), a_resident["id"])
    assert [m["name"] for m in a_case["materials"]] == [m["name"] for m in MATERIALS]
    assert a_case["item_name"] == "高龄补贴"


async def test_an_item_only_another_county_has_is_unknown_to_this_countys_resident(
    two_counties: httpx.AsyncClient, tokens: Tokens
) -> None:
    state = app_of(two_counties).state
    only_a = item("dibao", "最低生活保障").model_dump(mode="json")
    state.catalog.prime(export_of({**only_a, "county": DEMO_COUNTY}))
    headers = b_worker(tokens)
    resident = await new_resident(two_counties, headers, compound="riverside-c1", building="1", unit="1", room="102")
    resp = await two_counties.post(
        f"{BASE}/cases",
        json={"resident_id": resident["id"], "item_code": "dibao", "channel": "window"},
        headers=headers,
    )
    assert resp.status_code == 422, resp.text


def test_an_export_from_before_counties_is_one_handbook() -> None:
    snapshot = CatalogSnapshot.of_export({"revision": 1, "items": [item("dibao", "低保").model_dump(mode="json")]})
    assert snapshot.counties == {} and set(snapshot.handbook("anywhere")) == {"dibao"}

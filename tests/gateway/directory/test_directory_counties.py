"""The directory per county: a county admin edits and imports its own county's records only
(another county's, or a new county, is 403 outside_scope; an import row of another county is
a row error and nothing is written); the directory stays readable to staff, as today."""

from __future__ import annotations

import httpx

from ...support import Tokens
from ...tenancy_support import COUNTY, SECOND_COMMUNITY, SECOND_COUNTY, county_caller
from .test_import import HANSHAN, csv_of

BASE = "/api/v1/directory"


async def _second_county(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    everywhere = tokens.headers("county_admin", community=None, subject="county.admin")
    for path, body in (
        ("counties", {"code": SECOND_COUNTY, "name": "含山县"}),
        ("communities", {"code": SECOND_COMMUNITY, "name": "环峰镇", "county": SECOND_COUNTY}),
        ("grids", {"code": f"{SECOND_COMMUNITY}-g1", "name": "第一网格", "community": SECOND_COMMUNITY}),
    ):
        r = await gateway.post(f"{BASE}/{path}", json=body, headers=everywhere)
        assert r.status_code == 201, r.text


async def test_a_county_admin_edits_its_own_countys_directory_only(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    await _second_county(gateway, tokens)
    ours, theirs = county_caller(tokens, COUNTY), county_caller(tokens, SECOND_COUNTY)
    compound = {"code": "fenghuang", "name": "凤凰小区", "grid": f"{SECOND_COMMUNITY}-g1"}
    refused = [
        await gateway.post(f"{BASE}/compounds", json=compound, headers=ours),
        await gateway.post(
            f"{BASE}/communities", json={"code": "x1", "name": "某社区", "county": SECOND_COUNTY}, headers=ours
        ),
        await gateway.post(f"{BASE}/counties", json={"code": "x2", "name": "某县"}, headers=ours),
        await gateway.patch(
            f"{BASE}/communities/{SECOND_COMMUNITY}", json={"name": "改名"}, headers=ours | {"If-Match": "*"}
        ),
        await gateway.patch(
            f"{BASE}/compounds/binjiang", json={"grid": f"{SECOND_COMMUNITY}-g1"}, headers=theirs | {"If-Match": "*"}
        ),
    ]
    for r in refused:
        assert (r.status_code, r.json().get("code")) == (403, "outside_scope"), r.text

    r = await gateway.post(f"{BASE}/compounds", json=compound, headers=theirs)
    assert r.status_code == 201, r.text
    r = await gateway.post(
        f"{BASE}/compounds", json={**compound, "code": "binjiang-2", "grid": "chaoyang-g1"}, headers=ours
    )
    assert r.status_code == 201, r.text
    # the directory reads as before, whoever asks
    assert (await gateway.get(f"{BASE}/compounds/fenghuang", headers=ours)).status_code == 200

    # An import: a row of another county is an error, and nothing of the file is written.
    data = csv_of(*HANSHAN).encode()
    r = await gateway.post(f"{BASE}/import", headers=ours, files={"file": ("d.csv", data)})
    assert r.status_code == 422 and r.json()["code"] == "import_rejected", r.text
    assert {e["code"] for row in r.json()["rows"] for e in row["errors"]} == {"outside_scope"}
    assert (await gateway.get(f"{BASE}/compounds/taohua", headers=ours)).status_code == 404
    r = await gateway.post(f"{BASE}/import", headers=theirs, files={"file": ("d.csv", data)})
    assert r.status_code == 200, r.text
    assert (await gateway.get(f"{BASE}/compounds/taohua", headers=ours)).status_code == 200

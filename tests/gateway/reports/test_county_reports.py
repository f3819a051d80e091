"""Reports roll up per county: with a second county in the directory, a county role's figures
are its county's only, another county's community answers 404, and figures over several
counties come with a total per county (nothing summed across them alone)."""

from __future__ import annotations

import contextlib
import csv
import io

import pytest

from ...support import Tokens
from ...tenancy_support import COUNTY, SECOND_COMMUNITY, SECOND_COMPOUND, SECOND_COUNTY, county_caller, second_county
from ..service_apps import Wired, service_apps_fixture, services_fixture  # noqa: F401 (fixtures)
from .test_reports import (
    CHAOYANG,
    SUMMARY,
    ZHENHUAI,
    case,
    county,
    figures,
    hand_counted_data,
    ok,
    period_since,
    resident,
)

pytestmark = pytest.mark.dates

D = "/api/v1/directory"
# What the second county's worker does below, counted by hand.
HUANFENG = {
    "residents_received_at_window": 0,
    "items_accepted": 1,
    "items_accepted_at_window": 1,
    "consultations": 0,
    "doorstep_services": 0,
    "cases_completed": 0,
    "residents_served": 1,
    "people_served_by_stations": 0,
}


async def _second_county_at_the_gateway(services: Wired, tokens: Tokens) -> None:
    """The second county through the gateway's directory API (what the services' copies get)."""
    manager = county(tokens)
    for path, body in (
        ("counties", {"code": SECOND_COUNTY, "name": "含山县"}),
        ("communities", {"code": SECOND_COMMUNITY, "name": "环峰镇", "county": SECOND_COUNTY}),
        ("grids", {"code": f"{SECOND_COMMUNITY}-g1", "name": "第一网格", "community": SECOND_COMMUNITY}),
        ("compounds", {"code": SECOND_COMPOUND, "name": "环峰苑", "grid": f"{SECOND_COMMUNITY}-g1"}),
    ):
        await ok(await services.gateway.post(f"{D}/{path}", json=body, headers=manager), 201)


async def test_reports_roll_up_per_county(services: Wired, tokens: Tokens) -> None:
    first = await hand_counted_data(services, tokens)
    await _second_county_at_the_gateway(services, tokens)
    apps = services.apps
    with contextlib.ExitStack() as stack:
        for app in (apps.proxy, apps.stations):
            stack.enter_context(second_county(app.state.directory))
        await apps.proxy.state.directory.refresh()  # the proxy's compound table follows
        theirs = county_caller(tokens, SECOND_COUNTY)
        someone = await resident(services.proxy, theirs, SECOND_COMPOUND)
        await case(services.proxy, theirs, someone, "pension-face-check", "window")

        period = period_since(first)

        # hexian's county admin: hexian's figures, unchanged by the second county.
        ours = await ok(await services.gateway.get(f"{SUMMARY}?{period}", headers=county_caller(tokens, COUNTY)))
        rows = {r["community"]: r for r in ours["communities"]}
        assert len(rows) == 14 and SECOND_COMMUNITY not in rows
        assert ours["county"] == {k: CHAOYANG[k] + ZHENHUAI[k] for k in CHAOYANG}
        assert [c["code"] for c in ours["counties"]] == [COUNTY]
        r = await services.gateway.get(f"{SUMMARY}?community={SECOND_COMMUNITY}", headers=county_caller(tokens, COUNTY))
        assert r.status_code == 404, r.text

        # The second county's admin: its one community, its figures; hexian's answer 404.
        body = await ok(await services.gateway.get(f"{SUMMARY}?{period}", headers=theirs))
        assert [r["community"] for r in body["communities"]] == [SECOND_COMMUNITY]
        assert figures(body["communities"][0]) == HUANFENG and body["county"] == HUANFENG
        assert [(c["code"], c["name"]) for c in body["counties"]] == [(SECOND_COUNTY, "含山县")]
        r = await services.gateway.get(f"{SUMMARY}?community=chaoyang", headers=theirs)
        assert r.status_code == 404, r.text
        table = (await services.gateway.get(f"{SUMMARY}?{period}&format=csv", headers=theirs)).text
        assert "chaoyang" not in table and "朝阳" not in table and "和县" not in table

        # A county role without a county (a deployment-wide one) sees both: a total per county.
        both = await ok(await services.gateway.get(f"{SUMMARY}?{period}", headers=county(tokens)))
        assert len(both["communities"]) == 15
        per_county = {c["code"]: figures(c) for c in both["counties"]}
        assert per_county == {COUNTY: {k: CHAOYANG[k] + ZHENHUAI[k] for k in CHAOYANG}, SECOND_COUNTY: HUANFENG}
        download = await services.gateway.get(f"{SUMMARY}?{period}&format=csv", headers=county(tokens))
        assert 'filename="doorstep-figures-all-' in download.headers["content-disposition"]
        lines = {r["community"]: r for r in csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")))}
        assert lines[COUNTY]["name"] == "和县（合计）" and lines[SECOND_COUNTY]["name"] == "含山县（合计）"
        assert int(lines[SECOND_COUNTY]["items_accepted"]) == 1
        assert int(lines["all"]["items_accepted"]) == CHAOYANG["items_accepted"] + ZHENHUAI["items_accepted"] + 1

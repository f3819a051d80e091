"""County figures at the gateway, gathered from the real catalog, proxy and stations apps."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from typing import Any

import httpx
import pytest

from doorstep_proxy.demo import make_id_number
from doorstep_shared.clock import local_today

from ...support import Tokens
from ..service_apps import Wired, service_apps_fixture, services_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.dates

SUMMARY = "/api/v1/reports/summary"
P = "/api/v1/proxy"
_serial = itertools.count(501)

# What the test below creates, counted by hand.
CHAOYANG = {
    "residents_received_at_window": 2,
    "items_accepted": 3,
    "items_accepted_at_window": 2,
    "consultations": 3,
    "doorstep_services": 1,
    "cases_completed": 1,
    "residents_served": 2,
    "people_served_by_stations": 1,
}
ZHENHUAI = {
    "residents_received_at_window": 1,
    "items_accepted": 1,
    "items_accepted_at_window": 1,
    "consultations": 1,
    "doorstep_services": 0,
    "cases_completed": 0,
    "residents_served": 1,
    "people_served_by_stations": 0,
}
ZERO = dict.fromkeys(CHAOYANG, 0)


def worker(tokens: Tokens, community: str) -> dict[str, str]:
    return tokens.headers("social_worker", community=community, grid=f"{community}-g1", subject=f"{community}.worker")


def admin(tokens: Tokens, community: str) -> dict[str, str]:
    return tokens.headers("community_admin", community=community, subject=f"{community}.admin")


def county(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("county_admin", community=None, subject="county.admin")


async def ok(resp: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert resp.status_code in (status, 201), resp.text
    body: dict[str, Any] = resp.json()
    return body


async def resident(proxy: httpx.AsyncClient, headers: dict[str, str], compound: str) -> str:
    body = {
        "name": "测试居民",
        "id_number": make_id_number(dt.date(1950, 1, 1), next(_serial) * 2 + 1, "male"),
        "compound": compound,
    }
    return str((await ok(await proxy.post(f"{P}/residents", json=body, headers=headers)))["id"])


async def case(proxy: httpx.AsyncClient, headers: dict[str, str], resident_id: str, item: str, channel: str) -> str:
    body = {"resident_id": resident_id, "item_code": item, "channel": channel}
    return str((await ok(await proxy.post(f"{P}/cases", json=body, headers=headers)))["id"])


def period_since(first: dt.date) -> str:
    """``from=…&to=…`` from ``first`` to today: the data may cross local midnight (the date matrix's
    last minute of a year), so a period of one day taken after it can miss the first half."""
    return f"from={first.isoformat()}&to={local_today().isoformat()}"


async def hand_counted_data(services: Wired, tokens: Tokens) -> dt.date:
    """Demands, cases, a completed case, a doorstep visit and station drop-offs in two communities.

    Returns the day it started on (see ``period_since``)."""
    first = local_today()
    await services.with_stations()
    proxy = services.proxy
    cy, zh = worker(tokens, "chaoyang"), worker(tokens, "zhenhuai")
    for headers, channel in ((cy, "window"), (cy, "window"), (cy, "phone"), (zh, "window")):
        body = {"channel": channel, "kind": "consultation", "text": "咨询高龄补贴怎么申请"}
        await ok(await proxy.post(f"{P}/demands", json=body, headers=headers))
    a = await resident(proxy, cy, "binjiang")
    b = await resident(proxy, cy, "shuxiang")
    c = await resident(proxy, zh, "zhenhuaiyuan")
    done = await case(proxy, cy, a, "pension-face-check", "window")
    await case(proxy, cy, b, "pension-face-check", "window")
    visited = await case(proxy, cy, a, "elderly-allowance", "doorstep")
    await case(proxy, zh, c, "pension-face-check", "window")

    await ok(await proxy.put(f"{P}/cases/{done}/materials/1", json={"collected": "original_seen"}, headers=cy))
    for step in ({"to": "materials_complete"}, {"to": "filed", "department_ref": "HX-2025-001"}, {"to": "approved"}):
        await ok(await proxy.post(f"{P}/cases/{done}/transitions", json=step, headers=cy))
    today = local_today().isoformat()
    visit = await ok(await proxy.post(f"{P}/visits", json={"case_ids": [visited], "planned_date": today}, headers=cy))
    await ok(await proxy.post(f"{P}/visits/{visit['id']}/check-in", json={}, headers=cy))
    await ok(await proxy.post(f"{P}/visits/{visit['id']}/check-out", json={"outcome": "done"}, headers=cy))

    stations = services.stations
    drop = {"name": "顾女士", "phone": "13912345678", "item": "裤子", "request": "裤脚改短两厘米"}
    ticket = await ok(
        await stations.post("/api/v1/stations/stations/shuxiang/tickets", json=drop, headers=admin(tokens, "chaoyang"))
    )
    await ok(
        await stations.post(
            f"/api/v1/stations/tickets/{ticket['id']}/status",
            json={"status": "ready"},
            headers=admin(tokens, "chaoyang"),
        )
    )
    await ok(
        await stations.post(
            f"/api/v1/stations/tickets/{ticket['id']}/collect",
            json={"claim_code": ticket["claim_code"]},
            headers=admin(tokens, "chaoyang"),
        )
    )
    await ok(
        await stations.post(
            "/api/v1/stations/stations/zhenhuaiyuan/tickets", json=drop, headers=admin(tokens, "zhenhuai")
        )
    )
    return first


def figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in CHAOYANG}


async def test_the_county_figures_match_hand_counted_data(services: Wired, tokens: Tokens) -> None:
    period = period_since(await hand_counted_data(services, tokens))
    resp = await services.gateway.get(f"{SUMMARY}?{period}", headers=county(tokens))
    body = await ok(resp)
    assert body["unavailable"] == [] and body["community"] is None
    rows = {r["community"]: r for r in body["communities"]}
    assert len(rows) == 14 and rows["chaoyang"]["name"] == "朝阳社区"
    assert figures(rows["chaoyang"]) == CHAOYANG
    assert figures(rows["zhenhuai"]) == ZHENHUAI
    assert all(figures(r) == ZERO for code, r in rows.items() if code not in ("chaoyang", "zhenhuai"))
    assert body["county"] == {k: CHAOYANG[k] + ZHENHUAI[k] for k in CHAOYANG}
    assert body["handbook"]["items"] == 68 and 0 < body["handbook"]["proxy_eligible"] < 68

    # A period without any of it counts nothing.
    empty = await ok(await services.gateway.get(f"{SUMMARY}?from=2020-01-01&to=2020-12-31", headers=county(tokens)))
    assert empty["county"] == ZERO

    # The CSV: one row per community and the county's total; the same numbers.
    download = await services.gateway.get(f"{SUMMARY}?{period}&format=csv", headers=county(tokens))
    assert download.status_code == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"].startswith('attachment; filename="doorstep-figures-hexian-')
    assert download.content.startswith("\ufeff".encode())
    table = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [r["community"] for r in table][-1] == "hexian" and len(table) == 15
    by_code = {r["community"]: r for r in table}
    assert {k: int(v) for k, v in by_code["chaoyang"].items() if k in CHAOYANG} == CHAOYANG
    assert {k: int(v) for k, v in by_code["hexian"].items() if k in CHAOYANG} == body["county"]
    accepted = await services.gateway.get(SUMMARY, headers={**county(tokens), "Accept": "text/csv"})
    assert accepted.headers["content-type"].startswith("text/csv")

    # The dashboard's panel: server-rendered, the figures in inline SVG charts and a table.
    panel = await services.gateway.get(f"{SUMMARY}?{period}&format=html", headers=county(tokens))
    assert panel.headers["content-type"] == "text/html; charset=utf-8"
    assert panel.text.count("<svg") == 6 and "朝阳社区" in panel.text and "<script" not in panel.text


async def test_a_community_admin_only_ever_gets_their_community(services: Wired, tokens: Tokens) -> None:
    period = period_since(await hand_counted_data(services, tokens))
    headers = admin(tokens, "zhenhuai")
    body = await ok(await services.gateway.get(f"{SUMMARY}?{period}", headers=headers))
    assert [r["community"] for r in body["communities"]] == ["zhenhuai"]
    assert figures(body["communities"][0]) == ZHENHUAI and body["county"] == ZHENHUAI
    other = await services.gateway.get(f"{SUMMARY}?community=chaoyang", headers=headers)
    assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
    table = (await services.gateway.get(f"{SUMMARY}?{period}&format=csv", headers=headers)).text
    assert "chaoyang" not in table and "朝阳" not in table
    # A county admin may ask for one community.
    one = await ok(await services.gateway.get(f"{SUMMARY}?{period}&community=chaoyang", headers=county(tokens)))
    assert [r["community"] for r in one["communities"]] == ["chaoyang"] and one["county"] == CHAOYANG


async def test_a_service_that_is_down_is_listed_not_fatal(services: Wired, tokens: Tokens) -> None:
    period = period_since(await hand_counted_data(services, tokens))
    services.down("stations")
    body = await ok(await services.gateway.get(f"{SUMMARY}?{period}", headers=county(tokens)))
    assert body["unavailable"] == ["stations"]
    assert body["county"]["people_served_by_stations"] is None and body["county"]["consultations"] == 4
    services.down("proxy")
    services.down("catalog")
    deps = services.gateway_app.state.dependencies
    deps.probe_interval = 0
    try:
        body = await ok(await services.gateway.get(f"{SUMMARY}?{period}", headers=county(tokens)))
    finally:
        deps.probe_interval = 5.0
    # The handbook comes from the catalogue the gateway read before (degrade, don't fail).
    assert body["unavailable"] == ["proxy", "stations"] and body["handbook"] is not None
    assert {d["service"]: d["state"] for d in body["degraded"]} == dict.fromkeys(
        ("catalog", "proxy", "stations"), "unavailable"
    )
    assert set(body["county"].values()) == {None}
    table = (await services.gateway.get(f"{SUMMARY}?format=csv", headers=county(tokens))).text
    assert table.splitlines()[-1] == "hexian,和县（合计）" + "," * len(CHAOYANG)
    panel = (await services.gateway.get(f"{SUMMARY}?format=html", headers=county(tokens))).text
    assert "暂缺" in panel


async def test_a_slow_service_times_out_into_unavailable(services: Wired, tokens: Tokens) -> None:
    import asyncio

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        return httpx.Response(200, json={})

    settings = services.gateway_app.state.settings
    before = settings.reports_timeout
    # Long enough that the real, in-process proxy answers even on a loaded machine; the mock
    # stations never does.
    settings.reports_timeout = 4.0
    services.gateway_app.state.upstreams.clients["stations"] = httpx.AsyncClient(
        transport=httpx.MockTransport(slow), base_url="http://stations"
    )
    try:
        body = await ok(await services.gateway.get(SUMMARY, headers=county(tokens)))
    finally:
        settings.reports_timeout = before
    assert body["unavailable"] == ["stations"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?from=2025-02-01&to=2025-01-01", 422),
        ("?from=1800-01-01", 422),
        ("?community=mars", 422),
        ("?format=pdf", 422),
    ],
)
async def test_bad_input_is_a_problem(services: Wired, tokens: Tokens, query: str, status: int) -> None:
    resp = await services.gateway.get(SUMMARY + query, headers=county(tokens))
    assert resp.status_code == status and resp.headers["content-type"] == "application/problem+json"


async def test_figures_need_figures_read(services: Wired, tokens: Tokens) -> None:
    assert (await services.gateway.get(SUMMARY)).status_code == 401
    client = tokens.headers(None, kind="client", scopes=("catalog:read",))
    assert (await services.gateway.get(SUMMARY, headers=client)).status_code == 403


async def test_the_dashboard_page_opens_without_a_token_and_holds_no_figures(services: Wired) -> None:
    resp = await services.gateway.get("/api/v1/reports/dashboard")
    assert resp.status_code == 200 and resp.headers["content-type"] == "text/html; charset=utf-8"
    policy = resp.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy and "connect-src 'self'" in policy
    page = resp.text
    assert 'id="login"' in page and "/api/v1/auth/token" in page and "format" in page
    assert "<svg" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "localStorage" not in page and "access_token=" not in page

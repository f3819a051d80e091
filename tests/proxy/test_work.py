from __future__ import annotations

import httpx

from ..support import Tokens
from .helpers import BASE, admin, app_of, auditor, create, with_compounds, worker


def platform(
    tokens: Tokens,
    client: str = "hotline-12345",
    scopes: tuple[str, ...] = ("demands:write", "demands:read"),
) -> dict[str, str]:
    return tokens.headers(None, kind="client", subject=client, scopes=scopes, communities=("chaoyang",))


async def test_worker_profiles_and_grid_team(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    body = {
        "display_name": "宋雨萱",
        "grids": ["chaoyang-g6"],
        "categories": ["disability", "elderly"],
    }
    created = await proxy.put(f"{BASE}/workers/chaoyang.g6b", json=body, headers=admin(tokens))
    assert created.status_code == 201, created.text
    assert created.json()["community"] == "chaoyang"
    team = await proxy.get(f"{BASE}/grids/chaoyang-g6/team", headers=worker(tokens))
    assert [w["username"] for w in team.json()["workers"]] == ["chaoyang.g6b"]
    leave = await proxy.put(
        f"{BASE}/workers/chaoyang.g6b",
        json={**body, "status": "on_leave"},
        headers={**admin(tokens), "If-Match": created.headers["ETag"]},
    )
    assert leave.status_code == 200 and leave.json()["status"] == "on_leave"
    stale = await proxy.put(
        f"{BASE}/workers/chaoyang.g6b",
        json=body,
        headers={**admin(tokens), "If-Match": created.headers["ETag"]},
    )
    assert stale.status_code == 412
    wrong_grid = await proxy.put(f"{BASE}/workers/x.y", json={**body, "grids": ["zhenhuai-g7"]}, headers=admin(tokens))
    assert wrong_grid.status_code == 422
    assert (await proxy.put(f"{BASE}/workers/x.y", json=body, headers=worker(tokens))).status_code == 403
    assert (await proxy.get(f"{BASE}/grids/zhenhuai-g7/team", headers=worker(tokens))).status_code == 404
    listed = await proxy.get(f"{BASE}/workers", params={"status": "on_leave"}, headers=worker(tokens))
    assert [w["username"] for w in listed.json()["items"]] == ["chaoyang.g6b"]


async def test_worker_logs_a_demand_and_answers_it_on_the_spot(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    r = await create(proxy, worker(tokens))
    resp = await proxy.post(
        f"{BASE}/demands",
        json={
            "resident_id": r["id"],
            "channel": "window",
            "kind": "consultation",
            "item_code": "severe-disability-care-subsidy",
            "text": "咨询残疾人补贴",
            "answer": "符合条件，可上门代办",
        },
        headers=worker(tokens),
    )
    assert resp.status_code == 201, resp.text
    d = resp.json()
    assert d["status"] == "answered" and d["grid"] == "chaoyang-g6"
    assert d["logged_by"] == "chaoyang.worker" and d["source_client"] is None
    closed = await proxy.post(f"{BASE}/demands/{d['id']}/closure", json={}, headers=worker(tokens))
    assert closed.json()["status"] == "closed"
    illegal = await proxy.post(f"{BASE}/demands/{d['id']}/answer", json={"answer": "再答"}, headers=worker(tokens))
    assert illegal.status_code == 409
    hidden = await proxy.get(f"{BASE}/demands/{d['id']}", headers=worker(tokens, "zhenhuai"))
    assert hidden.status_code == 404


async def test_platform_pushes_demands_and_reads_back_only_its_own(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    mine = await proxy.post(
        f"{BASE}/demands",
        json={
            "channel": "hotline",
            "text": "反映小区路灯不亮",
            "contact_name": "来电人",
            "contact_phone": "13812340000",
            "external_ref": "12345-0001",
        },
        headers=platform(tokens),
    )
    assert mine.status_code == 201, mine.text
    assert mine.json()["source_client"] == "hotline-12345"
    assert mine.json()["community"] == "chaoyang"
    assert mine.json()["contact_phone_masked"] == "138****0000"
    staff = await proxy.post(f"{BASE}/demands", json={"channel": "window", "text": "窗口咨询"}, headers=worker(tokens))
    other = await proxy.post(
        f"{BASE}/demands",
        json={"channel": "platform", "text": "省平台转来"},
        headers=platform(tokens, "province-platform"),
    )
    listed = await proxy.get(f"{BASE}/demands", headers=platform(tokens))
    assert [d["id"] for d in listed.json()["items"]] == [mine.json()["id"]]
    assert (await proxy.get(f"{BASE}/demands/{staff.json()['id']}", headers=platform(tokens))).status_code == 404
    assert (await proxy.get(f"{BASE}/demands/{other.json()['id']}", headers=platform(tokens))).status_code == 404
    status = await proxy.get(f"{BASE}/demands/{mine.json()['id']}", headers=platform(tokens))
    assert status.json()["status"] == "open"
    everyone = await proxy.get(f"{BASE}/demands", headers=worker(tokens))
    assert len(everyone.json()["items"]) == 3
    write_only = platform(tokens, scopes=("demands:write",))
    assert (await proxy.get(f"{BASE}/demands", headers=write_only)).status_code == 403
    outside = await proxy.post(
        f"{BASE}/demands",
        json={"channel": "hotline", "text": "x", "community": "zhenhuai"},
        headers=platform(tokens),
    )
    assert outside.status_code == 422
    # a platform cannot read residents
    assert (await proxy.get(f"{BASE}/residents", headers=platform(tokens))).status_code == 403


async def test_figures_count_ledger_and_demands_per_grid(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    await create(proxy, worker(tokens))
    await proxy.post(f"{BASE}/demands", json={"channel": "window", "text": "咨询"}, headers=worker(tokens))
    await proxy.post(
        f"{BASE}/demands",
        json={"channel": "doorstep", "text": "上门", "answer": "已办"},
        headers=worker(tokens),
    )
    resp = await proxy.get(f"{BASE}/figures", params={"community": "chaoyang"}, headers=worker(tokens))
    assert resp.status_code == 200, resp.text
    f = resp.json()
    assert f["ledger"]["compounds"] == 7 and f["ledger"]["residents"] == 1
    assert f["ledger"]["disabled"] == 1 and f["ledger"]["households"] == 1
    g6 = next(g for g in f["by_grid"] if g["grid"] == "chaoyang-g6")
    assert g6["residents"] == 1 and g6["compounds"] == 1
    assert f["demands"] == {
        "total": 2,
        "by_channel": {"window": 1, "doorstep": 1},
        "by_status": {"open": 1, "answered": 1},
    }
    county = await proxy.get(f"{BASE}/figures", headers=auditor(tokens))
    assert county.json()["ledger"]["compounds"] == 78
    scoped = await proxy.get(f"{BASE}/figures", headers=worker(tokens, "zhenhuai"))
    assert scoped.json()["ledger"]["residents"] == 0
    bad = await proxy.get(f"{BASE}/figures", params={"from": "2026-05-01", "to": "2026-04-01"}, headers=worker(tokens))
    assert bad.status_code == 422


async def test_app_keeps_the_cipher_in_state(proxy: httpx.AsyncClient) -> None:
    assert app_of(proxy).state.pii.active_kid


async def test_extreme_dates_and_foreign_digits_are_422_not_500(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    h = worker(tokens)
    for path, params in (
        ("/figures", {"to": "9999-12-31"}),
        ("/figures", {"from": "0001-01-01"}),
        ("/demands", {"to": "9999-12-31"}),
        ("/demands", {"from": "0001-01-01"}),
    ):
        resp = await proxy.get(BASE + path, params=params, headers=h)
        assert resp.status_code == 422, (path, params, resp.text)
    arabic = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in "34052319690914123X")
    resp = await proxy.post(
        f"{BASE}/residents",
        json={"name": "x", "id_number": arabic, "compound": "binjiang"},
        headers=h,
    )
    assert resp.status_code == 422

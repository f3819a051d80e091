from __future__ import annotations

import httpx

from ...support import Tokens
from ..helpers import BASE, create, with_compounds, worker


def platform(
    tokens: Tokens,
    client: str = "hotline-12345",
    scopes: tuple[str, ...] = ("demands:write", "demands:read"),
) -> dict[str, str]:
    return tokens.headers(None, kind="client", subject=client, scopes=scopes, communities=("chaoyang",))


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

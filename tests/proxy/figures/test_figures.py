from __future__ import annotations

import httpx

from ...support import Tokens
from ..helpers import BASE, auditor, create, with_compounds, worker


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

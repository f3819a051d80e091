"""Learning from misses, over real HTTP through the gateway: a worker's search that led
nowhere shows in the admin's misses (personal numbers masked), the admin turns it into an
alias in one call, and the same search then finds the item."""

from __future__ import annotations

import httpx

from .conftest import System, login

MISS = "夕阳红卡"  # a made-up local name for the senior card, in no item's text


def client(system: System, username: str) -> httpx.Client:
    token = login(system, username)
    return httpx.Client(
        base_url=f"{system.url()}/api/v1/catalog", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def test_a_missed_search_becomes_an_alias_through_the_gateway(system: System) -> None:
    with client(system, "chaoyang.worker") as worker:
        missed = worker.get("/items", params={"q": MISS}).json()
        assert missed["search_id"]
        assert "senior-preferential-card" not in [i["code"] for i in missed["items"][:1]]
        with_phone = worker.get("/items", params={"q": "13812345678 高龄补贴"}).json()
        found = worker.get("/items", params={"q": "高龄补贴"}).json()
        opened = worker.post(
            "/search/opened", json={"search_id": found["search_id"], "code": found["items"][0]["code"]}
        )
        assert opened.status_code == 204, opened.text
        assert worker.get("/search/misses").status_code == 403
        assert with_phone["items"][0]["code"] == "elderly-allowance"

    with client(system, "chaoyang.admin") as admin:
        misses = admin.get("/search/misses", params={"days": 7}).json()["misses"]
        queries = [m["query"] for m in misses]
        assert MISS in queries
        assert "高龄补贴" not in queries  # it was opened
        assert not any("13812345678" in q for q in queries)
        assert any("138****5678" in q for q in queries)

        added = admin.post("/search/misses/alias", json={"query": MISS, "item": "senior-preferential-card"})
        assert added.status_code == 200, added.text
        assert MISS in added.json()["aliases"]
        assert added.json()["resolved"] >= 1
        assert MISS not in [m["query"] for m in admin.get("/search/misses").json()["misses"]]

    with client(system, "chaoyang.worker") as worker:
        again = worker.get("/items", params={"q": MISS}).json()["items"]
        assert again[0]["code"] == "senior-preferential-card"
        assert MISS in again[0]["matched"]

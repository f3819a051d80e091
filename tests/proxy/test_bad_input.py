from __future__ import annotations

import httpx

from ..support import Tokens
from .helpers import BASE, with_compounds, worker


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

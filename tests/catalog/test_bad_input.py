"""Hostile input is a 4xx naming the field, never a 500 or a 503, on both databases."""

from __future__ import annotations

import httpx
import pytest

from doorstep_shared.http.pagination import encode_cursor

from .helpers import item_body

C = "/api/v1/catalog"


async def test_control_characters_are_refused_before_the_database(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    resp = await seeded.post(f"{C}/items/dibao/tips", json={"body": "a\x00b"}, headers=worker)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "body.body"
    resp = await seeded.post(f"{C}/items", json=item_body("nul-item", summary="x\x00y"), headers=admin)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "body.summary"
    rule = {"==": [{"var": "gender"}, "fe\x00male"]}
    resp = await seeded.post(f"{C}/items", json=item_body("nul-rule", eligibility_rule=rule), headers=admin)
    assert resp.status_code == 422
    ok = await seeded.post(f"{C}/items", json=item_body("multi-line", conditions="第一行\n第二行\t缩进"), headers=admin)
    assert ok.status_code == 201


@pytest.mark.parametrize(
    "since", ["0001-01-01", "9999-12-31T23:59:59-12:00", encode_cursor([2**70]), encode_cursor([-1])]
)
async def test_out_of_range_since_is_422(seeded: httpx.AsyncClient, worker: dict[str, str], since: str) -> None:
    assert (await seeded.get(f"{C}/changes", params={"since": since}, headers=worker)).status_code == 422


async def test_out_of_range_cursors_are_422(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    big = encode_cursor([2**70])
    for url in (f"{C}/items/dibao/versions", f"{C}/items/dibao/tips"):
        assert (await seeded.get(url, params={"cursor": big}, headers=worker)).status_code == 422
    assert (
        await seeded.get(f"{C}/items", params={"cursor": encode_cursor([1, True])}, headers=worker)
    ).status_code == 422
    for raw in (["2026-01-01T00:00:00", 1], ["2026-01-01T00:00:00+00:00", 2**70], [1, 1], ["x" * 100, 1]):
        resp = await seeded.get(f"{C}/briefings", params={"cursor": encode_cursor(raw)}, headers=worker)
        assert resp.status_code == 422, raw
    resp = await seeded.get(f"{C}/briefings", params={"community": "chao\x00yang"}, headers=worker)
    assert resp.status_code == 422


async def test_implausible_dates_and_numbers_are_422(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for body in (
        {"community": "chaoyang", "held_on": "0001-01-01"},
        {"community": "chaoyang", "held_on": "2026-03-02", "held_at": "0001-01-01T00:00:00+08:00"},
    ):
        assert (await seeded.post(f"{C}/briefings", json=body, headers=admin)).status_code == 422
    raw = b'{"code":"nan-item","name":"x","category":"dibao","fee":{"free":false,"amount_yuan":NaN}}'
    resp = await seeded.post(f"{C}/items", content=raw, headers={**admin, "content-type": "application/json"})
    assert resp.status_code == 422

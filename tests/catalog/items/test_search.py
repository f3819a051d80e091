from __future__ import annotations

import httpx
import pytest

from ..helpers import create_item

ITEMS = "/api/v1/catalog/items"


async def _codes(client: httpx.AsyncClient, headers: dict[str, str], **params: object) -> list[str]:
    resp = await client.get(ITEMS, params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return [i["code"] for i in resp.json()["items"]]


@pytest.mark.parametrize("q", ["gl", "gaoling", "高龄", "GaoLing", "gao ling", "高ling", "gao龄", "glbt"])
async def test_elderly_allowance_comes_first_by_characters_pinyin_initials_or_a_mix(
    seeded: httpx.AsyncClient, worker: dict[str, str], q: str
) -> None:
    codes = await _codes(seeded, worker, q=q)
    assert codes[0] == "elderly-allowance"


async def test_chinese_substrings_find_items_by_name_alias_and_text(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    assert "pension-face-check" in (await _codes(seeded, worker, q="刷脸"))[:2]  # an alias
    assert (await _codes(seeded, worker, q="残疾证"))[0] == "disability-certificate"
    assert "subsidy-4050" in await _codes(seeded, worker, q="4050")
    assert (await _codes(seeded, worker, q="廉租房"))[0] == "low-rent-housing"
    # a material name ranks below items named after it
    assert "hard-disability-living-subsidy" in await _codes(seeded, worker, q="银行卡", limit=100)


async def test_results_are_ranked_and_say_which_field_and_words_matched(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    resp = await seeded.get(ITEMS, params={"q": "残疾人补贴", "limit": 50}, headers=worker)
    items = resp.json()["items"]
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    assert {i["code"] for i in items[:2]} == {"hard-disability-living-subsidy", "severe-disability-care-subsidy"}
    assert {i["matched_field"] for i in items} <= {"name", "alias", "summary", "materials", "tips", "text"}
    assert "残疾人补贴" in items[0]["matched"]  # the alias, for highlighting


async def test_polyphonic_characters_match_either_reading(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    await create_item(seeded, admin, "bank-row", name="银行卡重新绑定")
    assert "bank-row" in await _codes(seeded, worker, q="chongxin")
    assert "bank-row" in await _codes(seeded, worker, q="yinhang")
    assert "bank-row" in await _codes(seeded, worker, q="zhongxin")


async def test_filters_combine_with_search(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    proxy = await _codes(seeded, worker, proxy_eligible="true", limit=100)
    assert len(proxy) == 18
    in_disability = await _codes(seeded, worker, q="补贴", category="disability", limit=100)
    assert in_disability and all(
        c
        in {
            "hard-disability-living-subsidy",
            "severe-disability-care-subsidy",
            "disability-fuel-subsidy",
            "assistive-devices",
            "severe-disability-home-care",
            "disabled-student-aid",
            "disability-employment",
            "disability-rehabilitation",
            "disability-home-modification",
            "disability-pension-subsidy",
            "disability-medical-insurance-subsidy",
        }
        for c in in_disability
    )
    online = await _codes(seeded, worker, channel="online", limit=100)
    doorstep = set(await _codes(seeded, worker, channel="doorstep", limit=100))
    assert "pension-face-check" in online
    assert set(proxy) <= doorstep


async def test_browsing_pages_through_all_68_items_in_a_stable_order(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 25}
        if cursor:
            params["cursor"] = cursor
        page = (await seeded.get(ITEMS, params=params, headers=worker)).json()
        seen += [i["code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 68 == len(set(seen))
    assert seen == sorted(seen)


async def test_any_query_string_is_safe(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    for q in [
        "x" * 1000,
        "🙂🙃" * 100,
        "%_'\"; DROP TABLE item; --",
        "\u0000\u200b",
        "ا",
        "   ",
        "ﾃｽﾄ",
    ]:
        resp = await seeded.get(ITEMS, params={"q": q}, headers=worker)
        assert resp.status_code in (200, 422), q
    long = await seeded.get(ITEMS, params={"q": "高" * 1001}, headers=worker)
    assert long.status_code == 422
    assert (await seeded.get(ITEMS, params={"cursor": "garbage!"}, headers=worker)).status_code == 422


async def test_search_sees_a_new_item_at_once(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    assert await _codes(seeded, worker, q="kuaidi") == []
    await create_item(seeded, admin, "parcel", name="快递代收")
    assert await _codes(seeded, worker, q="kuaidi") == ["parcel"]

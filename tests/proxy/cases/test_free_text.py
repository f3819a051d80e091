"""A phone or ID number typed into a case's assignment reason or a visit's notes comes back
masked, in every spelling (#17 §5)."""

from __future__ import annotations

import httpx
import pytest

from doorstep_shared.clock import local_today

from ...support import Tokens
from ..helpers import worker
from ..test_free_text import TYPED, assert_masked
from .helpers import BASE, new_case, new_resident

pytestmark = pytest.mark.dates  # visits are planned for today, on the community's clock


async def test_an_assignment_reason_is_masked_on_the_case_and_its_timeline(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    case = await new_case(cases, h, (await new_resident(cases, h))["id"])
    resp = await cases.post(f"{BASE}/cases/{case['id']}/assignment", json={"reason": TYPED}, headers=h)
    assert resp.status_code == 200, resp.text
    assert_masked((await cases.get(f"{BASE}/cases/{case['id']}/timeline", headers=h)).text)


async def test_visit_notes_are_masked(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    case = await new_case(cases, h, (await new_resident(cases, h))["id"], channel="doorstep")
    made = await cases.post(
        f"{BASE}/visits", json={"case_ids": [case["id"]], "planned_date": local_today().isoformat()}, headers=h
    )
    assert made.status_code == 201, made.text
    url = f"{BASE}/visits/{made.json()['id']}"
    assert (await cases.post(f"{url}/check-in", json={}, headers=h)).status_code == 200
    done = await cases.post(f"{url}/check-out", json={"outcome": "done", "notes": TYPED}, headers=h)
    assert done.status_code == 200, done.text
    assert_masked(done.text)
    assert_masked((await cases.get(url, headers=h)).text)

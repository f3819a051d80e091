"""Phone and ID numbers typed into the proxy's free text come back masked, in every spelling,
and are kept as typed (#17 §5). Which fields: tests/test_free_text_redaction.py."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import text

from ..support import Tokens
from .helpers import BASE, app_of, create, with_compounds, worker

TYPED = "请回电 138-1234-5678 或 +86 139 8765 4321，身份证 340523 19900101 1234"
CLEAR = ("1234-5678", "139 8765 4321", "19900101")


def assert_masked(body: str) -> None:
    for clear in CLEAR:
        assert clear not in body, body
    assert "138****5678" in body and "139****4321" in body and "340523********1234" in body


async def test_demand_text_and_answer_are_masked_in_every_spelling(
    proxy: httpx.AsyncClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    made = await proxy.post(
        f"{BASE}/demands", json={"channel": "window", "text": TYPED, "answer": TYPED}, headers=worker(tokens)
    )
    assert made.status_code == 201, made.text
    assert_masked(made.text)
    assert_masked((await proxy.get(f"{BASE}/demands/{made.json()['id']}", headers=worker(tokens))).text)
    assert_masked((await proxy.get(f"{BASE}/demands", headers=worker(tokens))).text)
    assert "1234-5678" not in caplog.text


async def test_a_reveal_reason_is_masked_in_the_reveal_trail(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    resident = await create(proxy, worker(tokens))
    resp = await proxy.post(f"{BASE}/residents/{resident['id']}/reveal", json={"reason": TYPED}, headers=worker(tokens))
    assert resp.status_code == 200, resp.text
    trail = await proxy.get(f"{BASE}/reveals", headers=tokens.headers("auditor", community=None))
    assert trail.status_code == 200, trail.text
    assert_masked(trail.text)
    engine = app_of(proxy).state.engine
    async with engine.connect() as conn:  # stored as typed: nothing the worker wrote is lost
        stored = (await conn.execute(text("SELECT reason FROM reveal_audit"))).scalars().all()
    assert TYPED in stored

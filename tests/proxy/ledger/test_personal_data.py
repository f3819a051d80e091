from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from ...support import Tokens
from ..helpers import BASE, app_of, auditor, create, id_number, resident_body, with_compounds, worker


async def test_worker_reveals_with_a_reason_and_the_reveal_is_on_record(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    number = id_number()
    r = await create(proxy, worker(tokens), id_number=number, disability_certificate_no=number + "12")
    resp = await proxy.post(
        f"{BASE}/residents/{r['id']}/reveal",
        json={
            "reason": "填写残疾人补贴申请表",
            "fields": ["id_number", "phone", "disability_certificate_no"],
        },
        headers={**worker(tokens), "X-Request-ID": "req-reveal-1"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["id_number"] == number and body["phone"] == "13812345678"
    assert body["disability_certificate_no"] == number + "12"
    assert resp.headers["Cache-Control"] == "no-store"
    trail = await proxy.get(f"{BASE}/reveals", headers=auditor(tokens))
    assert trail.status_code == 200
    [record] = trail.json()["items"]
    assert record["id"] == body["audit_id"]
    assert record["actor"] == "chaoyang.worker"
    assert record["resident_id"] == r["id"]
    assert record["fields"] == ["disability_certificate_no", "id_number", "phone"]
    assert record["reason"] == "填写残疾人补贴申请表"
    assert record["request_id"] == "req-reveal-1"


async def test_reveal_needs_the_permission_and_a_reason(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    r = await create(proxy, worker(tokens))
    url = f"{BASE}/residents/{r['id']}/reveal"
    for headers in (auditor(tokens), tokens.headers("station_keeper", community="chaoyang")):
        denied = await proxy.post(url, json={"reason": "只是想看看号码"}, headers=headers)
        assert denied.status_code == 403
    short = await proxy.post(url, json={"reason": "看"}, headers=worker(tokens))
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "body.reason"
    readable = await proxy.get(f"{BASE}/residents/{r['id']}", headers=auditor(tokens))
    assert readable.status_code == 200 and "*" in readable.json()["id_number_masked"]
    trail = await proxy.get(f"{BASE}/reveals", headers=auditor(tokens))
    assert trail.json()["items"] == []
    assert (await proxy.get(f"{BASE}/reveals", headers=worker(tokens))).status_code == 403


async def test_storage_holds_no_plain_id_numbers_or_phones(
    proxy: httpx.AsyncClient, tokens: Tokens, db_backend: str
) -> None:
    await with_compounds(proxy)
    numbers = [id_number() for _ in range(5)]
    phones = [f"1391234{i:04d}" for i in range(5)]
    for n, p in zip(numbers, phones, strict=True):
        await create(proxy, worker(tokens), id_number=n, phone=p, disability_certificate_no=n + "12")
    await proxy.post(
        f"{BASE}/demands",
        json={
            "channel": "phone",
            "text": f"回电 {phones[0]}，身份证 {numbers[0]}",
            "contact_phone": phones[1],
        },
        headers=worker(tokens),
    )
    engine = app_of(proxy).state.engine
    if db_backend == "sqlite":
        # the main file and its write-ahead log together hold every byte written
        path = Path(str(engine.url.database))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        dump = raw.decode("latin-1")
    else:
        async with engine.connect() as conn:
            cols = (
                await conn.execute(
                    text(
                        "SELECT table_name, column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema()"
                    )
                )
            ).all()
            parts = []
            for table, column in cols:
                values = (await conn.execute(text(f'SELECT "{column}"::text FROM "{table}"'))).scalars()
                parts.extend(v for v in values if v)
        dump = "\n".join(parts)
    assert dump  # we did read something
    for secret in [*numbers, *phones]:
        assert secret not in dump
        assert secret[:-4] not in dump  # not even the part the mask hides


async def test_logs_and_error_bodies_never_carry_plain_values(
    proxy: httpx.AsyncClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    await with_compounds(proxy)
    number = id_number()
    caplog.set_level(logging.DEBUG)
    await create(proxy, worker(tokens), id_number=number)
    bodies = [
        await proxy.post(f"{BASE}/residents", json=resident_body(id_number=number), headers=worker(tokens)),
        await proxy.post(
            f"{BASE}/residents",
            json=resident_body(id_number=number[:-1] + "Y"),
            headers=worker(tokens),
        ),
        await proxy.post(f"{BASE}/residents", json=resident_body(phone="9" * 15), headers=worker(tokens)),
        await proxy.post(f"{BASE}/residents", json={**resident_body(), "extra": number}, headers=worker(tokens)),
    ]
    for resp in bodies:
        assert 400 <= resp.status_code < 500
        assert number not in resp.text and "9" * 15 not in resp.text
        assert not re.search(r"\d{17}[\dX]", resp.text)
    assert number not in caplog.text
    assert "13812345678" not in caplog.text


async def test_the_reveal_trail_refuses_updates(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    r = await create(proxy, worker(tokens))
    await proxy.post(f"{BASE}/residents/{r['id']}/reveal", json={"reason": "办理补贴申请"}, headers=worker(tokens))
    engine = app_of(proxy).state.engine
    with pytest.raises(Exception, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE reveal_audit SET reason = 'nothing to see'"))


async def test_migrations_downgrade_and_upgrade_cleanly(db_backend: str, tmp_path: Path) -> None:
    from doorstep_shared.db import migrations

    from ...support import create_database, drop_database

    db = await create_database("doorstep_proxy", db_backend, tmp_path)
    try:
        import asyncio

        await asyncio.to_thread(migrations.downgrade, "doorstep_proxy", db.url, db.schema)
        await asyncio.to_thread(migrations.upgrade, "doorstep_proxy", db.url, db.schema)
    finally:
        await drop_database(db)

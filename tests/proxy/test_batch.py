"""POST /api/v1/proxy/batch: operations in order, each exactly as if sent alone (issue #22 part 2)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from doorstep_proxy.batch import service
from doorstep_proxy.batch.schemas import BatchRequest
from doorstep_proxy.cases.models import ProxyCase

from ..support import Tokens
from .cases.conftest import catalogue
from .helpers import BASE, app_of, create, with_compounds, worker

pytestmark = pytest.mark.dates


@pytest.fixture
async def cases(proxy: httpx.AsyncClient) -> httpx.AsyncClient:
    await with_compounds(proxy)
    app_of(proxy).state.catalog.prime(catalogue())
    return proxy


async def batch(
    client: httpx.AsyncClient, headers: dict[str, str], *operations: dict[str, Any], **extra: Any
) -> httpx.Response:
    size = {"Doorstep-Batch-Size": str(len(operations))}
    return await client.post(
        f"{BASE}/batch", json={"operations": list(operations), **extra}, headers={**headers, **size}
    )


def new_case_op(resident_id: str, case_id: str, key: str | None = None) -> dict[str, Any]:
    body = {"id": case_id, "resident_id": resident_id, "item_code": "elderly-allowance", "channel": "window"}
    return {
        "method": "POST",
        "path": f"{BASE}/cases",
        "headers": {"Idempotency-Key": key or str(uuid.uuid4())},
        "body": body,
    }


async def _cases(client: httpx.AsyncClient) -> int:
    async with app_of(client).state.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(ProxyCase))).scalar_one())


async def test_operations_run_in_order_with_each_ones_own_permissions(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    mine = await create(cases, h)
    theirs = await create(cases, worker(tokens, "zhenhuai"), compound="zhenhuaiyuan")
    case_id = str(uuid.uuid4())
    resp = await batch(
        cases,
        h,
        new_case_op(mine["id"], case_id),
        {"method": "PUT", "path": f"{BASE}/cases/{case_id}/materials/1", "body": {"collected": "copy_taken"}},
        {"method": "GET", "path": f"{BASE}/residents/{theirs['id']}"},
        {"method": "POST", "path": f"{BASE}/admin/purge"},
        {"method": "GET", "path": f"{BASE}/cases/{case_id}"},
        {"method": "GET", "path": f"{BASE}/cases?resident_id={theirs['id']}"},
    )
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert [r["status"] for r in results] == [201, 200, 404, 403, 200, 200]
    assert results[0]["location"] and results[0]["etag"] and results[0]["body"]["id"] == case_id
    assert results[2]["body"]["code"] == "resident_not_found"
    assert results[3]["body"]["code"] == "missing_permission"
    read = results[4]["body"]
    assert read["materials"][0]["collected"] == "copy_taken" and results[4]["etag"] != results[0]["etag"]
    assert results[5]["body"]["items"] == []  # the query string reached the route


async def test_idempotency_keys_replay_inside_and_across_batches(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    r = await create(cases, h)
    op = new_case_op(r["id"], str(uuid.uuid4()), key="queued-1")
    first = (await batch(cases, h, op, op)).json()["results"]
    assert [x["status"] for x in first] == [201, 201] and [x["replayed"] for x in first] == [False, True]
    again = (await batch(cases, h, op)).json()["results"]
    assert again[0]["replayed"] and again[0]["body"] == first[0]["body"] and again[0]["etag"] == first[0]["etag"]
    reused = (await batch(cases, h, {**op, "body": {**op["body"], "channel": "doorstep"}})).json()["results"]
    assert reused[0]["status"] == 422 and reused[0]["body"]["code"] == "idempotency_key_reused"
    assert await _cases(cases) == 1


async def test_a_stale_if_match_fails_only_its_own_operation(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    r = await create(cases, h)
    case_id = str(uuid.uuid4())
    created = (await batch(cases, h, new_case_op(r["id"], case_id))).json()["results"][0]
    put = {"method": "PUT", "path": f"{BASE}/cases/{case_id}/materials/1", "headers": {"If-Match": created["etag"]}}
    results = (
        await batch(
            cases,
            h,
            {**put, "body": {"collected": "copy_taken"}},
            {**put, "body": {"collected": "electronic"}},  # the same ETag, stale by now
            {"method": "PUT", "path": f"{BASE}/cases/{case_id}/materials/2", "body": {"collected": "electronic"}},
        )
    ).json()["results"]
    assert [x["status"] for x in results] == [200, 412, 200]
    assert results[1]["body"]["code"] == "stale_etag"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"path": f"{BASE}/batch"}, "body.operations[1].path", "invalid"),
        ({"path": "/api/v1/catalog/items"}, "body.operations[1].path", "invalid"),
        ({"path": f"{BASE}/cases/../admin/purge"}, "body.operations[1].path", "invalid"),
        ({"method": "GET", "body": {"x": 1}}, "body.operations[1].body", "invalid"),
        ({"method": "TRACE"}, "body.operations.1.method", None),
        ({"headers": {"Authorization": "Bearer x"}}, "body.operations.1.headers.Authorization", None),
        ({"headers": {"If-Match": '"a"\r\nX-Evil: 1'}}, "body.operations.1.headers.If-Match", None),
    ],
)
async def test_an_invalid_operation_refuses_the_whole_batch_naming_it(
    cases: httpx.AsyncClient, tokens: Tokens, change: dict[str, Any], field: str, code: str | None
) -> None:
    h = worker(tokens)
    r = await create(cases, h)
    good = new_case_op(r["id"], str(uuid.uuid4()))
    resp = await batch(cases, h, good, {**good, **change})
    assert resp.status_code == 422, resp.text
    problem = resp.json()
    assert field in [e["field"] for e in problem["errors"]], problem
    assert code is None or problem["code"] == code
    assert await _cases(cases) == 0  # nothing ran


async def test_limits_atomic_and_the_declared_size(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    get = {"method": "GET", "path": f"{BASE}/cases"}
    too_many = await batch(cases, h, *([get] * 101))
    assert too_many.status_code == 422 and "body.operations" in [e["field"] for e in too_many.json()["errors"]]
    atomic = await batch(cases, h, get, atomic=True)
    assert atomic.status_code == 422 and atomic.json()["code"] == "atomic_unsupported"
    wrong = await cases.post(
        f"{BASE}/batch", json={"operations": [get, get]}, headers={**h, "Doorstep-Batch-Size": "1"}
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "batch_size_mismatch"
    assert wrong.json()["errors"][0]["field"] == "header.Doorstep-Batch-Size"
    assert (await cases.post(f"{BASE}/batch", json={"operations": [get]})).status_code == 401


async def test_a_request_sent_alone_is_replayed_by_the_same_key_in_a_batch(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The phone sent it alone and lost the answer; its queue now replays it inside a batch
    (re-serialised: the key's fingerprint is over canonical JSON, not the bytes)."""
    h = worker(tokens)
    r = await create(cases, h)
    op = new_case_op(r["id"], str(uuid.uuid4()), key="sent-alone")
    pretty = json.dumps(dict(reversed(op["body"].items())), indent=2).encode()
    alone = await cases.post(
        op["path"], content=pretty, headers={**h, **op["headers"], "Content-Type": "application/json"}
    )
    assert alone.status_code == 201
    replayed = (await batch(cases, h, op)).json()["results"][0]
    assert replayed["status"] == 201 and replayed["replayed"] and replayed["body"] == alone.json()
    assert await _cases(cases) == 1


async def test_a_key_on_the_batch_itself_is_refused_and_a_crashing_operation_is_its_own_500(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    get = {"method": "GET", "path": f"{BASE}/cases"}
    keyed = await batch(cases, {**worker(tokens), "Idempotency-Key": "whole-batch"}, get)
    assert keyed.status_code == 422 and keyed.json()["errors"][0]["field"] == "header.Idempotency-Key"

    async def crashing(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].endswith("/boom"):
            raise RuntimeError("a bug")
        query = scope["query_string"].decode()
        await PlainTextResponse(query, headers={"ETag": '"1"'})(scope, receive, send)

    paths = [f"{BASE}/boom", f"{BASE}/cases?name=江&x=%20"]
    ops = BatchRequest.model_validate({"operations": [{**get, "path": p} for p in paths]})
    results = await service.run(crashing, {"headers": []}, ops, service.check(ops, "2", None))
    assert [(r.status, r.body, r.etag) for r in results] == [(500, None, None), (200, "name=%E6%B1%9F&x=%20", '"1"')]

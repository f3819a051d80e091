"""Every cursor of every list route of every app, thrown arbitrary strings and arbitrary JSON:
never a 5xx, and the shapes an outside probe found (#17 §1) are 422 problem+json naming the field.

The routes come from each app's OpenAPI document (every operation with a ``cursor`` query
parameter, or a ``since`` that is a cursor rather than a date), so a new list is covered the day
it is added. Cursors are signed: unsigned JSON must always be refused, and JSON signed with the
app's own key (what a leaked key or a buggy encoder would produce) must be checked value by value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.python import asgi

from doorstep_shared.http.pagination import MAC_BYTES

from ..support import Tokens
from .conftest import FuzzApps
from .harness import EXAMPLES

# What the probe sent (base64 of the JSON text, unsigned and signed): each one was a 500 somewhere.
PROBE_PAYLOADS = ("[118059162071741130342]", "[1e999]", "[null]", '[{"a": 1}]', "[[1]]")
# Demo data the paths need (the 朝阳/树香 station, the 低保 item).
PATH_VALUES = {"code": "dibao", "subscription_id": "1", "username": "chaoyang.worker"}
STATION_PATH_VALUES = {"code": "shuxiang"}
EXAMPLES_PER_ROUTE = EXAMPLES  # 10 in `make test`, 500 in `make fuzz`

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signed(payload: str | bytes, key: bytes) -> str:
    """A cursor over exactly these bytes, signed with the app's key (so only the values are wrong)."""
    body = b64(payload)
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return f"{body}.{b64(mac)}"


def cursor_params(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, name of the cursor parameter) of every GET that pages by cursor."""
    for path, item in doc["paths"].items():
        get = item.get("get")
        if not get:
            continue
        for param in get.get("parameters", []):
            if param.get("in") != "query":
                continue
            schema = json.dumps(param.get("schema", {}))
            if param["name"] == "cursor" or (param["name"] == "since" and "date" not in schema):
                yield path, param["name"]


def fill(path: str, app_name: str, client: Any, headers: dict[str, str]) -> str:
    """The path with demo values in place of its parameters (discovered where they are ids)."""
    values = {**PATH_VALUES, **(STATION_PATH_VALUES if app_name == "stations" else {})}
    if "{service_code}" in path or "{session_id}" in path:
        station = client.get("/api/v1/stations/stations/shuxiang", headers=headers).json()
        values["service_code"] = station["services"][0]["code"]
        sessions = client.get(
            f"/api/v1/stations/stations/shuxiang/services/{values['service_code']}/sessions", headers=headers
        ).json()
        values["session_id"] = str(sessions["items"][0]["id"]) if sessions["items"] else "1"
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def app_of(apps: FuzzApps, name: str) -> FastAPI:
    return cast(FastAPI, getattr(apps, name))


def check(resp: Any, label: str) -> None:
    assert resp.status_code < 500, (label, resp.status_code, resp.text[:300])
    if resp.status_code >= 400:
        assert resp.headers["content-type"].startswith("application/problem+json"), label


def probe_route(client: Any, path: str, name: str, headers: dict[str, str], key: bytes) -> None:
    """Hypothesis over one route's cursor: arbitrary text, unsigned and signed arbitrary JSON and bytes."""

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        cursor=st.one_of(
            st.text(max_size=600),
            json_values.map(lambda v: b64(json.dumps(v))),
            json_values.map(lambda v: signed(json.dumps(v), key)),
            st.binary(max_size=64).map(lambda raw: signed(raw, key)),
        )
    )
    def probe(cursor: str) -> None:
        check(client.get(path, params={name: cursor}, headers=headers), f"GET {path} ?{name}={cursor!r}")

    probe()


@pytest.mark.parametrize("app_name", ["catalog", "proxy", "stations", "gateway"])
def test_no_cursor_of_any_list_route_is_a_server_error(app_name: str, fuzz_apps: FuzzApps, tokens: Tokens) -> None:
    app = app_of(fuzz_apps, app_name)
    routes = sorted(set(cursor_params(app.openapi())))
    assert routes, f"{app_name} has no cursor-paged list"
    county = tokens.headers("county_admin", community=None, subject="county.admin")
    auditor = tokens.headers("auditor", community=None, subject="county.auditor")
    reached = 0
    with asgi.get_client(cast(Any, app)) as client:
        key = app.state.cursor_key()
        for template, name in routes:
            headers = auditor if template.endswith("/audit") else county
            path = fill(template, app_name, client, headers)
            label = f"GET {template} ?{name}"
            baseline = client.get(path, headers=headers)
            check(baseline, label)
            reached += baseline.status_code == 200
            for text in PROBE_PAYLOADS:
                for cursor in (b64(text), signed(text, key)):
                    resp = client.get(path, params={name: cursor}, headers=headers)
                    if baseline.status_code == 200:  # a 404 path answers before the cursor is read
                        assert resp.status_code == 422, (label, text, resp.text[:300])
                        assert resp.json()["errors"][0]["field"] == f"query.{name}", label
                    check(resp, label)

            probe_route(client, path, name, headers, key)
    # The baseline must reach the handlers, or the probes above prove nothing.
    assert reached >= len(routes) - 2, (app_name, reached, len(routes))

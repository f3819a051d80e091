"""Open311 rules: each call answered from the catalog and the proxy, asked as the caller.

The proxy decides who sees which demand, the catalog who may read the catalogue: every call
carries the caller's own token (forwarding.service_calls). Their refusals and failures become
Open311 errors here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import Request

from doorstep_shared.clock import SHANGHAI

from ..deps import directory_of
from ..forwarding.schemas import CatalogView
from ..forwarding.service_calls import ServiceCallFailed, call, catalog_view, get_json, json_or_none
from ..state import state_of
from .mapping import (
    CASE_LOOKUPS,
    MAX_PAGES,
    MAX_RESULTS,
    PAGE,
    Submission,
    check_media_url,
    checked_attributes,
    compose_text,
    coordinates_of,
    find_service,
    parse_instant,
    place_of,
    proxy_errors,
    request_out,
    service_notice,
)
from .render import Open311Error


def check_jurisdiction(request: Request, given: str | None) -> None:
    expected = state_of(request).settings.open311_jurisdiction_id
    if given and given.strip() and given.strip() != expected:
        raise Open311Error(404, f"jurisdiction_id {given.strip()!r} not found (this endpoint serves {expected!r}).")


async def load_catalog(request: Request) -> CatalogView:
    try:
        return await catalog_view(request)
    except ServiceCallFailed as exc:
        if exc.status in (401, 403):
            raise Open311Error(403, "These credentials may not read the catalogue (scope catalog:read).") from exc
        raise Open311Error(400, "General service error: the catalogue is not reachable; retry shortly.") from exc


async def _case_of(request: Request, demand: Mapping[str, Any]) -> dict[str, Any] | None:
    ref = demand.get("case_ref")
    if demand.get("status") != "converted" or not ref:
        return None
    try:
        uuid.UUID(str(ref))
        case: dict[str, Any] = await get_json(request, "proxy", f"/api/v1/proxy/cases/{ref}")
    except (ValueError, ServiceCallFailed):
        return None  # no cases:read, or the case is gone: the demand's own status stands
    return case


async def _optional_catalog(request: Request) -> CatalogView | None:
    try:
        return await catalog_view(request)
    except ServiceCallFailed:
        return None  # names and agencies are extras: without catalog:read the requests still list


async def requests_out(request: Request, demands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    gate = asyncio.Semaphore(CASE_LOOKUPS)

    async def case_of(demand: dict[str, Any]) -> dict[str, Any] | None:
        async with gate:
            return await _case_of(request, demand)

    view, *cases = await asyncio.gather(_optional_catalog(request), *(case_of(d) for d in demands))
    return [request_out(d, c, view) for d, c in zip(demands, cases, strict=True)]


def _proxy_failure(exc: ServiceCallFailed) -> Open311Error:
    if exc.status in (401, 403):
        return Open311Error(403, "These credentials may not read service requests (scope demands:read).")
    if exc.status == 404:
        return Open311Error(404, "service_request_id not found.")
    return Open311Error(400, "General service error: service requests are not reachable; retry shortly.")


async def demand(request: Request, demand_id: str) -> dict[str, Any] | None:
    try:
        demand: dict[str, Any] = await get_json(request, "proxy", f"/api/v1/proxy/demands/{demand_id}")
    except ServiceCallFailed as exc:
        if exc.status == 404:
            return None
        raise _proxy_failure(exc) from exc
    return demand


async def _demands_in(request: Request, start: dt.datetime, end: dt.datetime, codes: set[str]) -> list[dict[str, Any]]:
    """The caller's demands requested in [start, end], newest first (the proxy scopes them)."""
    params: dict[str, Any] = {
        "from": start.astimezone(SHANGHAI).date().isoformat(),
        "to": end.astimezone(SHANGHAI).date().isoformat(),
        "limit": PAGE,
    }
    found: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        try:
            page = await get_json(request, "proxy", "/api/v1/proxy/demands", params)
        except ServiceCallFailed as exc:
            raise _proxy_failure(exc) from exc
        for demand in page.get("items", []):
            created = parse_instant(demand["created_at"])
            if start <= created <= end and (not codes or demand.get("item_code") in codes):
                found.append(demand)
        if not page.get("next_cursor"):
            break
        params["cursor"] = page["next_cursor"]
    return found


async def submit(request: Request, sub: Submission) -> dict[str, Any]:
    """A POSTed service request, created as a demand (channel platform): its id and notice."""
    check_jurisdiction(request, sub.fields.get("jurisdiction_id"))
    code = sub.fields.get("service_code")
    if not code:
        raise Open311Error(400, "service_code was not provided.")
    check_media_url(sub.fields.get("media_url", ""))
    if not (coordinates_of(sub.fields) or sub.fields.get("address_string") or sub.fields.get("address_id")):
        raise Open311Error(400, "A location is required: lat & long, address_string or address_id.")
    item = find_service(await load_catalog(request), code)
    directory = await directory_of(request)
    chosen = checked_attributes(item, sub.attributes, directory)
    community, grid = place_of(directory, chosen.get("community"), sub.fields.get("address_string", ""))
    first, last = sub.fields.get("first_name", ""), sub.fields.get("last_name", "")
    cjk = any("\u4e00" <= ch <= "\u9fff" for ch in first + last)
    name = (last + first) if cjk else " ".join(p for p in (first, last) if p)
    payload: dict[str, Any] = {
        "channel": "platform",
        "kind": chosen.get("kind", "request"),
        "item_code": item["code"],
        "text": compose_text(item, sub, chosen),
        "community": community,
        "grid": grid,
        "contact_name": name or None,
        "contact_phone": sub.fields.get("phone") or None,
        "external_ref": sub.fields.get("account_id") or None,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    try:
        response = await call(
            request,
            "proxy",
            "POST",
            "/api/v1/proxy/demands",
            json=payload,
            headers={k: v for k, v in request.headers.items() if k.lower() == "idempotency-key"},
        )
    except ServiceCallFailed as exc:
        raise Open311Error(400, "General service error: requests cannot be taken right now; retry shortly.") from exc
    body = json_or_none(response)
    if response.status_code in (200, 201) and isinstance(body, dict):
        return {
            "service_request_id": str(body["id"]),
            "service_notice": service_notice(item),
            "account_id": sub.fields.get("account_id") or None,
        }
    if response.status_code in (401, 403):
        raise Open311Error(403, "These credentials may not create service requests (scope demands:write).")
    if response.status_code in (400, 409, 422):
        raise Open311Error(400, *proxy_errors(body))
    raise Open311Error(400, "General service error: the request was not taken; retry shortly.")


async def requests_by_id(request: Request, ids: list[str]) -> list[dict[str, Any]]:
    """The caller's service requests among ``ids`` (the others are left out)."""
    for raw in ids:
        try:
            uuid.UUID(raw)
        except ValueError:
            raise Open311Error(400, f"service_request_id: {raw[:40]!r} is not a service request id") from None
    found = await asyncio.gather(*(demand(request, i) for i in ids))
    return await requests_out(request, [d for d in found if d is not None])


async def requests_between(
    request: Request, start: dt.datetime, end: dt.datetime, codes: set[str], statuses: set[str]
) -> list[dict[str, Any]]:
    """The caller's service requests made in [start, end], newest first, at most MAX_RESULTS."""
    demands = await _demands_in(request, start, end, codes)
    out: list[dict[str, Any]] = []
    for chunk_start in range(0, len(demands), PAGE):
        rows = await requests_out(request, demands[chunk_start : chunk_start + PAGE])
        out.extend(r for r in rows if not statuses or r["status"] in statuses)
        if len(out) >= MAX_RESULTS:
            break
    return out[:MAX_RESULTS]


async def request_by_id(request: Request, service_request_id: str) -> list[dict[str, Any]]:
    """One of the caller's service requests (a list of one, as the spec has it)."""
    try:
        demand_id = str(uuid.UUID(service_request_id))
    except ValueError:
        raise Open311Error(404, f"service_request_id {service_request_id[:40]!r} not found.") from None
    found = await demand(request, demand_id)
    if found is None:
        raise Open311Error(404, f"service_request_id {demand_id!r} not found.")
    return await requests_out(request, [found])

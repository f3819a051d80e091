"""Open311 GeoReport v2 at ``/open311/v2/``: the county's items as services, demands as requests.

A translation layer only. Services are the published catalogue items handled at the window or
fit for doorstep proxy handling (the catalog's export); a service request is a proxy demand
(channel ``platform``) created and read through the proxy's API with the caller's own token, so
the proxy decides who sees what (a machine client sees only the demands it submitted). Statuses
come from the demand and, once it became a case, from the case. docs/open311.md has the mapping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from doorstep_shared.clock import SHANGHAI
from doorstep_shared.permissions import Permission
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from ..forwarding.schemas import CatalogView
from ..forwarding.service_calls import ServiceCallFailed, call, catalog_view, get_json, json_or_none
from .mapping import (
    ATTRIBUTE_VALUE_MAX,
    CASE_LOOKUPS,
    MAX_CODES,
    MAX_IDS,
    MAX_PAGES,
    MAX_RESULTS,
    PAGE,
    POST_FIELDS,
    SPEC_URL,
    attributes_of,
    check_jurisdiction,
    check_media_url,
    checked_attributes,
    comma_list,
    compose_text,
    coordinates_of,
    find_service,
    load_catalog,
    parse_instant,
    place_of,
    proxy_errors,
    read_submission,
    request_out,
    request_window,
    service_notice,
    service_out,
    services_of,
)
from .render import ERRORS, Format, Open311Error, Open311Route, content, render

router = APIRouter(
    prefix="/open311", tags=["open311"], route_class=Open311Route, dependencies=[Depends(current_principal)]
)
CatalogReader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
DemandsReader = Annotated[Principal, Depends(require(Permission.DEMANDS_READ))]
DemandsWriter = Annotated[Principal, Depends(require(Permission.DEMANDS_WRITE))]
FormatPath = Annotated[Format, Path(description="Response format: xml or json")]
Jurisdiction = Annotated[
    str | None, Query(max_length=100, description="Optional; when given it must be this county's (hexian)")
]


# --- documented shapes (JSON; the XML carries the same elements) ------------------------------


class ServiceOut(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class ValueOut(BaseModel):
    key: str
    name: str


class AttributeOut(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[ValueOut] | None = None


class ServiceDefinitionOut(BaseModel):
    service_code: str
    attributes: list[AttributeOut]


class CreatedOut(BaseModel):
    service_request_id: str
    service_notice: str | None
    account_id: str | None


class RequestOut(BaseModel):
    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class EndpointOut(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class DiscoveryOut(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[EndpointOut]


POST_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["service_code"],
    "properties": {
        **{name: {"type": "string", "maxLength": limit} for name, limit in POST_FIELDS.items()},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
    },
    "additionalProperties": {"type": "string", "maxLength": ATTRIBUTE_VALUE_MAX},
    "description": "The spec's fields; attributes as attribute[code]=value (attribute[code][]=value for lists)",
}


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


async def _demand(request: Request, demand_id: str) -> dict[str, Any] | None:
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


# --- routes ---------------------------------------------------------------------------------


@router.get(
    "/discovery.{fmt}",
    response_model=None,
    summary="Open311 service discovery: where the GeoReport v2 endpoint is and what it speaks",
    responses={200: content(DiscoveryOut, "The discovery document"), **ERRORS},
)
async def discovery(request: Request, fmt: FormatPath, _: CatalogReader) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    document = {
        "changeset": "2025-01-01T00:00:00+08:00",
        "contact": "和县社区服务 — docs/open311.md",
        "key_service": "POST /api/v1/auth/token (client_credentials) — the bearer token plays the api_key",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base,
                "changeset": "2025-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", document)


@router.get(
    "/v2/services.{fmt}",
    response_model=None,
    summary="GET Service List: the items handled at the window or by doorstep proxy",
    responses={200: content(list[ServiceOut], "The services"), **ERRORS},
)
async def list_services(
    request: Request, fmt: FormatPath, _: CatalogReader, jurisdiction_id: Jurisdiction = None
) -> Response:
    check_jurisdiction(request, jurisdiction_id)
    view = await load_catalog(request)
    return render(fmt, "services", [service_out(i, view) for i in services_of(view)])


@router.get(
    "/v2/services/{service_code}.{fmt}",
    response_model=None,
    summary="GET Service Definition: the attributes of one service (community, kind, materials)",
    responses={200: content(ServiceDefinitionOut, "The service definition"), **ERRORS},
)
async def service_definition(
    request: Request,
    service_code: Annotated[str, Path(max_length=64)],
    fmt: FormatPath,
    _: CatalogReader,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    check_jurisdiction(request, jurisdiction_id)
    item = find_service(await load_catalog(request), service_code)
    return render(fmt, "service_definition", {"service_code": item["code"], "attributes": attributes_of(item)})


@router.post(
    "/v2/requests.{fmt}",
    response_model=None,
    status_code=201,
    summary="POST Service Request: creates a demand (channel platform) as the calling client",
    responses={201: content(list[CreatedOut], "The new service request's id and notice"), **ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": POST_BODY_SCHEMA},
                "application/json": {"schema": POST_BODY_SCHEMA},
            },
        }
    },
)
async def create_request(request: Request, fmt: FormatPath, _: DemandsWriter) -> Response:
    sub = await read_submission(request)
    check_jurisdiction(request, sub.fields.get("jurisdiction_id"))
    code = sub.fields.get("service_code")
    if not code:
        raise Open311Error(400, "service_code was not provided.")
    check_media_url(sub.fields.get("media_url", ""))
    if not (coordinates_of(sub.fields) or sub.fields.get("address_string") or sub.fields.get("address_id")):
        raise Open311Error(400, "A location is required: lat & long, address_string or address_id.")
    item = find_service(await load_catalog(request), code)
    chosen = checked_attributes(item, sub.attributes)
    community, grid = place_of(chosen.get("community"), sub.fields.get("address_string", ""))
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
        created = {
            "service_request_id": str(body["id"]),
            "service_notice": service_notice(item),
            "account_id": sub.fields.get("account_id") or None,
        }
        return render(fmt, "service_requests", [created], status=201)
    if response.status_code in (401, 403):
        raise Open311Error(403, "These credentials may not create service requests (scope demands:write).")
    if response.status_code in (400, 409, 422):
        raise Open311Error(400, *proxy_errors(body))
    raise Open311Error(400, "General service error: the request was not taken; retry shortly.")


@router.get(
    "/v2/requests.{fmt}",
    response_model=None,
    summary="GET Service Requests: your own requests, newest first (90 days, at most 1,000)",
    responses={200: content(list[RequestOut], "The service requests"), **ERRORS},
)
async def list_requests(
    request: Request,
    fmt: FormatPath,
    _: DemandsReader,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[
        str | None, Query(max_length=4000, description="Comma-separated ids; overrides the other filters")
    ] = None,
    service_code: Annotated[str | None, Query(max_length=4000, description="Comma-separated service codes")] = None,
    start_date: Annotated[
        str | None, Query(max_length=40, description="w3 date/time, e.g. 2010-01-01T00:00:00Z")
    ] = None,
    end_date: Annotated[
        str | None, Query(max_length=40, description="w3 date/time; at most 90 days after start")
    ] = None,
    status: Annotated[str | None, Query(max_length=40, description="open, closed or open,closed")] = None,
) -> Response:
    check_jurisdiction(request, jurisdiction_id)
    ids = comma_list(service_request_id, "service_request_id", MAX_IDS)
    if ids:
        for raw in ids:
            try:
                uuid.UUID(raw)
            except ValueError:
                raise Open311Error(400, f"service_request_id: {raw[:40]!r} is not a service request id") from None
        found = await asyncio.gather(*(_demand(request, i) for i in ids))
        return render(fmt, "service_requests", await requests_out(request, [d for d in found if d is not None]))
    statuses = {s.lower() for s in comma_list(status, "status", 2)}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status: use open, closed or both (comma-separated).")
    codes = set(comma_list(service_code, "service_code", MAX_CODES))
    start, end = request_window(start_date, end_date)
    demands = await _demands_in(request, start, end, codes)
    out: list[dict[str, Any]] = []
    for chunk_start in range(0, len(demands), PAGE):
        rows = await requests_out(request, demands[chunk_start : chunk_start + PAGE])
        out.extend(r for r in rows if not statuses or r["status"] in statuses)
        if len(out) >= MAX_RESULTS:
            break
    return render(fmt, "service_requests", out[:MAX_RESULTS])


@router.get(
    "/v2/requests/{service_request_id}.{fmt}",
    response_model=None,
    summary="GET Service Request: one of your requests",
    responses={200: content(list[RequestOut], "The service request (a list of one)"), **ERRORS},
)
async def get_request(
    request: Request,
    service_request_id: Annotated[str, Path(max_length=64)],
    fmt: FormatPath,
    _: DemandsReader,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    check_jurisdiction(request, jurisdiction_id)
    try:
        demand_id = str(uuid.UUID(service_request_id))
    except ValueError:
        raise Open311Error(404, f"service_request_id {service_request_id[:40]!r} not found.") from None
    demand = await _demand(request, demand_id)
    if demand is None:
        raise Open311Error(404, f"service_request_id {demand_id!r} not found.")
    return render(fmt, "service_requests", await requests_out(request, [demand]))


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown_resource(rest: str, _: CatalogReader) -> Response:
    raise Open311Error(
        404, "No such Open311 resource or method: see /open311/discovery.xml (append .xml or .json to resources)."
    )

"""Open311 GeoReport v2 at ``/open311/v2/``: the county's items as services, demands as requests.

A translation layer only. Services are the published catalogue items handled at the window or
fit for doorstep proxy handling (the catalog's export); a service request is a proxy demand
(channel ``platform``) created and read through the proxy's API with the caller's own token, so
the proxy decides who sees what (a machine client sees only the demands it submitted). Discovery
and the services are public; service requests need an api_key or a bearer token (credentials.py). Statuses
come from the demand and, once it became a case, from the case. docs/open311.md has the mapping.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.tokens import Principal

from ..deps import directory_of
from . import service
from .credentials import caller
from .mapping import (
    MAX_CODES,
    MAX_IDS,
    SPEC_URL,
    attributes_of,
    comma_list,
    find_service,
    read_submission,
    request_window,
    service_out,
    services_of,
)
from .render import ERRORS, Format, Open311Error, Open311Route, content, render
from .schemas import (
    POST_BODY_EXAMPLE,
    POST_BODY_SCHEMA,
    CreatedOut,
    DiscoveryOut,
    RequestOut,
    ServiceDefinitionOut,
    ServiceOut,
)

# Each route names its caller: a bearer token or an api_key; the catalogue routes are public.
router = APIRouter(prefix="/open311", tags=["open311"], route_class=Open311Route)
PublicCatalog = Annotated[Principal, Depends(caller(Permission.CATALOG_READ, public=True))]
DemandsReader = Annotated[Principal, Depends(caller(Permission.DEMANDS_READ))]
DemandsWriter = Annotated[Principal, Depends(caller(Permission.DEMANDS_WRITE))]
FormatPath = Annotated[Format, Path(description="Response format: xml or json")]
Jurisdiction = Annotated[
    str | None, Query(max_length=100, description="Optional; when given it must be this county's (hexian)")
]


@router.get(
    "/discovery.{fmt}",
    response_model=None,
    summary="Open311 service discovery: where the GeoReport v2 endpoint is and what it speaks",
    responses={200: content(DiscoveryOut, "The discovery document"), **ERRORS},
)
async def discovery(request: Request, fmt: FormatPath, _: PublicCatalog) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    document = {
        "changeset": "2025-01-01T00:00:00+08:00",
        "contact": "和县社区服务 — docs/open311.md",
        "key_service": "POST /api/v1/clients/{client_id}/api-key (county client managers issue it; or a bearer token)",
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
    request: Request, fmt: FormatPath, _: PublicCatalog, jurisdiction_id: Jurisdiction = None
) -> Response:
    service.check_jurisdiction(request, jurisdiction_id)
    view = await service.load_catalog(request)
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
    _: PublicCatalog,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    service.check_jurisdiction(request, jurisdiction_id)
    item = find_service(await service.load_catalog(request), service_code)
    return render(
        fmt,
        "service_definition",
        {"service_code": item["code"], "attributes": attributes_of(item, await directory_of(request))},
    )


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
                "application/x-www-form-urlencoded": {"schema": POST_BODY_SCHEMA, "example": POST_BODY_EXAMPLE},
                "application/json": {"schema": POST_BODY_SCHEMA, "example": POST_BODY_EXAMPLE},
            },
        }
    },
)
async def create_request(request: Request, fmt: FormatPath, _: DemandsWriter) -> Response:
    sub = await read_submission(request)
    created = await service.submit(request, sub)
    return render(fmt, "service_requests", [created], status=201)


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
    service.check_jurisdiction(request, jurisdiction_id)
    ids = comma_list(service_request_id, "service_request_id", MAX_IDS)
    if ids:
        return render(fmt, "service_requests", await service.requests_by_id(request, ids))
    statuses = {s.lower() for s in comma_list(status, "status", 2)}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status: use open, closed or both (comma-separated).")
    codes = set(comma_list(service_code, "service_code", MAX_CODES))
    start, end = request_window(start_date, end_date)
    return render(fmt, "service_requests", await service.requests_between(request, start, end, codes, statuses))


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
    service.check_jurisdiction(request, jurisdiction_id)
    return render(fmt, "service_requests", await service.request_by_id(request, service_request_id))


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown_resource(rest: str, _: PublicCatalog) -> Response:
    raise Open311Error(
        404, "No such Open311 resource or method: see /open311/discovery.xml (append .xml or .json to resources)."
    )

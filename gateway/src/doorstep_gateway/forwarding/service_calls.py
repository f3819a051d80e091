"""Calls from the gateway's own endpoints (Open311, reports) to the services, as the caller.

The services check the caller's bearer token themselves, so these calls carry the caller's own
``Authorization`` header: the gateway never widens what a caller may see. The published
catalogue is kept per gateway process and revalidated with ``If-None-Match`` on every use, so the
catalog still checks the caller each time and an unchanged catalogue costs a 304. While the
catalog cannot be reached, a caller the gateway has verified as holding ``catalog:read`` gets
the kept copy, marked ``Doorstep-Catalogue-Stale-Since`` (degrade, don't fail).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import Request

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.clock import utcnow
from doorstep_shared.http.conditional import if_none_match, revalidated
from doorstep_shared.http.health import mark_response

from ..state import state_of
from .schemas import CatalogView

logger = logging.getLogger("doorstep.gateway.calls")
CALLER_AUTHORIZATION = "caller_authorization"  # request.state: the header to send instead of the caller's
STALE_HEADER = "Doorstep-Catalogue-Stale-Since"  # as the proxy's (doorstep_proxy.catalog_client)


class ServiceCallFailed(Exception):
    """A service did not answer, or answered with an unexpected status."""

    def __init__(self, service: str, status: int | None, body: Any = None) -> None:
        super().__init__(f"{service} answered {status}")
        self.service = service
        self.status = status
        self.body = body


def client(request: Request, service: str) -> httpx.AsyncClient:
    return state_of(request).upstreams.clients[service]


def caller_headers(request: Request, *extra: str) -> dict[str, str]:
    """The caller's Authorization (and request id, and any of ``extra`` headers it sent)."""
    # A caller the gateway identified itself (an Open311 api_key) has a token signed for it here.
    signed = request.scope.get("state", {}).get(CALLER_AUTHORIZATION)
    headers = {"Authorization": signed or request.headers.get("authorization", "")}
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        headers["X-Request-ID"] = str(request_id)
    for name in extra:
        value = request.headers.get(name)
        if value is not None:
            headers[name] = value
    return headers


async def call(
    request: Request,
    service: str,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One call; connection failures and timeouts become ``ServiceCallFailed(service, None)``."""
    sent = {**caller_headers(request), **(headers or {})}
    try:
        return await client(request, service).request(method, path, params=params, json=json, headers=sent)
    except (TimeoutError, httpx.HTTPError, OSError) as exc:
        logger.warning("%s %s on %s failed: %s", method, path, service, type(exc).__name__)
        raise ServiceCallFailed(service, None) from exc


async def get_json(request: Request, service: str, path: str, params: dict[str, Any] | None = None) -> Any:
    response = await call(request, service, "GET", path, params=params)
    if response.status_code != 200:
        raise ServiceCallFailed(service, response.status_code, json_or_none(response))
    try:
        return response.json()
    except ValueError as exc:
        raise ServiceCallFailed(service, response.status_code) from exc


def json_or_none(response: httpx.Response) -> Any:
    """The answer's JSON body, or None when it has none."""
    try:
        return response.json()
    except ValueError:
        return None


def handbook_key(request: Request) -> str:
    """Which county's handbook the caller's export is (the catalog decides from the token: its
    county claim, else its communities' county, else every county's): the key of its copy."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return ""
    return principal.county or ",".join(sorted(principal.communities))


async def catalog_view(request: Request) -> CatalogView:
    """The published catalogue of the caller's county, read as the caller (401/403 of the
    catalog → ServiceCallFailed). Each county's copy is kept apart, so a stale copy served
    during an outage is always the caller's own county's."""
    state = state_of(request)
    key = handbook_key(request)
    cached = state.catalog_views.get(key)
    try:
        response = await call(request, "catalog", "GET", "/api/v1/catalog/export", headers=if_none_match(cached))
    except ServiceCallFailed:
        principal = getattr(request.state, "principal", None)
        if cached is None or principal is None or not principal.has(Permission.CATALOG_READ):
            raise
        if cached.value.confirmed_at is not None:
            mark_response(STALE_HEADER, cached.value.confirmed_at.isoformat())
        return cached.value
    try:
        fresh = revalidated(response, cached, CatalogView.of_export)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ServiceCallFailed("catalog", response.status_code) from exc
    if fresh is None:
        raise ServiceCallFailed("catalog", response.status_code, json_or_none(response))
    fresh.value.confirmed_at = utcnow()  # a 200 or a 304: the catalog vouched for it just now
    state.catalog_views[key] = fresh
    return fresh.value

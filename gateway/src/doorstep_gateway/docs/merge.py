"""One OpenAPI document for the whole system: the gateway's own operations plus each service's.

Services serve their operations under the same paths the gateway exposes, so paths merge
unchanged. Component schemas that clash (same name, different definition) are renamed with
the service's name in front (``ProxyFigures``) and every ``$ref`` in that service's part is
rewritten; every schema's title is its component name (client generators name models by
title). Operation ids are already ``<service>_<resource>_<action>`` (doorstep_shared.http.openapi).
Tags are grouped per service (``x-tagGroups``, read by ReDoc and several generators), and every
API operation declares the gateway's own answers: 429 with ``Retry-After`` from the rate limiter.
A service that is down is left out and named in ``x-unavailable``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any

import httpx

from doorstep_shared.http.openapi import declare_response, operations, titles_are_names

logger = logging.getLogger("doorstep.gateway.openapi")

REF_PREFIX = "#/components/schemas/"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value[len(REF_PREFIX) :]
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(gateway_doc: dict[str, Any], services: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    merged = copy.deepcopy(gateway_doc)
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    security_schemes: dict[str, Any] = components.setdefault("securitySchemes", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])
    tag_names = {t["name"] for t in tags}
    op_ids = {op.get("operationId") for item in paths.values() for op in item.values() if isinstance(op, dict)}
    unavailable = []
    groups = [{"name": "gateway", "tags": [t["name"] for t in tags]}]
    for service, doc in services.items():
        if doc is None:
            unavailable.append(service)
            continue
        renames: dict[str, str] = {}
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                renames[name] = f"{service.capitalize()}{name}"
        doc = _rewrite_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for name, scheme in doc.get("components", {}).get("securitySchemes", {}).items():
            security_schemes.setdefault(name, scheme)
        group: list[str] = []
        for tag in doc.get("tags", []):
            group.append(tag["name"])
            if tag["name"] not in tag_names:
                tags.append(tag)
                tag_names.add(tag["name"])
        groups.append({"name": service, "tags": group})
        for path, item in doc.get("paths", {}).items():
            if not path.startswith(f"/api/v1/{service}"):
                continue  # health, metrics and docs stay per service
            for _method, op in item.items():
                if not isinstance(op, dict):
                    continue
                op_id = op.get("operationId")
                if op_id in op_ids:
                    op["operationId"] = f"{service}_{op_id}"
                op_ids.add(op.get("operationId"))
            paths[path] = item
    titles_are_names(merged)
    merged["x-tagGroups"] = groups
    for path, _method, op in operations(merged):
        if path.startswith("/api/"):
            declare_response(op, 429, "Too many requests: wait Retry-After seconds", retry_after=True)
            declare_response(op, 503, "A service is unavailable", retry_after=True)
    if unavailable:
        merged["x-unavailable"] = unavailable
    return merged


async def _get_document(client: httpx.AsyncClient) -> dict[str, Any]:
    try:
        resp = await client.get("/openapi.json", timeout=3.0)
    except httpx.TimeoutException:
        raise
    except httpx.TransportError:
        # Most often a kept-alive connection to a process that has since restarted: once more,
        # on a fresh connection (as the forwarder does for idempotent requests).
        resp = await client.get("/openapi.json", timeout=3.0)
    resp.raise_for_status()
    doc: dict[str, Any] = resp.json()
    return doc


class MergedOpenAPI:
    """Fetches the services' documents (cached for ``ttl`` seconds) and merges them."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    async def _fetch(self, name: str, client: httpx.AsyncClient) -> dict[str, Any] | None:
        cached = self._cache.get(name)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            doc = await _get_document(client)
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("could not fetch %s's OpenAPI document: %s", name, type(exc).__name__)
            return cached[1] if cached else None
        self._cache[name] = (time.monotonic(), doc)
        return doc

    async def document(self, gateway_doc: dict[str, Any], clients: dict[str, httpx.AsyncClient]) -> dict[str, Any]:
        names = list(clients)
        docs = await asyncio.gather(*(self._fetch(n, clients[n]) for n in names))
        return merge(gateway_doc, dict(zip(names, docs, strict=True)))

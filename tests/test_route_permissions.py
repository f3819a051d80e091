"""Every route of every app declares the permission it needs (issue 8, part 1).

Public routes are a short, explicit list: health, metrics, docs, the token endpoints and JWKS.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from doorstep_catalog.config import CatalogSettings
from doorstep_catalog.main import create_app as catalog_app
from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.main import create_app as gateway_app
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app as proxy_app
from doorstep_shared.auth.permissions import Permission, Role, permissions_for_roles
from doorstep_shared.auth.security import declared_permissions, iter_api_routes
from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app as stations_app

PUBLIC_PATHS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/.well-known/jwks.json",
    "/api/v1/auth/token",
    "/api/v1/auth/revoke",
    "/api/v1/auth/activate",
    "/api/v1/auth/password",  # a change with the current password: an expired one has no token to send
    "/api/v1/directory/export",  # the published org structure (codes, names, places; no people)
    # Open311's published catalogue (GeoReport clients list services without a key), and its 404.
    "/open311/discovery.{fmt}",
    "/open311/v2/services.{fmt}",
    "/open311/v2/services/{service_code}.{fmt}",
    "/open311/{rest:path}",
    # The sheet of a published item is public information (issue #21 part 6); drafts stay 404.
    "/api/v1/catalog/items/{code}/sheet",
}
KNOWN = {p.value for p in Permission} | {"public", "authenticated"}
# The batch checks each operation's own permission when it runs it, as if sent alone.
AUTHENTICATED_ONLY = {
    "/api/v1/auth/me",
    "/api/v1/proxy/batch",
    # The caller's own account: their second factor (issue 20).
    "/api/v1/auth/mfa/enroll",
    "/api/v1/auth/mfa/confirm",
    "/api/v1/auth/mfa/disable",
    # … and their own sessions
    "/api/v1/auth/sessions",
    "/api/v1/auth/sessions/{session_id}",
    "/api/v1/auth/sessions/revoke-all",
    # … and their own login history
    "/api/v1/auth/logins",
}


def build(name: str, tmp: Path) -> FastAPI:
    url = f"sqlite+aiosqlite:///{tmp}/{name}.db"
    factories: dict[str, Callable[[], FastAPI]] = {
        "gateway": lambda: gateway_app(
            GatewaySettings(environment="test", database_url=url, var_dir=tmp, log_json=False)
        ),
        "catalog": lambda: catalog_app(
            CatalogSettings(environment="test", database_url=url, var_dir=tmp, log_json=False)
        ),
        "proxy": lambda: proxy_app(ProxySettings(environment="test", database_url=url, var_dir=tmp, log_json=False)),
        "stations": lambda: stations_app(
            StationsSettings(environment="test", database_url=url, var_dir=tmp, log_json=False)
        ),
    }
    return factories[name]()


@pytest.mark.parametrize("name", ["gateway", "catalog", "proxy", "stations"])
def test_every_route_declares_a_permission(name: str, tmp_path: Path) -> None:
    app = build(name, tmp_path)
    undeclared, unknown, wrongly_public = [], [], []
    routes = iter_api_routes(app)
    assert routes, "no routes found"
    for route in routes:
        declared = declared_permissions(route)
        label = f"{sorted(route.methods)} {route.path}"
        if not declared:
            undeclared.append(label)
        if declared - KNOWN and not all(d.startswith("role:") for d in declared - KNOWN):
            unknown.append(f"{label}: {sorted(declared - KNOWN)}")
        if "public" in declared and route.path not in PUBLIC_PATHS:
            wrongly_public.append(label)
        if declared == {"authenticated"} and route.path not in AUTHENTICATED_ONLY:
            undeclared.append(label)
    assert not undeclared, f"routes without a declared permission: {undeclared}"
    assert not unknown, f"routes declaring unknown permissions: {unknown}"
    assert not wrongly_public, f"routes marked public that are not on the public list: {wrongly_public}"


@pytest.mark.parametrize("name", ["gateway", "catalog", "proxy", "stations"])
def test_a_platform_admin_reaches_only_staff_and_directory_management(name: str, tmp_path: Path) -> None:
    """Issue 19, part 3: the platform admin creates counties and their admins and reads no
    resident, case, booking, figure or audit entry of any app (each app's require() answers 403)."""
    granted = permissions_for_roles(frozenset({Role.PLATFORM_ADMIN}))
    reachable = []
    for route in iter_api_routes(build(name, tmp_path)):
        needed = declared_permissions(route) - {"authenticated", "public"}
        if needed and not any(n.startswith("role:") for n in needed) and needed <= granted:
            reachable.append(route.path)
    allowed = ("/api/v1/staff", "/api/v1/directory")
    assert all(path.startswith(allowed) for path in reachable), reachable

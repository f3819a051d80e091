"""``authenticated_router``: every route authenticated by default, the token verified once.

A route that declares its permission (``require``, ``require_roles``, ``authenticated``) checks
the token in that dependency, so the router's own ``current_principal`` is dropped from it: the
tree FastAPI solves on every request is two nodes smaller (issue #23). A route that declares
nothing, or only ``public``, keeps the router's check. Either way a request without a valid
token gets 401, and the MFA enrolment gate still applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import (
    CurrentPrincipal,
    authenticated,
    authenticated_router,
    current_principal,
    iter_api_routes,
    public,
    require,
    require_roles,
)
from doorstep_shared.auth.tokens import Principal, TokenVerifier
from doorstep_shared.http.errors import install_error_handlers

from ...support import AUDIENCE, ISSUER, Tokens, client_for

Reader = Annotated[Principal, Depends(require(Permission.RESIDENTS_READ))]


def build(tokens: Tokens, verified: list[str]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.verifier = CountingVerifier(tokens, verified)
    router = authenticated_router(prefix="/api")

    @router.get("/declared")
    async def declared(principal: Reader) -> dict[str, Any]:
        return {"sub": principal.subject}

    @router.get("/declared-on-the-route", dependencies=[Depends(require(Permission.RESIDENTS_READ))])
    async def declared_on_the_route() -> dict[str, Any]:
        return {}

    @router.get("/by-role")
    async def by_role(principal: Annotated[Principal, Depends(require_roles("social_worker"))]) -> dict[str, Any]:
        return {"sub": principal.subject}

    @router.get("/me", dependencies=[Depends(authenticated)])
    async def me() -> dict[str, Any]:
        return {}

    @router.get("/undeclared")
    async def undeclared() -> dict[str, Any]:
        return {}

    @router.get("/marked-public", dependencies=[Depends(public)])
    async def marked_public() -> dict[str, Any]:
        return {}

    @router.get("/mfa/enroll")
    async def enroll(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"sub": principal.subject}

    app.include_router(router)
    return app


class CountingVerifier(TokenVerifier):
    """The real verifier, noting each call (the token check runs once per request)."""

    def __init__(self, tokens: Tokens, verified: list[str]) -> None:
        super().__init__(tokens.key_set(), issuer=ISSUER, audience=AUDIENCE)
        self.verified = verified

    async def verify(self, token: str) -> Principal:
        self.verified.append(token)
        return await super().verify(token)


@pytest.fixture
def verified() -> list[str]:
    return []


@pytest.fixture
async def client(tokens: Tokens, verified: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(build(tokens, verified)) as c:
        yield c


def top_level_calls(app: FastAPI, path: str) -> list[Any]:
    route = next(r for r in iter_api_routes(app) if r.path == path)
    return [d.call for d in route.dependant.dependencies]


def test_the_router_check_is_dropped_only_where_a_route_declares_its_own(tokens: Tokens) -> None:
    app = build(tokens, [])
    for path in ("/api/declared", "/api/declared-on-the-route", "/api/by-role", "/api/me"):
        assert current_principal not in top_level_calls(app, path), path
    for path in ("/api/undeclared", "/api/marked-public"):
        assert current_principal in top_level_calls(app, path), path


@pytest.mark.parametrize(
    "path", ["/api/declared", "/api/declared-on-the-route", "/api/by-role", "/api/me", "/api/undeclared"]
)
async def test_every_route_verifies_the_token_once(
    client: httpx.AsyncClient, tokens: Tokens, verified: list[str], path: str
) -> None:
    token = tokens.signer.access_token(tokens.principal("social_worker"))[0]
    resp = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    assert verified == [token]


@pytest.mark.parametrize(
    "path",
    ["/api/declared", "/api/declared-on-the-route", "/api/by-role", "/api/me", "/api/undeclared", "/api/marked-public"],
)
async def test_no_route_answers_without_a_token(client: httpx.AsyncClient, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        resp = await client.get(path, headers=headers)
        assert resp.status_code == 401, (path, headers, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"


async def test_a_declared_permission_is_still_checked(client: httpx.AsyncClient, tokens: Tokens) -> None:
    token = tokens.signer.access_token(tokens.principal("station_keeper", community=None))[0]
    resp = await client.get("/api/declared", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.json()["code"] == "missing_permission"


async def test_the_mfa_enrolment_gate_holds_on_a_route_that_declares_its_permission(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    principal = dataclasses.replace(tokens.principal("social_worker"), mfa_enrollment=True)
    token = tokens.signer.access_token(principal)[0]
    resp = await client.get("/api/declared", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.json()["code"] == "mfa_enrollment_required"

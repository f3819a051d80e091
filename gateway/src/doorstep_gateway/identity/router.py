"""Identity routes: the OAuth2 token endpoint, revocation, who-am-I and the JWKS."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request

from doorstep_shared.app import DbSession
from doorstep_shared.auth.security import authenticated, public
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems

from ..config import DEFAULT_DEMO_PASSWORD
from ..deps import Settings, Signer, Verifier
from ..state import state_of
from . import service
from .errors import InvalidClient, InvalidGrant, UnsupportedGrant
from .schemas import Activated, ActivationRequest, Me, TokenResponse
from .throttle import LoginPolicy

auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
wellknown_router = APIRouter(tags=["auth"], dependencies=[Depends(public)])


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """A machine client's ``Authorization: Basic`` (RFC 6749 §2.3.1), read here rather than by a
    declared HTTP Basic security scheme: that scheme would stand first in /docs' Authorize
    dialog although no other operation takes it (client_id/client_secret form fields work too)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient() from None
    cid, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient()
    return cid, secret


@auth_router.post(
    "/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="OAuth2 token endpoint (password, refresh_token, client_credentials)",
    description="Form-encoded (RFC 6749). A machine client authenticates with HTTP Basic "
    "(`Authorization: Basic base64(client_id:client_secret)`) or with the client_id and "
    "client_secret form fields.",
    dependencies=[Depends(public)],
    responses=problems(400, 401, 422),
)
async def token(
    request: Request,
    session: DbSession,
    settings: Settings,
    signer: Signer,
    verifier: Verifier,
    grant_type: Annotated[
        str, Form(max_length=40, description="password | refresh_token | client_credentials", examples=["password"])
    ],
    username: Annotated[str | None, Form(max_length=64, examples=["chaoyang.worker"])] = None,
    password: Annotated[str | None, Form(max_length=256, examples=[DEFAULT_DEMO_PASSWORD])] = None,
    refresh_token: Annotated[
        str | None,
        Form(
            max_length=4096,
            examples=["eyJhbGciOiJFZERTQSIsImtpZCI6ImtleS0xIn0.eyJzdWIiOiJjaGFveWFuZy53b3JrZXIifQ.c2lnbmF0dXJl"],
        ),
    ] = None,
    client_id: Annotated[str | None, Form(max_length=64, examples=["demo.platform"])] = None,
    client_secret: Annotated[str | None, Form(max_length=256, examples=[DEFAULT_DEMO_PASSWORD])] = None,
    scope: Annotated[str | None, Form(max_length=1000, examples=["catalog:read demands:write"])] = None,
) -> dict[str, object]:
    if grant_type == "password":
        if not username or password is None:
            raise InvalidGrant("username and password are required.")
        return await service.password_grant(
            session,
            signer,
            username,
            password,
            address=request.client.host if request.client else None,
            policy=LoginPolicy.of(settings),
        )
    if grant_type == "refresh_token":
        if not refresh_token:
            raise InvalidGrant("refresh_token is required.")
        return await service.refresh_grant(session, signer, verifier, refresh_token)
    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        cid, secret = basic if basic else (client_id, client_secret)
        if not cid or not secret:
            raise InvalidClient()
        address = request.client.host if request.client else None
        return await service.client_credentials_grant(session, signer, cid, secret, scope, address=address)
    raise UnsupportedGrant(f"grant_type {grant_type!r} is not supported.", error="unsupported_grant_type")


@auth_router.post(
    "/revoke",
    status_code=200,
    summary="Revoke a refresh token (RFC 7009): ends that login's token family",
    dependencies=[Depends(public)],
    responses=problems(422),
)
async def revoke(
    session: DbSession,
    verifier: Verifier,
    token: Annotated[
        str,
        Form(
            max_length=4096,
            examples=["eyJhbGciOiJFZERTQSIsImtpZCI6ImtleS0xIn0.eyJzdWIiOiJjaGFveWFuZy53b3JrZXIifQ.c2lnbmF0dXJl"],
        ),
    ],
    token_type_hint: Annotated[str | None, Form(max_length=40, examples=["refresh_token"])] = None,
) -> dict[str, str]:
    await service.revoke(session, verifier, token)
    return {"status": "revoked"}


@auth_router.post(
    "/activate",
    response_model=Activated,
    summary="Set your own password with the one-time activation code an admin gave you",
    dependencies=[Depends(public)],
    responses=problems(400, 422),
)
async def activate(request: Request, body: ActivationRequest, session: DbSession, settings: Settings) -> Activated:
    user = await service.activate(
        session,
        body.username,
        body.activation_code,
        body.new_password,
        address=request.client.host if request.client else None,
        policy=LoginPolicy.of(settings),
    )
    return Activated(username=user.username)


@auth_router.get("/me", response_model=Me, summary="Who the bearer token says you are", responses=problems(401))
async def me(principal: Annotated[Principal, Depends(authenticated)]) -> Me:
    return Me(
        subject=principal.subject,
        kind=principal.kind,
        name=principal.name,
        roles=sorted(principal.roles),
        scopes=sorted(principal.scopes),
        permissions=sorted(principal.permissions),
        county=principal.county,
        community=principal.community,
        grid=principal.grid,
        communities=sorted(principal.communities),
        expires_at=principal.expires_at,
    )


@wellknown_router.get("/.well-known/jwks.json", summary="Public keys that verify Doorstep tokens (JWKS)")
async def jwks(request: Request) -> dict[str, Any]:
    return state_of(request).jwks

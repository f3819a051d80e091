"""Machine client routes: registration, listing, secret rotation, Open311 API keys, revocation (client managers only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems

from ..deps import CurrentDirectory, require_in_county
from . import service
from .schemas import ClientCreate, ClientRead, ClientWithApiKey, ClientWithSecret, RotateSecret

router = authenticated_router(prefix="/api/v1/clients", tags=["clients"])
# a county admin manages the clients of its county's communities (resolved against the directory now)
Manager = Annotated[Principal, Depends(require_in_county(Permission.CLIENTS_MANAGE))]


@router.post(
    "",
    response_model=ClientWithSecret,
    status_code=201,
    summary="Register a machine client (the secret is shown once)",
    responses=problems(409, 422),
)
async def create_client(
    body: ClientCreate, session: DbSession, principal: Manager, directory: CurrentDirectory
) -> ClientWithSecret:
    client, secret = await service.register(session, principal, body, directory)
    return ClientWithSecret.of(client, secret)


@router.get("", response_model=list[ClientRead], summary="List machine clients")
async def list_clients(session: DbSession, principal: Manager) -> Sequence[ClientRead]:
    return [ClientRead.model_validate(c) for c in await service.list_clients(session, principal)]


@router.get("/{client_id}", response_model=ClientRead, summary="Read one machine client", responses=problems(404))
async def read_client(client_id: str, session: DbSession, principal: Manager) -> ClientRead:
    return ClientRead.model_validate(await service.get(session, principal, client_id))


@router.post(
    "/{client_id}/rotate-secret",
    response_model=ClientWithSecret,
    summary="Issue a new secret; the old one works for a grace period",
    responses=problems(404, 409),
)
async def rotate_secret(client_id: str, body: RotateSecret, session: DbSession, principal: Manager) -> ClientWithSecret:
    client, secret = await service.rotate_secret(session, principal, client_id, body.grace_seconds)
    return ClientWithSecret.of(client, secret)


@router.post(
    "/{client_id}/api-key",
    response_model=ClientWithApiKey,
    summary="Issue the client's Open311 API key (shown once); a key issued before stops working",
    responses=problems(404, 409),
)
async def issue_api_key(client_id: str, session: DbSession, principal: Manager) -> ClientWithApiKey:
    client, key = await service.issue_api_key(session, principal, client_id)
    return ClientWithApiKey.of(client, key)


@router.post(
    "/{client_id}/revoke",
    response_model=ClientRead,
    summary="Revoke a client: no new tokens from now on",
    responses=problems(404),
)
async def revoke_client(client_id: str, session: DbSession, principal: Manager) -> ClientRead:
    return ClientRead.model_validate(await service.revoke(session, principal, client_id))

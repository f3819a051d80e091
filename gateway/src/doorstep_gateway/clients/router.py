"""Machine clients (third-party platforms): registration, secret rotation, revocation."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import secrets
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, field_validator
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared import org
from doorstep_shared.app import DbSession
from doorstep_shared.clock import utcnow
from doorstep_shared.errors import Conflict, NotFound
from doorstep_shared.permissions import CLIENT_SCOPES, Permission
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from ..models import ApiClient, audit
from ..passwords import hash_password

PROBLEM = {"model": dict[str, Any], "content": {"application/problem+json": {}}}
ScopeName = Annotated[str, Field(max_length=40)]


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[ScopeName] = Field(min_length=1, max_length=len(CLIENT_SCOPES))
    communities: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=20, description="Communities it may act in; empty: all"
    )
    contact: str = Field(default="", max_length=200)
    ip_allowlist: list[IPvAnyNetwork] = Field(default_factory=list, max_length=50)
    quota_per_minute: int = Field(default=600, ge=1, le=100_000)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - set(CLIENT_SCOPES))
        if unknown:
            raise ValueError(
                f"not grantable to clients: {', '.join(unknown)} (allowed: {', '.join(sorted(CLIENT_SCOPES))})"
            )
        return sorted(set(scopes))

    @field_validator("communities")
    @classmethod
    def _communities(cls, communities: list[str]) -> list[str]:
        unknown = sorted(set(communities) - set(org.COMMUNITY_BY_CODE))
        if unknown:
            raise ValueError(f"unknown communities: {', '.join(unknown)}")
        return sorted(set(communities))


class ClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    client_id: str
    name: str
    scopes: list[str]
    communities: list[str]
    contact: str
    ip_allowlist: list[str]
    quota_per_minute: int
    active: bool
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None


class ClientWithSecret(ClientRead):
    client_secret: str = Field(description="Shown once; store it now. Only a hash is kept.")


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        default=3600, ge=0, le=7 * 24 * 3600, description="How long the old secret keeps working"
    )


def _slug(name: str) -> str:
    ascii_part = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24]
    return f"{ascii_part or 'client'}-{secrets.token_hex(4)}"


async def _get(session: AsyncSession, client_id: str) -> ApiClient:
    client = await session.get(ApiClient, client_id, with_for_update=True)
    if client is None:
        raise NotFound(f"No client {client_id!r}.")
    return client


def ip_allowed(client: ApiClient, address: str | None) -> bool:
    if not client.ip_allowlist:
        return True
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in client.ip_allowlist)


router = APIRouter(prefix="/api/v1/clients", tags=["clients"], dependencies=[Depends(current_principal)])
Manager = Annotated[Principal, Depends(require(Permission.CLIENTS_MANAGE))]


@router.post(
    "",
    response_model=ClientWithSecret,
    status_code=201,
    summary="Register a machine client (the secret is shown once)",
    responses={409: PROBLEM, 422: PROBLEM},
)
async def create_client(body: ClientCreate, session: DbSession, principal: Manager) -> ClientWithSecret:
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=_slug(body.name),
        name=body.name,
        secret_hash=hash_password(secret),
        scopes=body.scopes,
        communities=body.communities,
        contact=body.contact,
        ip_allowlist=[str(n) for n in body.ip_allowlist],
        quota_per_minute=body.quota_per_minute,
        created_by=principal.subject,
    )
    if await session.get(ApiClient, client.client_id) is not None:
        raise Conflict("Client id collision; retry.")
    session.add(client)
    await session.flush()
    await audit.record(
        session,
        principal,
        "client.created",
        "api_client",
        client.client_id,
        scopes=body.scopes,
        communities=body.communities,
    )
    return ClientWithSecret(**ClientRead.model_validate(client).model_dump(), client_secret=secret)


@router.get("", response_model=list[ClientRead], summary="List machine clients")
async def list_clients(session: DbSession, _: Manager) -> Sequence[ClientRead]:
    rows = (await session.exec(select(ApiClient).order_by(col(ApiClient.client_id)))).all()
    return [ClientRead.model_validate(r) for r in rows]


@router.get("/{client_id}", response_model=ClientRead, summary="Read one machine client", responses={404: PROBLEM})
async def read_client(client_id: str, session: DbSession, _: Manager) -> ClientRead:
    client = await session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"No client {client_id!r}.")
    return ClientRead.model_validate(client)


@router.post(
    "/{client_id}/rotate-secret",
    response_model=ClientWithSecret,
    summary="Issue a new secret; the old one works for a grace period",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def rotate_secret(client_id: str, body: RotateSecret, session: DbSession, principal: Manager) -> ClientWithSecret:
    client = await _get(session, client_id)
    if not client.active:
        raise Conflict("A revoked client cannot get a new secret.")
    secret = secrets.token_urlsafe(32)
    client.previous_secret_hash = client.secret_hash if body.grace_seconds else None
    client.previous_secret_expires_at = (
        utcnow() + dt.timedelta(seconds=body.grace_seconds) if body.grace_seconds else None
    )
    client.secret_hash = hash_password(secret)
    session.add(client)
    await session.flush()
    await audit.record(
        session, principal, "client.secret_rotated", "api_client", client_id, grace_seconds=body.grace_seconds
    )
    return ClientWithSecret(**ClientRead.model_validate(client).model_dump(), client_secret=secret)


@router.post(
    "/{client_id}/revoke",
    response_model=ClientRead,
    summary="Revoke a client: no new tokens from now on",
    responses={404: PROBLEM},
)
async def revoke_client(client_id: str, session: DbSession, principal: Manager) -> ClientRead:
    client = await _get(session, client_id)
    client.active = False
    client.revoked_at = client.revoked_at or utcnow()
    client.previous_secret_hash = None
    session.add(client)
    await session.flush()
    await audit.record(session, principal, "client.revoked", "api_client", client_id)
    return ClientRead.model_validate(client)


SERVICE_CLIENT_SCOPES = {"svc.proxy": ["catalog:read"]}


async def ensure_service_clients(session: AsyncSession, secrets_by_id: dict[str, str]) -> None:
    """Create or re-key the services' own clients (e.g. the proxy reading the catalogue)."""
    from ..passwords import verify_password

    for client_id, secret in secrets_by_id.items():
        client = await session.get(ApiClient, client_id)
        if client is None:
            session.add(
                ApiClient(
                    client_id=client_id,
                    name=f"{client_id}（内部服务）",
                    secret_hash=hash_password(secret),
                    scopes=SERVICE_CLIENT_SCOPES.get(client_id, ["catalog:read"]),
                    created_by="system",
                )
            )
        elif not await verify_password(secret, client.secret_hash):
            client.secret_hash = hash_password(secret)
            client.active = True
            session.add(client)

"""Machine-client rules: registration, secret rotation, revocation, checking a client's secret."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import secrets
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory
from doorstep_shared.http.errors import Conflict, Invalid, NotFound

from ..db import audit
from ..passwords import hash_password, verify_password
from . import repository
from .models import ApiClient
from .schemas import ClientCreate


def _slug(name: str) -> str:
    ascii_part = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24]
    return f"{ascii_part or 'client'}-{secrets.token_hex(4)}"


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


async def authenticate(session: AsyncSession, client_id: str, secret: str) -> ApiClient | None:
    """The active client whose secret this is (or whose previous secret, during a rotation's grace
    period); None otherwise. An unknown client costs a hash check too, so timing tells nothing."""
    client = await repository.client_by_id(session, client_id)
    ok = await verify_password(secret, client.secret_hash if client else None)
    in_grace = (
        client is not None
        and client.previous_secret_expires_at is not None
        and client.previous_secret_expires_at > utcnow()
    )
    if not ok and in_grace and client is not None and client.previous_secret_hash:
        ok = await verify_password(secret, client.previous_secret_hash)
    if client is None or not ok or not client.active:
        return None
    return client


async def _locked(session: AsyncSession, client_id: str) -> ApiClient:
    client = await repository.client_by_id(session, client_id, for_update=True)
    if client is None:
        raise NotFound(f"No client {client_id!r}.")
    return client


async def register(
    session: AsyncSession, principal: Principal, body: ClientCreate, directory: Directory
) -> tuple[ApiClient, str]:
    """A new client and its secret (the secret is kept only as a hash); its communities must be
    active in the directory."""
    unknown = [c for c in body.communities if directory.community(c) is None]
    if unknown:
        raise Invalid.field("body.communities", f"unknown communities: {', '.join(unknown)}")
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
    if await repository.client_by_id(session, client.client_id) is not None:
        raise Conflict("Client id collision; retry.")
    await repository.save(session, client)
    await audit.record(
        session,
        principal,
        "client.created",
        "api_client",
        client.client_id,
        scopes=body.scopes,
        communities=body.communities,
        # Said apart from the scopes, so an auditor finds every widened client with one query.
        reads_all_of_its_communities=Permission.CASES_READ_ALL in body.scopes,
    )
    return client, secret


async def list_clients(session: AsyncSession) -> Sequence[ApiClient]:
    return await repository.list_clients(session)


async def get(session: AsyncSession, client_id: str) -> ApiClient:
    client = await repository.client_by_id(session, client_id)
    if client is None:
        raise NotFound(f"No client {client_id!r}.")
    return client


async def rotate_secret(
    session: AsyncSession, principal: Principal, client_id: str, grace_seconds: int
) -> tuple[ApiClient, str]:
    """A new secret; the old one keeps working for ``grace_seconds``."""
    client = await _locked(session, client_id)
    if not client.active:
        raise Conflict("A revoked client cannot get a new secret.")
    secret = secrets.token_urlsafe(32)
    client.previous_secret_hash = client.secret_hash if grace_seconds else None
    client.previous_secret_expires_at = utcnow() + dt.timedelta(seconds=grace_seconds) if grace_seconds else None
    client.secret_hash = hash_password(secret)
    await repository.save(session, client)
    await audit.record(
        session, principal, "client.secret_rotated", "api_client", client_id, grace_seconds=grace_seconds
    )
    return client, secret


async def revoke(session: AsyncSession, principal: Principal, client_id: str) -> ApiClient:
    """No new tokens for this client from now on."""
    client = await _locked(session, client_id)
    client.active = False
    client.revoked_at = client.revoked_at or utcnow()
    client.previous_secret_hash = None
    await repository.save(session, client)
    await audit.record(session, principal, "client.revoked", "api_client", client_id)
    return client

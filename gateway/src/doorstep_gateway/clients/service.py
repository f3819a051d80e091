"""Machine-client rules: registration, secret rotation, revocation, checking a client's secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable, Sequence

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

API_KEY_PREFIX = "dsk"
# An API key is "dsk.<lookup id>.<secret>": the lookup id finds the row with one indexed query,
# the secret is 32 random bytes. Only SHA-256 of the whole key is stored. A slow password hash
# (argon2) guards low-entropy secrets people choose; against 256 random bits a fast hash is as
# safe (nothing to guess), and it keeps a key check per Open311 call cheap (no CPU to exhaust).
API_KEY_HASH = "sha256"


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_api_key() -> tuple[str, str]:
    key_id = secrets.token_hex(8)
    return key_id, f"{API_KEY_PREFIX}.{key_id}.{secrets.token_urlsafe(32)}"


def principal_of(client: ApiClient, scopes: Iterable[str] | None = None) -> Principal:
    """The principal a client acts as: its scopes (or the requested subset), its communities, its quota."""
    granted = frozenset(client.scopes if scopes is None else scopes)
    return Principal(
        subject=client.client_id,
        kind="client",
        name=client.name,
        scopes=granted,
        communities=frozenset(client.communities),
        permissions=granted,  # a client's scopes are its permissions (as Principal.from_claims has it)
        quota_per_minute=client.quota_per_minute,
    )


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


async def authenticate_api_key(session: AsyncSession, key: str) -> ApiClient | None:
    """The active client whose API key this is; None for a malformed, unknown, replaced or revoked key."""
    prefix, _, rest = key.partition(".")
    key_id, _, secret = rest.partition(".")
    if prefix != API_KEY_PREFIX or not key_id or not secret or len(key_id) > 32:
        return None
    client = await repository.client_by_api_key_id(session, key_id)
    if client is None or client.api_key_hash is None:
        return None
    if not hmac.compare_digest(_key_hash(key), client.api_key_hash) or not client.active:
        return None
    return client


async def _locked(session: AsyncSession, principal: Principal, client_id: str) -> ApiClient:
    client = await repository.client_by_id(session, client_id, for_update=True)
    if client is None or not manages(principal, client):
        raise NotFound(f"No client {client_id!r}.")
    return client


async def register(
    session: AsyncSession, principal: Principal, body: ClientCreate, directory: Directory
) -> tuple[ApiClient, str]:
    """A new client and its secret (the secret is kept only as a hash); its communities must be
    active in the directory."""
    # another county's community is unknown to a county admin, as if absent
    unknown = [c for c in body.communities if directory.community(c) is None or not principal.sees_community(c)]
    if unknown:
        raise Invalid.field("body.communities", f"unknown communities: {', '.join(unknown)}")
    if not body.communities and principal.visible_communities is not None:
        # no communities means every community of the deployment, other counties' included
        raise Invalid.field("body.communities", "required: the communities of your county the client acts in")
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=_slug(body.name),
        name=body.name,
        secret_hash=await hash_password(secret),
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


def manages(principal: Principal, client: ApiClient) -> bool:
    """A county admin manages the clients acting only in their county's communities; a client
    of every community (none named) belongs to a deployment-wide admin (county None)."""
    visible = principal.visible_communities
    return visible is None or (bool(client.communities) and set(client.communities) <= visible)


async def list_clients(session: AsyncSession, principal: Principal) -> Sequence[ApiClient]:
    return [c for c in await repository.list_clients(session) if manages(principal, c)]


async def get(session: AsyncSession, principal: Principal, client_id: str) -> ApiClient:
    client = await repository.client_by_id(session, client_id)
    if client is None or not manages(principal, client):
        raise NotFound(f"No client {client_id!r}.")
    return client


async def rotate_secret(
    session: AsyncSession, principal: Principal, client_id: str, grace_seconds: int
) -> tuple[ApiClient, str]:
    """A new secret; the old one keeps working for ``grace_seconds``."""
    client = await _locked(session, principal, client_id)
    if not client.active:
        raise Conflict("A revoked client cannot get a new secret.")
    secret = secrets.token_urlsafe(32)
    client.previous_secret_hash = client.secret_hash if grace_seconds else None
    client.previous_secret_expires_at = utcnow() + dt.timedelta(seconds=grace_seconds) if grace_seconds else None
    client.secret_hash = await hash_password(secret)
    await repository.save(session, client)
    await audit.record(
        session, principal, "client.secret_rotated", "api_client", client_id, grace_seconds=grace_seconds
    )
    return client, secret


async def issue_api_key(session: AsyncSession, principal: Principal, client_id: str) -> tuple[ApiClient, str]:
    """A new API key for the client (shown once); a key it had before stops working at once."""
    client = await _locked(session, principal, client_id)
    if not client.active:
        raise Conflict("A revoked client cannot get an API key.")
    replaced = client.api_key_id
    key_id, key = _new_api_key()
    client.api_key_id, client.api_key_hash, client.api_key_issued_at = key_id, _key_hash(key), utcnow()
    await repository.save(session, client)
    await audit.record(
        session, principal, "client.api_key_issued", "api_client", client_id, key_id=key_id, replaced=replaced
    )
    return client, key


async def revoke(session: AsyncSession, principal: Principal, client_id: str) -> ApiClient:
    """No new tokens for this client from now on."""
    client = await _locked(session, principal, client_id)
    client.active = False
    client.revoked_at = client.revoked_at or utcnow()
    client.previous_secret_hash = None
    client.api_key_hash = None
    await repository.save(session, client)
    await audit.record(session, principal, "client.revoked", "api_client", client_id)
    return client

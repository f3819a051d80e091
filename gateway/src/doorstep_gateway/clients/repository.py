"""Every machine-client query.

Ids under ``svc.`` are the services' own identities, which live in the deployment's configuration
(doorstep_shared.auth.service_keys), never here: a row a previous release (or an old replica
during a rolling upgrade) left under that prefix is invisible, as if absent, so nothing an
admin does through the API can rotate or revoke the plumbing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.service_keys import SUBJECT_PREFIX

from .models import ApiClient


def reserved(client_id: str) -> bool:
    return client_id.startswith(SUBJECT_PREFIX)


async def client_by_id(session: AsyncSession, client_id: str, *, for_update: bool = False) -> ApiClient | None:
    if reserved(client_id):
        return None
    return await session.get(ApiClient, client_id, with_for_update=for_update)


async def client_by_api_key_id(session: AsyncSession, key_id: str) -> ApiClient | None:
    """The client holding the API key with this lookup id (one indexed query)."""
    if reserved(key_id):
        return None
    found = await session.exec(select(ApiClient).where(col(ApiClient.api_key_id) == key_id))
    client = found.first()
    return None if client is None or reserved(client.client_id) else client


async def list_clients(session: AsyncSession) -> Sequence[ApiClient]:
    visible = ~col(ApiClient.client_id).startswith(SUBJECT_PREFIX, autoescape=True)
    return (await session.exec(select(ApiClient).where(visible).order_by(col(ApiClient.client_id)))).all()


async def save(session: AsyncSession, client: ApiClient) -> None:
    session.add(client)
    await session.flush()

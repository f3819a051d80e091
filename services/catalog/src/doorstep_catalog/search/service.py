"""Search rules: ranked search with a search id, open reports, misses and alias-from-miss,
and the index's outside sources (tips, synonyms, popularity)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.db.group_commit import GroupCommit
from doorstep_shared.http.errors import Conflict, Invalid, NotFound
from doorstep_shared.http.observability import redact
from doorstep_shared.search import canonical

from ..http import item_etag
from ..items import service as items_service
from ..items.index import CatalogIndex, Snapshot
from ..items.schemas import ItemPage, ItemUpdate
from . import repository
from .schemas import AliasAdded, AliasFromMiss, Miss, MissPage, SearchOpened

POPULARITY_DAYS = 90
MAX_ALIASES = 20


def normalised(query: str) -> str:
    """The form misses are grouped by: personal numbers masked, canonical, no spaces."""
    return "".join(canonical(redact(query)).split())[:200]


SearchLog = GroupCommit[dict[str, Any]]


def search_log(sessions: Callable[[], async_sessionmaker[AsyncSession]]) -> SearchLog:
    """The app's search events, written in group commits (``doorstep_shared.db.group_commit``):
    a search is answered once its event is stored, in one transaction with the other searches
    of that moment."""
    return GroupCommit(sessions, repository.add_events)


async def search_items(
    snap: Snapshot,
    log: SearchLog,
    principal: Principal,
    county: str,
    *,
    q: str | None,
    category: str | None,
    proxy_eligible: bool | None,
    channel: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> ItemPage:
    """Browse or search ``county``'s handbook (``snap``, from ``CatalogIndex.served``); a
    search's first page is recorded (redacted) and gets a search id the client reports an open
    with."""
    page = items_service.list_items(
        snap,
        principal,
        q=q,
        category=category,
        proxy_eligible=proxy_eligible,
        channel=channel,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    if q is None or not q.strip() or cursor is not None:
        return page
    key = normalised(q)
    if not key:
        return page
    search_id = uuid.uuid4().hex
    event = {
        "id": search_id,
        "at": utcnow(),
        "community": principal.community,
        "county": county,
        "query": redact(q.strip())[:200],
        "normalised": key,
        "hits": len(page.items),
        "top_code": page.items[0].code if page.items else None,
    }
    await log.add(event)
    page.search_id = search_id
    return page


# Browsing (no ``q``) records nothing: it is the items sub-domain's page from the snapshot.
browse_body = items_service.browse_body


async def report_open(session: AsyncSession, data: SearchOpened) -> None:
    if not await repository.event_exists(session, data.search_id):
        raise NotFound(f"No search {data.search_id!r}.")
    await repository.mark_opened(session, data.search_id, data.code, utcnow())


async def misses(session: AsyncSession, principal: Principal, county: str, *, days: int, limit: int) -> MissPage:
    since = utcnow() - dt.timedelta(days=days)
    rows = await repository.top_misses(session, county, since, principal.visible_communities, limit)
    return MissPage(
        since=since,
        misses=[Miss(query=q, searches=n, found_nothing=z, not_opened=o, last_at=at) for q, n, z, o, at in rows],
    )


async def alias_from_miss(
    session: AsyncSession, index: CatalogIndex, principal: Principal, county: str, data: AliasFromMiss
) -> AliasAdded:
    alias = normalised(data.query)
    if "*" in alias or not any(ch.isalnum() for ch in alias):
        raise Invalid.field("body.query", "nothing to keep as an alias (no word, or a masked personal number)")
    item = await items_service.get_item(session, index, principal, county, data.item)
    if alias in {normalised(a) for a in item.aliases} or alias == normalised(item.name):
        resolved = await repository.resolve(session, county, alias, principal.visible_communities, utcnow())
        return AliasAdded(item=item.code, alias=alias, aliases=item.aliases, version=item.version, resolved=resolved)
    if len(item.aliases) >= MAX_ALIASES:
        raise Conflict(f"Item {item.code!r} already has {MAX_ALIASES} aliases.", code="too_many_aliases")
    updated = await items_service.update_item(
        session,
        principal,
        county,
        item.code,
        ItemUpdate(reason=data.reason, aliases=[*item.aliases, alias]),
        item_etag(item),
    )
    resolved = await repository.resolve(session, county, alias, principal.visible_communities, utcnow())
    return AliasAdded(
        item=updated.code, alias=alias, aliases=updated.aliases, version=updated.version, resolved=resolved
    )


async def claim_unassigned(session: AsyncSession, county: str) -> int:
    """Searches recorded before counties count for ``county`` (the deployment's only one)."""
    return await repository.claim_unassigned(session, county)


async def seed_synonyms(session: AsyncSession, groups: Sequence[Sequence[str]]) -> int:
    return await repository.add_synonym_groups(session, groups)


class SearchSources:
    """The catalogue index's outside sources (``items.index.IndexSources``)."""

    async def tips(self, session: AsyncSession) -> Mapping[tuple[str, str], Sequence[str]]:
        return await repository.visible_tips(session)

    async def synonyms(self, session: AsyncSession) -> Sequence[Sequence[str]]:
        return await repository.synonym_groups(session)

    async def popularity(self, session: AsyncSession) -> Mapping[tuple[str, str], float]:
        since = utcnow() - dt.timedelta(days=POPULARITY_DAYS)
        return {key: float(n) for key, n in (await repository.opens_since(session, since)).items()}

"""Versions of items and the changes feed: the read side of the history ``items`` records on
every published write."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import SHANGHAI
from doorstep_shared.http.errors import Invalid, NotFound
from doorstep_shared.http.pagination import encode_cursor

from ..cursors import int_cursor
from ..items import service as items_service
from ..items.models import ItemVersion
from ..items.schemas import ItemRead
from . import repository
from .schemas import ChangeRead, ChangesPage, FieldChange, VersionPage, VersionRead, VersionSummary


def _history(v: ItemVersion) -> dict[str, Any]:
    """What a version says about itself: the fields a version summary and a change share."""
    return {
        "number": v.number,
        "status": v.status,
        "kind": v.kind,
        "reason": v.reason,
        "changed_by": v.changed_by,
        "changed_at": v.changed_at,
        "changed_fields": [FieldChange.model_validate(c) for c in v.changed_fields],
    }


def _version_summary(v: ItemVersion) -> VersionSummary:
    return VersionSummary(**_history(v))


async def list_versions(
    session: AsyncSession, principal: Principal, county: str, code: str, *, cursor: str | None, limit: int
) -> VersionPage:
    item = await items_service.readable_item(session, principal, county, code)
    before = int_cursor(cursor, 1)
    rows = await repository.versions_of(session, item.id or 0, before=before[0] if before else None, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return VersionPage(
        items=[_version_summary(v) for v in rows],
        next_cursor=encode_cursor([rows[-1].number]) if more and rows else None,
    )


async def read_version(session: AsyncSession, principal: Principal, county: str, code: str, number: int) -> VersionRead:
    item = await items_service.readable_item(session, principal, county, code)
    version = await repository.version_of(session, item.id or 0, number)
    if version is None:
        raise NotFound(f"Item {code!r} has no version {number}.")
    summary = _version_summary(version)
    return VersionRead(**summary.model_dump(), item=ItemRead.model_validate(version.snapshot))


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse_since(since: str | None) -> tuple[int | None, dt.datetime | None]:
    """A changes cursor, an ISO date (midnight in Asia/Shanghai) or an ISO instant."""
    if not since:
        return None, None
    if _DATE_RE.match(since):
        try:
            if len(since) == 10:
                day = dt.date.fromisoformat(since)
                return None, dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)
            instant = dt.datetime.fromisoformat(since)
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=SHANGHAI)
            return None, instant.astimezone(dt.UTC)
        except (ValueError, OverflowError) as exc:
            raise Invalid.field("query.since", "not a cursor or an ISO date (or out of range)") from exc
    values = int_cursor(since, 1, "query.since")
    assert values is not None
    return values[0], None


def change_read(v: ItemVersion, code: str) -> ChangeRead:
    name = str(v.snapshot.get("name", code))
    return ChangeRead(cursor=encode_cursor([v.id]), item_code=code, item_name=name, **_history(v))


async def changes(session: AsyncSession, county: str, *, since: str | None, limit: int) -> ChangesPage:
    """What changed in ``county``'s handbook (cursors are shared by every county: ids)."""
    after_id, since_at = parse_since(since)
    rows = await repository.changes(session, county, after_id=after_id, since=since_at, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [change_read(v, code) for v, code in rows]
    if items:
        next_cursor: str | None = items[-1].cursor
    elif after_id is not None:
        next_cursor = since
    else:
        next_cursor = encode_cursor([await repository.last_change_id(session, county)])
    return ChangesPage(items=items, next_cursor=next_cursor, has_more=more)


async def changes_since(
    session: AsyncSession, county: str, since: dt.datetime | None, *, limit: int
) -> list[ChangeRead]:
    """The first ``limit`` changes of ``county``'s handbook at or after ``since`` (all of them
    without it), oldest first."""
    rows = await repository.changes(session, county, after_id=None, since=since, limit=limit)
    return [change_read(v, code) for v, code in rows]

"""Items rules: categories and items (reads, search, writes), and copying another county's
handbook. Every published write records a version of the item (read back by ``versions``),
every admin write an audit entry; every write bumps the catalogue's revision, so each
replica's index knows to rebuild.

Items belong to a county's handbook (``county``, from ``counties.handbook_county``); codes are
unique per county. Categories are one taxonomy for the whole deployment."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.http import check_if_match
from doorstep_shared.http.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from doorstep_shared.http.pagination import encode_cursor
from doorstep_shared.rules import validate as validate_rule
from doorstep_shared.search import MAX_QUERY_CHARS

from .. import audit
from ..cursors import int_cursor
from ..http import category_etag, item_etag
from ..versions.schemas import FieldChange
from . import repository
from .index import CatalogIndex, Handbooks, Snapshot
from .models import Category, Item, ItemVersion
from .schemas import (
    CONTENT_FIELDS,
    CategoryCreate,
    CategoryUpdate,
    HandbookImport,
    HandbookImported,
    ItemCreate,
    ItemFields,
    ItemPage,
    ItemRead,
    ItemSummary,
    ItemUpdate,
    item_read,
)

FIELD_LABELS = {
    "name": "名称",
    "category": "分类",
    "status": "状态",
    "aliases": "别名",
    "summary": "简介",
    "policy_basis": "政策依据",
    "audience": "服务对象",
    "conditions": "办理条件",
    "eligibility_rule": "资格规则",
    "materials": "所需材料",
    "steps": "办理流程",
    "statutory_days": "法定时限",
    "promised_days": "承诺时限",
    "fee": "收费",
    "department": "决定部门",
    "contact": "咨询方式",
    "channels": "办理渠道",
    "proxy_eligible": "可代办",
    "trips": "跑动次数",
    "faq": "常见问题",
    "valid_from": "生效日期",
    "valid_until": "失效日期",
}
SNAPSHOT_FIELDS = ("name", "category", "status", *CONTENT_FIELDS)
_TRANSITIONS = {
    ("draft", "published"),
    ("published", "retired"),
    ("retired", "published"),
}


def is_admin(principal: Principal) -> bool:
    return principal.has(Permission.CATALOG_WRITE)


# ---------------------------------------------------------------- categories


async def categories(session: AsyncSession) -> Sequence[Category]:
    return await repository.list_categories(session)


async def create_category(session: AsyncSession, principal: Principal, data: CategoryCreate) -> Category:
    if await repository.category_by_code(session, data.code) is not None:
        raise Conflict(f"Category {data.code!r} already exists.", code="duplicate_code")
    category = Category(**data.model_dump())
    session.add(category)
    await session.flush()
    await repository.bump_revision(session)
    await audit.record(
        session,
        principal,
        "category.create",
        "category",
        category.code,
        version=category.version,
        fields=sorted(data.model_fields_set | {"code", "name"}),
    )
    return category


async def update_category(
    session: AsyncSession,
    principal: Principal,
    code: str,
    data: CategoryUpdate,
    if_match: str | None,
) -> Category:
    category = await repository.category_by_code(session, code)
    if category is None:
        raise NotFound(f"No category {code!r}.")
    check_if_match(if_match, category_etag(category), required=True, what="item")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    changed = sorted(k for k, v in changes.items() if getattr(category, k) != v)
    for key, value in changes.items():
        setattr(category, key, value)
    category.version += 1
    session.add(category)
    await session.flush()
    await repository.bump_revision(session)
    await audit.record(
        session, principal, "category.update", "category", code, version=category.version, fields=changed
    )
    return category


# ---------------------------------------------------------------- items: reads


async def snapshot(session: AsyncSession, index: CatalogIndex) -> Handbooks:
    """Every county's handbook at the current revision."""
    return await index.current(session)


async def handbook(session: AsyncSession, index: CatalogIndex, county: str) -> Snapshot:
    """``county``'s handbook at the current revision."""
    return (await index.current(session)).of(county)


async def get_item(
    session: AsyncSession, index: CatalogIndex, principal: Principal, county: str, code: str
) -> ItemRead:
    snap = await handbook(session, index, county)
    item = snap.items.get(code)
    if item is None or (item.status == "draft" and not is_admin(principal)):
        raise NotFound(f"No item {code!r}.")
    return item


def item_response(snap: Snapshot, principal: Principal, code: str) -> tuple[bytes, str]:
    """An item's serialised body and ETag from a snapshot (``CatalogIndex.served``), with the
    rule of ``get_item``: a draft is an admin's only."""
    item = snap.items.get(code)
    if item is None or (item.status == "draft" and not is_admin(principal)):
        raise NotFound(f"No item {code!r}.")
    return snap.item_body(code)


def list_items(
    snap: Snapshot,
    principal: Principal,
    *,
    q: str | None,
    category: str | None,
    proxy_eligible: bool | None,
    channel: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> ItemPage:
    """Search (ranked) or browse (by code) one county's handbook (``snap``, from
    ``CatalogIndex.served``); drafts only for admins; cursors are positions."""
    if status == "draft" and not is_admin(principal):
        return ItemPage(items=[])
    return _page(snap, q, category, proxy_eligible, channel, status, cursor, limit)


def browse_body(
    snap: Snapshot,
    principal: Principal,
    *,
    category: str | None,
    proxy_eligible: bool | None,
    channel: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> bytes:
    """A browsing page (no ``q``) from a snapshot (``CatalogIndex.served``), serialised once
    per revision and set of parameters: what ``list_items`` gives, as JSON."""
    if status == "draft" and not is_admin(principal):
        return ItemPage(items=[]).model_dump_json().encode()
    return snap.page_body(
        (category, proxy_eligible, channel, status, cursor, limit),
        lambda: _page(snap, None, category, proxy_eligible, channel, status, cursor, limit).model_dump_json().encode(),
    )


def _page(
    snap: Snapshot,
    q: str | None,
    category: str | None,
    proxy_eligible: bool | None,
    channel: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> ItemPage:
    statuses = {status} if status else {"published"}
    scores: dict[str, tuple[float, str]] = {}
    if q is not None and q.strip():
        hits = snap.index.search(q[: MAX_QUERY_CHARS * 4])
        scores = {h.key: (h.score, h.field) for h in hits}
        # The index is updated in place: skip a code this (older) snapshot does not hold yet.
        codes: list[str] = [h.key for h in hits if h.key in snap.items]
    else:
        codes = sorted(snap.items)
    selected = []
    for code in codes:
        item = snap.items[code]
        if item.status not in statuses:
            continue
        if category is not None and item.category != category:
            continue
        if proxy_eligible is not None and item.proxy_eligible != proxy_eligible:
            continue
        if channel is not None and channel not in item.channels:
            continue
        selected.append(item)
    start = 0
    position = int_cursor(cursor, 2)
    if position is not None:
        start = position[1]
    page = selected[start : start + limit]
    next_cursor = encode_cursor([snap.revision, start + limit]) if start + limit < len(selected) else None
    return ItemPage(
        items=[
            ItemSummary(
                code=i.code,
                name=i.name,
                category=i.category,
                status=i.status,
                summary=i.summary,
                proxy_eligible=i.proxy_eligible,
                channels=i.channels,
                version=i.version,
                score=round(scores[i.code][0], 3) if i.code in scores else None,
                matched_field=scores[i.code][1] if i.code in scores else None,
                matched=snap.index.matched(i.code, q) if q is not None and i.code in scores else None,
            )
            for i in page
        ],
        next_cursor=next_cursor,
    )


# ---------------------------------------------------------------- items: writes


def _validate_rule(rule: Any) -> None:
    if rule is None:
        return
    problems = validate_rule(rule)
    if problems:
        first = problems[0]
        raise Invalid(
            f"body.eligibility_rule{first.position}: {first.message}",
            code="invalid_rule",
            detail_zh=f"资格规则有误：body.eligibility_rule{first.position}",
            errors=[{"field": "body.eligibility_rule", **p.as_dict()} for p in problems[:20]],
        )


def _validate_dates(content: dict[str, Any]) -> None:
    start, end = content.get("valid_from"), content.get("valid_until")
    if start and end and str(end) < str(start):
        raise Invalid.field("body.valid_until", "must not be before valid_from")


async def _category(session: AsyncSession, code: str) -> Category:
    category = await repository.category_by_code(session, code)
    if category is None:
        raise Invalid.field("body.category", f"unknown category {code!r}", code="unknown_category")
    return category


def _columns(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "proxy_eligible": bool(content.get("proxy_eligible")),
        "channel_tags": "," + ",".join(content.get("channels") or []) + ",",
    }


def _snapshot_of(read: ItemRead) -> dict[str, Any]:
    return read.model_dump(mode="json")


def _short(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= 120 else value[:119] + "…"
    return None  # lists and objects: the field name says enough


def field_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[FieldChange]:
    out = []
    for name in SNAPSHOT_FIELDS:
        old = before.get(name) if before else None
        new = after.get(name)
        if before is not None and old == new:
            continue
        if before is None and new in (None, "", [], {}):
            continue
        out.append(
            FieldChange(
                field=name,
                label=FIELD_LABELS.get(name, name),
                before=_short(old),
                after=_short(new),
            )
        )
    return out


async def _record_version(
    session: AsyncSession, item: Item, read: ItemRead, principal: Principal, reason: str, kind: str
) -> None:
    previous = await repository.latest_version(session, item.id or 0)
    snap = _snapshot_of(read)
    changes = field_changes(previous.snapshot if previous else None, snap)
    number = item.published_version
    session.add(
        ItemVersion(
            item_id=item.id or 0,
            number=number,
            status=read.status,
            kind=kind,
            reason=reason,
            changed_by=principal.subject,
            changed_at=item.updated_at,
            changed_fields=[c.model_dump(mode="json") for c in changes],
            snapshot=snap,
        )
    )
    await session.flush()


async def create_item(session: AsyncSession, principal: Principal, county: str, data: ItemCreate) -> ItemRead:
    if await repository.item_by_code(session, county, data.code) is not None:
        raise Conflict(f"An item with code {data.code!r} already exists.", code="duplicate_code")
    category = await _category(session, data.category)
    _validate_rule(data.eligibility_rule)
    content = ItemFields.model_validate(data.model_dump(include=set(CONTENT_FIELDS))).model_dump(mode="json")
    _validate_dates(content)
    now = utcnow()
    item = Item(
        county=county,
        code=data.code,
        name=data.name,
        category_id=category.id or 0,
        status=data.status,
        content=content,
        version=1,
        published_version=1 if data.status == "published" else 0,
        created_at=now,
        updated_at=now,
        updated_by=principal.subject,
        **_columns(content),
    )
    session.add(item)
    await session.flush()
    read = item_read(item, category.code, category.name)
    if data.status == "published":
        await _record_version(session, item, read, principal, "新建事项", "created")
    await repository.bump_revision(session)
    await audit.record(
        session,
        principal,
        "item.create",
        "item",
        item.code,
        county=county,
        version=item.version,
        published_version=item.published_version,
        status=item.status,
        fields=sorted(data.model_fields_set | {"code", "name", "category", "status"}),
    )
    return read


_ITEM_ACTIONS = {
    ("draft", "published"): "item.publish",
    ("published", "retired"): "item.retire",
    ("retired", "published"): "item.republish",
}


def _changed_names(item: Item, name: str, status: str, category_id: int | None, content: dict[str, Any]) -> list[str]:
    """The names (never the values) of the fields an edit changes, for the audit log."""
    names = {k for k in content.keys() | item.content.keys() if content.get(k) != item.content.get(k)}
    if name != item.name:
        names.add("name")
    if status != item.status:
        names.add("status")
    if category_id != item.category_id:
        names.add("category")
    return sorted(names)


async def update_item(
    session: AsyncSession,
    principal: Principal,
    county: str,
    code: str,
    data: ItemUpdate,
    if_match: str | None,
) -> ItemRead:
    item = await repository.item_by_code(session, county, code)
    if item is None:
        raise NotFound(f"No item {code!r}.")
    check_if_match(if_match, item_etag(item), required=True, what="item")
    changes = data.model_dump(mode="json", exclude_unset=True)
    reason = changes.pop("reason")
    for required in ("name", "category", "status"):
        if required in changes and changes[required] is None:
            raise Invalid.field(f"body.{required}", "may not be null")
    category = await repository.category_by_id(session, item.category_id)
    assert category is not None
    if "category" in changes:
        category = await _category(session, changes.pop("category"))
    status = changes.pop("status", item.status)
    if status != item.status and (item.status, status) not in _TRANSITIONS:
        raise Conflict(f"An item cannot go from {item.status} to {status}.", code="invalid_transition")
    if "eligibility_rule" in changes:
        _validate_rule(changes["eligibility_rule"])
    name = changes.pop("name", item.name)
    content = {**item.content, **changes}
    content = ItemFields.model_validate(content).model_dump(mode="json")
    _validate_dates(content)
    unchanged = (
        content == item.content and name == item.name and status == item.status and category.id == item.category_id
    )
    if unchanged:
        return item_read(item, category.code, category.name)
    publishes = status in ("published", "retired")
    prior_status = item.status
    changed = _changed_names(item, name, status, category.id, content)
    values: dict[str, Any] = {
        "name": name,
        "status": status,
        "category_id": category.id,
        "content": content,
        "version": item.version + 1,
        "published_version": item.published_version + (1 if publishes else 0),
        "updated_at": utcnow(),
        "updated_by": principal.subject,
        **_columns(content),
    }
    # Conditional on the version read: a concurrent editor that got there first wins, we 412.
    assert item.id is not None
    if not await repository.update_item_if_version(session, item.id, item.version, values):
        raise PreconditionFailed("The item has changed since you read it; reload and retry.", code="stale_etag")
    await session.refresh(item)
    read = item_read(item, category.code, category.name)
    if publishes:
        if status == "retired":
            kind = "retired"
        elif prior_status == "draft":
            kind = "created"
        elif prior_status == "retired":
            kind = "republished"
        else:
            kind = "updated"
        await _record_version(session, item, read, principal, reason, kind)
    await repository.bump_revision(session)
    await audit.record(
        session,
        principal,
        _ITEM_ACTIONS.get((prior_status, status), "item.update"),
        "item",
        code,
        county=county,
        version=item.version,
        published_version=item.published_version,
        status=status,
        fields=changed,
    )
    return read


async def readable_item(session: AsyncSession, principal: Principal, county: str, code: str) -> Item:
    item = await repository.item_by_code(session, county, code)
    if item is None or (item.status == "draft" and not is_admin(principal)):
        raise NotFound(f"No item {code!r}.")
    return item


async def item_names(session: AsyncSession, county: str, codes: Collection[str]) -> dict[str, str]:
    """The names of ``county``'s items with these codes (unknown codes are left out)."""
    return await repository.item_names(session, county, codes)


async def catalogue_changed(session: AsyncSession) -> None:
    """Bump the catalogue's revision in the writer's transaction (every replica rebuilds its index)."""
    await repository.bump_revision(session)


async def claim_unassigned(session: AsyncSession, county: str) -> int:
    """Items from before counties (migrated with county '') join ``county``'s handbook: called
    with the deployment's county when the directory names exactly one."""
    claimed = await repository.claim_unassigned(session, county)
    if claimed:
        await repository.bump_revision(session)
    return claimed


# ---------------------------------------------------------------- copying a handbook


async def import_handbook(
    session: AsyncSession, principal: Principal, county: str, data: HandbookImport, *, from_known: bool
) -> HandbookImported:
    """Copy ``data.from_county``'s published items into ``county``'s handbook as drafts.

    A code ``county`` already has (in any status: an earlier copy, a local item) is skipped and
    reported, never overwritten; a second copy therefore adds only what the other county
    published since. The county's admins then edit the drafts and publish them as any draft
    (``PATCH /items/{code}`` with ``status: published``): their first version is theirs.
    """
    if not principal.is_county:
        raise Forbidden("Only a county admin may copy a handbook into the county.", code="county_scope")
    source = data.from_county
    if source == county:
        raise Conflict("A county cannot copy its own handbook.", code="same_county")
    if not from_known:
        raise NotFound(f"No county {source!r}.", code="unknown_county")
    published = await repository.published_items(session, source)
    if not published:
        raise NotFound(f"County {source!r} has no published item to copy.", code="no_handbook")
    existing = await repository.item_codes(session, county)
    copied: list[str] = []
    skipped: list[str] = []
    now = utcnow()
    for original in published:
        if original.code in existing:
            skipped.append(original.code)
            continue
        session.add(
            Item(
                county=county,
                code=original.code,
                name=original.name,
                category_id=original.category_id,
                status="draft",
                proxy_eligible=original.proxy_eligible,
                channel_tags=original.channel_tags,
                content=dict(original.content),
                version=1,
                published_version=0,
                created_at=now,
                updated_at=now,
                updated_by=principal.subject,
            )
        )
        copied.append(original.code)
    if copied:
        await session.flush()
        await repository.bump_revision(session)
    await audit.record(
        session,
        principal,
        "handbook.import",
        "handbook",
        county,
        county=county,
        from_county=source,
        copied=copied,
        skipped=skipped,
    )
    return HandbookImported(county=county, from_county=source, copied=copied, skipped=skipped)

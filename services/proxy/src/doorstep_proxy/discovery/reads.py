"""The lean read path for leads (issue #23 part 2): a lead as ``LeadRead`` shows it, built as a
plain dict from Core rows (``repository.LEAD_COLUMNS``; the resident's face and facts joined to
one lead, read in one query for a page), masked and redacted in one pass, each resident's facts
and face worked out once per page, each item's name and materials once.

The rows come from ``lead_rows`` (on PostgreSQL on asyncpg itself). The dicts have exactly ``LeadRead``'s fields, in its order, with the values its serialisers
would write, so the list and the one-lead read write them as JSON at once
(``doorstep_shared.http.sparse``) and answer the bytes the model would. The writes' answers keep
the model path (``service.lead_reads``); ``tests/proxy/discovery/test_lean_reads.py`` compares the
two. The reasons are still rendered from the resident's stored facts at every read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today
from doorstep_shared.db.driver import HotReader
from doorstep_shared.pii import PiiCipher, redact_text
from doorstep_shared.rules.vocabulary import FACT_BY_NAME

from ..ledger import service as ledger
from . import lead_rows
from . import repository as repo
from .compile_sql import facts_in, python_facts
from .models import SWEPT_STATUSES
from .rulebook import RuleBook, RuleBooks


def reason_words(reasons: Sequence[str], verdict: str, item_name: str) -> str:
    words = list(reasons)
    if verdict == "eligible":
        words.append(f"未领取{item_name}")
    return "，".join(words)


async def confirmed_markers(session: HotReader, leads: Sequence[Any]) -> dict[int, dt.datetime]:
    """A run writes only the leads that changed, so "last confirmed" of an open or declined lead
    is the end of the newest completed run that covered its item and community (it would have
    been made obsolete otherwise), when that is later than the lead's own timestamp. ``leads``
    are ``DiscoveryLead``s or rows of ``repo.LEAD_COLUMNS``."""
    live = [lead for lead in leads if lead.status in SWEPT_STATUSES]
    if not live:
        return {}
    runs = await lead_rows.last_runs_covering(session, ["county", *sorted({lead.community for lead in live})])
    out: dict[int, dt.datetime] = {}
    for lead in live:
        for run in runs:
            if run.finished_at is None or (run.scope != "county" and run.scope != lead.community):
                continue
            if lead.item_code not in run.items:
                continue
            if run.finished_at > lead.last_confirmed_at:
                out[lead.id or 0] = run.finished_at
            break
    return out


class _Item:
    """What every lead of one item shows alike (per book and item, once per page)."""

    def __init__(self, book: RuleBook, code: str) -> None:
        item = book.handbook.get(code)
        self.rule = book.items.get(code)
        self.name = item.name if item else code
        self.proxy_eligible = bool(item and item.proxy_eligible)
        self.materials = [
            {"name": m.name, "form": m.form, "count": m.count, "notes": m.notes}
            for m in (item.materials if item else [])
        ]


def lead_item(
    lead: Any,
    r: Any,
    facts: dict[str, Any],
    item: _Item,
    confirmed: dt.datetime | None,
    face: Any,
) -> dict[str, Any]:
    """One lead as ``LeadRead`` shows it, as a plain dict in its field order."""
    reasons = list(item.rule.rule(facts).reasons) if item.rule is not None else []
    missing = facts_in(lead.missing_mask)
    address = face.address
    return {
        "id": lead.id or 0,
        "resident_id": r.id,
        "resident_name": face.name,
        "phone_masked": face.phone_masked,
        "age": face.age,
        "gender": face.gender,
        "address": {
            "compound": address.compound,
            "building": address.building,
            "unit": address.unit,
            "room": address.room,
        },
        "compound": address.compound,
        "building": address.building,
        "unit": address.unit,
        "room": address.room,
        "community": lead.community,
        "grid": lead.grid,
        "item_code": lead.item_code,
        "item_name": item.name,
        "proxy_eligible": item.proxy_eligible,
        "verdict": lead.verdict,
        "status": lead.status,
        "reason": reason_words(reasons, lead.verdict, item.name),
        "reasons": reasons,
        "missing_facts": missing,
        "missing_labels": [FACT_BY_NAME[f].label for f in missing],
        "materials": [dict(m) for m in item.materials],
        "declined_reason": redact_text(lead.declined_reason) if lead.declined_reason else lead.declined_reason,
        "case_id": lead.case_id,
        "first_seen_at": lead.first_seen_at,
        "last_confirmed_at": confirmed or lead.last_confirmed_at,
        "status_changed_at": lead.status_changed_at,
        "status_by": lead.status_by,
        "version": lead.version,
    }


async def lead_items(
    conn: HotReader, principal: Principal, cipher: PiiCipher, leads: Sequence[Any], books: RuleBooks
) -> list[dict[str, Any]]:
    """``lead_item`` of each lead: rows of ``lead_rows`` (a lead's columns and its resident's
    beside them; on the driver the resident's benefits too, else the page's read in one query),
    each resident's facts and face worked out once, each item's name and materials once."""
    fields = leads[0]._fields if leads else ()
    codes: dict[Any, set[str]] | None = None
    if "benefits" not in fields:
        codes = await repo.benefit_codes(conn, list({lead.resident_id for lead in leads}))  # type: ignore[arg-type]
    confirmed = await confirmed_markers(conn, leads)
    on = local_today()
    items: dict[tuple[RuleBook, str], _Item] = {}
    seen: dict[Any, tuple[Any, dict[str, Any], Any]] = {}
    out = []
    for lead in leads:
        if lead.resident_id not in seen:
            if lead.resident_community is None:  # residents are never deleted (soft removal)
                raise LookupError(f"lead {lead.id}: no resident {lead.resident_id}")
            r = ledger.ResidentColumns(lead)
            held = codes.get(lead.resident_id, set()) if codes is not None else lead.benefits
            facts = python_facts(r, held, on)
            seen[lead.resident_id] = (r, facts, ledger.resident_face(principal, cipher, r, on))
        r, facts, face = seen[lead.resident_id]
        book = books.book_of(lead.community)  # the handbook of the lead's county
        key = (book, lead.item_code)
        item = items.get(key)
        if item is None:
            item = items[key] = _Item(book, lead.item_code)
        out.append(lead_item(lead, r, facts, item, confirmed.get(lead.id or 0), face))
    return out

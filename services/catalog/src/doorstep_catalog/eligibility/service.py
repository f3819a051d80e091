"""Which items a resident is eligible for, and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import local_today
from doorstep_shared.http.errors import Invalid
from doorstep_shared.rules.vocabulary import FACT_BY_NAME, with_none_on_record

from ..items import service as items_service
from ..items.index import CatalogIndex
from .schemas import EligibilityRequest, EligibilityResponse, EligibilityResult


def _age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


async def evaluate(
    session: AsyncSession, index: CatalogIndex, county: str, request: EligibilityRequest
) -> EligibilityResponse:
    """Against ``county``'s handbook (its published items' rules)."""
    snap = await items_service.handbook(session, index, county)
    # A fact left out is unknown; ``"disability_type": null`` says "no disability" (the
    # vocabulary's "null if none"), exactly as the proxy reads a resident without one on record.
    facts: dict[str, Any] = with_none_on_record(request.facts.model_dump(exclude_unset=True))
    birth = facts.pop("birth_date", None)
    if "age" not in facts and birth is not None:
        facts["age"] = max(0, _age_on(birth, local_today()))
    if "benefits" in facts:
        facts["benefits"] = frozenset(facts["benefits"])
    wanted = request.items
    if wanted is not None:
        unknown = [c for c in wanted if snap.items.get(c) is None or snap.items[c].status != "published"]
        if unknown:
            raise Invalid.field("body.items", f"unknown or unpublished items: {', '.join(unknown[:5])}")
    codes = wanted if wanted is not None else [c for c, i in snap.items.items() if i.status == "published"]
    results, without = [], []
    for code in dict.fromkeys(codes):
        rule = snap.rules.get(code)
        if rule is None:
            without.append(code)
            continue
        outcome = rule(facts)
        results.append(
            EligibilityResult(
                code=code,
                name=snap.items[code].name,
                status=outcome.status,
                reasons=list(outcome.reasons),
                missing_facts=list(outcome.missing),
                missing_labels=[FACT_BY_NAME[f].label for f in outcome.missing],
            )
        )
    return EligibilityResponse(results=results, without_rule=without)

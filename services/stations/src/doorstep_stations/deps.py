"""Stations dependencies: the app's state, the PII cipher, settings and the clock (overridable in tests)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Request

from doorstep_shared.clock import utcnow
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks import WebhookConfig

from .config import StationsSettings
from .state import state_of


async def get_pii(request: Request) -> PiiCipher:
    return state_of(request).pii


async def get_stations_settings(request: Request) -> StationsSettings:
    return state_of(request).settings


async def now() -> dt.datetime:
    return utcnow()


Pii = Annotated[PiiCipher, Depends(get_pii)]
Settings = Annotated[StationsSettings, Depends(get_stations_settings)]
Now = Annotated[dt.datetime, Depends(now)]


_DESCRIPTIONS = {
    304: "Not modified (If-None-Match matched)",
    400: "Bad request",
    403: "Forbidden (missing permission, or not a manager of this station)",
    404: "Not found (or another community's record)",
    409: "Conflict (duplicate, or changed concurrently)",
    412: "Stale If-Match",
    422: "Invalid input, with the reason and the offending field",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the problem+json errors a route can answer.

    401 and 422 are always there: every route takes a token and parameters, and a bad path or
    query parameter is a problem+json 422 too (FastAPI's own 422 entry would say application/json).
    """
    from .schemas import Problem

    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({401, 422, *codes}):
        entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(code, "Unauthorized")}
        if code != 304:
            entry["model"] = Problem
            entry["content"] = {"application/problem+json": {}}
        out[code] = entry
    return out


async def get_webhook_config(request: Request) -> WebhookConfig:
    return state_of(request).webhook_config

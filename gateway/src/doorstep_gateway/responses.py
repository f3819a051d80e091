"""OpenAPI ``responses=`` entries the gateway's own routes share."""

from __future__ import annotations

from typing import Any

# An error answer documented as RFC 9457 problem+json (what the error handlers send).
PROBLEM: dict[str, Any] = {"model": dict[str, Any], "content": {"application/problem+json": {}}}

"""Shapes of a login history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class LoginRecord(BaseModel):
    """One sign-in attempt as the audit log keeps it."""

    id: int
    at: dt.datetime
    outcome: str = Field(description="success | failure")
    reason: str | None = Field(
        None,
        description="Why it was refused: bad_password, unknown_user, not_activated, inactive, throttled, "
        "account_ceiling, dormant, password_expired, mfa_required, mfa_invalid",
    )
    via: str | None = Field(
        None, description="password_change: an attempt at POST /api/v1/auth/password; none: a sign-in"
    )
    address: str | None = Field(None, description="The address it came from (entries since issue 20)")
    second_factor: str | None = Field(None, description="totp | recovery | none (successes since issue 20)")

    @classmethod
    def of(cls, row: Any) -> LoginRecord:
        details = row.details or {}
        return cls(
            id=row.id,
            at=row.at,
            outcome=row.outcome,
            reason=details.get("reason"),
            address=details.get("address"),
            second_factor=details.get("second_factor"),
            via=details.get("via"),
        )

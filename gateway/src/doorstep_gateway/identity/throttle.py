"""How hard sign-in pushes back on wrong passwords (OWASP ASVS V2.2, NIST SP 800-63B §5.2.2).

Throttling is per (account, source address): a few free failures, then each further attempt
from that address must wait 1 s, 2 s, 4 s … up to a ceiling, and a success clears it. No
stranger can lock anyone out from elsewhere: the account-wide limit is much higher and, once
reached, refuses only addresses the account has never signed in from, so the right password
from the user's usual address still works. Unknown usernames get exactly the same treatment
(rows, waits, answers, one password hash per attempt that is let through), so nothing tells
an existing account from a made-up one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from ..config import GatewaySettings
from . import repository
from .models import LoginThrottle

# Every refused password sign-in answers this, whatever the reason (RFC 6749 invalid_grant).
SIGN_IN_REFUSED = "Invalid credentials, or too many attempts: wait a moment and try again."


@dataclass(frozen=True)
class LoginPolicy:
    free_failures: int  # per (account, address) before waits start
    max_delay_seconds: int  # the longest wait one address earns
    account_ceiling: int  # failures from all addresses within the window …
    ceiling_window_seconds: int  # … after which only the account's usual addresses may try

    @classmethod
    def of(cls, settings: GatewaySettings) -> LoginPolicy:
        return cls(
            free_failures=settings.login_max_failures,
            max_delay_seconds=settings.login_lockout_seconds,
            account_ceiling=settings.login_account_ceiling,
            ceiling_window_seconds=settings.login_ceiling_window_seconds,
        )

    def wait_after(self, failures: int) -> dt.timedelta | None:
        if failures < self.free_failures:
            return None
        doubled = 2 ** min(failures - self.free_failures, 30)
        return dt.timedelta(seconds=min(self.max_delay_seconds, doubled))


async def refusal(
    session: AsyncSession, row: LoginThrottle, username: str, policy: LoginPolicy, now: dt.datetime
) -> str | None:
    """Why this attempt is refused before its password is even checked (None: go ahead)."""
    if row.blocked_until is not None and row.blocked_until > now:
        return "throttled"
    if row.last_success_at is None:  # not an address this account signed in from
        since = now - dt.timedelta(seconds=policy.ceiling_window_seconds)
        if await repository.recent_failures(session, username, since) >= policy.account_ceiling:
            return "account_ceiling"
    return None


async def record_failure(session: AsyncSession, row: LoginThrottle, policy: LoginPolicy, now: dt.datetime) -> None:
    failures = row.failures + 1
    wait = policy.wait_after(failures)
    await repository.save_throttle(
        session, row, failures=failures, last_failure_at=now, blocked_until=now + wait if wait else None
    )


async def record_success(session: AsyncSession, row: LoginThrottle, now: dt.datetime) -> None:
    await repository.save_throttle(session, row, failures=0, blocked_until=None, last_success_at=now)

"""Separation of duties (三员分立, issue 20 part 4), proved over the permission table itself: no
role holds permissions of two of the duties (account management, security administration,
audit); every duty has a role; the demo logins follow it (one login per duty)."""

from __future__ import annotations

import pytest

from doorstep_shared.auth.permissions import (
    ACCOUNT_DUTY,
    AUDIT_DUTY,
    DUTIES,
    ROLE_PERMISSIONS,
    SECURITY_DUTY,
    Permission,
    Role,
    permissions_for_roles,
)
from doorstep_shared.staff_roster import demo_staff_file, read_staff_file


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_no_role_holds_two_duties(role: Role) -> None:
    held = [duty for duty, permissions in DUTIES.items() if ROLE_PERMISSIONS[role] & permissions]
    assert len(held) <= 1, f"{role} holds {held}"


def test_no_role_both_manages_accounts_or_permissions_and_reads_the_audit_trail() -> None:
    managing = ACCOUNT_DUTY | SECURITY_DUTY  # staff roles, and the scopes machine clients get
    for role, permissions in ROLE_PERMISSIONS.items():
        assert not (permissions & managing and permissions & AUDIT_DUTY), role


def test_each_duty_has_its_own_role() -> None:
    assert Permission.STAFF_MANAGE in ROLE_PERMISSIONS[Role.COUNTY_ADMIN]
    assert ROLE_PERMISSIONS[Role.SECURITY_OFFICER] & SECURITY_DUTY == SECURITY_DUTY
    assert ROLE_PERMISSIONS[Role.AUDITOR] & AUDIT_DUTY == AUDIT_DUTY
    # The security officer reads nobody's personal data and manages no staff.
    assert not {p for p in ROLE_PERMISSIONS[Role.SECURITY_OFFICER] if p.startswith(("residents", "cases", "staff"))}


def test_the_duties_cover_every_permission_that_grants_or_audits() -> None:
    """A new permission that manages accounts, clients or audit must join a duty (or this fails)."""
    sensitive = {p for p in Permission if p.value.split(":")[0] in {"staff", "users", "clients", "audit"}}
    covered = ACCOUNT_DUTY | SECURITY_DUTY | AUDIT_DUTY
    # Reading who works where is no duty: users:read (staff names for assignment) and staff:roster
    # (the services' copy of the field staff; held by no role, only by service identities).
    assert sensitive <= covered | {Permission.USERS_READ, Permission.STAFF_ROSTER}, sensitive - covered


def test_the_demo_logins_follow_it() -> None:
    by_duty: dict[str, list[str]] = {duty: [] for duty in DUTIES}
    logins = [row for row in read_staff_file(demo_staff_file()) if row["login"]]
    for row in logins:
        username, roles = row["username"], row["roles"]
        held = permissions_for_roles(frozenset(roles))
        duties = [duty for duty, permissions in DUTIES.items() if held & permissions]
        assert len(duties) <= 1, (username, duties)
        for duty in duties:
            by_duty[duty].append(username)
    assert "county.security" in by_duty["security administration"]
    assert "county.auditor" in by_duty["audit"] and "county.admin" in by_duty["account management"]

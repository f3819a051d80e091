"""Who may do what: the one table a security reviewer reads.

Users hold roles; each role grants permissions. Machine clients hold scopes, which are
permissions of the same names granted one by one. Every route declares the permission it
needs (``require(Permission.X)``); tenancy (which community's records) is separate and is
enforced where queries are built.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    COUNTY_ADMIN = "county_admin"
    COMMUNITY_ADMIN = "community_admin"
    SOCIAL_WORKER = "social_worker"
    STATION_KEEPER = "station_keeper"
    AUDITOR = "auditor"
    # Security administration (三员分立's 安全管理员): the machine-client registry and its keys;
    # manages no staff account and reads no audit log, no resident.
    SECURITY_OFFICER = "security_officer"
    # Runs the deployment: creates counties and their first admins; reads no residents.
    PLATFORM_ADMIN = "platform_admin"


class Permission(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    TIPS_WRITE = "tips:write"
    BRIEFINGS_WRITE = "briefings:write"
    COMPOUNDS_READ = "compounds:read"
    COMPOUNDS_WRITE = "compounds:write"
    RESIDENTS_READ = "residents:read"
    RESIDENTS_WRITE = "residents:write"
    RESIDENTS_REVEAL = "residents:reveal"
    RESIDENTS_IMPORT = "residents:import"
    WORKERS_READ = "workers:read"
    WORKERS_WRITE = "workers:write"
    DEMANDS_READ = "demands:read"
    DEMANDS_WRITE = "demands:write"
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    # A machine client's explicit grant to read every case, visit and demand of its communities,
    # not only those that came from its own demands (granted by the security officer, audited).
    CASES_READ_ALL = "cases:read:all"
    LEADS_READ = "leads:read"
    LEADS_WRITE = "leads:write"
    DISCOVERY_RUN = "discovery:run"
    STATIONS_READ = "stations:read"
    STATIONS_MANAGE = "stations:manage"
    BOOKINGS_READ = "bookings:read"
    BOOKINGS_WRITE = "bookings:write"
    TICKETS_READ = "tickets:read"
    TICKETS_WRITE = "tickets:write"
    FIGURES_READ = "figures:read"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    CLIENTS_MANAGE = "clients:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"
    AUDIT_READ = "audit:read"
    SYNC_READ = "sync:read"
    # Staff accounts (create, change, deactivate, reset) within the caller's scope: the county's
    # for a county admin, the community's for a community admin, county admins for the platform.
    STAFF_MANAGE = "staff:manage"
    DIRECTORY_MANAGE = "directory:manage"
    # The gateway's staff roster export: granted to the services only (SERVICE_GRANTS), never to
    # a role or a machine client; the proxy's workers and the stations' keepers follow it.
    STAFF_ROSTER = "staff:roster"


P = Permission

_STAFF_READ = {
    P.CATALOG_READ,
    P.STATIONS_READ,
    P.COMPOUNDS_READ,
    P.WORKERS_READ,
    P.FIGURES_READ,
}

_WORKER = _STAFF_READ | {
    P.TIPS_WRITE,
    P.RESIDENTS_READ,
    P.RESIDENTS_WRITE,
    P.RESIDENTS_REVEAL,
    P.DEMANDS_READ,
    P.DEMANDS_WRITE,
    P.CASES_READ,
    P.CASES_WRITE,
    P.LEADS_READ,
    P.LEADS_WRITE,
    P.SYNC_READ,
    P.BOOKINGS_READ,
    P.BOOKINGS_WRITE,
    P.TICKETS_READ,
}

_KEEPER = _STAFF_READ | {
    P.TIPS_WRITE,
    P.STATIONS_MANAGE,
    P.BOOKINGS_READ,
    P.BOOKINGS_WRITE,
    P.TICKETS_READ,
    P.TICKETS_WRITE,
}

_COMMUNITY_ADMIN = (
    _WORKER
    | _KEEPER
    | {
        P.CATALOG_WRITE,
        P.BRIEFINGS_WRITE,
        P.COMPOUNDS_WRITE,
        P.RESIDENTS_IMPORT,
        P.WORKERS_WRITE,
        P.DISCOVERY_RUN,
        P.USERS_READ,
        P.STAFF_MANAGE,
    }
)

# The account manager (三员分立's 系统管理员): staff accounts and the county's data, not the client
# registry (the security officer's) and not the audit log (the auditor's).
_COUNTY_ADMIN = _COMMUNITY_ADMIN | {P.USERS_MANAGE, P.WEBHOOKS_MANAGE, P.DIRECTORY_MANAGE}

_SECURITY_OFFICER = {P.CLIENTS_MANAGE}

_AUDITOR = _STAFF_READ | {
    P.RESIDENTS_READ,
    P.DEMANDS_READ,
    P.CASES_READ,
    P.LEADS_READ,
    P.BOOKINGS_READ,
    P.TICKETS_READ,
    P.USERS_READ,
    P.AUDIT_READ,
}

# Counties and their admins, nothing inside a county: no residents, cases, figures or audit log.
_PLATFORM_ADMIN = {P.STAFF_MANAGE, P.DIRECTORY_MANAGE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.COUNTY_ADMIN: frozenset(_COUNTY_ADMIN),
    Role.COMMUNITY_ADMIN: frozenset(_COMMUNITY_ADMIN),
    Role.SOCIAL_WORKER: frozenset(_WORKER),
    Role.STATION_KEEPER: frozenset(_KEEPER),
    Role.AUDITOR: frozenset(_AUDITOR),
    Role.PLATFORM_ADMIN: frozenset(_PLATFORM_ADMIN),
    Role.SECURITY_OFFICER: frozenset(_SECURITY_OFFICER),
}

# Separation of duties (三员分立, GB/T 22239-2019 level 3): no role holds permissions from more than
# one of these duties (tests/shared/auth/test_separation_of_duties.py proves it over the table).
ACCOUNT_DUTY = frozenset({P.STAFF_MANAGE, P.USERS_MANAGE})  # accounts and their roles
SECURITY_DUTY = frozenset({P.CLIENTS_MANAGE})  # machine clients, their scopes and keys
AUDIT_DUTY = frozenset({P.AUDIT_READ})  # the audit trail as a whole (nobody may alter it)
DUTIES = {"account management": ACCOUNT_DUTY, "security administration": SECURITY_DUTY, "audit": AUDIT_DUTY}

# Roles whose holders see every community (the county level).
COUNTY_ROLES = frozenset({Role.COUNTY_ADMIN, Role.AUDITOR, Role.SECURITY_OFFICER})

# Scopes a machine client may be granted (the narrow set third-party platforms need).
CLIENT_SCOPES = frozenset(
    {
        P.CATALOG_READ,
        P.STATIONS_READ,
        P.DEMANDS_WRITE,
        P.DEMANDS_READ,
        P.CASES_READ,
        P.CASES_READ_ALL,
        P.FIGURES_READ,
    }
)


def permissions_for_roles(roles: frozenset[str]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        try:
            granted |= ROLE_PERMISSIONS[Role(role)]
        except ValueError:
            continue
    return frozenset(granted)

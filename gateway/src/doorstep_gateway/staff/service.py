"""Staff rules: who manages whose account, which roles they may grant, one-time activation codes,
deactivation that ends every login at once; every change in the gateway's audit log.

Scopes: the platform admin manages county admins of any county and nothing else; a county admin
every account of their county (but no platform admin); a community admin the accounts of their
community that hold no county role. An account outside the caller's scope answers 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.permissions import COUNTY_ROLES, Role
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.http.errors import Conflict, Forbidden, Invalid, NotFound
from doorstep_shared.pii import PiiCipher, mask_phone, normalize_phone, phone_ok
from doorstep_shared.staff_roster import StaffRecord, StaffRoster

from ..db import audit
from ..directory import service as directory
from ..identity import activation
from ..identity import service as identity
from ..identity.models import LoginSession, User
from . import repository
from .schemas import StaffCreate, StaffFilter, StaffScope, StaffUpdate

# Never a valid hash: an account waiting for activation has no password anyone can sign in with.
UNUSABLE_PASSWORD = "!unusable"  # noqa: S105
PHONE_CONTEXT = "staff.phone"  # associated data of every stored staff phone ciphertext
COMMUNITY_GRANTABLE = frozenset({Role.COMMUNITY_ADMIN, Role.SOCIAL_WORKER, Role.STATION_KEEPER})
_NOBODY = "\x00"  # a community admin without a community manages nobody


def scope_of(principal: Principal) -> StaffScope:
    if Role.PLATFORM_ADMIN in principal.roles:
        return StaffScope(county=None, county_admins_only=True)
    if Role.COUNTY_ADMIN in principal.roles:
        return StaffScope(county=principal.county)
    if Role.COMMUNITY_ADMIN in principal.roles:
        return StaffScope(county=principal.county, community=principal.community or _NOBODY)
    raise Forbidden("Only platform, county and community admins manage staff accounts.")


def _in_scope(scope: StaffScope, user: User) -> bool:
    if scope.county_admins_only:
        return Role.COUNTY_ADMIN in user.roles
    if Role.PLATFORM_ADMIN in user.roles or user.county != scope.county:
        return False
    if scope.community is not None:
        return user.community == scope.community and not set(user.roles) & COUNTY_ROLES
    return True


def _grantable(scope: StaffScope) -> frozenset[str]:
    if scope.county_admins_only:
        return frozenset({Role.COUNTY_ADMIN})
    if scope.community is not None:
        return COMMUNITY_GRANTABLE
    return frozenset(Role) - {Role.PLATFORM_ADMIN}


def _forbidden(field: str, message: str) -> Forbidden:
    return Forbidden(f"{field}: {message}", code="outside_scope", errors=[{"field": field, "message": message}])


def _check_roles(scope: StaffScope, roles: list[str], community: str | None) -> None:
    refused = sorted(set(roles) - _grantable(scope))
    if refused:
        raise _forbidden("body.roles", f"you may not grant {', '.join(refused)}")
    if community is None and set(roles) - COUNTY_ROLES - {Role.PLATFORM_ADMIN}:
        raise Invalid.field("body.community", "required for community roles")


async def check_placement(session: AsyncSession, county: str | None, community: str | None, grid: str | None) -> None:
    """The one check of a placement against the org directory: the community exists, is active
    and is the county's (a community stored before counties were data has none: it belongs to
    the deployment's one county), and the grid is one of its."""
    if community is None:
        if grid is not None:
            raise Invalid.field("body.grid", "a grid needs a community")
        return
    found = await _directory_record(session, "communities", community)
    if found is None or (found.active_to is not None and found.active_to <= utcnow()):
        raise Invalid.field("body.community", f"unknown community {community!r}")
    if county is not None and found.county and found.county != county:
        raise Invalid.field("body.community", f"{community!r} is not a community of county {county!r}")
    if grid is not None:
        cell = await _directory_record(session, "grids", grid)
        if cell is None or cell.community != community:
            raise Invalid.field("body.grid", f"{grid!r} is not a grid of {community!r}")


async def _directory_record(session: AsyncSession, kind: str, code: str) -> Any:
    try:
        return await directory.record(session, kind, code)
    except NotFound:
        return None


def _store_phone(user: User, cipher: PiiCipher, phone: str | None) -> None:
    if phone is None:
        user.phone_cipher = user.phone_masked = None
        return
    normalised = normalize_phone(phone)
    if not phone_ok(normalised):
        raise Invalid.field("body.phone", "not a valid mainland mobile or landline number")
    user.phone_cipher = cipher.encrypt(normalised, context=PHONE_CONTEXT)
    user.phone_masked = mask_phone(normalised)


def _new_code(user: User) -> str:
    code = activation.new_code()
    user.password_hash = UNUSABLE_PASSWORD
    user.password_set = False
    user.activation_code_hash = activation.code_hash(code)
    user.activation_expires_at = utcnow() + activation.LIFETIME
    return code


async def _record(session: AsyncSession, principal: Principal, action: str, user: User, **details: Any) -> None:
    await audit.record(session, principal, action, "user", user.username, community=user.community, **details)


async def create(session: AsyncSession, principal: Principal, cipher: PiiCipher, body: StaffCreate) -> tuple[User, str]:
    """A new account, unusable until its holder activates it with the code returned (shown once)."""
    scope = scope_of(principal)
    county: str | None
    if scope.county_admins_only:
        if body.county is None:
            raise Invalid.field("body.county", "required: the county the new county admin runs")
        if body.community or body.grid or body.stations:
            raise Invalid.field("body.community", "a county admin belongs to no community, grid or station")
        county = body.county
    else:
        if body.county is not None and body.county != scope.county:
            raise _forbidden("body.county", "you manage the staff of your own county only")
        county = scope.county
    community = body.community
    if scope.community is not None:
        if community is not None and community != scope.community:
            raise _forbidden("body.community", "you manage the staff of your own community only")
        community = scope.community
    _check_roles(scope, body.roles, community)
    await check_placement(session, county, community, body.grid)
    if await repository.by_username(session, body.username) is not None:
        raise Conflict(f"body.username: {body.username!r} is taken.", code="username_taken")
    user = User(
        username=body.username,
        display_name=body.display_name,
        password_hash=UNUSABLE_PASSWORD,
        roles=body.roles,
        county=county,
        community=community,
        grid=body.grid,
        stations=sorted(set(body.stations)),
    )
    _store_phone(user, cipher, body.phone)
    code = _new_code(user)
    await repository.add(session, user)
    await _record(
        session,
        principal,
        "staff.created",
        user,
        roles=user.roles,
        county=county,
        grid=user.grid,
        stations=user.stations,
    )
    return user, code


async def listed(
    session: AsyncSession, principal: Principal, where: StaffFilter, *, after: str | None, limit: int
) -> list[User]:
    scope = scope_of(principal)
    return list(await repository.listed(session, scope, where, after=after, limit=limit))


async def _managed(session: AsyncSession, principal: Principal, username: str) -> tuple[StaffScope, User]:
    scope = scope_of(principal)
    user = await repository.by_username(session, username, for_update=True)
    if user is None or not _in_scope(scope, user):
        raise NotFound(f"No staff account {username!r}.")
    return scope, user


async def get(session: AsyncSession, principal: Principal, username: str) -> User:
    return (await _managed(session, principal, username))[1]


async def update(session: AsyncSession, principal: Principal, username: str, body: StaffUpdate) -> User:
    """Roles, grid, stations, display name; new roles reach tokens at the next refresh."""
    scope, user = await _managed(session, principal, username)
    changed: dict[str, Any] = {}
    given = body.model_fields_set
    if "roles" in given and body.roles is not None:
        _check_roles(scope, body.roles, user.community)
        changed["roles"] = user.roles = body.roles
    if "grid" in given:
        await check_placement(session, user.county, user.community, body.grid)
        changed["grid"] = user.grid = body.grid
    if "stations" in given and body.stations is not None:
        changed["stations"] = user.stations = sorted(set(body.stations))
    if "display_name" in given and body.display_name is not None:
        user.display_name = body.display_name
        changed["display_name"] = True  # the name itself stays out of the log
    await repository.add(session, user)
    await _record(session, principal, "staff.updated", user, **changed)
    return user


async def deactivate(session: AsyncSession, principal: Principal, username: str) -> User:
    """No sign-in and no refresh from now on; access tokens already out expire on their own."""
    _, user = await _managed(session, principal, username)
    if user.username == principal.subject:
        raise Conflict("You cannot deactivate your own account.", code="own_account")
    user.active = False
    user.activation_code_hash = None
    user.activation_expires_at = None
    await repository.add(session, user)
    revoked = await identity.end_every_login(session, user.username)
    await _record(session, principal, "staff.deactivated", user, refresh_tokens_revoked=revoked)
    return user


async def reactivate(session: AsyncSession, principal: Principal, username: str) -> User:
    _, user = await _managed(session, principal, username)
    user.active = True
    user.last_active_at = utcnow()  # not locked again at once as dormant
    await repository.add(session, user)
    await _record(session, principal, "staff.reactivated", user)
    return user


async def reset(session: AsyncSession, principal: Principal, username: str) -> tuple[User, str]:
    """A new one-time code; the old password stops working now and every login ends."""
    _, user = await _managed(session, principal, username)
    if not user.active:
        raise Conflict("Reactivate the account before resetting it.", code="account_inactive")
    code = _new_code(user)
    await repository.add(session, user)
    revoked = await identity.end_every_login(session, user.username)
    await _record(session, principal, "staff.reset", user, refresh_tokens_revoked=revoked)
    return user, code


async def roster(session: AsyncSession) -> StaffRoster:
    """The staff roster the services follow (``doorstep_shared.staff_roster``): every field-role
    account of every county, identity attributes only."""
    return StaffRoster.of(
        StaffRecord(
            username=u.username,
            display_name=u.display_name,
            roles=tuple(sorted(u.roles)),
            county=u.county,
            community=u.community,
            grid=u.grid,
            stations=tuple(sorted(u.stations or ())),
            active=u.active,
        )
        for u in await repository.field_staff(session)
    )


async def sessions(session: AsyncSession, principal: Principal, username: str) -> Sequence[LoginSession]:
    """The live sessions of an account in the caller's scope (404 outside it)."""
    _, user = await _managed(session, principal, username)
    return await identity.sessions_of(session, user.username)


async def end_session(session: AsyncSession, principal: Principal, username: str, session_id: str) -> None:
    """Ends one session of an account in the caller's scope (a lost phone): its next refresh
    fails at once; its access token lives to its expiry (``access_token_ttl``, 15 minutes)."""
    _, user = await _managed(session, principal, username)
    await identity.end_session(session, principal, user.username, session_id, community=user.community)

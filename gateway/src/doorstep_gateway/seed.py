"""Demo directory (hexian.csv, imported like any county's file) and staff (hexian-staff.csv:
the logins, the other grid workers and the station keepers the services follow), idempotent.
Staff names are invented.

It stays at the package's top: the launcher (``doorstep_tools.launcher``) and the fuzz harness
find every app's demo data as ``<package>.seed``.
"""

from __future__ import annotations

from importlib import resources

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.directory import decode, read_csv
from doorstep_shared.staff_roster import demo_staff_file, read_staff_file

from . import passwords
from .clients.models import ApiClient
from .config import DEFAULT_DEMO_PASSWORD, get_settings
from .directory import service as directory
from .directory.snapshot import DirectoryCopy
from .identity.models import User
from .passwords import hash_password
from .staff.service import UNUSABLE_PASSWORD

PLATFORM_ROLES = {"platform_admin"}

DEMO_CLIENT = (
    "demo.platform",
    "12345热线（演示平台）",
    ["catalog:read", "stations:read", "demands:write", "demands:read", "cases:read"],
    ["chaoyang", "zhenhuai"],
)


async def seed(session: AsyncSession) -> None:
    settings = get_settings()
    passwords.configure(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        workers=settings.argon2_workers,
    )
    if settings.is_production and settings.demo_password == DEFAULT_DEMO_PASSWORD:
        raise RuntimeError("Refusing to create demo logins with the default password in production")
    # The demo county's directory is a data file, imported through the same code as any county's.
    data = resources.files("doorstep_shared.directory").joinpath("hexian.csv").read_bytes()
    await directory.import_file(
        session, DirectoryCopy(), None, data, "hexian.csv", dry_run=False, max_rows=100_000, source="seed"
    )
    # Its staff belong to the county the file names (data, not code).
    county_code = read_csv(decode(data))[0]["county_code"]
    existing = {u.username: u for u in (await session.exec(select(User))).all()}
    password_hash = None
    # Logins sign in with the demo password; the other staff records (grid workers, station
    # keepers) have none: they exist so the proxy's roster and the stations' keepers follow them.
    for row in read_staff_file(demo_staff_file()):
        username, roles = row["username"], row["roles"]
        # The demo county's staff belong to it (the county comes from the directory data, not
        # from a migration); rows made before counties were data gain it here.
        county = None if PLATFORM_ROLES & set(roles) else county_code
        found = existing.get(username)
        if found is not None:
            if found.county is None and county is not None:
                found.county = county
                session.add(found)
            if not found.stations and row["stations"]:  # a keeper seeded before keepers followed staff
                found.stations = row["stations"]
                session.add(found)
            continue
        if row["login"] and password_hash is None:
            password_hash = await hash_password(settings.demo_password)
        session.add(
            User(
                username=username,
                display_name=row["display_name"],
                password_hash=password_hash if row["login"] and password_hash else UNUSABLE_PASSWORD,
                password_set=row["login"],
                roles=roles,
                county=county,
                community=row["community"],
                grid=row["grid"],
                stations=row["stations"],
            )
        )
    # The services' own identities are not clients: they are keys from the deployment
    # (doorstep_shared.auth.service_keys), so the demo seeds none.
    for client_id, name, scopes, communities in (DEMO_CLIENT,):
        if await session.get(ApiClient, client_id) is not None:
            continue
        session.add(
            ApiClient(
                client_id=client_id,
                name=name,
                secret_hash=await hash_password(settings.demo_password),
                scopes=scopes,
                communities=communities,
            )
        )

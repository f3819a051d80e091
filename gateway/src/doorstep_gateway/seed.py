"""Demo directory (hexian.csv, imported like any county's file) and logins (idempotent). Staff names are invented.

It stays at the package's top: the launcher (``doorstep_tools.launcher``) and the fuzz harness
find every app's demo data as ``<package>.seed``.
"""

from __future__ import annotations

from importlib import resources

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.directory import decode, read_csv

from . import passwords
from .clients.models import ApiClient
from .config import DEFAULT_DEMO_PASSWORD, get_settings
from .directory import service as directory
from .directory.snapshot import DirectoryCopy
from .identity.models import User
from .passwords import hash_password

# username, display name (invented), roles, community, grid
DEMO_USERS = [
    ("county.admin", "县级管理员", ["county_admin"], None, None),
    ("zhenhuai.admin", "镇淮社区管理员", ["community_admin"], "zhenhuai", None),
    ("chaoyang.admin", "朝阳社区管理员", ["community_admin"], "chaoyang", None),
    ("zhenhuai.worker", "李明远", ["social_worker"], "zhenhuai", "zhenhuai-g7"),
    ("chaoyang.worker", "陈雨欣", ["social_worker"], "chaoyang", "chaoyang-g6"),
    ("shuxiang.keeper", "周慧芳", ["station_keeper"], "chaoyang", "chaoyang-g3"),
    ("county.auditor", "县级审计员", ["auditor"], None, None),
    # Separation of duties: the machine-client registry is the security officer's, not the county admin's.
    ("county.security", "县级安全管理员", ["security_officer"], None, None),
    # Runs the deployment: counties and their first admins; belongs to no county, reads no residents.
    ("platform.admin", "平台管理员", ["platform_admin"], None, None),
]
PLATFORM_ROLES = {"platform_admin"}

DEMO_CLIENT = (
    "demo.platform",
    "12345热线（演示平台）",
    ["catalog:read", "stations:read", "demands:write", "demands:read", "cases:read"],
    ["chaoyang", "zhenhuai"],
)


async def seed(session: AsyncSession) -> None:
    settings = get_settings()
    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
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
    for username, display, roles, community, grid in DEMO_USERS:
        # The demo county's staff belong to it (the county comes from the directory data, not
        # from a migration); rows made before counties were data gain it here.
        county = None if PLATFORM_ROLES & set(roles) else county_code
        if username in existing:
            if existing[username].county is None and county is not None:
                existing[username].county = county
                session.add(existing[username])
            continue
        password_hash = password_hash or hash_password(settings.demo_password)
        session.add(
            User(
                username=username,
                display_name=display,
                password_hash=password_hash,
                roles=roles,
                county=county,
                community=community,
                grid=grid,
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
                secret_hash=hash_password(settings.demo_password),
                scopes=scopes,
                communities=communities,
            )
        )

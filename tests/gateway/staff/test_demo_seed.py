"""The demo seed: 和县's staff carry its county (from the directory data), rows made before
counties were data gain it, and platform.admin belongs to no county."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from doorstep_gateway.seed import seed
from doorstep_shared.directory.files import demo_directory_file
from doorstep_shared.directory_copy import read_directory_file

from .support import bearer

DEMO_COUNTY = read_directory_file(demo_directory_file()).counties[0].code


async def test_the_seed_gives_older_rows_the_demo_county_and_platform_admin_none(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    async with gateway_app.state.sessionmaker() as session:
        await session.execute(text("UPDATE user_account SET county = NULL WHERE username = 'chaoyang.worker'"))
        await session.commit()
        await seed(session)
        await session.commit()
        counties = dict((await session.execute(text("SELECT username, county FROM user_account"))).all())
    assert counties.pop("platform.admin") is None
    assert set(counties.values()) == {DEMO_COUNTY}
    me = (await gateway.get("/api/v1/auth/me", headers=await bearer(gateway, "chaoyang.worker"))).json()
    assert me["county"] == DEMO_COUNTY

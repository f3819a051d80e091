"""The change counter's first number: two writers that both find no counter row yet (the app's
own start-up stamp and a first request, say) both get a number, one after the other."""

from __future__ import annotations

import asyncio

import httpx

from doorstep_proxy.versions import next_row_versions, sequence_value, set_sequence_value

from .helpers import app_of


async def test_two_first_writers_of_a_counter_both_get_a_number(proxy: httpx.AsyncClient) -> None:
    app = app_of(proxy)
    holding = asyncio.Event()

    async def first() -> int:  # makes the counter's row and holds it uncommitted a moment
        async with app.state.sessionmaker() as session:
            number = await next_row_versions(session, name="race")
            holding.set()
            await asyncio.sleep(0.2)
            await session.commit()
            return number

    async def second() -> int:  # finds no committed row yet (PostgreSQL), so makes it too
        await holding.wait()
        async with app.state.sessionmaker() as session:
            number = await next_row_versions(session, name="race")
            await session.commit()
            return number

    assert await asyncio.gather(first(), second()) == [1, 2]
    async with app.state.sessionmaker() as session:
        assert await sequence_value(session, "race") == 2
        await set_sequence_value(session, "race", 40)
        await set_sequence_value(session, "fresh", 7)
        await session.commit()
        assert (await sequence_value(session, "race"), await sequence_value(session, "fresh")) == (40, 7)

"""Tips are moderated per county: a county admin hides and sees the hidden tips of its own
county's communities; another county's tip is absent to it (404), as another community's is
to a community admin."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from ...support import Tokens
from ...tenancy_support import COUNTY, SECOND_COUNTY, county_caller, second_county

ITEMS = "/api/v1/catalog/items"


async def test_a_county_admin_moderates_the_tips_of_its_own_county_only(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, worker: dict[str, str], tokens: Tokens
) -> None:
    await catalog_app.state.directory.refresh()
    with second_county(catalog_app.state.directory):
        ours, theirs = county_caller(tokens, COUNTY), county_caller(tokens, SECOND_COUNTY)
        tip = (await seeded.post(f"{ITEMS}/dibao/tips", json={"body": "朝阳内部备注"}, headers=worker)).json()
        hide = f"/api/v1/catalog/tips/{tip['id']}/hide"
        assert (await seeded.post(hide, json={"reason": "x"}, headers=theirs)).status_code == 404
        assert (await seeded.post(hide, json={"reason": "x"}, headers=ours)).status_code == 200

        def bodies(resp: httpx.Response) -> set[str]:
            assert resp.status_code == 200, resp.text
            return {t["body"] for t in resp.json()["items"]}

        hidden = {"include_hidden": "true"}
        assert "朝阳内部备注" in bodies(await seeded.get(f"{ITEMS}/dibao/tips", params=hidden, headers=ours))
        # The item itself is the other county's handbook's: absent to them, its tips with it.
        theirs_listed = await seeded.get(f"{ITEMS}/dibao/tips", params=hidden, headers=theirs)
        assert theirs_listed.status_code == 404 and "朝阳内部备注" not in theirs_listed.text

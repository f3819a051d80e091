"""A visit's files (issue 22, part 1: "a case's materials (and a visit) take attachments"): the
same resumable upload as a material's files, checked by content, EXIF stripped, sealed, audited
downloads, tenancy, gone with the visit and with its resident under the retention rule."""

from __future__ import annotations

import io
import random
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select

from doorstep_proxy.files.models import VisitFile, VisitFilePart
from doorstep_shared.clock import local_today

from ...support import Tokens
from ..cases.helpers import grid_worker, new_case
from ..helpers import BASE, app_of, auditor, create, worker
from ..test_audit_chain import entries
from .uploads import GPS_IFD, erase_resident, photo_with_gps, resumable_upload, scan_pdf, start, upload, visit_files_url


async def _visit(client: httpx.AsyncClient, tokens: Tokens, resident: dict[str, Any] | None = None) -> dict[str, Any]:
    resident = resident or await create(client, worker(tokens))
    case = await new_case(client, worker(tokens), resident["id"], channel="doorstep")
    resp = await client.post(
        f"{BASE}/visits",
        json={"case_ids": [case["id"]], "planned_date": local_today().isoformat()},
        headers=worker(tokens),
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def _count(app: FastAPI, model: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_visits_photo_over_a_bad_link_keeps_its_pixels_and_loses_its_gps(
    files: httpx.AsyncClient, tokens: Tokens
) -> None:
    visit = await _visit(files, tokens)
    base = visit_files_url(visit["id"])
    data = photo_with_gps()
    resp, counts = await resumable_upload(files, worker(tokens), "", data, random.Random(5), base=base)
    assert counts["cut"] >= 1
    got = resp.json()
    assert resp.status_code == 200 and got["status"] == "ready" and got["visit_id"] == visit["id"]
    assert got["content_type"] == "image/jpeg" and got["uploaded_by"] == "chaoyang.worker"
    body = await files.get(got["content_url"], headers=worker(tokens))
    assert body.status_code == 200 and body.headers["cache-control"] == "no-store"
    stored = Image.open(io.BytesIO(body.content))
    assert stored.tobytes() == Image.open(io.BytesIO(data)).tobytes()
    assert not stored.getexif().get_ifd(GPS_IFD)
    thumb = await files.get(got["thumbnail_url"], headers=worker(tokens))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    listed = (await files.get(base, headers=worker(tokens))).json()
    assert [f["id"] for f in listed] == [got["id"]]
    # after check-out a visit still takes files (sent once the signal is back)
    h = worker(tokens)
    assert (await files.post(f"{BASE}/visits/{visit['id']}/check-in", json={}, headers=h)).status_code == 200
    out = await files.post(f"{BASE}/visits/{visit['id']}/check-out", json={"outcome": "done"}, headers=h)
    assert out.status_code == 200, out.text
    late = await upload(files, h, "", scan_pdf(30_000), base=base)
    assert late.status_code == 200 and late.json()["content_type"] == "application/pdf"
    assert len((await files.get(base, headers=h)).json()) == 2


async def test_a_visits_file_is_judged_by_its_content_and_resumes_from_the_servers_offset(
    files: httpx.AsyncClient, tokens: Tokens
) -> None:
    visit = await _visit(files, tokens)
    base = visit_files_url(visit["id"])
    data = b"PK\x03\x04" + bytes(2000)  # a ZIP named photo.jpg
    f = await start(files, worker(tokens), "", len(data), base=base)
    url = f"{base}/{f['id']}"
    half = await files.put(
        url, content=data[:1000], headers={**worker(tokens), "Content-Range": f"bytes 0-999/{len(data)}"}
    )
    assert half.status_code == 202 and half.headers["upload-offset"] == "1000"
    gap = await files.put(
        url, content=data[1500:], headers={**worker(tokens), "Content-Range": f"bytes 1500-2003/{len(data)}"}
    )
    assert gap.status_code == 409 and gap.json()["code"] == "upload_gap" and gap.json()["received"] == 1000
    refused = await files.put(
        url, content=data[1000:], headers={**worker(tokens), "Content-Range": f"bytes 1000-2003/{len(data)}"}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "file_type_refused", refused.text
    assert (await files.get(url, headers=worker(tokens))).status_code == 404
    assert await _count(app_of(files), VisitFilePart) == 0


async def test_another_communitys_worker_gets_404_on_every_visit_file_route(
    files: httpx.AsyncClient, tokens: Tokens
) -> None:
    visit = await _visit(files, tokens)
    base = visit_files_url(visit["id"])
    got = (await upload(files, worker(tokens), "", photo_with_gps(), base=base)).json()
    other = worker(tokens, "zhenhuai")
    url = f"{base}/{got['id']}"
    for resp in (
        await files.get(url, headers=other),
        await files.get(got["content_url"], headers=other),
        await files.get(got["thumbnail_url"], headers=other),
        await files.get(base, headers=other),
        await files.put(url, content=b"x", headers={**other, "Content-Range": "bytes 0-0/1"}),
        await files.post(base, json={"size": 10}, headers=other),
        await files.delete(url, headers=other),
    ):
        assert resp.status_code == 404, resp.text
    # a file id of one visit is not found under another
    elsewhere = await _visit(files, tokens)
    assert (
        await files.get(f"{visit_files_url(elsewhere['id'])}/{got['id']}", headers=worker(tokens))
    ).status_code == 404
    assert (await files.get(got["content_url"], headers=grid_worker(tokens, 3))).status_code == 200


async def test_every_download_of_a_visits_file_is_in_the_audit_log(files: httpx.AsyncClient, tokens: Tokens) -> None:
    visit = await _visit(files, tokens)
    got = (await upload(files, worker(tokens), "", photo_with_gps(), base=visit_files_url(visit["id"]))).json()
    assert (await files.get(got["content_url"], headers=worker(tokens))).status_code == 200
    assert (await files.get(got["thumbnail_url"], headers=worker(tokens))).status_code == 200
    logged = [e for e in await entries(files, tokens) if e["subject_type"] == "visit_file"]
    assert sorted(e["action"] for e in logged) == ["visit_file.content_read", "visit_file.thumbnail_read"]
    assert all(e["subject_id"] == got["id"] and e["actor"] == "chaoyang.worker" for e in logged)
    assert (await files.get(f"{BASE}/audit/verify", headers=auditor(tokens))).json()["ok"] is True


async def test_a_visits_files_go_with_the_visit_and_with_the_resident(
    files: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens
) -> None:
    planned = await _visit(files, tokens)
    await upload(files, worker(tokens), "", scan_pdf(20_000), base=visit_files_url(planned["id"]))
    assert (await files.delete(f"{BASE}/visits/{planned['id']}", headers=worker(tokens))).status_code == 204
    assert await _count(proxy_app, VisitFile) == 0 and await _count(proxy_app, VisitFilePart) == 0

    gone = await create(files, worker(tokens))
    visit = await _visit(files, tokens, gone)
    await upload(files, worker(tokens), "", photo_with_gps(), base=visit_files_url(visit["id"]))
    await start(files, worker(tokens), "", 5000, base=visit_files_url(visit["id"]))  # abandoned
    kept = await _visit(files, tokens, await create(files, worker(tokens), name="韩素梅"))
    kept_file = (await upload(files, worker(tokens), "", scan_pdf(), base=visit_files_url(kept["id"]))).json()
    assert (await erase_resident(files, proxy_app, tokens, gone["id"]))["files_deleted"] == 2
    async with proxy_app.state.sessionmaker() as session:
        left = (await session.execute(select(VisitFile.visit_id))).scalars().all()
    assert [str(v) for v in left] == [kept["id"]]
    assert (await files.get(kept_file["content_url"], headers=worker(tokens))).content == scan_pdf()


async def test_starting_again_with_the_same_client_id_returns_the_same_upload(
    files: httpx.AsyncClient, tokens: Tokens
) -> None:
    visit, elsewhere = await _visit(files, tokens), await _visit(files, tokens)
    body = {"id": str(uuid.uuid4()), "size": 4000}
    first = await files.post(visit_files_url(visit["id"]), json=body, headers=worker(tokens))
    again = await files.post(visit_files_url(visit["id"]), json=body, headers=worker(tokens))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] == body["id"]
    assert again.headers["location"].endswith(f"/visits/{visit['id']}/files/{body['id']}")
    taken = await files.post(visit_files_url(elsewhere["id"]), json=body, headers=worker(tokens))
    assert taken.status_code == 409 and taken.json()["code"] == "file_id_taken"
    other_size = await files.post(visit_files_url(visit["id"]), json={**body, "size": 5000}, headers=worker(tokens))
    assert other_size.status_code == 409
    too_big = app_of(files).state.settings.file_max_bytes + 1
    refused = await files.post(visit_files_url(visit["id"]), json={"size": too_big}, headers=worker(tokens))
    assert refused.status_code == 413 and refused.json()["code"] == "file_too_large"

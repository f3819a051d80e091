"""Material files: resumable uploads (cut anywhere, even mid-chunk), checked by content, EXIF
stripped, encrypted at rest, thumbnails, tenancy, audited downloads, the evidence rule, retention."""

from __future__ import annotations

import asyncio
import io
import os
import random
import uuid

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select

from doorstep_proxy.files.models import CaseFile, CaseFilePart
from doorstep_shared.pii import PiiCipher

from ...support import Tokens
from ..cases.helpers import grid_worker, new_case, new_resident
from ..helpers import BASE, app_of, auditor, create, worker
from ..test_audit_chain import entries
from .conftest import PHOTO_ITEM
from .uploads import (
    GPS_IFD,
    erase_resident,
    files_url,
    photo_with_gps,
    png_with_text,
    put_chunk,
    resumable_upload,
    scan_pdf,
    start,
    upload,
)


async def _case(client: httpx.AsyncClient, tokens: Tokens, item_code: str = "elderly-allowance") -> dict:
    resident = await new_resident(client, worker(tokens))
    return await new_case(client, worker(tokens), resident["id"], item_code=item_code)


async def _parts(app: FastAPI, file_id: str) -> list[CaseFilePart]:
    async with app.state.sessionmaker() as session:
        rows = await session.execute(select(CaseFilePart).where(CaseFilePart.file_id == uuid.UUID(file_id)))
        return list(rows.scalars().all())


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_scan_uploaded_over_a_bad_link_arrives_byte_for_byte(
    files: httpx.AsyncClient, tokens: Tokens, seed: int
) -> None:
    case = await _case(files, tokens)
    data = scan_pdf(120_000 + seed * 17_000, seed=seed)
    rnd = random.Random(seed)
    resp, counts = await resumable_upload(files, worker(tokens), case["id"], data, rnd)
    assert counts["cut"] >= 1 and counts["resent"] >= 1  # the link really was bad
    assert resp.status_code == 200 and resp.json()["status"] == "ready"
    got = resp.json()
    assert got["content_type"] == "application/pdf" and got["stored_size"] == len(data)
    assert got["thumbnail_url"] is None
    body = await files.get(got["content_url"], headers=worker(tokens))
    assert body.status_code == 200 and body.headers["content-type"] == "application/pdf"
    assert body.content == data
    assert body.headers["cache-control"] == "no-store"


async def test_a_photo_over_a_bad_link_keeps_its_pixels_and_loses_its_gps(
    files: httpx.AsyncClient, tokens: Tokens
) -> None:
    case = await _case(files, tokens)
    data = photo_with_gps()
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(GPS_IFD)  # the phone wrote where it was
    resp, _ = await resumable_upload(files, worker(tokens), case["id"], data, random.Random(11))
    got = resp.json()
    assert got["content_type"] == "image/jpeg" and (got["width"], got["height"]) == original.size
    stored = (await files.get(got["content_url"], headers=worker(tokens))).content
    image = Image.open(io.BytesIO(stored))
    assert image.tobytes() == original.tobytes()  # the same decoded pixels
    exif = image.getexif()
    assert not exif.get_ifd(GPS_IFD) and GPS_IFD not in exif
    assert dict(exif) == {0x0112: 6}  # only the orientation is left
    assert b"ExamplePhone" not in stored
    # nothing in the database is the photo in clear: every part is sealed with the PII key
    parts = await _parts(app_of(files), got["id"])
    assert {p.kind for p in parts} == {"content", "thumbnail"}  # the upload's raw parts are gone
    kid = app_of(files).state.pii.active_kid
    assert all(PiiCipher.key_id_of_sealed(p.data) == kid for p in parts)
    assert all(stored[:64] not in p.data and b"\xff\xd8\xff" not in p.data[:40] for p in parts)


async def test_the_thumbnail_is_a_small_upright_jpeg_without_metadata(files: httpx.AsyncClient, tokens: Tokens) -> None:
    case = await _case(files, tokens)
    got = (await upload(files, worker(tokens), case["id"], photo_with_gps(800, 600))).json()
    listed = (await files.get(f"{BASE}/cases/{case['id']}/files", headers=worker(tokens))).json()
    assert [f["id"] for f in listed] == [got["id"]] and listed[0]["thumbnail_url"] == got["thumbnail_url"]
    resp = await files.get(got["thumbnail_url"], headers=worker(tokens))
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(resp.content))
    assert thumb.size == (240, 320)  # 800×600 taken sideways (orientation 6): upright, longer edge 320
    assert not thumb.getexif()


async def test_a_png_loses_its_text_and_exif_but_not_a_pixel(files: httpx.AsyncClient, tokens: Tokens) -> None:
    case = await _case(files, tokens)
    data = png_with_text()
    got = (await upload(files, worker(tokens), case["id"], data)).json()
    assert got["content_type"] == "image/png"
    stored = (await files.get(got["content_url"], headers=worker(tokens))).content
    image = Image.open(io.BytesIO(stored))
    assert image.tobytes() == Image.open(io.BytesIO(data)).tobytes()
    assert not image.getexif() and "Comment" not in image.info
    assert b"13812345678" not in stored


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + bytes(4000),  # a zip (or .docx) named photo.jpg
        b"GIF89a" + bytes(4000),
        b"\xff\xd8\xff\xe0" + bytes(4000),  # says JPEG, is not one
        b"%PDF-1.4\n" + bytes(4000),  # a PDF cut short (no end)
    ],
    ids=["zip", "gif", "fake-jpeg", "truncated-pdf"],
)
async def test_a_file_is_judged_by_its_content_not_its_name(
    files: httpx.AsyncClient, tokens: Tokens, data: bytes
) -> None:
    case = await _case(files, tokens)
    f = await start(files, worker(tokens), case["id"], len(data))
    url = f"{files_url(case['id'])}/{f['id']}"
    resp = await files.put(
        url,
        content=data,
        headers={
            **worker(tokens),
            "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
            "Content-Type": "image/jpeg",
            "Content-Disposition": 'attachment; filename="photo.jpg"',
            "Accept-Language": "en",
        },
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] in ("file_type_refused", "file_damaged")
    # the refused upload is gone, parts and all
    assert (await files.get(url, headers=worker(tokens))).status_code == 404
    assert await _parts(app_of(files), f["id"]) == []


async def test_chunks_are_idempotent_and_gaps_and_sizes_are_refused(files: httpx.AsyncClient, tokens: Tokens) -> None:
    case = await _case(files, tokens)
    data = scan_pdf(30_000)
    h = worker(tokens)
    f = await start(files, h, case["id"], len(data), id=str(uuid.uuid4()))
    again = await files.post(files_url(case["id"]), json={"id": f["id"], "size": len(data)}, headers=h)
    assert again.status_code == 200 and again.json()["id"] == f["id"]  # a retried start
    url = f"{files_url(case['id'])}/{f['id']}"
    first = await put_chunk(files, h, url, data, 0, 10_000)
    assert first.status_code == 202 and first.headers["upload-offset"] == "10000"
    assert first.headers["range"] == "bytes=0-9999"
    assert (await put_chunk(files, h, url, data, 0, 10_000)).json()["received"] == 10_000  # no-op
    gap = await put_chunk(files, h, url, data, 20_000, 30_000)
    assert gap.status_code == 409 and gap.json()["code"] == "upload_gap" and gap.json()["received"] == 10_000
    wrong_total = await files.put(url, content=b"x", headers={**h, "Content-Range": "bytes 0-0/99"})
    assert wrong_total.status_code == 409 and wrong_total.json()["code"] == "upload_size_mismatch"
    bad = await files.put(url, content=b"x", headers={**h, "Content-Range": "10000-10000"})
    assert bad.status_code == 422 and bad.json()["code"] == "content_range_invalid"
    assert (await files.put(url, content=b"x", headers=h)).status_code == 422  # no Content-Range at all
    overlapping = await put_chunk(files, h, url, data, 5_000, len(data))  # half of it already there
    assert overlapping.status_code == 200 and overlapping.json()["status"] == "ready"
    assert (await put_chunk(files, h, url, data, 20_000, len(data))).status_code == 200  # after the end: no-op
    assert (await files.get(overlapping.json()["content_url"], headers=h)).content == data
    # the content is not ready before the last byte
    g = await start(files, h, case["id"], len(data))
    early = await files.get(f"{files_url(case['id'])}/{g['id']}/content", headers=h)
    assert early.status_code == 409 and early.json()["code"] == "upload_incomplete"


async def test_size_limit(files: httpx.AsyncClient, tokens: Tokens) -> None:
    case = await _case(files, tokens)
    limit = app_of(files).state.settings.file_max_bytes
    resp = await files.post(files_url(case["id"]), json={"size": limit + 1}, headers=worker(tokens))
    assert resp.status_code == 413 and resp.json()["code"] == "file_too_large"
    missing = await files.post(files_url(case["id"], 9), json={"size": 10}, headers=worker(tokens))
    assert missing.status_code == 404 and missing.json()["code"] == "material_not_found"


async def test_another_communitys_worker_gets_404_on_every_file_route(files: httpx.AsyncClient, tokens: Tokens) -> None:
    case = await _case(files, tokens)
    got = (await upload(files, worker(tokens), case["id"], photo_with_gps())).json()
    other = worker(tokens, "zhenhuai")
    url = f"{files_url(case['id'])}/{got['id']}"
    for resp in (
        await files.get(url, headers=other),
        await files.get(got["content_url"], headers=other),
        await files.get(got["thumbnail_url"], headers=other),
        await files.get(f"{BASE}/cases/{case['id']}/files", headers=other),
        await files.put(url, content=b"x", headers={**other, "Content-Range": "bytes 0-0/1"}),
        await files.post(files_url(case["id"]), json={"size": 10}, headers=other),
        await files.delete(url, headers=other),
    ):
        assert resp.status_code == 404, resp.text
    # the same community's worker of another grid may see the case, so the file too
    assert (await files.get(got["content_url"], headers=grid_worker(tokens, 3))).status_code == 200


async def test_every_download_is_in_the_audit_log(files: httpx.AsyncClient, tokens: Tokens) -> None:
    case = await _case(files, tokens)
    got = (await upload(files, worker(tokens), case["id"], photo_with_gps())).json()
    assert (await files.get(got["content_url"], headers=worker(tokens))).status_code == 200
    assert (await files.get(got["thumbnail_url"], headers=grid_worker(tokens, 3))).status_code == 200
    assert (await files.get(got["content_url"], headers=worker(tokens, "zhenhuai"))).status_code == 404
    logged = [e for e in await entries(files, tokens) if e["subject_type"] == "case_file"]
    assert sorted((e["action"], e["actor"]) for e in logged) == [
        ("case_file.content_read", "chaoyang.worker"),
        ("case_file.thumbnail_read", "chaoyang.g3.worker"),
    ]
    assert all(e["subject_id"] == got["id"] and e["community"] == "chaoyang" for e in logged)
    assert (await files.get(f"{BASE}/audit/verify", headers=auditor(tokens))).json()["ok"] is True


async def test_a_material_that_wants_a_photo_cannot_be_ticked_without_one(
    files: httpx.AsyncClient, tokens: Tokens
) -> None:
    case = await _case(files, tokens, item_code=PHOTO_ITEM)
    assert case["snapshot"]["materials"][0]["evidence"] == "photo"
    tick = f"{BASE}/cases/{case['id']}/materials/1"
    refused = await files.put(tick, json={"collected": "copy_taken"}, headers=worker(tokens))
    assert refused.status_code == 409 and refused.json()["code"] == "material_evidence_missing"
    # the other materials need no file; un-ticking never does
    assert (
        await files.put(
            f"{BASE}/cases/{case['id']}/materials/2", json={"collected": "copy_taken"}, headers=worker(tokens)
        )
    ).status_code == 200
    f = await start(files, worker(tokens), case["id"], 1000)  # started, not finished: still refused
    assert (await files.put(tick, json={"collected": "copy_taken"}, headers=worker(tokens))).status_code == 409
    await files.delete(f"{files_url(case['id'])}/{f['id']}", headers=worker(tokens))
    await upload(files, worker(tokens), case["id"], photo_with_gps())
    ok = await files.put(tick, json={"collected": "copy_taken"}, headers=worker(tokens))
    assert ok.status_code == 200, ok.text
    # the tick rests on the file: its last file cannot go while the material stays ticked
    only = (await files.get(f"{BASE}/cases/{case['id']}/files", headers=worker(tokens))).json()[0]
    held = await files.delete(f"{files_url(case['id'])}/{only['id']}", headers=worker(tokens))
    assert held.status_code == 409 and held.json()["code"] == "material_evidence_in_use"
    timeline = (await files.get(f"{BASE}/cases/{case['id']}/timeline", headers=worker(tokens))).json()
    assert any(e["kind"] == "file" and e["details"]["position"] == 1 for e in timeline)


async def test_retention_erases_the_files_of_an_erased_residents_cases(
    files: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens
) -> None:
    gone = await create(files, worker(tokens))
    kept = await create(files, worker(tokens), name="韩素梅")
    gone_case = await new_case(files, worker(tokens), gone["id"])
    kept_case = await new_case(files, worker(tokens), kept["id"])
    await upload(files, worker(tokens), gone_case["id"], photo_with_gps())
    await upload(files, worker(tokens), gone_case["id"], scan_pdf(), position=2)
    await start(files, worker(tokens), gone_case["id"], 5000, position=3)  # an abandoned upload too
    kept_file = (await upload(files, worker(tokens), kept_case["id"], scan_pdf())).json()
    assert (await erase_resident(files, proxy_app, tokens, gone["id"]))["files_deleted"] == 3
    assert (await files.get(f"{BASE}/cases/{gone_case['id']}/files", headers=worker(tokens))).json() == []
    async with proxy_app.state.sessionmaker() as session:
        left = (await session.execute(select(CaseFile.case_id, func.count()).group_by(CaseFile.case_id))).all()
        parts = (await session.execute(select(func.count()).select_from(CaseFilePart))).scalar_one()
    assert [(str(c), n) for c, n in left] == [(kept_case["id"], 1)]
    assert parts == len(await _parts(proxy_app, kept_file["id"])) > 0
    kept_body = await files.get(kept_file["content_url"], headers=worker(tokens))
    assert kept_body.content == scan_pdf()


async def test_files_are_read_after_the_pii_key_rotates(files: httpx.AsyncClient, tokens: Tokens) -> None:
    case = await _case(files, tokens)
    state = app_of(files).state
    before = state.pii
    k1, k2, hash_key = os.urandom(32), os.urandom(32), os.urandom(32)
    state.pii = PiiCipher({"k1": k1}, "k1", hash_key)
    try:
        data = scan_pdf(40_000)
        got = (await upload(files, worker(tokens), case["id"], data)).json()
        assert {PiiCipher.key_id_of_sealed(p.data) for p in await _parts(app_of(files), got["id"])} == {"k1"}
        state.pii = PiiCipher({"k2": k2, "k1": k1}, "k2", hash_key)  # k2 encrypts, k1 still reads
        assert (await files.get(got["content_url"], headers=worker(tokens))).content == data
        later = (await upload(files, worker(tokens), case["id"], scan_pdf(20_000, seed=9), position=2)).json()
        assert {PiiCipher.key_id_of_sealed(p.data) for p in await _parts(app_of(files), later["id"])} == {"k2"}
        async with state.sessionmaker() as session:
            kids = dict((await session.execute(select(CaseFile.id, CaseFile.pii_kid))).all())
        assert kids == {uuid.UUID(got["id"]): "k1", uuid.UUID(later["id"]): "k2"}  # what a re-key job selects
    finally:
        state.pii = before


async def test_the_same_chunk_sent_twice_at_once_is_stored_once(files: httpx.AsyncClient, tokens: Tokens) -> None:
    case = await _case(files, tokens)
    data = scan_pdf(60_000)
    h = worker(tokens)
    f = await start(files, h, case["id"], len(data))
    url = f"{files_url(case['id'])}/{f['id']}"
    first, second = await asyncio.gather(
        put_chunk(files, h, url, data, 0, 30_000), put_chunk(files, h, url, data, 0, 30_000)
    )
    assert {first.status_code, second.status_code} == {202}
    assert sum(p.length for p in await _parts(app_of(files), f["id"])) == 30_000
    done = await put_chunk(files, h, url, data, 30_000, len(data))
    assert (await files.get(done.json()["content_url"], headers=h)).content == data

"""Helpers for the material-file tests: files made on the spot, uploads in chunks, a chunk cut
off mid-way by a dropped connection (raw ASGI: part of the body, then ``http.disconnect``)."""

from __future__ import annotations

import io
import os
import random
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from PIL import Image

from ..helpers import BASE, app_of, worker

GPS_IFD = 0x8825


def photo_with_gps(width: int = 480, height: int = 360, seed: int = 7) -> bytes:
    """A noisy JPEG (a few hundred KB) whose EXIF names the phone and where it was taken."""
    rnd = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rnd.randbytes(width * height * 3))
    exif = Image.Exif()
    exif[0x010F] = "ExamplePhone"
    exif[0x0112] = 6  # taken sideways: the orientation must survive
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (31.0, 42.0, 7.5), 3: "E", 4: (118.0, 22.0, 3.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=92)
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL import PngImagePlugin

    image = Image.frombytes("RGBA", (64, 48), os.urandom(64 * 48 * 4))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "江明远 13812345678")
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 42.0, 7.5)})
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def scan_pdf(size: int = 150_000, seed: int = 3) -> bytes:
    body = random.Random(seed).randbytes(size)
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + body + b"\n%%EOF\n"


def files_url(case_id: str, position: int = 1) -> str:
    return f"{BASE}/cases/{case_id}/materials/{position}/files"


def visit_files_url(visit_id: str) -> str:
    return f"{BASE}/visits/{visit_id}/files"


async def start(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    case_id: str,
    size: int,
    position: int = 1,
    base: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Start an upload on a case's material (or at ``base``, e.g. a visit's files)."""
    resp = await client.post(base or files_url(case_id, position), json={"size": size, **extra}, headers=headers)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def put_chunk(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, data: bytes, start_at: int, end: int
) -> httpx.Response:
    return await client.put(
        url,
        content=data[start_at:end],
        headers={**headers, "Content-Range": f"bytes {start_at}-{end - 1}/{len(data)}"},
    )


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    case_id: str,
    data: bytes,
    position: int = 1,
    chunk: int = 64 * 1024,
    base: str | None = None,
) -> httpx.Response:
    """Start and send the whole file (to a case's material, or at ``base``); the last answer."""
    f = await start(client, headers, case_id, len(data), position, base=base)
    url = f"{base or files_url(case_id, position)}/{f['id']}"
    resp: httpx.Response | None = None
    for at in range(0, len(data), chunk):
        resp = await put_chunk(client, headers, url, data, at, min(at + chunk, len(data)))
        assert resp.status_code in (200, 202), resp.text
    assert resp is not None
    return resp


async def cut_chunk(
    app: FastAPI, headers: dict[str, str], url: str, data: bytes, start_at: int, end: int, arrives: int
) -> None:
    """PUT bytes ``start_at..end`` but the connection drops after ``arrives`` of them: the server
    sees part of the body, then a disconnect; the client never sees an answer."""
    sent_headers = {
        **{k.lower(): v for k, v in headers.items()},
        "content-range": f"bytes {start_at}-{end - 1}/{len(data)}",
        "content-length": str(end - start_at),
        "content-type": "application/octet-stream",
        "host": "test",
    }
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in sent_headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": data[start_at : start_at + arrives], "more_body": True},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        return None

    await app(scope, receive, send)


async def resumable_upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    case_id: str,
    data: bytes,
    rnd: random.Random,
    base: str | None = None,
) -> tuple[httpx.Response, dict[str, int]]:
    """Upload ``data`` over a bad link: chunks of random sizes, some cut mid-way, some answers
    lost (the chunk is sent again), resuming each time from what the server says it has. To the
    case's first material, or at ``base`` (a visit's files)."""
    app = app_of(client)
    f = await start(client, headers, case_id, len(data), base=base)
    url = f"{base or files_url(case_id)}/{f['id']}"
    counts = {"cut": 0, "resent": 0, "chunks": 0}
    offset, step = 0, 0
    while True:
        end = min(len(data), offset + rnd.randint(8 * 1024, 32 * 1024))
        # the first chunk is always cut and the next one's answer lost; then chance decides
        fate = (0.0, 0.4)[step] if step < 2 else rnd.random()
        step += 1
        if fate < 0.3 and end - offset > 1:
            counts["cut"] += 1
            await cut_chunk(app, headers, url, data, offset, end, rnd.randint(0, end - offset - 1))
            status = await client.get(url, headers=headers)
            assert status.status_code == 200, status.text
            assert status.headers["upload-offset"] == str(status.json()["received"])
            assert offset <= status.json()["received"] < end  # a prefix of the chunk, never more
            offset = status.json()["received"]
            continue
        resp = await put_chunk(client, headers, url, data, offset, end)
        counts["chunks"] += 1
        if fate < 0.45:  # the answer was lost: the phone sends the same chunk again
            counts["resent"] += 1
            resp = await put_chunk(client, headers, url, data, offset, end)
        assert resp.status_code in (200, 202), resp.text
        offset = resp.json()["received"]
        assert offset == end
        if offset == len(data):
            return resp, counts


async def seed_case_file(app: FastAPI, case_id: str, position: int = 1) -> str:
    """A finished photo (content and thumbnail, sealed as the service seals them) on a case's
    material, written straight to the database: for the route matrices, which need one record
    of each kind. Returns the file's id."""
    return await _seed_file(app, case_id=case_id, position=position)


async def seed_visit_file(app: FastAPI, visit_id: str) -> str:
    """As ``seed_case_file``, on a visit."""
    return await _seed_file(app, visit_id=visit_id)


async def _seed_file(
    app: FastAPI, *, case_id: str | None = None, position: int = 1, visit_id: str | None = None
) -> str:
    from sqlalchemy import select

    from doorstep_proxy.cases.models import ProxyCase, Visit
    from doorstep_proxy.files import content as file_content
    from doorstep_proxy.files.models import CaseFile, CaseFilePart, VisitFile, VisitFilePart
    from doorstep_proxy.files.service import seal_parts
    from doorstep_shared.clock import utcnow

    prepared = file_content.prepare(png_with_text(), max_pixels=1_000_000, thumbnail_edge=64)
    cipher = app.state.pii
    async with app.state.sessionmaker() as session:
        row: Any
        if visit_id is not None:
            visit = (await session.execute(select(Visit).where(Visit.id == uuid.UUID(visit_id)))).scalar_one()
            row, part, owner = (
                VisitFile,
                VisitFilePart,
                {"visit_id": visit.id, "community": visit.community, "grid": visit.grid},
            )
        else:
            assert case_id is not None
            case = (await session.execute(select(ProxyCase).where(ProxyCase.id == uuid.UUID(case_id)))).scalar_one()
            row, part = CaseFile, CaseFilePart
            owner = {"case_id": case.id, "position": position, "community": case.community, "grid": case.grid}
        f = row(
            **owner,
            status="ready",
            size=len(prepared.data),
            received=len(prepared.data),
            content_type=prepared.content_type,
            stored_size=len(prepared.data),
            width=prepared.width,
            height=prepared.height,
            has_thumbnail=True,
            pii_kid=cipher.active_kid,
            uploaded_by="seed",
            created_at=utcnow(),
            completed_at=utcnow(),
        )
        session.add(f)
        await session.flush()
        assert prepared.thumbnail is not None
        session.add_all(seal_parts(cipher, f.id, "content", 0, prepared.data, part))
        session.add_all(seal_parts(cipher, f.id, "thumbnail", 0, prepared.thumbnail, part))
        await session.commit()
        return str(f.id)


async def erase_resident(client: httpx.AsyncClient, app: FastAPI, tokens: Any, resident_id: str) -> dict[str, Any]:
    """The resident moved away 400 days ago, then the retention purge: its answer."""
    import datetime as dt

    from sqlalchemy import update

    from doorstep_proxy.ledger.models import Resident
    from doorstep_shared.clock import utcnow

    resp = await client.post(
        f"{BASE}/residents/{resident_id}/removal",
        json={"status": "moved_away", "reason": "迁往外地"},
        headers=worker(tokens),
    )
    assert resp.status_code == 200, resp.text
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Resident)
            .where(Resident.id == uuid.UUID(resident_id))
            .values(removed_at=utcnow() - dt.timedelta(days=400))
        )
        await session.commit()
    purge = await client.post(
        f"{BASE}/admin/purge", headers=tokens.headers("county_admin", community=None, subject="county.admin")
    )
    assert purge.status_code == 200, purge.text
    return dict(purge.json())

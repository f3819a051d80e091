"""A photo of a material over a bad link, end to end through the gateway (issue 22, part 1):
started, one chunk cut off mid-way by a dropped connection, resumed from what the proxy says it
has, stored without its GPS; the download reads the same pixels; another community gets 404."""

from __future__ import annotations

import io
import socket
import time
import uuid

import httpx
import pytest
from PIL import Image

from ..proxy.files.uploads import GPS_IFD, photo_with_gps
from .conftest import System, login

pytestmark = pytest.mark.dates

CHUNK = 64 * 1024


def _client(system: System, username: str) -> httpx.Client:
    token = login(system, username)
    return httpx.Client(
        base_url=f"{system.url()}/api/v1/proxy", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def _open_case(worker: httpx.Client) -> dict:
    """A case of the worker's community whose materials can still change (made if none)."""
    for status in ("accepted", "scheduled", "visited"):
        for case in worker.get("/cases", params={"status": status, "limit": 50}).json()["items"]:
            if case["materials"]:
                return dict(case)
    residents = worker.get("/residents", params={"limit": 50}).json()["items"]
    for resident in residents:
        for item in ("elderly-allowance", "senior-preferential-card"):
            made = worker.post(
                "/cases",
                json={"id": str(uuid.uuid4()), "resident_id": resident["id"], "item_code": item, "channel": "window"},
            )
            if made.status_code == 201 and made.json()["materials"]:
                return dict(made.json())
    raise AssertionError("no case with materials to attach a photo to")


def cut_put(system: System, path: str, token: str, content_range: str, body: bytes, arrives: int) -> None:
    """A PUT whose connection drops after ``arrives`` bytes of its body (no answer is read)."""
    url = httpx.URL(system.url())
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Range: {content_range}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port), timeout=10) as s:
        s.sendall(head.encode() + body[:arrives])
        time.sleep(0.2)
    time.sleep(0.3)  # let the servers notice the drop


def upload_with_a_cut(system: System, worker: httpx.Client, token: str, base: str, data: bytes) -> dict:
    """Start an upload at ``base``, send one chunk, cut the next one mid-way (the connection
    drops), ask the server how far it got and resume from there; the finished file's answer."""
    started = worker.post(base, json={"size": len(data)})
    assert started.status_code == 201, started.text
    url = f"{base}/{started.json()['id']}"
    first = worker.put(url, content=data[:CHUNK], headers={"Content-Range": f"bytes 0-{CHUNK - 1}/{len(data)}"})
    assert first.status_code == 202 and first.json()["received"] == CHUNK, first.text
    end = min(len(data), 2 * CHUNK)
    cut_put(
        system,
        f"/api/v1/proxy{url}",
        token,
        f"bytes {CHUNK}-{end - 1}/{len(data)}",
        data[CHUNK:end],
        arrives=(end - CHUNK) // 2,
    )
    offset = worker.get(url).json()["received"]
    assert CHUNK <= offset < end  # what arrived of the cut chunk, or nothing of it
    last = None
    while offset < len(data):
        stop = min(len(data), offset + CHUNK)
        last = worker.put(
            url, content=data[offset:stop], headers={"Content-Range": f"bytes {offset}-{stop - 1}/{len(data)}"}
        )
        assert last.status_code in (200, 202), last.text
        offset = last.json()["received"]
    assert last is not None and last.status_code == 200 and last.json()["status"] == "ready"
    return dict(last.json())


def assert_same_pixels_without_gps(stored: httpx.Response, data: bytes) -> None:
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(stored.content))
    assert image.tobytes() == Image.open(io.BytesIO(data)).tobytes()
    assert not image.getexif().get_ifd(GPS_IFD)


def test_a_photo_uploaded_with_a_dropped_chunk_resumes_and_arrives_without_its_gps(system: System) -> None:
    data = photo_with_gps(640, 480)
    token = login(system, "chaoyang.worker")
    with _client(system, "chaoyang.worker") as worker:
        case = _open_case(worker)
        base = f"/cases/{case['id']}/materials/1/files"
        done = upload_with_a_cut(system, worker, token, base, data)
        url = f"{base}/{done['id']}"
        stored = worker.get(system.url() + done["content_url"])  # links are absolute paths
        assert_same_pixels_without_gps(stored, data)
        assert worker.get(system.url() + done["thumbnail_url"]).status_code == 200
    with _client(system, "zhenhuai.worker") as other:
        assert other.get(url).status_code == 404
        assert other.get(system.url() + done["content_url"]).status_code == 404

"""Privacy hygiene over the real system: no plain ID number or mobile number in any log line
or error body, whatever the workers do (issue 8, part 8)."""

from __future__ import annotations

import re

import httpx

from doorstep_shared.pii import id_number_check_char

from .conftest import System, login

ID_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Request ids are hex with a zero-padded counter: a run of their digits can look like a number.
REQUEST_ID_RE = re.compile(r'"request_id": "[0-9a-f]+"|\[[0-9a-f]{32}\]')


def make_id(birth: str, seq: str) -> str:
    first17 = f"340523{birth}{seq}"
    return first17 + id_number_check_char(first17)


def test_no_plain_id_number_or_phone_in_logs_or_error_bodies(system: System) -> None:
    token = login(system, "chaoyang.worker")
    h = {"Authorization": f"Bearer {token}"}
    id_number, phone = make_id("19560214", "215"), "13905551234"
    bodies: list[str] = []
    with httpx.Client(base_url=f"{system.url()}/api/v1/proxy", headers=h, timeout=20) as client:
        created = client.post(
            "/residents",
            json={
                "name": "测试居民",
                "id_number": id_number,
                "phone": phone,
                "compound": "binjiang",
                "building": "9",
                "room": "101",
            },
        )
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        bodies.append(created.text)
        bodies.append(client.get(f"/residents/{rid}").text)
        bodies.append(client.post("/residents/lookup", json={"id_number": id_number}).text)
        bodies.append(client.post("/residents/lookup", json={"phone": phone}).text)
        # Errors that carry the values back in: duplicate, bad checksum, bad phone, wrong types.
        errors = [
            client.post("/residents", json={"name": "重复", "id_number": id_number, "compound": "binjiang"}),
            client.post(
                "/residents",
                json={
                    "name": "坏号",
                    "id_number": id_number[:-1] + ("0" if id_number[-1] != "0" else "1"),
                    "compound": "binjiang",
                },
            ),
            client.post(
                "/residents",
                json={
                    "name": "坏电话",
                    "id_number": make_id("19700101", "123"),
                    "phone": "1390555123",
                    "compound": "binjiang",
                },
            ),
            client.post("/residents", json={"name": ["x"], "id_number": 340523195602142150, "phone": 13905551234}),
            client.post(
                "/demands",
                json={"channel": "phone", "text": f"来电 {phone}，身份证 {id_number}", "contact_phone": phone},
            ),
        ]
        for resp in errors:
            assert resp.status_code < 500, resp.text
            if resp.status_code >= 400:
                bodies.append(resp.text)
        revealed = client.post(
            f"/residents/{rid}/reveal", json={"reason": "填写申请表需要完整号码", "fields": ["id_number", "phone"]}
        )
        assert revealed.status_code == 200
        assert revealed.json()["id_number"] == id_number  # the one place plain values may appear
    for body in bodies:
        assert id_number not in body and phone not in body, body
        assert not ID_RE.search(body), body
        assert not MOBILE_RE.search(body), body
    logs = system.logs()
    assert id_number not in logs
    assert phone not in logs
    lines = [REQUEST_ID_RE.sub("", line) for line in logs.splitlines()]
    leaked = [line for line in lines if ID_RE.search(line) or MOBILE_RE.search(line)]
    assert not leaked, leaked[:5]

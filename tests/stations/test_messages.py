"""Problem answers speak Chinese by default and English on request, through the real app."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from ..support import Tokens
from .helpers import admin, seed_demo

API = "/api/v1/stations"
EN = {"Accept-Language": "en-US,en;q=0.9"}


async def test_a_404_is_chinese_by_default_and_english_on_request(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    h = tokens.headers("social_worker")
    zh = await stations.get(f"{API}/stations/nowhere", headers=h)
    assert zh.status_code == 404
    assert zh.headers["content-type"] == "application/problem+json"
    assert zh.headers["content-language"] == "zh-CN"
    assert "Accept-Language" in zh.headers["vary"]
    assert zh.json()["code"] == "station_not_found"
    assert (zh.json()["title"], zh.json()["detail"]) == ("服务站不存在", "没有这个服务站。")
    en = await stations.get(f"{API}/stations/nowhere", headers={**h, **EN})
    assert en.headers["content-language"] == "en"
    assert en.json()["code"] == "station_not_found"
    assert (en.json()["title"], en.json()["detail"]) == ("Station not found", "Station nowhere not found.")


async def test_a_422_names_the_field_with_a_message_in_either_language(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    h = admin(tokens)
    body = {"code": "sewing", "kind": "drop_off", "name": "x" * 500}
    zh = await stations.post(f"{API}/stations/shuxiang/services", headers=h, json=body)
    assert zh.status_code == 422
    assert zh.json()["code"] == "validation_failed"
    assert zh.json()["title"] == "输入校验未通过"
    [error] = zh.json()["errors"]
    assert error["field"] == "body.name" and error["type"] == "string_too_long"
    assert error["message"].startswith("最多 ") and error["message"].endswith(" 个字符")
    en = await stations.post(f"{API}/stations/shuxiang/services", headers={**h, **EN}, json=body)
    [error] = en.json()["errors"]
    assert en.json()["title"] == "Validation failed"
    assert error["field"] == "body.name" and error["message"].startswith("String should have at most")


async def test_a_409_keeps_its_code_in_both_languages(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    h = admin(tokens)
    body = {"code": "tailoring", "name": "x", "kind": "drop_off"}
    zh = await stations.post(f"{API}/stations/shuxiang/services", headers=h, json=body)
    en = await stations.post(f"{API}/stations/shuxiang/services", headers={**h, "Accept-Language": "en"}, json=body)
    assert zh.status_code == en.status_code == 409
    assert zh.json()["code"] == en.json()["code"] == "service_exists"
    assert zh.json()["detail"] == "该服务站已有此服务项目。"
    assert en.json()["detail"] == "Service tailoring exists at shuxiang."

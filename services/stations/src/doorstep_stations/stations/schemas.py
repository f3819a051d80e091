"""Stations API shapes: separate Create / Update / Read models; inputs forbid unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..inputs import Code, Input, Username
from .models import ServiceKind


class ServiceRead(BaseModel):
    code: str
    name: str
    kind: ServiceKind
    description: str
    featured: bool
    active: bool
    version: int


class StationRead(BaseModel):
    code: str
    name: str
    community: str
    compound: str
    address: str
    latitude: float
    longitude: float
    keepers: list[str]
    contact: str
    description: str
    services: list[ServiceRead]
    version: int


class StationCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "binjiang",
                    "name": "滨江花园党群驿站",
                    "community": "chaoyang",
                    "compound": "binjiang",
                    "address": "滨江花园3栋一楼",
                    "latitude": 31.7093,
                    "longitude": 118.3621,
                    "keepers": ["binjiang.keeper"],
                    "contact": "周一至周五 9:00–17:00 到驿站咨询",
                    "description": "爱心理发、健康咨询、快递代收",
                }
            ]
        }
    )

    code: Code
    name: str = Field(min_length=1, max_length=100)
    community: Code
    compound: Code
    address: str = Field("", max_length=200)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    keepers: list[Username] = Field(default_factory=list, max_length=20)
    contact: str = Field("", max_length=100)
    description: str = Field("", max_length=1000)


class StationUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"contact": "周一至周六 9:00–17:00 到驿站咨询", "keepers": ["binjiang.keeper"]}]
        }
    )

    name: str | None = Field(None, min_length=1, max_length=100)
    address: str | None = Field(None, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    keepers: list[Username] | None = Field(None, max_length=20)
    contact: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=1000)


class ServiceCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "haircut",
                    "name": "爱心理发",
                    "kind": "appointment",
                    "description": "为老年人免费理发，按时段预约。",
                    "featured": True,
                }
            ]
        }
    )

    code: Code
    name: str = Field(min_length=1, max_length=100)
    kind: ServiceKind
    description: str = Field("", max_length=1000)
    featured: bool = True


class ServiceUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"description": "为老年人免费理发，每周二、四上午，按时段预约。", "featured": True, "active": True}
            ]
        }
    )

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=1000)
    featured: bool | None = None
    active: bool | None = None

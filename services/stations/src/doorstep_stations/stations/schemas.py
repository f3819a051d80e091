"""Stations API shapes: separate Create / Update / Read models; inputs forbid unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, Field

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
    name: str | None = Field(None, min_length=1, max_length=100)
    address: str | None = Field(None, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    keepers: list[Username] | None = Field(None, max_length=20)
    contact: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=1000)


class ServiceCreate(Input):
    code: Code
    name: str = Field(min_length=1, max_length=100)
    kind: ServiceKind
    description: str = Field("", max_length=1000)
    featured: bool = True


class ServiceUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=1000)
    featured: bool | None = None
    active: bool | None = None

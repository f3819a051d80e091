"""Catalog tables."""

from __future__ import annotations

from sqlmodel import Field

from doorstep_shared.db import make_model_base

CatalogModel = make_model_base("CatalogModel")
metadata = CatalogModel.metadata


class Category(CatalogModel, table=True):
    __tablename__ = "category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    position: int = Field(default=0)

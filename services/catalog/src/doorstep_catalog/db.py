"""The catalog database: the base class of its tables and their one MetaData.

Each sub-domain declares its tables in its own ``models.py`` (the audit log in ``audit.py``);
``doorstep_catalog.models`` imports them all, so whoever needs the whole schema (migrations,
test fixtures) imports that.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from doorstep_shared.db import new_registry


class CatalogModel(SQLModel, registry=new_registry()):
    """Base of this service's tables: its own MetaData, so services never share tables."""


metadata = CatalogModel.metadata

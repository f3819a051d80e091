"""The stations database: the base class of its tables and their one MetaData.

Each sub-domain declares its tables in its own ``models.py``; ``doorstep_stations.models``
imports them all, so whoever needs the whole schema (migrations, test fixtures) imports that.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from doorstep_shared.db import new_registry


class StationsModel(SQLModel, registry=new_registry()):
    """Base of this service's tables: its own MetaData, so services never share tables."""


metadata = StationsModel.metadata

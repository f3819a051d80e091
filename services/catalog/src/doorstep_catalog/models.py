"""Every table of the catalog database, for whoever needs the whole schema (migrations, test
fixtures): importing the sub-domains' models (and the audit log) registers their tables on
``db.metadata``."""

from __future__ import annotations

from . import audit
from .db import metadata
from .items import models as items
from .search import models as search
from .tips import models as tips

# The modules that declare tables: importing them is what registers their tables.
TABLE_MODULES = (items, tips, search, audit)

__all__ = ["TABLE_MODULES", "metadata"]

"""Every table of the proxy in its one MetaData (``db.metadata``).

Each sub-domain declares its tables in its own ``models`` module; importing this module imports
all of them, so Alembic (``migrations/env.py``) and whoever builds or empties the schema sees
every table. Nothing in the app imports it: sub-domains import the models they use.
"""

from __future__ import annotations

from . import audit, catalog_copy, db, versions
from .cases import models as cases
from .demands import models as demands
from .discovery import models as discovery
from .events import webhooks
from .files import models as files
from .ledger import models as ledger
from .placement import models as placement
from .workers import models as workers

metadata = db.metadata

# The modules whose tables make up ``metadata`` (the audit log, idempotency keys and webhook
# tables are declared by their stores; the change counter by ``versions``).
TABLE_MODULES = (
    ledger,
    workers,
    demands,
    cases,
    discovery,
    versions,
    audit,
    db,
    webhooks,
    catalog_copy,
    placement,
    files,
)
